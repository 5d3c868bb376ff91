import { KvsError } from '../errors/codes.js';
import { KmsKeyError } from '../errors/kms-error.js';
import { retentionCutoffMs, type StreamRecord } from './stream-record.js';
import type { Clock } from '../util/clock.js';
import type { FragmentQuery, FragmentRecord, FragmentStore, StoredTrackInfo } from '../store/fragment-store.js';
import type { MemoryBuffer } from '../store/memory-buffer.js';
import type { FreshBytes } from '../stream/fragment-feed.js';
import { concatBytes } from '../formats/ebml/ebml-writer.js';

export type ReadQuery = Omit<FragmentQuery, 'streamId' | 'notBeforeServerMs'>;

/**
 * Recently read fragments are kept (up to this many bytes) so that many live readers of one stream — or a reader
 * that prefetched — share one disk read per fragment.
 */
export const SHARED_READ_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * What every reader (GetMedia, ListFragments, GetMediaForFragmentList, later HLS) sees of a stream: the durable
 * store filtered by the stream's current retention, or the rolling buffer for retention-0 streams.
 */
export class FragmentReader {
  readonly #store: FragmentStore;
  readonly #buffer: MemoryBuffer;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { bytes: Promise<Uint8Array | undefined>; size: number }>();
  #cachedBytes = 0;

  /** Throws KmsKeyError when the stream's key forbids reads (encryption at rest); cached bytes obey it too. */
  readonly #keyCheck: (streamId: number) => void;

  constructor(store: FragmentStore, buffer: MemoryBuffer, clock: Clock, keyCheck: (streamId: number) => void = () => undefined) {
    this.#store = store;
    this.#buffer = buffer;
    this.#clock = clock;
    this.#keyCheck = keyCheck;
  }

  list(stream: StreamRecord, q: ReadQuery = {}): FragmentRecord[] {
    const now = this.#clock.now();
    if (stream.retentionHours === 0) {
      return filterBuffered(this.#buffer.list(stream.id, now), q);
    }
    return this.#store.list({ ...q, streamId: stream.id, notBeforeServerMs: retentionCutoffMs(stream, now) });
  }

  get(stream: StreamRecord, fragmentNumber: string): FragmentRecord | undefined {
    if (stream.retentionHours === 0) {
      return this.#buffer.list(stream.id, this.#clock.now()).find((f) => f.fragmentNumber === fragmentNumber);
    }
    const f = this.#store.get(stream.id, fragmentNumber);
    return f !== undefined && f.serverTimestampMs >= retentionCutoffMs(stream, this.#clock.now()) ? f : undefined;
  }

  /**
   * The stored bytes (producer Tags + Cluster); undefined if the fragment expired or vanished meanwhile. Rejects
   * with KmsKeyError when the stream's key cannot open them (disabled, missing, another master key).
   */
  bytes(stream: StreamRecord, f: FragmentRecord): Promise<Uint8Array | undefined> {
    if (stream.retentionHours === 0) {
      return Promise.resolve(this.#buffer.read(stream.id, f.fragmentNumber));
    }
    try {
      this.#keyCheck(stream.id);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const hit = this.#cached(f);
    if (hit !== undefined) {
      return hit;
    }
    const bytes = this.#store.readBytes(f).catch(keyProblemOrGone);
    this.#remember(f, bytes);
    return bytes;
  }

  /** Throws KmsKeyError when the stream's key forbids reads: for answers built from bytes cached elsewhere (HLS segments). */
  assertReadable(stream: StreamRecord): void {
    if (stream.retentionHours > 0) {
      this.#keyCheck(stream.id);
    }
  }

  /** Start reading fragments a reader will want next, in as few reads as their layout allows. */
  prefetch(stream: StreamRecord, fragments: readonly FragmentRecord[]): void {
    if (stream.retentionHours === 0) {
      return;
    }
    const missing = fragments.filter((f) => !this.#cache.has(cacheKey(f)));
    if (missing.length === 0) {
      return;
    }
    const all = this.#store.readMany(missing).catch((err: unknown) => {
      keyProblemOrGone(err);
      return missing.map(() => undefined);
    });
    missing.forEach((f, i) => this.#remember(f, all.then((r) => r[i])));
  }

  /** A fragment just committed, bytes still in hand: cached so its live readers skip the disk. */
  remember(f: FragmentRecord, fresh: FreshBytes): void {
    if (this.#cache.has(cacheKey(f))) {
      return;
    }
    const stored = fresh.tagsBytes === null || fresh.tagsBytes.length === 0 ? fresh.clusterBytes : concatBytes([fresh.tagsBytes, fresh.clusterBytes]);
    if (stored.length !== f.size) {
      return; // not the layout the store wrote; let readers read it
    }
    this.#remember(f, Promise.resolve(stored));
  }

  #cached(f: FragmentRecord): Promise<Uint8Array | undefined> | undefined {
    const key = cacheKey(f);
    const hit = this.#cache.get(key);
    if (hit === undefined) {
      return undefined;
    }
    this.#cache.delete(key);
    this.#cache.set(key, hit);
    return hit.bytes;
  }

  #remember(f: FragmentRecord, bytes: Promise<Uint8Array | undefined>): void {
    const entry = { bytes, size: f.size };
    // A key problem is not remembered: once the key is enabled again the next read must succeed.
    bytes.catch(() => {
      if (this.#cache.get(cacheKey(f)) === entry) {
        this.#cache.delete(cacheKey(f));
        this.#cachedBytes -= f.size;
      }
    });
    this.#cache.set(cacheKey(f), entry);
    this.#cachedBytes += f.size;
    while (this.#cachedBytes > SHARED_READ_CACHE_BYTES && this.#cache.size > 1) {
      const [oldKey, old] = this.#cache.entries().next().value as [string, { size: number }];
      this.#cache.delete(oldKey);
      this.#cachedBytes -= old.size;
    }
  }

  trackInfo(id: number): StoredTrackInfo | undefined {
    return this.#store.trackInfo(id);
  }

  /** The track info a stored fragment refers to; every fragment has one, so its absence is an internal failure. */
  trackInfoOf(f: FragmentRecord): StoredTrackInfo {
    const info = this.#store.trackInfo(f.trackInfoId);
    if (info === undefined) {
      throw new KvsError('InternalFailure', `Track info ${f.trackInfoId} of fragment ${f.fragmentNumber} is missing.`);
    }
    return info;
  }
}

const cacheKey = (f: FragmentRecord): string => `${f.streamId}:${f.fragmentNumber}`;

/** A read that failed because of the stream's key says so; any other failure means the fragment is gone. */
function keyProblemOrGone(err: unknown): undefined {
  if (err instanceof KmsKeyError) {
    throw err;
  }
  return undefined;
}

function filterBuffered(all: FragmentRecord[], q: ReadQuery): FragmentRecord[] {
  const key = (f: FragmentRecord): number => (q.timestampKind === 'producer' ? f.producerTimestampMs : f.serverTimestampMs);
  let out = all.filter(
    (f) =>
      (q.fromMs === undefined || key(f) >= q.fromMs) &&
      (q.toMs === undefined || key(f) <= q.toMs) &&
      (q.afterFragmentNumber === undefined || f.fragmentNumber > q.afterFragmentNumber),
  );
  if (q.timestampKind !== undefined) {
    out = [...out].sort((a, b) => key(a) - key(b) || (a.fragmentNumber < b.fragmentNumber ? -1 : 1));
  }
  if (q.newestFirst) {
    out = [...out].reverse();
  }
  return q.limit !== undefined && q.limit >= 0 ? out.slice(0, q.limit) : out;
}
