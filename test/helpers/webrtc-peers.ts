// werift peers for relay tests and benches: a master that answers every offer and sends media from a callback,
// and viewers that offer, receive and may send audio. Loopback only (toolchain-notes Q4): no STUN server, no
// IPv6, 127.0.0.1 gathered, and only 127.0.0.1 pairs used or answered.

import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, useH264, useOPUS, type RTCPeerConnectionConfig, type RTCRtpTransceiver } from 'werift';
import { decodePayload, openSignaling, type SignalingSocket } from './signaling-ws.js';

type Desc = { type: 'offer' | 'answer'; sdp: string };
const LOOPBACK = '127.0.0.1';

export const loopbackPeerConfig = (): RTCPeerConnectionConfig => ({
  iceServers: [],
  iceUseIpv6: false,
  iceAdditionalHostAddresses: [LOOPBACK],
  iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === LOOPBACK && pair.protocol.localCandidate?.host === LOOPBACK,
  iceFilterStunResponse: (_m, addr) => addr[0] === LOOPBACK,
  codecs: { video: [useH264()], audio: [useOPUS()] },
});

async function localDesc(pc: RTCPeerConnection): Promise<Desc> {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const sub = pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') {
          sub.unSubscribe();
          resolve();
        }
      });
    });
  }
  const d = pc.localDescription!;
  return { type: d.type as Desc['type'], sdp: d.sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || l.includes(` ${LOOPBACK} `)).join('\r\n') };
}

const connected = (pc: RTCPeerConnection): Promise<void> =>
  pc.connectionState === 'connected'
    ? Promise.resolve()
    : new Promise((resolve, reject) => {
        const sub = pc.connectionStateChange.subscribe((s) => {
          if (s === 'connected') {
            sub.unSubscribe();
            resolve();
          } else if (s === 'failed' || s === 'closed') {
            sub.unSubscribe();
            reject(new Error(`peer connection ${s}`));
          }
        });
      });

/** A fresh packet per write: werift's sender rewrites the header of the object it is given. */
export const rtp = (p: { payload: Uint8Array; sequenceNumber: number; timestamp: number; marker: boolean }): RtpPacket =>
  new RtpPacket(new RtpHeader({ sequenceNumber: p.sequenceNumber, timestamp: p.timestamp, marker: p.marker }), Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength));

export type MasterPeer = { from: string; pc: RTCPeerConnection; video: RTCRtpTransceiver; audio: RTCRtpTransceiver };

/** A master on a channel: answers every viewer's offer with a sendonly video and a sendrecv audio transceiver. */
export class TestMaster {
  readonly offersFrom: string[] = [];
  readonly peers: MasterPeer[] = [];
  readonly receivedAudio: Buffer[] = [];
  /** Video its viewers sent, with `watchViewers`. */
  readonly receivedVideo: RtpPacket[] = [];
  pliCount = 0;
  #signaling: SignalingSocket | null = null;
  readonly #watchViewers: boolean;

  /** `watchViewers`: its video is sendrecv (it shows its viewers' cameras), not sendonly. */
  constructor(opts: { watchViewers?: boolean } = {}) {
    this.#watchViewers = opts.watchViewers === true;
  }

  /** `opts.ca`: the server certificate to trust when it serves TLS. */
  async open(baseUrl: string, arn: string, opts: { ca?: Buffer } = {}): Promise<void> {
    const s = await openSignaling(baseUrl, arn, 'MASTER', undefined, opts);
    this.#signaling = s;
    s.onMessage((m) => {
      const from = m.senderClientId;
      if (m.messagePayload === undefined || from === undefined) {
        return;
      }
      if (m.messageType === 'SDP_OFFER') {
        this.offersFrom.push(from);
        void this.#answer(s, from, decodePayload<Desc>(m.messagePayload));
      } else if (m.messageType === 'ICE_CANDIDATE') {
        const peer = this.peers.find((p) => p.from === from);
        void peer?.pc.addIceCandidate(decodePayload(m.messagePayload)).catch(() => undefined);
      }
    });
  }

  /** Resolves when some peer is connected. */
  async connected(): Promise<MasterPeer> {
    for (;;) {
      const p = this.peers.find((x) => x.pc.connectionState === 'connected');
      if (p !== undefined) {
        return p;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** One packet to every connected peer. */
  send(kind: 'video' | 'audio', p: { payload: Uint8Array; sequenceNumber: number; timestamp: number; marker: boolean }): void {
    for (const peer of this.peers) {
      if (peer.pc.connectionState === 'connected') {
        void (kind === 'video' ? peer.video : peer.audio).sender.sendRtp(rtp(p));
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.peers.map((p) => p.pc.close()));
    await this.#signaling?.close();
  }

  async #answer(s: SignalingSocket, from: string, offer: Desc): Promise<void> {
    const pc = new RTCPeerConnection(loopbackPeerConfig());
    const video = pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: this.#watchViewers ? 'sendrecv' : 'sendonly' });
    const audio = pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
    video.sender.onPictureLossIndication.subscribe(() => this.pliCount++);
    video.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((p) => this.receivedVideo.push(p)));
    audio.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((p) => this.receivedAudio.push(p.payload)));
    this.peers.push({ from, pc, video, audio });
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription(await pc.createAnswer());
    s.send('SDP_ANSWER', await localDesc(pc), from);
  }
}

/** `sendVideo`: it offers sendrecv video (a camera), sent with sendVideo(); PLIs it gets are counted. */
export type ViewerOptions = { sendAudio?: boolean; sendVideo?: boolean; onVideo?: (p: RtpPacket) => void };

/** A viewer: offers recvonly video and (optionally send-)receive audio, collects what arrives. */
export class TestViewer {
  readonly video: RtpPacket[] = [];
  audioPackets = 0;
  readonly pc = new RTCPeerConnection(loopbackPeerConfig());
  readonly #audio: RTCRtpTransceiver;
  readonly #video: RTCRtpTransceiver;
  readonly #onVideo: ((p: RtpPacket) => void) | undefined;
  /** Key-frame requests (PLI) for its own video. */
  pliCount = 0;
  #signaling: SignalingSocket | null = null;
  /** Service messages without a payload (GO_AWAY, RECONNECT_ICE_SERVER) in arrival order. */
  readonly notices: string[] = [];

  constructor(readonly id: string, opts: ViewerOptions = {}) {
    this.#onVideo = opts.onVideo;
    const v = opts.sendVideo === true ? this.pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendrecv' }) : this.pc.addTransceiver('video', { direction: 'recvonly' });
    this.#video = v;
    v.sender.onPictureLossIndication.subscribe(() => this.pliCount++);
    // werift routes a PLI by its sender SSRC first, which on a sendrecv m-line is the SSRC of the video this peer
    // receives, so the PLI for its own video lands at its receiver; counted there by the media SSRC (browsers route
    // by media SSRC, RFC 4585 §6.3.1)
    v.receiver.onRtcp.subscribe((p) => {
      const fb = (p as { feedback?: { count?: number; mediaSsrc?: number } }).feedback;
      if (p.type === 206 && fb?.count === 1 && fb.mediaSsrc === v.sender.ssrc) {
        this.pliCount++;
      }
    });
    this.#audio = opts.sendAudio === true ? this.pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' }) : this.pc.addTransceiver('audio', { direction: 'recvonly' });
    v.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((p) => (this.#onVideo !== undefined ? this.#onVideo(p) : this.video.push(p))));
    this.#audio.onTrack.subscribe((t) => t.onReceiveRtp.subscribe(() => this.audioPackets++));
  }

  async open(baseUrl: string, arn: string): Promise<void> {
    const s = await openSignaling(baseUrl, arn, 'VIEWER', this.id);
    this.#signaling = s;
    s.onMessage((m) => {
      if (m.messagePayload === undefined) {
        this.notices.push(m.messageType);
        return;
      }
      if (m.messageType === 'SDP_ANSWER') {
        void this.pc.setRemoteDescription(decodePayload<Desc>(m.messagePayload));
      } else if (m.messageType === 'ICE_CANDIDATE') {
        void this.pc.addIceCandidate(decodePayload(m.messagePayload)).catch(() => undefined);
      }
    });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    s.send('SDP_OFFER', await localDesc(this.pc));
  }

  connected(): Promise<void> {
    return connected(this.pc);
  }

  sendAudio(p: { payload: Uint8Array; sequenceNumber: number; timestamp: number; marker: boolean }): void {
    void this.#audio.sender.sendRtp(rtp(p));
  }

  sendVideo(p: { payload: Uint8Array; sequenceNumber: number; timestamp: number; marker: boolean }): void {
    void this.#video.sender.sendRtp(rtp(p));
  }

  /**
   * Stops consuming: its UDP sockets no longer hand anything to werift, so it neither reads media nor answers
   * RTCP or consent checks — a viewer whose process or network stalled, while the server still sends to it.
   */
  stall(): void {
    for (const t of this.pc.iceTransports) {
      const protocols = (t.connection as unknown as { protocols?: { transport?: { socket?: NodeJS.EventEmitter } }[] }).protocols ?? [];
      for (const p of protocols) {
        p.transport?.socket?.removeAllListeners('message');
      }
    }
  }

  async close(): Promise<void> {
    await this.pc.close();
    await this.#signaling?.close();
  }
}
