import type { Clock } from '../util/clock.js';
import { TokenBucket } from '../util/token-bucket.js';
import { KvsError } from '../errors/codes.js';
import type { StreamRecord } from './stream-record.js';

/** Per-stream GetMedia admission: calls per second and concurrent connections, from config and capacity. */
export class ReadLimits {
  readonly #calls = new Map<number, TokenBucket>();
  readonly #connections = new Map<number, number>();
  readonly #callsPerSecond: number;
  readonly #clock: Clock;

  constructor(callsPerSecond: number, clock: Clock) {
    this.#callsPerSecond = callsPerSecond;
    this.#clock = clock;
  }

  /** Admit one GetMedia connection or throw the KVS error; the returned function releases it. */
  open(stream: StreamRecord): () => void {
    let bucket = this.#calls.get(stream.id);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.#callsPerSecond, this.#callsPerSecond, this.#clock);
      this.#calls.set(stream.id, bucket);
    }
    const open = this.#connections.get(stream.id) ?? 0;
    if (open >= stream.capacity.getMediaConnections) {
      throw new KvsError('ConnectionLimitExceededException', `The stream ${stream.name} already has ${open} GetMedia connections (its capacity).`);
    }
    if (!bucket.tryTake(1)) {
      throw new KvsError('ClientLimitExceededException', `GetMedia is called too often on stream ${stream.name}.`);
    }
    this.#connections.set(stream.id, open + 1);
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.#connections.set(stream.id, (this.#connections.get(stream.id) ?? 1) - 1);
      }
    };
  }
}
