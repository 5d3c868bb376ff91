import { compareNumbers } from '../core/timestamp-pages.js';
import { parseTagsRun } from '../formats/mkv/mkv-tags.js';
import { NOTIFICATION_TAG } from '../notifications/fragment-notifier.js';
import type { FragmentReader } from '../core/fragment-reader.js';
import type { StreamRecord } from '../core/stream-record.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { FragmentRecord, StoredTrackInfo } from '../store/fragment-store.js';
import type { FragmentFeed } from '../stream/fragment-feed.js';
import type { Logger } from '../util/logger.js';
import type { Checkpoint, CheckpointStore } from './checkpoint-store.js';
import { DecoderSession, type DecodedFrame } from './decoder-session.js';
import type { Frame } from './frame.js';
import type { FrameEvents } from './frame-events.js';
import type { ImageGeneration } from './image-generation.js';
import { SinkRunner, type InFlight } from './sink-runner.js';
import type { FrameSink } from './sink.js';

export const QUEUE_CAPACITY = 32;
/** Largest width of the grayscale thumbnail hooks get next to each image. */
const LUMA_WIDTH = 160;
/** Fragments read per index page while catching up. */
const PAGE = 16;
/** How often, at most, the in-memory checkpoint is written to SQLite (and always at stop). */
const CHECKPOINT_EVERY_MS = 1000;
/** A decoder that failed is not restarted sooner than this. */
const RESTART_BACKOFF_MS = 1000;
/** A live stream quiet this long gets its decoder flushed, so the frames it holds back are delivered. */
const IDLE_FLUSH_MS = 1500;
/** How long a replaced decoder may take to flush its last frames. */
const FLUSH_TIMEOUT_MS = 10_000;

export type ConsumerDeps = {
  stream: StreamRecord;
  config: ImageGeneration;
  /** The image destination first, then the hooks. */
  sinks: FrameSink[];
  registry: StreamRegistry;
  reader: FragmentReader;
  feed: FragmentFeed;
  checkpoints: CheckpointStore;
  events: FrameEvents;
  ffmpegPath: string;
  log: Logger;
  /** Server time the consumer was asked for: without a checkpoint it starts with the fragments stored from then on. */
  requestedAtMs: number;
  /** An image of a fragment whose producer metadata asked for a notification reached the destination. */
  onImageDelivered?: (frame: Frame, location: string, notificationValues: string[]) => void;
};

/** Fragments remembered as having asked for a notification (their images come out shortly after them). */
const MAX_NOTIFYING_FRAGMENTS = 256;

export type ConsumerStats = {
  framesDecoded: number;
  framesDelivered: number;
  framesDropped: number;
  fragmentsFed: number;
  decoderRestarts: number;
  lastError: string | null;
};

/**
 * A stream's continuous frame consumer: fragments from its checkpoint on (catch-up from the store, then live) are
 * fed to one long-lived decoder; each sampled frame goes to every sink on the sink's own bounded queue. The
 * checkpoint is the newest frame every sink has handled (delivered, failed or dropped) with all older ones handled.
 */
export class FrameConsumer {
  readonly #d: ConsumerDeps;
  readonly #runners: SinkRunner[];
  readonly #inflight: InFlight[] = [];
  readonly #stats: ConsumerStats = { framesDecoded: 0, framesDelivered: 0, framesDropped: 0, fragmentsFed: 0, decoderRestarts: 0, lastError: null };
  /** Frames at or before this one were handled before a restart: decoded again, but not delivered again. */
  readonly #resumeAfter: Checkpoint | undefined;
  #checkpoint: Checkpoint | undefined;
  #checkpointDirty = false;
  #savedAt = 0;
  #decoder: DecoderSession | null = null;
  /** A replaced decoder still flushing its last frames. */
  #flushing: DecoderSession | null = null;
  #lastFailureAt = 0;
  /** Sampling slot of the last frame taken on the current media timeline (kept across an idle flush). */
  #lastSlot: number | null = null;
  #lastFed: { trackInfoId: number; mediaStartMs: number } | null = null;
  /** Fragment number → the AWS_KINESISVIDEO_NOTIFICATION values its producer metadata carried. */
  readonly #notifyValues = new Map<string, string[]>();
  #closed = false;
  #signalled = false;
  #wake: (() => void) | null = null;
  #unsubscribe: () => void = () => undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(deps: ConsumerDeps) {
    this.#d = deps;
    this.#resumeAfter = deps.checkpoints.get(deps.stream.id);
    this.#checkpoint = this.#resumeAfter;
    this.#runners = deps.sinks.map((s) => this.#notifying(s)).map((sink) => new SinkRunner(sink, QUEUE_CAPACITY, (frame, events) => deps.events.add(deps.stream.id, sink.name, frame, events), (e) => this.#settled(e)));
  }

  /** The destination, telling the notifier about images of fragments that asked for a notification. */
  #notifying(sink: FrameSink): FrameSink {
    const notify = this.#d.onImageDelivered;
    if (sink.type !== 'DESTINATION' || notify === undefined || sink.locate === undefined) {
      return sink;
    }
    const asked = this.#notifyValues;
    return {
      name: sink.name,
      type: sink.type,
      close: () => sink.close(),
      deliver: async (frame) => {
        const events = await sink.deliver(frame);
        const values = asked.get(frame.fragmentNumber);
        if (values !== undefined) {
          notify(frame, sink.locate!(frame), values);
        }
        return events;
      },
    };
  }

  start(): void {
    this.#unsubscribe = this.#d.feed.subscribe(this.#d.stream.id, () => this.#signal());
    this.#running = this.#run().catch((err: unknown) => {
      this.#stats.lastError = err instanceof Error ? err.message : String(err);
      this.#d.log.warn('frame consumer stopped on an error', { stream: this.#d.stream.name, error: this.#stats.lastError });
    });
  }

  async stop(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    this.#signal();
    this.#decoder?.kill();
    this.#flushing?.kill();
    await this.#running;
    for (const r of this.#runners) {
      r.close();
    }
    await Promise.all(this.#d.sinks.map((s) => s.close().catch(() => undefined)));
    this.#saveCheckpoint(true);
  }

  get stats(): Readonly<ConsumerStats> {
    return this.#stats;
  }

  get checkpoint(): Checkpoint | undefined {
    return this.#checkpoint;
  }

  get runners(): readonly SinkRunner[] {
    return this.#runners;
  }

  async #run(): Promise<void> {
    let cursor = this.#startCursor();
    while (!this.#closed) {
      const stream = this.#d.registry.byId(this.#d.stream.id);
      if (stream === undefined) {
        return;
      }
      this.#signalled = false;
      const page = this.#d.reader.list(stream, cursor === undefined ? { limit: PAGE } : { afterFragmentNumber: cursor, limit: PAGE });
      if (page.length === 0) {
        await this.#waitForFragment();
        continue;
      }
      for (const f of page) {
        if (this.#closed) {
          return;
        }
        await this.#feed(stream, f);
        cursor = f.fragmentNumber;
      }
    }
  }

  /**
   * Where reading starts: just before the checkpoint's fragment (it is decoded again, its handled frames skipped),
   * the oldest retained fragment when that one expired, or — for a consumer that never ran — the live edge as it
   * was when the consumer was asked for.
   */
  #startCursor(): string | undefined {
    const stream = this.#d.stream;
    const ck = this.#resumeAfter;
    if (ck !== undefined) {
      return this.#d.reader.get(stream, ck.fragmentNumber) === undefined ? undefined : precedingNumber(ck.fragmentNumber);
    }
    // not "the newest fragment now": the decoder's start-up must not skip what arrived since image generation was enabled
    return this.#d.reader.list(stream, { timestampKind: 'server', toMs: this.#d.requestedAtMs - 1, newestFirst: true, limit: 1 })[0]?.fragmentNumber;
  }

  async #feed(stream: StreamRecord, f: FragmentRecord): Promise<void> {
    const info = this.#d.reader.trackInfo(f.trackInfoId);
    if (info === undefined || !info.tracks.some((t) => t.kind === 'video')) {
      return; // nothing to take images of
    }
    const bytes = await this.#d.reader.bytes(stream, f);
    if (bytes === undefined) {
      return; // expired meanwhile
    }
    if (f.tagsSize > 0 && this.#d.onImageDelivered !== undefined) {
      this.#rememberNotification(f.fragmentNumber, bytes.subarray(0, f.tagsSize));
    }
    const mediaStartMs = (f.timecode * info.timecodeScaleNs) / 1e6;
    const last = this.#lastFed;
    const newTimeline = last === null || last.trackInfoId !== f.trackInfoId || mediaStartMs < last.mediaStartMs;
    this.#lastFed = { trackInfoId: f.trackInfoId, mediaStartMs };
    if (this.#decoder === null || !this.#decoder.accepts(f)) {
      await this.#replaceDecoder(info);
    }
    if (newTimeline) {
      // after the old decoder's last frames: slots taken on the old timeline say nothing about the new one
      this.#lastSlot = null;
    }
    if (this.#closed || this.#decoder === null) {
      return;
    }
    await this.#decoder.feed(f, bytes.subarray(f.tagsSize));
    this.#stats.fragmentsFed++;
  }

  async #replaceDecoder(info: StoredTrackInfo): Promise<void> {
    const old = this.#decoder;
    this.#decoder = null;
    if (old !== null) {
      this.#flushing = old;
      const flushed = old.end().catch(() => undefined);
      const timer = new Promise<void>((r) => setTimeout(r, FLUSH_TIMEOUT_MS).unref());
      await Promise.race([flushed, timer]);
      old.kill();
      this.#flushing = null;
    }
    const wait = this.#lastFailureAt + RESTART_BACKOFF_MS - Date.now();
    if (wait > 0) {
      await new Promise((r) => setTimeout(r, wait));
    }
    if (!this.#closed) {
      this.#decoder = this.#newDecoder(info);
    }
  }

  #rememberNotification(fragmentNumber: string, tagsBytes: Uint8Array): void {
    let values: string[];
    try {
      values = parseTagsRun(tagsBytes).flatMap((t) => (t.name === NOTIFICATION_TAG ? [t.value] : []));
    } catch {
      return; // accepted at ingest; unreadable here only means no notification
    }
    if (values.length > 0) {
      this.#notifyValues.set(fragmentNumber, values);
      for (const old of this.#notifyValues.keys()) {
        if (this.#notifyValues.size <= MAX_NOTIFYING_FRAGMENTS) {
          break;
        }
        this.#notifyValues.delete(old);
      }
    }
  }

  #newDecoder(info: StoredTrackInfo): DecoderSession {
    const c = this.#d.config;
    const session = new DecoderSession(
      info,
      {
        ffmpegPath: this.#d.ffmpegPath,
        intervalMs: c.intervalMs,
        format: c.format,
        quality: c.quality,
        ...(c.width !== undefined ? { width: c.width } : {}),
        ...(c.height !== undefined ? { height: c.height } : {}),
        lumaWidth: LUMA_WIDTH,
      },
      (df) => this.#onDecoded(df),
    );
    session.finished.catch((err: unknown) => {
      if (this.#closed) {
        return;
      }
      this.#stats.decoderRestarts++;
      this.#lastFailureAt = Date.now();
      this.#stats.lastError = err instanceof Error ? err.message.split('\n').slice(0, 3).join(' ') : String(err);
      this.#d.log.warn('frame decoder failed', { stream: this.#d.stream.name, error: this.#stats.lastError });
    });
    return session;
  }

  #onDecoded(df: DecodedFrame): void {
    // a restarted decoder takes its first frame whatever the slot; the grid says whether that slot was served
    const slot = Math.floor(df.mediaMs / this.#d.config.intervalMs);
    if (this.#lastSlot !== null && slot <= this.#lastSlot) {
      return;
    }
    this.#lastSlot = slot;
    const ck = this.#resumeAfter;
    if (ck !== undefined) {
      const order = compareNumbers(df.fragment.fragmentNumber, ck.fragmentNumber);
      if (order < 0 || (order === 0 && df.producerTimestamp <= ck.producerTimestampMs)) {
        return;
      }
    }
    this.#stats.framesDecoded++;
    const frame: Frame = {
      streamName: this.#d.stream.name,
      streamArn: this.#d.stream.arn,
      fragmentNumber: df.fragment.fragmentNumber,
      producerTimestamp: df.producerTimestamp,
      serverTimestamp: df.serverTimestamp,
      format: this.#d.config.format,
      image: df.image,
      width: df.width,
      height: df.height,
      luma: df.luma,
    };
    const entry: InFlight = { frame, pending: this.#runners.length, dropped: false };
    this.#inflight.push(entry);
    for (const r of this.#runners) {
      r.push(entry);
    }
  }

  /** A sink is done with a frame: advance the checkpoint over every leading frame all sinks are done with. */
  #settled(entry: InFlight): void {
    entry.pending--;
    while (this.#inflight[0] !== undefined && this.#inflight[0].pending <= 0) {
      const done = this.#inflight.shift()!;
      if (done.dropped) {
        this.#stats.framesDropped++;
      } else {
        this.#stats.framesDelivered++;
      }
      this.#checkpoint = { fragmentNumber: done.frame.fragmentNumber, producerTimestampMs: done.frame.producerTimestamp, serverTimestampMs: done.frame.serverTimestamp };
      this.#checkpointDirty = true;
    }
    this.#saveCheckpoint(false);
  }

  #saveCheckpoint(force: boolean): void {
    const now = Date.now();
    if (this.#checkpoint === undefined || !this.#checkpointDirty || (!force && now - this.#savedAt < CHECKPOINT_EVERY_MS)) {
      return;
    }
    try {
      this.#d.checkpoints.save(this.#d.stream.id, this.#checkpoint, now);
      this.#checkpointDirty = false;
      this.#savedAt = now;
    } catch (err) {
      this.#d.log.warn('checkpoint not saved', { stream: this.#d.stream.name, error: (err as Error).message });
    }
  }

  #signal(): void {
    this.#signalled = true;
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  async #waitForFragment(): Promise<void> {
    if (this.#signalled || this.#closed) {
      return;
    }
    // the periodic look also covers a write the feed did not announce, and flushes a checkpoint on a quiet stream
    const woken = await new Promise<boolean>((resolve) => {
      this.#wake = () => resolve(true);
      setTimeout(() => resolve(false), IDLE_FLUSH_MS).unref();
    });
    this.#wake = null;
    if (!woken && !this.#signalled && this.#decoder !== null && !this.#closed) {
      // quiet stream: let the decoder give up the frames it holds; the next fragment starts a new one
      const idle = this.#decoder;
      this.#decoder = null;
      this.#flushing = idle;
      await idle.end().catch(() => undefined);
      this.#flushing = null;
    }
    this.#saveCheckpoint(false);
  }
}

/** The fragment number just before this one: an exclusive cursor that includes it. */
function precedingNumber(n: string): string {
  const v = BigInt(n);
  return v > 0n ? (v - 1n).toString() : n;
}
