// Two-way audio in relay mode: the master has one upstream connection, so it hears one viewer at a time.
//
// The rule (docs/webrtc-relay.md): the floor goes to the first viewer heard; the holder keeps it while it keeps
// talking, and loses it once it has been quiet for FLOOR_HOLD_MS and another viewer talks — so the viewer who
// spoke most recently is heard, without flapping between two who talk over each other. "Talking" is the RFC 6464
// audio level (louder than -50 dBov) when the viewer sends it, else any Opus packet longer than a DTX frame.
//
// Each viewer's packets carry its own sequence numbers and timestamps; at a switch they are remapped
// (rtp-splice.ts) so the master sees one continuous stream.

import { RtpSplice, type RtpPosition } from './rtp-splice.js';

/** How long a quiet holder keeps the floor: longer than the pauses between words. */
export const FLOOR_HOLD_MS = 500;
/** RFC 6464 levels are -dBov (0 loudest, 127 silence); 50 is a quiet voice, well above a noise floor. */
export const TALKING_LEVEL = 50;
/** Opus frames of 1–2 bytes are DTX / silence (RFC 6716 §3.1: a TOC byte and at most a tiny payload). */
const DTX_MAX_BYTES = 2;
/** Opus in WebRTC: 48 kHz clock, 20 ms packets. */
const OPUS_CLOCK_RATE = 48_000;
const OPUS_PACKET_TICKS = 960;

export type { RtpPosition };

/** Whether a packet is speech: by the audio-level extension if present, by size otherwise. */
export const isTalking = (payloadBytes: number, audioLevel: number | undefined): boolean =>
  audioLevel !== undefined ? audioLevel <= TALKING_LEVEL : payloadBytes > DTX_MAX_BYTES;

export class AudioFloor {
  readonly #holdMs: number;
  #holder: string | null = null;
  #holderTalkedAt = 0;
  readonly #splice = new RtpSplice(OPUS_CLOCK_RATE, OPUS_PACKET_TICKS);

  constructor(holdMs = FLOOR_HOLD_MS) {
    this.#holdMs = holdMs;
  }

  get holder(): string | null {
    return this.#holder;
  }

  /** The position to forward this viewer's packet at, or null when someone else has the floor. */
  take(viewerId: string, p: RtpPosition, talking: boolean, nowMs: number): RtpPosition | null {
    if (this.#holder !== viewerId) {
      const free = this.#holder === null || (talking && nowMs - this.#holderTalkedAt > this.#holdMs);
      if (!free) {
        return null;
      }
      this.#holder = viewerId;
      this.#holderTalkedAt = nowMs;
      this.#splice.switchTo(p, nowMs);
    }
    if (talking) {
      this.#holderTalkedAt = nowMs;
    }
    return this.#splice.map(p, nowMs);
  }

  /** A viewer left: the floor is free at once. */
  release(viewerId: string): void {
    if (this.#holder === viewerId) {
      this.#holder = null;
    }
  }
}
