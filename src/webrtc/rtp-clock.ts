// RTP timestamps of one received track → wall-clock milliseconds. A sender's RTP clock starts at a random value
// and wraps at 2^32 (RFC 3550 §5.1), so timestamps are unwrapped against the previous one and anchored to the
// arrival time of the first packet: the recording's producer timestamps are then the time the media was received.

export class RtpClock {
  readonly #clockRate: number;
  #anchorMs: number | null = null;
  #last = 0;
  /** Unwrapped ticks since the first packet; negative when a later packet carries an earlier timestamp. */
  #ticks = 0;

  constructor(clockRate: number) {
    this.#clockRate = clockRate;
  }

  /** Wall-clock milliseconds (fractional) of a packet's timestamp; `arrivalMs` anchors the first one. */
  toMs(timestamp: number, arrivalMs: number): number {
    if (this.#anchorMs === null) {
      this.#anchorMs = arrivalMs;
      this.#last = timestamp >>> 0;
      return arrivalMs;
    }
    // the signed 32-bit difference: a step of more than 2^31 ticks forwards is read as a step backwards
    this.#ticks += ((timestamp >>> 0) - this.#last) | 0;
    this.#last = timestamp >>> 0;
    return this.#anchorMs + (this.#ticks * 1000) / this.#clockRate;
  }
}
