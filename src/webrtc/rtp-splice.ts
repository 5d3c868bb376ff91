// One outgoing RTP stream made of several senders' packets, one sender at a time (the relay's floor holder's
// audio, its video source's video). Each sender numbers and times its packets from its own random start; at a
// switch the new sender's packets are shifted to continue where the last forwarded packet ended, so the receiver
// sees one continuous stream (werift's sender then adds its own constant offsets).

export type RtpPosition = { sequenceNumber: number; timestamp: number };

export class RtpSplice {
  readonly #clockPerMs: number;
  readonly #minTicks: number;
  #seqOffset = 0;
  #tsOffset = 0;
  #last: (RtpPosition & { atMs: number }) | null = null;

  /** `minTicks`: how far media time moves at least across a switch (one packet's duration). */
  constructor(clockRate: number, minTicks: number) {
    this.#clockPerMs = clockRate / 1000;
    this.#minTicks = minTicks;
  }

  /** From now on `p`'s sender is forwarded: continue one sequence number on, and later by the wall time since the last packet. */
  switchTo(p: RtpPosition, nowMs: number): void {
    if (this.#last === null) {
      return;
    }
    const ticks = Math.max(this.#minTicks, Math.round((nowMs - this.#last.atMs) * this.#clockPerMs));
    this.#seqOffset = (this.#last.sequenceNumber + 1 - p.sequenceNumber) & 0xffff;
    this.#tsOffset = (this.#last.timestamp + ticks - p.timestamp) >>> 0;
  }

  /** Where the current sender's packet goes in the outgoing stream. */
  map(p: RtpPosition, nowMs: number): RtpPosition {
    const out = { sequenceNumber: (p.sequenceNumber + this.#seqOffset) & 0xffff, timestamp: (p.timestamp + this.#tsOffset) >>> 0 };
    this.#last = { ...out, atMs: nowMs };
    return out;
  }
}
