import { ClientKeys } from './client-key.js';
import type { Clock } from './clock.js';
import { TokenBucket } from './token-bucket.js';

/** Clients whose buckets are remembered at once; beyond it the least recently seen is forgotten. */
export const MAX_TRACKED_CLIENTS = 10_000;

/**
 * Failed authentications (bad or missing signatures, unknown key ids) one address may cause at once, and how fast that
 * allowance refills. Past it, every request from the address is refused, signed or not: otherwise inventing a fresh
 * key id per request would be a way around the per-client rate, and guessing credentials would be unthrottled.
 */
export const AUTH_FAILURE_BURST = 100;
export const AUTH_FAILURES_PER_SECOND = 5;

type Entry = { bucket: TokenBucket; lastMs: number };

/**
 * Buckets per key, kept in least-recently-seen order (a Map re-inserted on each use), so idle keys are found at its
 * front: one whose bucket has had time to refill completely is indistinguishable from a new one and is dropped, and
 * the size is capped whatever the traffic.
 */
class BucketTable {
  readonly #buckets = new Map<string, Entry>();
  readonly #refillMs: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly clock: Clock,
    private readonly max: number,
  ) {
    this.#refillMs = (burst / rate) * 1000;
  }

  tryTake(key: string): boolean {
    const now = this.clock.now();
    let entry = this.#buckets.get(key);
    if (entry === undefined) {
      this.#evict(now);
      entry = { bucket: new TokenBucket(this.rate, this.burst, this.clock), lastMs: now };
    } else {
      this.#buckets.delete(key);
    }
    entry.lastMs = now;
    this.#buckets.set(key, entry);
    return entry.bucket.tryTake();
  }

  /** Whether the key's bucket has a token left, without taking it. */
  has(key: string): boolean {
    const entry = this.#buckets.get(key);
    if (entry === undefined || !entry.bucket.tryTake()) {
      return entry === undefined;
    }
    entry.bucket.refund(1);
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }

  #evict(now: number): void {
    for (const [key, e] of this.#buckets) {
      if (this.#buckets.size < this.max && now - e.lastMs < this.#refillMs) {
        break;
      }
      this.#buckets.delete(key);
    }
  }
}

/** Requests per second per client over every route, and failed authentications per address. */
/** Which of the limiter's two limits refused a request (the metrics label). */
export type ClientLimit = 'client_requests' | 'failed_authentications';

export class ClientRateLimiter {
  readonly #requests: BucketTable;
  readonly #failures: BucketTable;
  /** Told of every refusal (metrics). */
  onRefused: ((limit: ClientLimit) => void) | null = null;

  /** How requests map to clients and addresses (trusted proxies). */
  readonly keys: ClientKeys;

  constructor(rate: number, burst: number, clock: Clock, maxClients = MAX_TRACKED_CLIENTS, keys = new ClientKeys()) {
    this.keys = keys;
    this.#requests = new BucketTable(rate, burst, clock, maxClients);
    this.#failures = new BucketTable(AUTH_FAILURES_PER_SECOND, AUTH_FAILURE_BURST, clock, maxClients);
  }

  /**
   * Take one request from the client's bucket; false when it is empty, or when the address it comes from has used
   * up its failed authentications.
   */
  tryTake(client: string, address: string = client): boolean {
    if (!this.#failures.has(address)) {
      this.onRefused?.('failed_authentications');
      return false;
    }
    if (!this.#requests.tryTake(client)) {
      this.onRefused?.('client_requests');
      return false;
    }
    return true;
  }

  /** A request from this address failed authentication. */
  authenticationFailed(address: string): void {
    this.#failures.tryTake(address);
  }

  /** Clients currently remembered (tests, diagnostics). */
  get size(): number {
    return this.#requests.size;
  }
}

/** The KVS errors that mean a request's credentials did not authenticate (not: were refused by a policy). */
export const AUTHENTICATION_FAILURES: ReadonlySet<string> = new Set([
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'UnrecognizedClientException',
]);
