import type { StreamRecord } from '../core/stream-record.js';
import { ParseError } from '../formats/errors.js';
import { KmsKeyError } from '../errors/kms-error.js';
import type { IngestParser, ParsedFragment, ParsedHeader } from '../media/parse-events.js';
import { StreamDroppedError, type FragmentStore, type NewFragment } from '../store/fragment-store.js';
import type { MemoryBuffer } from '../store/memory-buffer.js';
import type { FragmentFeed } from '../stream/fragment-feed.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Ack, AckErrorName } from './ack.js';
import type { PutMediaHeaders } from './put-media-headers.js';
import type { StreamLimiter } from './stream-limiter.js';
import type { IngestMeter } from './ingest-meter.js';

/** Producer Tags buffered between clusters beyond this are refused (KVS: ≤ 10 tag entries per fragment). */
export const MAX_PENDING_TAG_ELEMENTS = 10;
export const MAX_PENDING_TAG_BYTES = 256 * 1024;

export type IngestSessionDeps = {
  /** The stream as it is now (retention and capacity may change during an upload). */
  stream: () => StreamRecord | undefined;
  store: FragmentStore;
  buffer: MemoryBuffer;
  limiter: StreamLimiter;
  clock: Clock;
  headers: PutMediaHeaders;
  /** Told about each fragment as it becomes readable (live GetMedia readers). */
  feed: FragmentFeed;
  /** Called for every ack, in order; acks must be flushed individually. */
  send: (ack: Ack) => void;
  log: Logger;
  meter?: IngestMeter | undefined;
};

type Current = { timecode: number; fragmentNumber: string; serverMs: number };

/**
 * One PutMedia upload: parse events in, acknowledgements out, fragments to the store.
 * push() is synchronous and never throws for bad input: a fatal problem becomes an ERROR ack and the session
 * stops (`failed`). Durable writes run in the background; `inFlight` lets the caller apply backpressure.
 */
export class IngestSession {
  readonly #d: IngestSessionDeps;
  readonly #parser: IngestParser;
  #header: (ParsedHeader & { trackInfoId: number }) | null = null;
  #current: Current | null = null;
  #lastTimecode: number | null = null;
  #pendingTags: Uint8Array[] = [];
  #pendingTagBytes = 0;
  #inFlight = new Set<Promise<void>>();
  #lastAck: Promise<void> = Promise.resolve();
  #failed = false;
  fragments = 0;

  constructor(parser: IngestParser, deps: IngestSessionDeps) {
    this.#parser = parser;
    this.#d = deps;
  }

  get failed(): boolean {
    return this.#failed;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  push(chunk: Uint8Array): void {
    if (this.#failed) {
      return;
    }
    this.#run(() => this.#parser.push(chunk));
  }

  /** End of the request body: flush the parser and wait until every accepted fragment is stored. */
  async end(): Promise<void> {
    if (!this.#failed) {
      this.#run(() => this.#parser.end());
    }
    await this.settled();
  }

  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) {
      await Promise.all([...this.#inFlight]);
    }
  }

  /** Stop with an ERROR ack (stream deleted, idle, shutdown…). */
  abort(error: AckErrorName): void {
    if (!this.#failed) {
      this.#fail(error);
    }
  }

  #run(parse: () => ReturnType<IngestParser['push']>): void {
    let events;
    try {
      events = parse();
    } catch (err) {
      if (err instanceof ParseError) {
        this.#d.log.info('putMedia() | rejected media', { reason: err.message });
        // Only an oversized fragment is a fragment-size error; any other oversized element is malformed input.
        this.#fail(err.fragmentTooLarge ? 'MAX_FRAGMENT_SIZE_REACHED' : 'INVALID_MKV_DATA');
        return;
      }
      this.#d.log.error('putMedia() | parser crashed', { err: err instanceof Error ? err.stack : String(err) });
      this.#fail('INTERNAL_ERROR');
      return;
    }
    for (const ev of events) {
      if (this.#failed) {
        return;
      }
      switch (ev.kind) {
        case 'header': {
          const stream = this.#stream();
          if (stream === undefined) {
            return;
          }
          this.#header = { ...ev.header, trackInfoId: this.#d.store.saveTrackInfo(stream.id, ev.header) };
          // A new EBML document is a new producer session: its timecodes restart (as in GetMedia captures).
          this.#lastTimecode = null;
          break;
        }
        case 'fragment-start':
          this.#onFragmentStart(ev.timecode);
          break;
        case 'fragment':
          this.#onFragment(ev.fragment);
          break;
        case 'tags':
          this.#pendingTags.push(ev.bytes);
          this.#pendingTagBytes += ev.bytes.length;
          if (this.#pendingTags.length > MAX_PENDING_TAG_ELEMENTS || this.#pendingTagBytes > MAX_PENDING_TAG_BYTES) {
            this.#fail('FRAGMENT_METADATA_LIMIT_REACHED');
          }
          break;
      }
    }
  }

  #onFragmentStart(timecode: number): void {
    const stream = this.#stream();
    if (stream === undefined) {
      return;
    }
    const serverMs = this.#d.clock.now();
    this.#current = { timecode, serverMs, fragmentNumber: this.#d.store.nextFragmentNumber(stream.id, serverMs) };
    this.#ack('BUFFERING', this.#current);
  }

  #onFragment(f: ParsedFragment): void {
    const stream = this.#stream();
    const header = this.#header;
    const cur = this.#current;
    if (stream === undefined) {
      return;
    }
    if (header === null || cur === null || cur.timecode !== f.timecode) {
      this.#fail('INVALID_MKV_DATA');
      return;
    }
    this.#current = null;
    const tagsBytes = this.#takeTags();
    const scaleMs = header.timecodeScaleNs / 1e6;
    if (this.#lastTimecode !== null && f.timecode < this.#lastTimecode) {
      this.#fragmentError('FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS', cur);
      return;
    }
    this.#lastTimecode = f.timecode;
    const durationMs = fragmentDurationMs(f, scaleMs, header);
    const capacity = this.#d.limiter.capacity;
    if (durationMs > capacity.maxFragmentDurationMs) {
      this.#fragmentError('MAX_FRAGMENT_DURATION_REACHED', cur);
      return;
    }
    const size = f.bytes.length + (tagsBytes?.length ?? 0);
    if (size > capacity.maxFragmentBytes) {
      this.#fragmentError('MAX_FRAGMENT_SIZE_REACHED', cur);
      return;
    }
    const budget = capacity.storageBudgetBytes;
    const limiter = this.#d.limiter;
    const overBudget = budget !== null && stream.retentionHours > 0 && this.#d.store.storedBytes(stream.id) + limiter.reservedBytes + size > budget;
    if (overBudget || !limiter.tryAdmit(size)) {
      this.#fragmentError('CAPACITY_EXCEEDED', cur);
      return;
    }
    const tcMs = f.timecode * scaleMs;
    const producerMs = this.#d.headers.timecodeType === 'ABSOLUTE' ? tcMs : this.#d.headers.producerStartMs + tcMs;
    if (!Number.isFinite(producerMs) || producerMs < 0 || producerMs > 253_402_300_799_000) {
      this.#fragmentError('INVALID_PRODUCER_TIMESTAMP', cur);
      return;
    }
    this.#ack('RECEIVED', cur);
    const receivedAt = this.#d.clock.now();
    this.#d.meter?.received(f.blockCount, size, receivedAt - cur.serverMs);
    this.fragments++;
    const fragment: NewFragment = {
      streamId: stream.id,
      fragmentNumber: cur.fragmentNumber,
      producerTimestampMs: producerMs,
      serverTimestampMs: cur.serverMs,
      durationMs,
      timecode: f.timecode,
      trackInfoId: header.trackInfoId,
      tagsBytes,
      clusterBytes: f.bytes,
    };
    if (stream.retentionHours === 0) {
      // No persistence: the fragment lives in the rolling host buffer and no PERSISTED ack is sent (as KVS).
      this.#d.feed.publish(this.#d.buffer.add(fragment));
      return;
    }
    limiter.reservedBytes += size;
    const stored = this.#d.store.append(fragment).finally(() => {
      limiter.reservedBytes -= size;
    });
    void stored.then((rec) => this.#d.feed.publish(rec, fragment), () => undefined);
    // Acks go out in fragment order even when a later fragment's commit finishes first.
    const previous = this.#lastAck;
    const p: Promise<void> = Promise.allSettled([stored, previous]).then(([res]) => {
      this.#inFlight.delete(p);
      if (res.status === 'fulfilled') {
        if (this.#d.stream() === undefined) {
          // Committed just before the stream was deleted, and dropped with it: it is not kept, so no PERSISTED.
          return;
        }
        this.#d.meter?.persisted(this.#d.clock.now() - receivedAt);
        this.#ack('PERSISTED', cur);
      } else {
        const err = res.reason instanceof Error ? res.reason.message : String(res.reason);
        if (res.reason instanceof StreamDroppedError) {
          // The stream was deleted: the upload already ended with STREAM_NOT_ACTIVE, and the fragment is gone.
          return;
        }
        if (res.reason instanceof KmsKeyError) {
          // A key problem (docs/encryption.md) is the operator's doing, not a failure: the KVS KMS ack; nothing was written.
          this.#d.log.warn('putMedia() | the stream key refuses the fragment', { err });
          this.#fragmentError(res.reason.problem, cur);
        } else {
          this.#d.log.error('putMedia() | persisting a fragment failed', { err });
          this.#fragmentError('ARCHIVAL_ERROR', cur);
        }
      }
    });
    this.#lastAck = p;
    this.#inFlight.add(p);
  }

  #takeTags(): Uint8Array | null {
    if (this.#pendingTags.length === 0) {
      return null;
    }
    const out = new Uint8Array(this.#pendingTagBytes);
    let off = 0;
    for (const t of this.#pendingTags) {
      out.set(t, off);
      off += t.length;
    }
    this.#pendingTags = [];
    this.#pendingTagBytes = 0;
    return out;
  }

  #stream(): StreamRecord | undefined {
    const s = this.#d.stream();
    if (s === undefined) {
      this.#fail('STREAM_NOT_ACTIVE');
    }
    return s;
  }

  #ack(type: 'BUFFERING' | 'RECEIVED' | 'PERSISTED', cur: Current): void {
    if (this.#d.headers.ackRequired) {
      this.#d.send({ type, timecode: cur.timecode, fragmentNumber: cur.fragmentNumber });
    }
  }

  /** An error about one fragment: it is not stored; the upload continues. */
  #fragmentError(error: AckErrorName, cur: Current): void {
    this.#d.send({ type: 'ERROR', error, timecode: cur.timecode, fragmentNumber: cur.fragmentNumber });
  }

  /** A fatal error: the upload stops. */
  #fail(error: AckErrorName): void {
    this.#failed = true;
    const cur = this.#current;
    this.#d.send(cur === null ? { type: 'ERROR', error } : { type: 'ERROR', error, timecode: cur.timecode, fragmentNumber: cur.fragmentNumber });
  }
}

/**
 * Fragment duration: the span of its block timecodes plus one frame. The frame is the video track's
 * DefaultDuration when known, else the average block spacing.
 */
function fragmentDurationMs(f: ParsedFragment, scaleMs: number, header: ParsedHeader): number {
  const span = (f.maxBlockTimecode - f.minBlockTimecode) * scaleMs;
  const video = header.tracks.find((t) => t.kind === 'video' && f.trackNumbers.includes(t.number));
  let frame = video?.defaultDurationNs !== undefined ? video.defaultDurationNs / 1e6 : f.blockCount > 1 ? span / (f.blockCount - 1) : 0;
  if (!Number.isFinite(frame) || frame < 0) {
    frame = 0;
  }
  return Math.round(span + frame);
}
