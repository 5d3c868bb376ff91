import type { Registry } from 'prom-client';
import type { FrameConsumers } from '../consumers/frame-consumers.js';
import type { FragmentReader } from '../core/fragment-reader.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { scrapedGauge } from './scraped-gauge.js';

// Continuous image generation, read from each running frame consumer at scrape time. Its counters start at 0
// when the consumer (re)starts, so they are gauges here; rate() copes with such resets.

export type ConsumerGaugeDeps = { registry: StreamRegistry; consumers: FrameConsumers; reader: FragmentReader };

export function registerConsumerGauges(r: Registry, d: ConsumerGaugeDeps): void {
  const running = (each: (name: string, c: NonNullable<ReturnType<FrameConsumers['consumer']>>, streamId: number) => void): void => {
    for (const s of d.registry.all()) {
      const c = d.consumers.consumer(s.id);
      if (c !== undefined) {
        each(s.name, c, s.id);
      }
    }
  };
  scrapedGauge(r, 'openkvs_frame_consumer_lag_seconds', 'Server time between the newest fragment and the last frame every sink has handled.', 'stream', (set) => {
    for (const s of d.registry.all()) {
      const c = d.consumers.consumer(s.id);
      if (c === undefined) {
        continue;
      }
      const [newest] = d.reader.list(s, { newestFirst: true, limit: 1 });
      const at = c.checkpoint?.serverTimestampMs;
      set(s.name, newest === undefined ? 0 : Math.max(0, (newest.serverTimestampMs - (at ?? s.creationTimeMs)) / 1000));
    }
  });
  scrapedGauge(r, 'openkvs_frame_consumer_frames_decoded', 'Frames the consumer decoded since it started.', 'stream', (set) => running((n, c) => set(n, c.stats.framesDecoded)));
  scrapedGauge(r, 'openkvs_frame_consumer_frames_delivered', 'Frames every sink handled since it started.', 'stream', (set) => running((n, c) => set(n, c.stats.framesDelivered)));
  scrapedGauge(r, 'openkvs_frame_consumer_frames_dropped', 'Frames a full sink queue dropped since it started.', 'stream', (set) => running((n, c) => set(n, c.stats.framesDropped)));
  scrapedGauge(r, 'openkvs_frame_consumer_decoder_restarts', 'Decoder (ffmpeg) restarts since it started.', 'stream', (set) => running((n, c) => set(n, c.stats.decoderRestarts)));
}
