import { retentionCutoffMs } from '../core/stream-record.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { FragmentStore } from '../store/fragment-store.js';
import type { MemoryBuffer } from '../store/memory-buffer.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';

/** How often expired fragments are dropped and their bytes reclaimed; with 30 s segments, disk is freed within a minute. */
export const SWEEP_INTERVAL_MS = 10_000;


/**
 * Enforces DataRetentionInHours. Readers already skip fragments older than the cutoff (so expiry is immediate);
 * this sweeper deletes their index entries and reclaims segment files, on a timer and at once when retention
 * decreases or a stream is deleted.
 */
export class RetentionSweeper {
  readonly #registry: StreamRegistry;
  readonly #store: FragmentStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #sweeping: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(registry: StreamRegistry, store: FragmentStore, buffer: MemoryBuffer, clock: Clock, log: Logger) {
    this.#registry = registry;
    this.#store = store;
    this.#clock = clock;
    this.#log = log;
    registry.onChanged((s) => {
      if (s.retentionHours > 0) {
        this.#store.expire(s.id, retentionCutoffMs(s, this.#clock.now()));
        void this.#queueReclaim();
      }
    });
    registry.onDeleted((s) => {
      this.#store.dropStream(s.id);
      buffer.dropStream(s.id);
      void this.#queueReclaim();
    });
  }

  start(intervalMs = SWEEP_INTERVAL_MS): void {
    this.#timer = setInterval(() => void this.sweep(), intervalMs);
    this.#timer.unref();
  }

  /** One full pass; resolves when expired fragments are gone and their files deleted. */
  sweep(): Promise<void> {
    const now = this.#clock.now();
    let expired = 0;
    for (const s of this.#registry.all()) {
      if (s.retentionHours > 0) {
        // The DELETE needs room in the WAL: on a full disk it throws SQLITE_FULL, and a throw out of the timer
        // callback would kill the process. Readers skip expired fragments anyway; the next sweep retries.
        try {
          expired += this.#store.expire(s.id, retentionCutoffMs(s, now));
        } catch (err) {
          this.#log.error('sweep() | expiring fragments failed', { stream: s.name, err: err instanceof Error ? err.message : String(err) });
        }
      }
    }
    if (expired > 0) {
      this.#log.debug('sweep() | expired fragments', { expired });
    }
    return this.#queueReclaim();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) {
      clearInterval(this.#timer);
    }
    await this.#sweeping;
  }

  #queueReclaim(): Promise<void> {
    this.#sweeping = this.#sweeping.then(async () => {
      if (this.#closed) {
        return;
      }
      try {
        const r = await this.#store.reclaim();
        if (r.segmentsDeleted > 0) {
          this.#log.debug('reclaim() | deleted segments', r);
        }
      } catch (err) {
        this.#log.error('reclaim() | failed', { err: err instanceof Error ? err.message : String(err) });
      }
    });
    return this.#sweeping;
  }
}
