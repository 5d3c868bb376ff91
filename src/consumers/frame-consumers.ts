import type { FragmentReader } from '../core/fragment-reader.js';
import { retentionCutoffMs, type StreamRecord } from '../core/stream-record.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { FfmpegBinary } from '../frames/ffmpeg-binary.js';
import { warmUp } from '../frames/frame-decoder.js';
import type { Db } from '../store/database.js';
import type { FragmentFeed } from '../stream/fragment-feed.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { CheckpointStore } from './checkpoint-store.js';
import { FileDestination } from './destinations/file-destination.js';
import { S3Destination, type S3Settings } from './destinations/s3-destination.js';
import type { FragmentNotifier } from '../notifications/fragment-notifier.js';
import { FrameConsumer, type ConsumerDeps } from './frame-consumer.js';
import { FrameEvents } from './frame-events.js';
import { HookConfigStore, hookModulePath, type HookConfig } from './hook-config.js';
import { ModuleHook } from './hooks/module-hook.js';
import { MotionDetector } from './hooks/motion-detector.js';
import { WebhookHook } from './hooks/webhook-hook.js';
import { destinationOf, imageGenerationOf, type ImageGeneration } from './image-generation.js';
import type { FrameSink } from './sink.js';

export type FrameConsumersDeps = {
  db: Db;
  registry: StreamRegistry;
  reader: FragmentReader;
  feed: FragmentFeed;
  ffmpeg: FfmpegBinary | null;
  clock: Clock;
  log: Logger;
  hooksDir: string;
  s3: S3Settings | null;
  /** Signs webhook and http-destination POSTs that have no Secret of their own. */
  signingKey: Buffer;
  /** Base for `file://./dir` destinations. */
  cwd: string;
  /** Told about images of fragments whose metadata asked for a notification. */
  notifier?: Pick<FragmentNotifier, 'notifyImage'>;
};

/** How often expired timeline events are deleted. */
const EVENT_SWEEP_MS = 60_000;

/** A destination or hook that cannot be used: every frame fails with the reason (shown in the consumer's status). */
class UnusableSink implements FrameSink {
  constructor(
    readonly reason: string,
    readonly name = 'destination',
    readonly type: FrameSink['type'] = 'DESTINATION',
  ) {}
  deliver(): Promise<never> {
    return Promise.reject(new Error(this.reason));
  }
  async close(): Promise<void> {}
}

/**
 * The continuous frame consumers: one per stream whose image generation is ENABLED, (re)started whenever that
 * configuration or the stream's hooks change, stopped when it is disabled or the stream is deleted.
 */
export class FrameConsumers {
  readonly hooks: HookConfigStore;
  readonly events: FrameEvents;
  readonly checkpoints: CheckpointStore;
  readonly #d: FrameConsumersDeps;
  readonly #running = new Map<number, { key: string; consumer: FrameConsumer | undefined }>();
  /** Serializes start/stop per stream so a quick toggle never runs two consumers on one stream. */
  readonly #chain = new Map<number, Promise<void>>();
  #sweep: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(deps: FrameConsumersDeps) {
    this.#d = deps;
    this.hooks = new HookConfigStore(deps.db);
    this.events = new FrameEvents(deps.db);
    this.checkpoints = new CheckpointStore(deps.db);
  }

  start(): void {
    for (const s of this.#d.registry.all()) {
      this.reconcile(s);
    }
    this.#d.registry.onChanged((s) => this.reconcile(s));
    this.#d.registry.onDeleted((s) => {
      this.#stop(s.id);
      this.hooks.drop(s.id);
      this.events.drop(s.id);
      this.checkpoints.drop(s.id);
    });
    this.#sweep = setInterval(() => this.#expireEvents(), EVENT_SWEEP_MS);
    this.#sweep.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweep !== null) {
      clearInterval(this.#sweep);
    }
    for (const id of [...this.#running.keys()]) {
      this.#stop(id);
    }
    await Promise.all([...this.#chain.values()]);
  }

  /** Validates and stores a stream's hooks, then restarts its consumer with them. */
  setHooks(stream: StreamRecord, hooks: HookConfig[]): void {
    for (const h of hooks) {
      if (h.Type === 'MODULE') {
        hookModulePath(this.#d.hooksDir, h.Module);
      }
    }
    this.hooks.set(stream.id, hooks);
    this.reconcile(stream);
  }

  consumer(streamId: number): FrameConsumer | undefined {
    return this.#running.get(streamId)?.consumer;
  }

  /** The reason a configured consumer cannot run, or null. */
  unavailableReason(): string | null {
    return this.#d.ffmpeg === null ? 'no ffmpeg binary was found (set FFMPEG_PATH or install ffmpeg)' : null;
  }

  reconcile(stream: StreamRecord): void {
    if (this.#closed) {
      return;
    }
    const config = imageGenerationOf(stream.imageGeneration);
    const hooks = this.hooks.get(stream.id);
    const wanted = config !== null && config.status === 'ENABLED' && this.#d.ffmpeg !== null;
    const key = JSON.stringify([config, hooks, stream.name]);
    const current = this.#running.get(stream.id);
    if (current !== undefined && current.key === key && wanted) {
      return;
    }
    this.#stop(stream.id);
    if (wanted) {
      // recorded now, started in turn: the previous consumer's stop (which saves the checkpoint) runs first
      const entry: { key: string; consumer: FrameConsumer | undefined } = { key, consumer: undefined };
      const requestedAtMs = this.#d.clock.now();
      this.#running.set(stream.id, entry);
      this.#enqueue(stream.id, async () => {
        await warmUp(this.#d.ffmpeg!.path);
        if (this.#closed || this.#running.get(stream.id) !== entry) {
          return;
        }
        const consumer = new FrameConsumer({
          stream,
          config,
          sinks: [this.#destination(config), ...hooks.map((h) => this.#hook(h))],
          registry: this.#d.registry,
          reader: this.#d.reader,
          feed: this.#d.feed,
          checkpoints: this.checkpoints,
          events: this.events,
          ffmpegPath: this.#d.ffmpeg!.path,
          log: this.#d.log,
          requestedAtMs,
          ...(this.#d.notifier !== undefined ? { onImageDelivered: this.#imageNotifier(stream.id, this.#d.notifier) } : {}),
        });
        entry.consumer = consumer;
        consumer.start();
      });
    }
  }

  #stop(streamId: number): void {
    const current = this.#running.get(streamId);
    if (current === undefined) {
      return;
    }
    this.#running.delete(streamId);
    this.#enqueue(streamId, async () => current.consumer?.stop());
  }

  #enqueue(streamId: number, step: () => Promise<void>): void {
    const next = (this.#chain.get(streamId) ?? Promise.resolve()).then(step).catch((err: unknown) => {
      this.#d.log.warn('frame consumer start/stop failed', { streamId, error: (err as Error).message });
    });
    this.#chain.set(streamId, next);
    void next.then(() => {
      if (this.#chain.get(streamId) === next) {
        this.#chain.delete(streamId);
      }
    });
  }

  #imageNotifier(streamId: number, notifier: Pick<FragmentNotifier, 'notifyImage'>): NonNullable<ConsumerDeps['onImageDelivered']> {
    return (frame, location, notificationValues) => {
      const stream = this.#d.registry.byId(streamId);
      if (stream !== undefined) {
        notifier.notifyImage(stream, {
          fragmentNumber: frame.fragmentNumber,
          producerTimestampMs: frame.producerTimestamp,
          serverTimestampMs: frame.serverTimestamp,
          format: frame.format,
          location,
          notificationValues,
        });
      }
    };
  }

  #destination(config: ImageGeneration): FrameSink {
    const dest = destinationOf(config.uri, this.#d.cwd);
    if (dest === null) {
      return new UnusableSink(`openkvs cannot deliver images to ${config.uri} (use s3://, http(s):// or file://)`);
    }
    switch (dest.kind) {
      case 'file':
        return new FileDestination(dest.dir, config.selector);
      case 'http':
        return new WebhookHook('destination', 'DESTINATION', dest.uri, this.#d.signingKey);
      case 's3':
        return this.#d.s3 === null
          ? new UnusableSink('s3:// destinations need s3Endpoint (and s3 credentials) in the server configuration')
          : new S3Destination(this.#d.s3, dest.bucket, dest.prefix, config.selector);
    }
  }

  #hook(h: HookConfig): FrameSink {
    switch (h.Type) {
      case 'MODULE':
        try {
          return new ModuleHook(h.Name, hookModulePath(this.#d.hooksDir, h.Module), h.TimeoutMs);
        } catch (err) {
          return new UnusableSink((err as Error).message, h.Name, 'MODULE');
        }
      case 'WEBHOOK':
        return new WebhookHook(h.Name, 'WEBHOOK', h.Uri, h.Secret ?? this.#d.signingKey);
      case 'MOTION':
        return new MotionDetector(h.Name, h.Threshold);
    }
  }

  #expireEvents(): void {
    const now = this.#d.clock.now();
    for (const s of this.#d.registry.all()) {
      if (s.retentionHours > 0) {
        // As the retention sweep: SQLITE_FULL on a full disk must not escape the interval callback and kill the process.
        try {
          this.events.expire(s.id, retentionCutoffMs(s, now));
        } catch (err) {
          this.#d.log.error('expiring frame events failed', { stream: s.name, err: (err as Error).message });
        }
      }
    }
  }
}
