import { Router } from 'express';
import type { GetMediaMeter } from '../api/operations/get-media.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { FragmentStore } from '../store/fragment-store.js';
import type { FragmentFeed } from '../stream/fragment-feed.js';
import { registerConsumerGauges, type ConsumerGaugeDeps } from './consumer-gauges.js';
import { MetricsIngestMeters } from './ingest-meters.js';
import type { MetricsAccess } from './metrics-access.js';
import { metricsRouter } from './metrics-route.js';
import { countPlaybackRequests } from './playback-requests.js';
import { readinessRouter, type ReadinessDeps } from './readiness.js';
import { ServerMetrics } from './server-metrics.js';
import { registerStreamGauges, type StreamGaugeDeps } from './stream-gauges.js';
import { registerWebrtcGauges, type WebrtcGaugeDeps } from './webrtc-gauges.js';

/**
 * The metrics of one server and the hooks the components take (src/server.ts wires them): ingest meters,
 * GetMedia's meter, the retention sweeper's store, the gauges read at scrape time, and the /metrics and /ready
 * routes.
 */
export class OpenKvsMetrics {
  readonly metrics = new ServerMetrics();
  readonly ingest: MetricsIngestMeters;
  readonly getMedia: GetMediaMeter;

  readonly #registry: StreamRegistry;

  constructor(d: { registry: StreamRegistry; nowMs: () => number }) {
    this.#registry = d.registry;
    const m = this.metrics;
    this.ingest = new MetricsIngestMeters(m, d.nowMs);
    this.getMedia = {
      sent: (s, bytes, behind) => {
        // a reader still sending its page when the stream is deleted must not bring the stream's series back
        if (d.registry.byId(s.id) === undefined) {
          return;
        }
        m.outgoingBytes.inc(s.name, {}, bytes);
        m.outgoingFragments.inc(s.name, {});
        m.millisBehindNow.set({ stream: s.name }, behind);
      },
    };
    d.registry.onDeleted((s) => {
      m.removeStream(s.name);
      this.ingest.drop(s.name);
    });
  }

  /**
   * The store as the retention sweeper sees it: the fragments each expire() deletes are counted. A Proxy rather
   * than a wrapper class, so the store's interface can grow without this file following it.
   */
  countingExpiry(store: FragmentStore): FragmentStore {
    const deleted = this.metrics.retentionDeleted;
    const streamName = (id: number): string | undefined => this.#registry.byId(id)?.name;
    return new Proxy(store, {
      get(target, key) {
        if (key === 'expire') {
          return (streamId: number, cutoffServerMs: number): number => {
            const n = target.expire(streamId, cutoffServerMs);
            const name = streamName(streamId);
            if (n > 0 && name !== undefined) {
              deleted.inc(name, {}, n);
            }
            return n;
          };
        }
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /** The rest of the server, once it is built: fragments as they land, and what the gauges read at scrape time. */
  attach(d: Omit<StreamGaugeDeps, 'rates'> & ConsumerGaugeDeps & WebrtcGaugeDeps & { feed: FragmentFeed }): void {
    const m = this.metrics;
    d.feed.watchAll((f) => {
      const name = d.registry.byId(f.streamId)?.name;
      if (name !== undefined) {
        m.committedFragments.inc(name, {});
        m.committedBytes.inc(name, {}, f.size);
      }
    });
    registerStreamGauges(this.metrics.registry, { ...d, rates: this.ingest.rates });
    registerConsumerGauges(this.metrics.registry, d);
    registerWebrtcGauges(this.metrics.registry, d);
  }

  /** /metrics, /ready, and the count of streaming-session requests (mounted ahead of the playback routes). */
  router(access: MetricsAccess, ready: ReadinessDeps): Router {
    const r = Router();
    r.use(countPlaybackRequests(this.metrics.playbackRequests));
    r.use(metricsRouter(this.metrics.registry, access));
    r.use(readinessRouter(ready));
    return r;
  }
}
