/** Seconds of history a rate is averaged over: long enough to smooth 1–2 s GOPs, short enough to show a change. */
export const RATE_WINDOW_SECONDS = 10;

/**
 * A per-second rate over the last RATE_WINDOW_SECONDS, in one-second buckets: adding is O(1) on the ingest path,
 * reading (at scrape time) sums ten numbers.
 */
export class RateWindow {
  readonly #buckets = new Float64Array(RATE_WINDOW_SECONDS);
  #second = 0;

  constructor(private readonly nowMs: () => number) {}

  add(n: number): void {
    this.#advance();
    const i = this.#second % RATE_WINDOW_SECONDS;
    this.#buckets[i] = (this.#buckets[i] ?? 0) + n;
  }

  perSecond(): number {
    this.#advance();
    let sum = 0;
    for (const b of this.#buckets) {
      sum += b;
    }
    return sum / RATE_WINDOW_SECONDS;
  }

  #advance(): void {
    const now = Math.floor(this.nowMs() / 1000);
    if (now <= this.#second) {
      return;
    }
    // buckets of the seconds that passed without data are emptied, at most the whole window
    for (let s = Math.max(this.#second + 1, now - RATE_WINDOW_SECONDS + 1); s <= now; s++) {
      this.#buckets[s % RATE_WINDOW_SECONDS] = 0;
    }
    this.#second = now;
  }
}
