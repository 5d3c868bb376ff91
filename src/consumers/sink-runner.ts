import type { Frame, HookEvent } from './frame.js';
import { FrameQueue } from './frame-queue.js';
import { InvalidEventsError, SinkTimeoutError, errorText, type FrameSink } from './sink.js';

/** A frame on its way through a consumer's sinks; `pending` counts the sinks not done with it yet. */
export type InFlight = { frame: Frame; pending: number; dropped: boolean };

export type SinkStats = { calls: number; delivered: number; errors: number; timeouts: number; events: number; dropped: number; lastError: string | null };

/** One sink's own bounded queue and delivery loop: a slow or failing sink drops its oldest frames, nobody else's. */
export class SinkRunner {
  readonly sink: FrameSink;
  readonly stats: SinkStats = { calls: 0, delivered: 0, errors: 0, timeouts: 0, events: 0, dropped: 0, lastError: null };
  readonly #queue: FrameQueue<InFlight>;
  readonly #store: (frame: Frame, events: HookEvent[]) => void;
  readonly #settled: (entry: InFlight) => void;

  constructor(sink: FrameSink, capacity: number, store: (frame: Frame, events: HookEvent[]) => void, settled: (entry: InFlight) => void) {
    this.sink = sink;
    this.#queue = new FrameQueue(capacity);
    this.#store = store;
    this.#settled = settled;
    void this.#loop();
  }

  get queueLength(): number {
    return this.#queue.length;
  }

  push(entry: InFlight): void {
    for (const old of this.#queue.push(entry)) {
      this.stats.dropped++;
      old.dropped = true;
      this.#settled(old);
    }
  }

  close(): void {
    this.#queue.close();
  }

  async #loop(): Promise<void> {
    for (;;) {
      const entry = await this.#queue.take();
      if (entry === undefined) {
        return;
      }
      this.stats.calls++;
      try {
        this.#record(entry.frame, await this.sink.deliver(entry.frame));
        this.stats.delivered++;
      } catch (err) {
        if (err instanceof InvalidEventsError) {
          this.#record(entry.frame, err.events);
        }
        if (err instanceof SinkTimeoutError) {
          this.stats.timeouts++;
        } else {
          this.stats.errors++;
        }
        this.stats.lastError = errorText(err);
      }
      this.#settled(entry);
    }
  }

  #record(frame: Frame, events: HookEvent[]): void {
    if (events.length === 0) {
      return;
    }
    try {
      this.#store(frame, events);
      this.stats.events += events.length;
    } catch (err) {
      this.stats.errors++;
      this.stats.lastError = `events not stored: ${errorText(err)}`;
    }
  }
}
