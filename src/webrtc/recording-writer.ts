// Recorded fragments → the mapped stream, through the same durable path as PutMedia (ingest/ingest-session.ts):
// the stream's capacity (fragment size and duration, fragment and byte rates, storage budget) is applied, then
// append (segment file + fsync + index commit), then the feed is told — with the bytes, so live GetMedia, HLS
// and frame consumers read them without a disk read. A retention-0 stream gets the rolling buffer, as PutMedia.

import type { StreamRecord } from '../core/stream-record.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { writeMkvHeader } from '../formats/mkv/mkv-writer.js';
import type { LimiterRegistry } from '../ingest/limiter-registry.js';
import type { TrackSet } from '../media/track.js';
import type { FragmentStore, NewFragment } from '../store/fragment-store.js';
import type { MemoryBuffer } from '../store/memory-buffer.js';
import type { FragmentFeed } from '../stream/fragment-feed.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { AssembledFragment } from './fragment-assembler.js';

export type RecordingWriterDeps = {
  registry: StreamRegistry;
  store: FragmentStore;
  buffer: MemoryBuffer;
  feed: FragmentFeed;
  limiters: LimiterRegistry;
  clock: Clock;
  log: Logger;
};

export type RecordingStats = { fragments: number; refused: number; failed: number };

export class RecordingWriter {
  readonly #d: RecordingWriterDeps;
  readonly #streamArn: string;
  #trackInfo: { key: string; id: number } | null = null;
  #tracks: TrackSet | null = null;
  readonly #inFlight = new Set<Promise<void>>();
  readonly stats: RecordingStats = { fragments: 0, refused: 0, failed: 0 };

  constructor(streamArn: string, deps: RecordingWriterDeps) {
    this.#streamArn = streamArn;
    this.#d = deps;
  }

  /** The stream as it is now, or undefined once deleted. */
  stream(): StreamRecord | undefined {
    return this.#d.registry.find({ arn: this.#streamArn });
  }

  /** The tracks the next fragments carry (a new SPS/PPS is a new codec private, hence a new header). */
  setTracks(tracks: TrackSet): void {
    this.#tracks = tracks;
  }

  write(f: AssembledFragment): void {
    const stream = this.stream();
    const tracks = this.#tracks;
    if (stream === undefined || tracks === null) {
      this.stats.refused++;
      return;
    }
    const limiter = this.#d.limiters.forStream(stream);
    const capacity = limiter.capacity;
    const size = f.clusterBytes.length;
    const budget = capacity.storageBudgetBytes;
    const overBudget = budget !== null && stream.retentionHours > 0 && this.#d.store.storedBytes(stream.id) + limiter.reservedBytes + size > budget;
    if (f.durationMs > capacity.maxFragmentDurationMs || size > capacity.maxFragmentBytes || overBudget || !limiter.tryAdmit(size)) {
      // what PutMedia acks as MAX_FRAGMENT_*/CAPACITY_EXCEEDED: this fragment is lost, the recording goes on
      this.stats.refused++;
      this.#d.log.warn('recording | fragment refused by the stream capacity', { stream: stream.name, bytes: size, durationMs: f.durationMs });
      return;
    }
    const serverMs = this.#d.clock.now();
    const fragment: NewFragment = {
      streamId: stream.id,
      fragmentNumber: this.#d.store.nextFragmentNumber(stream.id, serverMs),
      producerTimestampMs: f.timecode,
      serverTimestampMs: serverMs,
      durationMs: f.durationMs,
      timecode: f.timecode,
      trackInfoId: this.#trackInfoId(stream.id, tracks),
      tagsBytes: null,
      clusterBytes: f.clusterBytes,
    };
    this.stats.fragments++;
    if (stream.retentionHours === 0) {
      this.#d.feed.publish(this.#d.buffer.add(fragment));
      return;
    }
    limiter.reservedBytes += size;
    const p: Promise<void> = this.#d.store
      .append(fragment)
      .then(
        (rec) => this.#d.feed.publish(rec, fragment),
        (err: unknown) => {
          this.stats.failed++;
          this.#d.log.error('recording | persisting a fragment failed', { stream: stream.name, err: err instanceof Error ? err.message : String(err) });
        },
      )
      .finally(() => {
        limiter.reservedBytes -= size;
        this.#inFlight.delete(p);
      });
    this.#inFlight.add(p);
  }

  /** Resolves once every fragment handed to write() is stored (or failed). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) {
      await Promise.all([...this.#inFlight]);
    }
  }

  /** saveTrackInfo once per distinct header (the store keeps one row per distinct content anyway). */
  #trackInfoId(streamId: number, tracks: TrackSet): number {
    const header = writeMkvHeader(tracks);
    const key = `${streamId}:${Buffer.from(header).toString('base64')}`;
    if (this.#trackInfo?.key !== key) {
      this.#trackInfo = { key, id: this.#d.store.saveTrackInfo(streamId, { ...tracks, bytes: header }) };
    }
    return this.#trackInfo.id;
  }
}
