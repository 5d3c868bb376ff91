/* global navigator, RTCPeerConnection, MediaStream */
// One WebRTC call on a signaling channel, with plain browser APIs: the endpoints from GetSignalingChannelEndpoint,
// ICE servers from GetIceServerConfig (nothing hard-coded: no public STUN), the signaling WebSocket, trickle ICE,
// and one RTCPeerConnection per remote peer (a master answers every viewer; a viewer offers to the master).

import { KvsClient } from './kvs.js';
import { SignalingConnection } from './signaling.js';

/** The key a viewer files its one peer (the master, or the server's relay peer) under. */
export const MASTER_PEER = 'MASTER';

/** A viewer client id: letters and digits, within the API's [a-zA-Z0-9_.-]{1,256}. */
export function newViewerId() {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  return `viewer-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** The connection address of an ICE candidate line ("candidate:… 1 udp 2122260223 127.0.0.1 50000 typ host"). */
export function candidateAddress(candidate) {
  const parts = String(candidate ?? '').replace(/^a=/, '').split(' ');
  return parts.length > 5 ? parts[4] : null;
}

/** With loopbackOnly, an SDP keeps only its 127.0.0.1 candidate lines (tests run both peers on one machine). */
function filterSdp(sdp, loopbackOnly) {
  if (!loopbackOnly) {
    return sdp;
  }
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || candidateAddress(line) === '127.0.0.1')
    .join('\r\n');
}

export class Call {
  /**
   * @param {{ client: KvsClient, channelArn: string, role: 'MASTER' | 'VIEWER', clientId?: string, loopbackOnly?: boolean,
   *   events: { status: (text: string, state: string) => void, local: (stream: MediaStream | null) => void,
   *     remote: (peerId: string, stream: MediaStream | null, pc?: RTCPeerConnection) => void, error: (err: unknown) => void } }} opts
   */
  constructor(opts) {
    this.opts = opts;
    this.role = opts.role;
    this.clientId = opts.role === 'VIEWER' ? (opts.clientId || newViewerId()) : undefined;
    this.loopbackOnly = opts.loopbackOnly === true;
    /** @type {Map<string, { pc: RTCPeerConnection, stream: MediaStream, pending: object[], remoteSet: boolean }>} */
    this.peers = new Map();
    /** ICE candidates from a viewer whose offer has not arrived (or been answered) yet. */
    this.early = new Map();
    /** @type {MediaStream | null} */
    this.local = null;
    this.iceServers = [];
    /** @type {SignalingConnection | null} */
    this.signaling = null;
    this.stopped = false;
  }

  async start() {
    const { client, channelArn, events } = this.opts;
    events.status('Asking for the signaling endpoints…', 'starting');
    const out = await client.call('/getSignalingChannelEndpoint', {
      ChannelARN: channelArn,
      SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: this.role },
    });
    const endpoints = Object.fromEntries((out.ResourceEndpointList ?? []).map((e) => [e.Protocol, e.ResourceEndpoint]));
    if (!endpoints.WSS || !endpoints.HTTPS) {
      throw new Error('GetSignalingChannelEndpoint returned no WSS or HTTPS endpoint.');
    }
    const signalingApi = new KvsClient({ endpoint: endpoints.HTTPS, region: client.region, credentials: client.credentials });
    signalingApi.clockOffsetMs = client.clockOffsetMs;
    const ice = await signalingApi.call('/v1/get-ice-server-config', { ChannelARN: channelArn, ...(this.clientId ? { ClientId: this.clientId } : {}) });
    this.iceServers = (ice.IceServerList ?? []).map((s) => ({ urls: s.Uris, username: s.Username, credential: s.Password }));
    this.#checkStopped();

    events.status('Opening the camera and microphone…', 'starting');
    this.local = await openLocalMedia(events);
    this.#checkStopped();
    events.local(this.local);

    events.status('Connecting to the signaling channel…', 'starting');
    this.signaling = new SignalingConnection({
      endpoint: endpoints.WSS,
      channelArn,
      role: this.role,
      clientId: this.clientId,
      region: client.region,
      credentials: client.credentials,
      clockOffsetMs: signalingApi.clockOffsetMs,
      onMessage: (type, payload, sender) => void this.#onMessage(type, payload, sender).catch((err) => events.error(err)),
      onClose: (code) => {
        if (!this.stopped) {
          events.status(`The signaling connection closed (${code}).`, 'closed');
        }
      },
    });
    await this.signaling.open();
    this.#checkStopped();
    if (this.role === 'MASTER') {
      events.status('Waiting for viewers…', 'waiting');
    } else {
      events.status('Calling the master…', 'calling');
      await this.#offer();
    }
  }

  stop() {
    this.stopped = true;
    this.signaling?.close();
    this.signaling = null;
    for (const peerId of [...this.peers.keys()]) {
      this.#dropPeer(peerId);
    }
    this.early.clear();
    for (const track of this.local?.getTracks() ?? []) {
      track.stop();
    }
    this.local = null;
    this.opts.events.local(null);
  }

  /** Each remote peer's inbound-rtp statistics, by kind (framesDecoded for video, packetsReceived for audio). */
  async inboundStats() {
    const result = [];
    for (const [peerId, { pc }] of this.peers) {
      const entry = { peerId, state: pc.connectionState, video: null, audio: null };
      for (const s of (await pc.getStats()).values()) {
        if (s.type === 'inbound-rtp' && (s.kind === 'video' || s.kind === 'audio')) {
          entry[s.kind] = { packetsReceived: s.packetsReceived ?? 0, bytesReceived: s.bytesReceived ?? 0, framesDecoded: s.framesDecoded ?? 0, frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0 };
        }
      }
      result.push(entry);
    }
    return result;
  }

  #checkStopped() {
    if (this.stopped) {
      throw new Error('Hung up.');
    }
  }

  #newPeer(peerId) {
    this.#dropPeer(peerId);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const peer = { pc, stream: new MediaStream(), pending: [], remoteSet: false };
    this.peers.set(peerId, peer);
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (candidate === null || candidate.candidate === '' || !this.#keep(candidate.candidate)) {
        return;
      }
      this.signaling?.send('ICE_CANDIDATE', candidate.toJSON(), this.role === 'MASTER' ? peerId : undefined);
    });
    pc.addEventListener('track', (ev) => {
      peer.stream.addTrack(ev.track);
      this.opts.events.remote(peerId, peer.stream, pc);
    });
    pc.addEventListener('connectionstatechange', () => {
      this.opts.events.remote(peerId, peer.stream, pc);
      if (this.role === 'VIEWER' && pc.connectionState === 'connected') {
        this.opts.events.status('Connected.', 'connected');
      }
    });
    this.opts.events.remote(peerId, peer.stream, pc);
    return peer;
  }

  #dropPeer(peerId) {
    const old = this.peers.get(peerId);
    if (old !== undefined) {
      this.peers.delete(peerId);
      old.pc.close();
      this.opts.events.remote(peerId, null);
    }
  }

  #keep(candidate) {
    return !this.loopbackOnly || candidateAddress(candidate) === '127.0.0.1';
  }

  /** Viewer: send and receive audio and video (receive only for a kind the local media lacks). */
  async #offer() {
    const { pc } = this.#newPeer(MASTER_PEER);
    for (const kind of ['video', 'audio']) {
      const track = this.local?.getTracks().find((t) => t.kind === kind);
      pc.addTransceiver(track ?? kind, { direction: track ? 'sendrecv' : 'recvonly', ...(track ? { streams: [this.local] } : {}) });
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.signaling?.send('SDP_OFFER', { type: 'offer', sdp: filterSdp(pc.localDescription.sdp, this.loopbackOnly) });
  }

  async #onMessage(type, payload, sender) {
    if (this.stopped || payload === null) {
      return;
    }
    const peerId = this.role === 'MASTER' ? sender : MASTER_PEER;
    if (type === 'SDP_OFFER' && this.role === 'MASTER' && peerId !== undefined) {
      await this.#answer(peerId, payload);
    } else if (type === 'SDP_ANSWER' && this.role === 'VIEWER') {
      const peer = this.peers.get(MASTER_PEER);
      if (peer !== undefined && peer.pc.signalingState === 'have-local-offer') {
        await peer.pc.setRemoteDescription({ type: 'answer', sdp: payload.sdp });
        await this.#remoteReady(peer);
      }
    } else if (type === 'ICE_CANDIDATE' && peerId !== undefined) {
      if (!this.#keep(payload.candidate)) {
        return;
      }
      const peer = this.peers.get(peerId);
      if (peer === undefined) {
        this.early.set(peerId, [...(this.early.get(peerId) ?? []), payload]);
      } else if (!peer.remoteSet) {
        peer.pending.push(payload);
      } else {
        await peer.pc.addIceCandidate(payload);
      }
    } else if (type === 'STATUS_RESPONSE') {
      this.opts.events.error(new Error(`The signaling service refused a message: ${payload.errorType ?? ''} ${payload.statusCode ?? ''} ${payload.description ?? ''}`.trim()));
    }
  }

  /** Master: one peer connection per viewer; a new offer from the same viewer replaces its connection. */
  async #answer(peerId, offer) {
    const peer = this.#newPeer(peerId);
    peer.pending.push(...(this.early.get(peerId) ?? []));
    this.early.delete(peerId);
    const { pc } = peer;
    await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    for (const track of this.local?.getTracks() ?? []) {
      pc.addTrack(track, this.local);
    }
    await this.#remoteReady(peer);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.signaling?.send('SDP_ANSWER', { type: 'answer', sdp: filterSdp(pc.localDescription.sdp, this.loopbackOnly) }, peerId);
    this.opts.events.status(callSummary([...this.peers.keys()]), 'connected');
  }

  async #remoteReady(peer) {
    peer.remoteSet = true;
    for (const c of peer.pending.splice(0)) {
      await peer.pc.addIceCandidate(c);
    }
  }
}

/** The server's own peers that join a master's call: the relay's upstream and the recording (storage session). */
const SERVER_PEERS = { 'openkvs-relay': 'the server’s relay', 'openkvs-storage': 'the server’s recorder' };

/** "In a call with 2 viewers and the server's recorder." — the server's peers are not counted as viewers. */
function callSummary(peerIds) {
  const viewers = peerIds.filter((id) => !(id in SERVER_PEERS)).length;
  const server = peerIds.filter((id) => id in SERVER_PEERS).map((id) => SERVER_PEERS[id]);
  return `In a call with ${viewers} viewer${viewers === 1 ? '' : 's'}${server.length > 0 ? ` and ${server.join(' and ')}` : ''}.`;
}

/** Camera and microphone; failing that, whichever one exists; failing both, receive only (null). */
async function openLocalMedia(events) {
  const attempts = [{ video: true, audio: true }, { video: true }, { audio: true }];
  let lastError = null;
  for (const constraints of attempts) {
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (err) {
      lastError = err;
    }
  }
  events.error(new Error(`No camera or microphone (${lastError instanceof Error ? lastError.message : String(lastError)}): receiving only.`));
  return null;
}
