// One JoinStorageSession: the server's werift peer offers to receive H.264 + Opus from the channel's master
// (kvs-api.md §5.3), and records what the master's answer agrees to send. Signaling goes through the hub as an
// in-process viewer, so the master's SDK sees an ordinary SDP_OFFER from the client id `openkvs-storage`.

import { useOPUS, type MediaStreamTrack, type RtpPacket, type RTCRtpTransceiver } from 'werift';
import type { ChannelRecord } from '../signaling/channel-registry.js';
import type { SignalingHub } from '../signaling/signaling-hub.js';
import type { Logger } from '../util/logger.js';
import type { AacEncoderFactory } from './aac-encoder.js';
import { serverH264, serverPeerConfig, type PeerSettings } from './peer-config.js';
import { RecordingWriter, type RecordingWriterDeps } from './recording-writer.js';
import { toRtpPacket, type RelayPacket } from './relay-viewer.js';
import { NO_RECORDER_STATS, SessionRecorder, type RecorderStats } from './session-recorder.js';
import { ServerPeerConnection } from './server-peer.js';

/** The client id the storage peer signals as; the master answers to it. */
export const STORAGE_CLIENT_ID = 'openkvs-storage';
/** Host-only gathering takes milliseconds; STUN/TURN servers that do not answer must not hold the offer back longer. */
const GATHERING_TIMEOUT_MS = 5000;
/** ICE may recover from `disconnected` (a moment of loss); after this long it is treated as the end of the session. */
const DISCONNECTED_GRACE_MS = 10_000;
/** Master ICE candidates held until its answer arrives; a real master sends a handful. */
const MAX_EARLY_CANDIDATES = 100;

export type StorageSessionDeps = {
  hub: SignalingHub;
  peer: PeerSettings;
  writer: Omit<RecordingWriterDeps, 'log'>;
  /** The recording's AAC encoder (aac-encoder.ts). */
  aacEncoder?: AacEncoderFactory;
  now: () => number;
  log: Logger;
  /** Told once the session has ended and its last fragment is stored. */
  ended: (session: StorageSession) => void;
  /** Every media packet the master sends, for the session's viewers (JoinStorageSessionAsViewer). */
  media?: (kind: 'video' | 'audio', p: RelayPacket) => void;
};

type Candidate = { candidate: string; sdpMid?: string; sdpMLineIndex?: number; usernameFragment?: string };

export class StorageSession {
  readonly channel: ChannelRecord;
  readonly #d: StorageSessionDeps;
  readonly #pc: ServerPeerConnection;
  readonly #video: RTCRtpTransceiver;
  readonly #audio: RTCRtpTransceiver;
  readonly #writer: RecordingWriter;
  #recorder: SessionRecorder | null = null;
  #answered = false;
  #early: Candidate[] = [];
  #disconnectTimer: NodeJS.Timeout | null = null;
  #stopping: Promise<void> | null = null;

  constructor(channel: ChannelRecord, streamArn: string, deps: StorageSessionDeps) {
    this.channel = channel;
    this.#d = deps;
    this.#writer = new RecordingWriter(streamArn, { ...deps.writer, log: deps.log });
    // H.264 only: VP8 could be negotiated but not stored in a KVS stream
    this.#pc = new ServerPeerConnection(serverPeerConfig(deps.peer, { video: [serverH264()], audio: [useOPUS()] }));
    this.#video = this.#pc.addTransceiver('video', { direction: 'recvonly' });
    // sendrecv although the recording only receives: viewers who join later talk to the master over this one
    // connection (the offer is made once, before anyone knows whether viewers will come)
    this.#audio = this.#pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.#video.onTrack.subscribe((track) => this.#receive(track, 'video'));
    this.#audio.onTrack.subscribe((track) => this.#receive(track, 'audio'));
    this.#pc.connectionStateChange.subscribe((state) => this.#connectionState(state));
  }

  /** What was recorded so far. */
  get stats(): { fragments: number; refusedFragments: number } & RecorderStats {
    const r = this.#recorder?.stats ?? NO_RECORDER_STATS;
    return { fragments: this.#writer.stats.fragments, refusedFragments: this.#writer.stats.refused, ...r };
  }

  /** Creates the offer and sends it to the master, once (a new JoinStorageSession makes a new session). */
  async start(): Promise<void> {
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    if (this.#pc.iceGatheringState !== 'complete') {
      // non-trickle: the offer carries every candidate, so the master needs nothing else from us
      await this.#pc.iceGatheringStateChange.watch((s) => s === 'complete', GATHERING_TIMEOUT_MS).catch(() => undefined);
    }
    const sdp = this.#pc.localDescription?.sdp;
    if (this.#stopping !== null || sdp === undefined) {
      return;
    }
    this.#send('SDP_OFFER', { type: 'offer', sdp });
    this.#d.log.info('storage session | offer sent', { channel: this.channel.name });
  }

  /** A message the master addressed to `openkvs-storage`. */
  fromMaster(action: string, payload: string): void {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
    } catch {
      this.#d.log.info('storage session | unreadable message from the master', { channel: this.channel.name, action });
      return;
    }
    if (action === 'SDP_ANSWER') {
      void this.#answer(body).catch((err: unknown) => this.#fail('the answer could not be applied', err));
    } else if (action === 'ICE_CANDIDATE' && isCandidate(body)) {
      if (!this.#answered) {
        if (this.#early.length < MAX_EARLY_CANDIDATES) {
          this.#early.push(body);
        }
        return;
      }
      void this.#pc.addIceCandidate(body).catch(() => undefined);
    }
  }

  /** Ends the session: the open fragment is closed and stored, then the peer connection is closed. */
  stop(reason: string): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#disconnectTimer !== null) {
        clearTimeout(this.#disconnectTimer);
      }
      try {
        await this.#recorder?.stop();
      } finally {
        await this.#pc.close().catch(() => undefined);
        this.#d.log.info('storage session | ended', { channel: this.channel.name, reason, ...this.stats });
        this.#d.ended(this);
      }
    })();
    return this.#stopping;
  }

  async #answer(body: unknown): Promise<void> {
    if (this.#answered || this.#stopping !== null) {
      return;
    }
    const sdp = typeof body === 'object' && body !== null && typeof (body as { sdp?: unknown }).sdp === 'string' ? (body as { sdp: string }).sdp : null;
    if (sdp === null) {
      throw new Error('the SDP_ANSWER carries no sdp');
    }
    this.#answered = true;
    await this.#pc.setRemoteDescription({ type: 'answer', sdp });
    const receives = (t: RTCRtpTransceiver): boolean => t.currentDirection === 'recvonly' || t.currentDirection === 'sendrecv';
    const tracks = { video: receives(this.#video), audio: receives(this.#audio) };
    if (!tracks.video && !tracks.audio) {
      void this.stop('the master sends neither video nor audio');
      return;
    }
    this.#recorder = new SessionRecorder({
      tracks,
      writer: this.#writer,
      now: this.#d.now,
      requestKeyframe: () => this.requestKeyframe(),
      log: this.#d.log,
      ...(this.#d.aacEncoder !== undefined ? { aacEncoder: this.#d.aacEncoder } : {}),
    });
    for (const c of this.#early.splice(0)) {
      await this.#pc.addIceCandidate(c).catch(() => undefined);
    }
    this.#d.log.info('storage session | answered', { channel: this.channel.name, ...tracks });
  }

  #receive(track: MediaStreamTrack, kind: 'video' | 'audio'): void {
    track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      const p = { payload: rtp.payload, marker: rtp.header.marker, sequenceNumber: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp };
      if (kind === 'video') {
        this.#recorder?.videoPacket(p);
      } else {
        this.#recorder?.audioPacket(p);
      }
      // padding-only packets (bandwidth probes) carry nothing for a viewer
      if (p.payload.length > 0) {
        this.#d.media?.(kind, p);
      }
    });
  }

  /** The viewer holding the audio floor, to the master (kvs-api.md §5.3: viewers ingest audio only). */
  sendAudio(p: RelayPacket): void {
    const sends = this.#audio.currentDirection === 'sendrecv' || this.#audio.currentDirection === 'sendonly';
    if (this.#stopping === null && sends && this.#pc.connectionState === 'connected') {
      void this.#audio.sender.sendRtp(toRtpPacket(p)).catch(() => undefined);
    }
  }

  /** Every viewer's audio goes into the recording, mixed with the master's. */
  viewerAudio(viewerId: string, p: RelayPacket): void {
    this.#recorder?.viewerAudioPacket(viewerId, p);
  }

  viewerLeft(viewerId: string): void {
    this.#recorder?.viewerLeft(viewerId);
  }

  /** A PLI to the master (the recorder's own requests and the viewers' coalesced ones). */
  requestKeyframe(): void {
    const ssrc = this.#video.receiver.track?.ssrc;
    if (ssrc !== undefined) {
      void this.#video.receiver.sendRtcpPLI(ssrc).catch(() => undefined);
    }
  }

  #connectionState(state: string): void {
    if (this.#disconnectTimer !== null) {
      clearTimeout(this.#disconnectTimer);
      this.#disconnectTimer = null;
    }
    if (state === 'failed' || state === 'closed') {
      void this.stop(`peer connection ${state}`);
    } else if (state === 'disconnected') {
      this.#disconnectTimer = setTimeout(() => void this.stop('peer connection disconnected'), DISCONNECTED_GRACE_MS);
      this.#disconnectTimer.unref();
    }
  }

  #send(action: 'SDP_OFFER' | 'ICE_CANDIDATE', body: unknown): void {
    try {
      // as a viewer, so the master's SDK sees senderClientId openkvs-storage and answers to it
      this.#d.hub.sendAs(this.channel.id, 'VIEWER', STORAGE_CLIENT_ID, { action, messagePayload: Buffer.from(JSON.stringify(body)).toString('base64') });
    } catch (err) {
      this.#fail('the offer could not be sent', err);
    }
  }

  #fail(what: string, err: unknown): void {
    this.#d.log.warn(`storage session | ${what}`, { channel: this.channel.name, err: err instanceof Error ? err.message : String(err) });
    void this.stop(what);
  }
}

const isCandidate = (v: unknown): v is Candidate => typeof v === 'object' && v !== null && typeof (v as { candidate?: unknown }).candidate === 'string';
