import type { StreamCapacity } from '../conf/config.js';
import type { Clock } from '../util/clock.js';
import { TokenBucket } from '../util/token-bucket.js';

/** Producers may flush up to this much buffered media at once (e.g. after a reconnect) before throttling starts. */
export const BURST_SECONDS = 10;

/** Per-stream admission state for PutMedia: connections, call rate, fragment rate and byte rate. */
export class StreamLimiter {
  #capacity: StreamCapacity;
  readonly #calls: TokenBucket;
  readonly #fragments: TokenBucket;
  readonly #bytes: TokenBucket;
  connections = 0;
  /** Bytes admitted but not yet stored, so the storage budget also covers fragments still being written. */
  reservedBytes = 0;

  constructor(capacity: StreamCapacity, callsPerSecond: number, clock: Clock) {
    this.#capacity = capacity;
    this.#calls = new TokenBucket(callsPerSecond, callsPerSecond, clock);
    this.#fragments = new TokenBucket(capacity.fragmentsPerSecond, capacity.fragmentsPerSecond * BURST_SECONDS, clock);
    this.#bytes = new TokenBucket(capacity.ingestBytesPerSecond, byteBurst(capacity), clock);
  }

  get capacity(): StreamCapacity {
    return this.#capacity;
  }

  update(capacity: StreamCapacity): void {
    this.#capacity = capacity;
    this.#fragments.reconfigure(capacity.fragmentsPerSecond, capacity.fragmentsPerSecond * BURST_SECONDS);
    this.#bytes.reconfigure(capacity.ingestBytesPerSecond, byteBurst(capacity));
  }

  tryCall(): boolean {
    return this.#calls.tryTake(1);
  }

  /** Admit one fragment of `bytes` against the fragment and byte rates; takes nothing when refused. */
  tryAdmit(bytes: number): boolean {
    if (!this.#fragments.tryTake(1)) {
      return false;
    }
    if (!this.#bytes.tryTake(bytes)) {
      this.#fragments.refund(1);
      return false;
    }
    return true;
  }
}

const byteBurst = (c: StreamCapacity): number => Math.max(c.ingestBytesPerSecond * BURST_SECONDS, c.maxFragmentBytes);
