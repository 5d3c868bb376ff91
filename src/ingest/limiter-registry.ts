import type { StreamRecord } from '../core/stream-record.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { Clock } from '../util/clock.js';
import { StreamLimiter } from './stream-limiter.js';

/** One StreamLimiter per stream, kept in step with capacity changes and dropped with the stream. */
export class LimiterRegistry {
  readonly #limiters = new Map<number, StreamLimiter>();
  readonly #callsPerSecond: number;
  readonly #clock: Clock;

  constructor(registry: StreamRegistry, callsPerSecond: number, clock: Clock) {
    this.#callsPerSecond = callsPerSecond;
    this.#clock = clock;
    registry.onChanged((s) => this.#limiters.get(s.id)?.update(s.capacity));
    registry.onDeleted((s) => this.#limiters.delete(s.id));
  }

  forStream(stream: StreamRecord): StreamLimiter {
    let l = this.#limiters.get(stream.id);
    if (l === undefined) {
      l = new StreamLimiter(stream.capacity, this.#callsPerSecond, this.#clock);
      this.#limiters.set(stream.id, l);
    }
    return l;
  }
}
