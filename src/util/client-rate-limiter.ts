import type { Clock } from './clock.js';
import { TokenBucket } from './token-bucket.js';

/** Clients whose buckets are remembered at once; beyond it the least recently seen is forgotten. */
export const MAX_TRACKED_CLIENTS = 10_000;

type Entry = { bucket: TokenBucket; lastMs: number };

/**
 * Requests per second per client, over every route. The table is kept in least-recently-seen order (a Map re-inserted
 * on each use), so idle clients are found at its front: one whose bucket has had time to refill completely is
 * indistinguishable from a new one and is dropped, and the size is capped whatever the traffic.
 */
export class ClientRateLimiter {
  readonly #clients = new Map<string, Entry>();
  readonly #refillMs: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly clock: Clock,
    private readonly maxClients = MAX_TRACKED_CLIENTS,
  ) {
    this.#refillMs = (burst / rate) * 1000;
  }

  /** Take one request from the client's bucket; false when it is empty. */
  tryTake(client: string): boolean {
    const now = this.clock.now();
    let entry = this.#clients.get(client);
    if (entry === undefined) {
      this.#evict(now);
      entry = { bucket: new TokenBucket(this.rate, this.burst, this.clock), lastMs: now };
    } else {
      this.#clients.delete(client);
    }
    entry.lastMs = now;
    this.#clients.set(client, entry);
    return entry.bucket.tryTake();
  }

  /** Clients currently remembered (tests, diagnostics). */
  get size(): number {
    return this.#clients.size;
  }

  #evict(now: number): void {
    for (const [key, e] of this.#clients) {
      if (this.#clients.size < this.maxClients && now - e.lastMs < this.#refillMs) {
        break;
      }
      this.#clients.delete(key);
    }
  }
}
