import type { Clock } from './clock.js';

/** A token bucket on an injected clock: `rate` tokens per second, holding at most `burst`. */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    private rate: number,
    private burst: number,
    private readonly clock: Clock,
  ) {
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Take n tokens if available; false (and nothing taken) otherwise. */
  tryTake(n = 1): boolean {
    this.#refill();
    if (this.#tokens + 1e-9 < n) {
      return false;
    }
    this.#tokens -= n;
    return true;
  }

  /** Give back tokens taken for an action that did not happen after all. */
  refund(n: number): void {
    this.#tokens = Math.min(this.burst, this.#tokens + n);
  }

  reconfigure(rate: number, burst: number): void {
    this.#refill();
    this.rate = rate;
    this.burst = burst;
    this.#tokens = Math.min(this.#tokens, burst);
  }

  #refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + elapsed * this.rate);
  }
}
