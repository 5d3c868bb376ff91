// Key-frame requests from many receivers to one sender (the relay's upstream, a storage session's master): every
// viewer that joins or loses a picture asks for a key frame, but each answer is a large IDR the sender's link must
// carry, so requests are coalesced — at most one per interval, and one asked inside the interval goes out when it
// ends (never dropped: the viewer that asked is waiting for it).

/** At most one key-frame request upstream per this long: 20 viewers joining at once must not make 20 IDRs. */
export const KEY_FRAME_INTERVAL_MS = 500;

export class KeyFrameRequests {
  readonly #send: () => void;
  readonly #intervalMs: number;
  #lastAt = -Infinity;
  #timer: NodeJS.Timeout | null = null;
  #sent = 0;

  constructor(send: () => void, intervalMs = KEY_FRAME_INTERVAL_MS) {
    this.#send = send;
    this.#intervalMs = intervalMs;
  }

  /** Requests sent so far (after coalescing). */
  get sent(): number {
    return this.#sent;
  }

  request(): void {
    if (this.#timer !== null) {
      return;
    }
    const wait = this.#lastAt + this.#intervalMs - Date.now();
    if (wait <= 0) {
      this.#fire();
    } else {
      this.#timer = setTimeout(() => this.#fire(), wait);
      this.#timer.unref();
    }
  }

  /** The sender went away: a request still waiting has no one to go to. */
  cancel(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #fire(): void {
    this.#timer = null;
    this.#lastAt = Date.now();
    this.#sent++;
    this.#send();
  }
}
