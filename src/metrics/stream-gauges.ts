import type { Registry } from 'prom-client';
import type { StreamRecord } from '../core/stream-record.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { Db } from '../store/database.js';
import type { FragmentRecord, FragmentStore } from '../store/fragment-store.js';
import type { MemoryBuffer } from '../store/memory-buffer.js';
import type { IngestRates } from './ingest-meters.js';
import { scrapedGauge } from './scraped-gauge.js';

// Gauges read when Prometheus scrapes, not kept up to date on the ingest path: what each stream holds and how
// much of its fixed capacity is left.

export type StreamGaugeDeps = {
  registry: StreamRegistry;
  store: FragmentStore;
  buffer: MemoryBuffer;
  db: Db;
  rates: ReadonlyMap<string, IngestRates>;
  nowMs: () => number;
};

export function registerStreamGauges(r: Registry, d: StreamGaugeDeps): void {
  const perStream = (name: string, help: string, value: (s: StreamRecord, counts: () => Map<number, number>) => number | null): void =>
    scrapedGauge(r, name, help, 'stream', (set) => {
      let counts: Map<number, number> | undefined;
      const fragmentCounts = (): Map<number, number> => (counts ??= new Map((countSql.all() as { id: number; n: number }[]).map((row) => [row.id, row.n])));
      for (const s of d.registry.all()) {
        const v = value(s, fragmentCounts);
        if (v !== null) {
          set(s.name, v);
        }
      }
    });
  // one pass over the (stream_id, …) index for every stream at once
  const countSql = d.db.prepare('SELECT stream_id AS id, COUNT(*) AS n FROM fragments GROUP BY stream_id');
  const buffered = (s: StreamRecord): FragmentRecord[] => d.buffer.list(s.id, d.nowMs());
  perStream('openkvs_store_bytes', 'Bytes a stream holds (the rolling memory buffer for streams without retention).', (s) =>
    s.retentionHours === 0 ? buffered(s).reduce((n, f) => n + f.size, 0) : d.store.storedBytes(s.id),
  );
  perStream('openkvs_store_fragments', 'Fragments a stream holds, expired ones not yet swept included.', (s, counts) =>
    s.retentionHours === 0 ? buffered(s).length : (counts().get(s.id) ?? 0),
  );
  perStream('openkvs_stream_capacity_ingest_bytes_per_second', "The stream's fixed ingest byte rate.", (s) => s.capacity.ingestBytesPerSecond);
  perStream('openkvs_stream_capacity_fragments_per_second', "The stream's fixed fragment rate.", (s) => s.capacity.fragmentsPerSecond);
  perStream('openkvs_stream_capacity_putmedia_connections', "The stream's PutMedia connection limit.", (s) => s.capacity.putMediaConnections);
  perStream('openkvs_stream_storage_budget_bytes', "The stream's storage budget (only streams that have one).", (s) => s.capacity.storageBudgetBytes);
  perStream(
    'openkvs_stream_ingest_bytes_headroom_ratio',
    'Share of the fixed ingest byte rate left over the last 10 s (1 = idle, 0 = at capacity, below 0 = bursting).',
    (s) => 1 - (d.rates.get(s.name)?.bytes.perSecond() ?? 0) / s.capacity.ingestBytesPerSecond,
  );
  perStream(
    'openkvs_stream_fragments_headroom_ratio',
    'Share of the fixed fragment rate left over the last 10 s (1 = idle, 0 = at capacity, below 0 = bursting).',
    (s) => 1 - (d.rates.get(s.name)?.fragments.perSecond() ?? 0) / s.capacity.fragmentsPerSecond,
  );
}
