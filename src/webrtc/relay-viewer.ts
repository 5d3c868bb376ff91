// The server's peer for one viewer of a master's media: in relay mode it answers the viewer's offer as if it were
// the master; in a storage session (JoinStorageSessionAsViewer) it offers to the viewer, as KVS's storage session
// does. Either way it sends the master's video and audio through a bounded queue (relay-send-queue.ts) and passes
// the viewer's key-frame requests and audio up to its session.

import { RtpHeader, RtpPacket, type Extensions, type RTCPeerConnectionConfig, type RTCRtpSender, type RTCRtpTransceiver } from 'werift';
import { onKeyFrameRequest } from './key-frame-feedback.js';
import { ServerPeerConnection } from './server-peer.js';
import { SendQueue, type SendQueueStats } from './relay-send-queue.js';
import { completeLocalDescription, type IceCandidateInit, type SessionDescription } from './relay-signal.js';

/** One received packet, kept as fields so each viewer's sender can build its own copy (werift rewrites headers in place). */
export type RelayPacket = { payload: Buffer; sequenceNumber: number; timestamp: number; marker: boolean };

/** A fresh werift packet for one send: its sender sets SSRC and payload type and adds its offsets in place. */
export const toRtpPacket = (p: RelayPacket): RtpPacket => new RtpPacket(new RtpHeader({ sequenceNumber: p.sequenceNumber, timestamp: p.timestamp, marker: p.marker }), p.payload);

export type RelayViewerEvents = {
  /** A PLI or FIR from the viewer. */
  keyFrameRequest(): void;
  /** An audio packet the viewer sent, with its RFC 6464 level if it sent one. */
  audio(p: RelayPacket, audioLevel: number | undefined): void;
  /**
   * A video packet the viewer sent. Given, the viewer's camera is taken (relay mode: viewers' video to the
   * master); absent, video is send-only towards the viewer (storage-session viewers "can only ingest audio").
   */
  video?(p: RelayPacket): void;
  /** ICE and DTLS are up: media sent from now on reaches it. */
  connected?(): void;
  /** Its connection failed or closed. */
  gone(): void;
};

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

export class RelayViewer {
  readonly id: string;
  readonly #pc: ServerPeerConnection;
  readonly #queue: SendQueue<[RTCRtpSender, RelayPacket]>;
  readonly #video: RTCRtpTransceiver;
  readonly #audio: RTCRtpTransceiver;
  readonly #loopbackOnly: boolean;
  #videoSsrc: number | undefined;
  #closed = false;

  constructor(id: string, config: RTCPeerConnectionConfig, loopbackOnly: boolean, events: RelayViewerEvents) {
    this.id = id;
    this.#loopbackOnly = loopbackOnly;
    this.#pc = new ServerPeerConnection(config);
    this.#queue = new SendQueue(([sender, p]) => sender.sendRtp(toRtpPacket(p)));
    // Added before the offer is applied, so werift matches them to the offer's m-lines by kind and answers with
    // sendrecv (or sendonly if the viewer has no camera / mic; video sendonly when its camera is not wanted).
    this.#video = this.#pc.addTransceiver('video', { direction: events.video !== undefined ? 'sendrecv' : 'sendonly' });
    this.#audio = this.#pc.addTransceiver('audio', { direction: 'sendrecv' });
    onKeyFrameRequest(this.#video, () => events.keyFrameRequest());
    const onVideo = events.video;
    if (onVideo !== undefined) {
      this.#video.onTrack.subscribe((track) => {
        track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
          this.#videoSsrc = rtp.header.ssrc;
          // padding-only packets (bandwidth probes) carry no picture
          if (rtp.payload.length > 0) {
            onVideo({ payload: rtp.payload, sequenceNumber: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp, marker: rtp.header.marker });
          }
        });
      });
    }
    this.#audio.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp: RtpPacket, ext?: Extensions) => {
        const level = (ext?.[AUDIO_LEVEL_URI] as { level?: number } | undefined)?.level;
        events.audio({ payload: rtp.payload, sequenceNumber: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp, marker: rtp.header.marker }, level);
      });
    });
    this.#pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        events.connected?.();
      } else if (s === 'failed' || s === 'closed') {
        this.close();
        events.gone();
      }
    });
  }

  get stats(): SendQueueStats {
    return this.#queue.stats;
  }

  get connected(): boolean {
    return this.#pc.connectionState === 'connected';
  }

  async answer(offer: SessionDescription): Promise<SessionDescription> {
    await this.#pc.setRemoteDescription(offer);
    return completeLocalDescription(this.#pc, 'answer', this.#loopbackOnly);
  }

  /** The storage session speaks first (kvs-api.md §5.3): non-trickle, so the offer is all the viewer needs. */
  async offer(): Promise<SessionDescription> {
    return completeLocalDescription(this.#pc, 'offer', this.#loopbackOnly);
  }

  async accept(answer: SessionDescription): Promise<void> {
    if (!this.#closed) {
      await this.#pc.setRemoteDescription(answer);
    }
  }

  async addCandidate(c: IceCandidateInit): Promise<void> {
    if (!this.#closed) {
      await this.#pc.addIceCandidate(c);
    }
  }

  /** A PLI for the viewer's own video (the master wants a key frame of it). */
  requestKeyFrame(): void {
    if (!this.#closed && this.#videoSsrc !== undefined) {
      void this.#video.receiver.sendRtcpPLI(this.#videoSsrc).catch(() => undefined);
    }
  }

  /** The master's packet, through this viewer's queue. */
  send(kind: 'video' | 'audio', p: RelayPacket): void {
    this.#queue.push([(kind === 'video' ? this.#video : this.#audio).sender, p]);
  }

  close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#queue.close();
    void this.#pc.close().catch(() => undefined);
  }
}
