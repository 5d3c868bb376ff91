// The relay's one connection to the master: an in-process viewer (client id `openkvs-relay`) that receives the
// master's video and audio once for all relay viewers, and sends back the floor holder's audio
// (relay-audio-floor.ts) and the shown viewer's video (relay-video-source.ts).

import type { RTCPeerConnectionConfig, RTCRtpTransceiver, RtpPacket } from 'werift';
import { toRtpPacket, type RelayPacket } from './relay-viewer.js';
import { onKeyFrameRequest } from './key-frame-feedback.js';
import { ServerPeerConnection } from './server-peer.js';
import { completeLocalDescription, type IceCandidateInit, type SessionDescription } from './relay-signal.js';

export type RelayUpstreamEvents = {
  video(p: RelayPacket): void;
  audio(p: RelayPacket): void;
  connected(): void;
  /** The master asked for a key frame of the viewers' video it is sent (PLI or FIR). */
  keyFrameRequest(): void;
  /** The connection failed or closed. */
  gone(): void;
};

export class RelayUpstream {
  readonly #pc: ServerPeerConnection;
  readonly #video: RTCRtpTransceiver;
  readonly #audio: RTCRtpTransceiver;
  readonly #loopbackOnly: boolean;
  #videoSsrc: number | undefined;
  #closed = false;

  constructor(config: RTCPeerConnectionConfig, loopbackOnly: boolean, events: RelayUpstreamEvents) {
    this.#loopbackOnly = loopbackOnly;
    this.#pc = new ServerPeerConnection(config);
    // sendrecv: a master that wants to see its viewers answers so; one that only sends (a camera) answers sendonly
    this.#video = this.#pc.addTransceiver('video', { direction: 'sendrecv' });
    onKeyFrameRequest(this.#video, () => events.keyFrameRequest());
    this.#audio = this.#pc.addTransceiver('audio', { direction: 'sendrecv' });
    const relay = (to: (p: RelayPacket) => void) => (rtp: RtpPacket) => {
      // padding-only packets (bandwidth probes) carry no media for the viewers
      if (rtp.payload.length > 0) {
        to({ payload: rtp.payload, sequenceNumber: rtp.header.sequenceNumber, timestamp: rtp.header.timestamp, marker: rtp.header.marker });
      }
    };
    this.#video.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
        this.#videoSsrc = rtp.header.ssrc;
        relay(events.video)(rtp);
      });
    });
    this.#audio.onTrack.subscribe((track) => track.onReceiveRtp.subscribe(relay(events.audio)));
    this.#pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        events.connected();
      } else if (s === 'failed' || s === 'closed') {
        this.close();
        events.gone();
      }
    });
  }

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

  /** A PLI to the master's video (rate limiting is the session's). */
  requestKeyFrame(): void {
    const ssrc = this.#videoSsrc ?? this.#video.receiver.track.ssrc;
    if (!this.#closed && ssrc !== undefined) {
      void this.#video.receiver.sendRtcpPLI(ssrc).catch(() => undefined);
    }
  }

  /** The shown viewer's video, at the position the video source gave it. */
  sendVideo(p: RelayPacket): void {
    if (!this.#closed) {
      void this.#video.sender.sendRtp(toRtpPacket(p)).catch(() => undefined);
    }
  }

  /** The floor holder's audio, at the position the floor gave it. */
  sendAudio(p: RelayPacket): void {
    if (!this.#closed) {
      void this.#audio.sender.sendRtp(toRtpPacket(p)).catch(() => undefined);
    }
  }

  close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    void this.#pc.close().catch(() => undefined);
  }
}
