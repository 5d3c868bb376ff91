import { AckErrorId } from '../ingest/ack.js';
import type { IngestMeter, IngestMeters } from '../ingest/ingest-meter.js';
import { RateWindow } from './rate-window.js';
import type { ServerMetrics } from './server-metrics.js';

/** A stream's recent ingest rate, for the capacity-headroom gauges. */
export type IngestRates = { bytes: RateWindow; fragments: RateWindow };

/**
 * The ingest path's meters: one per stream, its prom-client children looked up once and cached, so an event on
 * the upload's path is a few additions.
 */
export class MetricsIngestMeters implements IngestMeters {
  readonly #m: ServerMetrics;
  readonly #nowMs: () => number;
  readonly #meters = new Map<string, { meter: IngestMeter; retire(): void }>();
  readonly rates = new Map<string, IngestRates>();

  constructor(metrics: ServerMetrics, nowMs: () => number) {
    this.#m = metrics;
    this.#nowMs = nowMs;
  }

  forStream(stream: string): IngestMeter {
    let entry = this.#meters.get(stream);
    if (entry === undefined) {
      entry = this.#create(stream);
      this.#meters.set(stream, entry);
    }
    return entry.meter;
  }

  /**
   * The stream was deleted: its series are gone, and the uploads still ending on it (their STREAM_NOT_ACTIVE ack,
   * their disconnect) must not bring them back — a prom-client child re-creates its series when touched.
   */
  drop(stream: string): void {
    this.#meters.get(stream)?.retire();
    this.#meters.delete(stream);
    this.rates.delete(stream);
  }

  #create(stream: string): { meter: IngestMeter; retire(): void } {
    const m = this.#m;
    const bytes = m.incomingBytes.child(stream);
    const fragments = m.incomingFragments.child(stream);
    const frames = m.incomingFrames.child(stream);
    const requests = m.putMediaRequests.child(stream);
    const active = m.activeConnections.labels(stream);
    const ingestion = m.ingestionLatency.child(stream);
    const persist = m.persistLatency.child(stream);
    const rates: IngestRates = { bytes: new RateWindow(this.#nowMs), fragments: new RateWindow(this.#nowMs) };
    this.rates.set(stream, rates);
    let live = true;
    const meter: IngestMeter = {
      connected: () => {
        if (live) {
          requests.inc();
          active.inc();
        }
      },
      disconnected: () => live && active.dec(),
      bytes: (n) => live && bytes.inc(n),
      received: (n, size, ingestMs) => {
        if (live) {
          fragments.inc();
          frames.inc(n);
          ingestion.observe(ingestMs / 1000);
          rates.bytes.add(size);
          rates.fragments.add(1);
        }
      },
      persisted: (ms) => live && persist.observe(ms / 1000),
      ackError: (error) => {
        if (live) {
          m.errorAcks.inc(stream, { error_id: String(AckErrorId[error]), error });
          if (error === 'CAPACITY_EXCEEDED') {
            m.throttles.inc(stream, { limit: 'fragment_capacity' });
          }
        }
      },
      throttled: (limit) => live && m.throttles.inc(stream, { limit }),
    };
    return { meter, retire: () => (live = false) };
  }
}
