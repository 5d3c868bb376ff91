// A storage-session viewer (JoinStorageSessionAsViewer, kvs-api.md §5.3) as the KVS samples build one: it does
// not offer; it answers the offer the storage session sends through signaling, receives the master's media and may
// send audio. Signaling is either a raw presigned WebSocket or the KVS WebRTC JS SDK's SignalingClient.

import { Role, SignalingClient } from 'amazon-kinesis-video-streams-webrtc';
import { MediaStreamTrack, RTCPeerConnection, type RTCRtpTransceiver, type RtpPacket } from 'werift';
import { decodePayload, openSignaling, type SignalingSocket } from './signaling-ws.js';
import { TEST_ACCESS_KEY, TEST_SECRET } from './server.js';
import { loopbackPeerConfig, rtp } from './webrtc-peers.js';

type Desc = { type: 'offer' | 'answer'; sdp: string };
type Peer = { pc: RTCPeerConnection; audio: RTCRtpTransceiver };
const LOOPBACK = '127.0.0.1';

export class StorageViewerPeer {
  /** Video RTP of the newest peer connection (a re-join starts a new one). */
  video: RtpPacket[] = [];
  audioPackets = 0;
  offers = 0;
  /** Service messages without a payload (GO_AWAY, RECONNECT_ICE_SERVER). */
  readonly notices: string[] = [];
  readonly peers: Peer[] = [];
  #close: (() => Promise<void>) | null = null;
  #raw: SignalingSocket | null = null;

  constructor(readonly id: string) {}

  /** ConnectAsViewer over a raw presigned WebSocket. */
  async openRaw(baseUrl: string, arn: string, ca?: Buffer): Promise<void> {
    const s: SignalingSocket = await openSignaling(baseUrl, arn, 'VIEWER', this.id, ca !== undefined ? { ca } : {});
    this.#close = () => s.close();
    this.#raw = s;
    s.onMessage((m) => {
      if (m.messagePayload === undefined) {
        this.notices.push(m.messageType);
      } else if (m.messageType === 'SDP_OFFER') {
        void this.#answer(decodePayload<Desc>(m.messagePayload)).then((a) => s.send('SDP_ANSWER', a));
      } else if (m.messageType === 'ICE_CANDIDATE') {
        void this.#newest()?.pc.addIceCandidate(decodePayload(m.messagePayload)).catch(() => undefined);
      }
    });
  }

  /** ConnectAsViewer with the KVS WebRTC JS SDK (needs globalThis.WebSocket and a wss:// endpoint). */
  async openSdk(wss: string, arn: string, region: string): Promise<void> {
    const client = new SignalingClient({ channelARN: arn, channelEndpoint: wss, role: Role.VIEWER, clientId: this.id, region, credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } });
    client.on('sdpOffer', (offer: Desc) => {
      // the SDK's viewer sends without a recipient: the server takes it as meant for the storage session
      void this.#answer(offer).then((a) => client.sendSdpAnswer(a as never));
    });
    client.on('iceCandidate', (c: object) => void this.#newest()?.pc.addIceCandidate(c as never).catch(() => undefined));
    const closed = new Promise<void>((r) => client.on('close', () => r()));
    await new Promise<void>((resolve, reject) => {
      client.once('open', () => resolve());
      client.once('error', (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
      client.open();
    });
    this.#close = async () => {
      client.close();
      await closed;
    };
  }

  /** Resolves when the newest peer connection is connected. */
  async connected(): Promise<void> {
    for (;;) {
      if (this.#newest()?.pc.connectionState === 'connected') {
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  sendAudio(p: { payload: Uint8Array; sequenceNumber: number; timestamp: number; marker: boolean }): void {
    const peer = this.#newest();
    if (peer?.pc.connectionState === 'connected') {
      void peer.audio.sender.sendRtp(rtp(p));
    }
  }

  /** Starts a call of its own, as a plain viewer would (raw signaling only): an SDP_OFFER to the master. */
  sendOwnOffer(sdp: string): void {
    this.#raw?.send('SDP_OFFER', { type: 'offer', sdp });
  }

  async close(): Promise<void> {
    await Promise.all(this.peers.map((p) => p.pc.close()));
    await this.#close?.();
  }

  #newest(): Peer | undefined {
    return this.peers.at(-1);
  }

  async #answer(offer: Desc): Promise<Desc> {
    this.offers++;
    const pc = new RTCPeerConnection(loopbackPeerConfig());
    // added before the offer is applied so werift pairs them with its m-lines: receive video, talk and listen
    const video = pc.addTransceiver('video', { direction: 'recvonly' });
    const audio = pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
    const peer = { pc, audio };
    this.peers.push(peer);
    this.video = [];
    video.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((p) => this.#newest() === peer && this.video.push(p)));
    audio.onTrack.subscribe((t) => t.onReceiveRtp.subscribe(() => this.audioPackets++));
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc.iceGatheringState !== 'complete') {
      await pc.iceGatheringStateChange.watch((s) => s === 'complete');
    }
    const sdp = pc.localDescription!.sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || l.includes(` ${LOOPBACK} `)).join('\r\n');
    return { type: 'answer', sdp };
  }
}
