import { Gauge, type Registry } from 'prom-client';
import type { StreamRegistry } from '../core/stream-registry.js';
import type { Db } from '../store/database.js';
import type { FragmentStore } from '../store/fragment-store.js';
import type { MemoryBuffer } from '../store/memory-buffer.js';
import type { IngestRates } from './ingest-meters.js';

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
  const labelNames = ['stream'];
  const gauge = (name: string, help: string, collect: (g: Gauge) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [r],
      collect() {
        // a scrape shows the streams that exist now: deleted ones vanish
        this.reset();
        collect(this);
      },
    });
  };
  const countSql = d.db.prepare('SELECT stream_id AS id, COUNT(*) AS n FROM fragments GROUP BY stream_id');
  gauge('openkvs_store_bytes', 'Bytes a stream holds (the rolling memory buffer for streams without retention).', (g) => {
    for (const s of d.registry.all()) {
      const bytes = s.retentionHours === 0 ? d.buffer.list(s.id, d.nowMs()).reduce((n, f) => n + f.size, 0) : d.store.storedBytes(s.id);
      g.set({ stream: s.name }, bytes);
    }
  });
  gauge('openkvs_store_fragments', 'Fragments a stream holds, expired ones not yet swept included.', (g) => {
    // one pass over the (stream_id, …) index for every stream at once
    const counts = new Map((countSql.all() as { id: number; n: number }[]).map((row) => [row.id, row.n]));
    for (const s of d.registry.all()) {
      g.set({ stream: s.name }, s.retentionHours === 0 ? d.buffer.list(s.id, d.nowMs()).length : (counts.get(s.id) ?? 0));
    }
  });
  gauge('openkvs_stream_capacity_ingest_bytes_per_second', "The stream's fixed ingest byte rate.", (g) => {
    for (const s of d.registry.all()) {
      g.set({ stream: s.name }, s.capacity.ingestBytesPerSecond);
    }
  });
  gauge('openkvs_stream_capacity_fragments_per_second', "The stream's fixed fragment rate.", (g) => {
    for (const s of d.registry.all()) {
      g.set({ stream: s.name }, s.capacity.fragmentsPerSecond);
    }
  });
  gauge('openkvs_stream_capacity_putmedia_connections', "The stream's PutMedia connection limit.", (g) => {
    for (const s of d.registry.all()) {
      g.set({ stream: s.name }, s.capacity.putMediaConnections);
    }
  });
  gauge('openkvs_stream_storage_budget_bytes', "The stream's storage budget (only streams that have one).", (g) => {
    for (const s of d.registry.all()) {
      if (s.capacity.storageBudgetBytes !== null) {
        g.set({ stream: s.name }, s.capacity.storageBudgetBytes);
      }
    }
  });
  const headroom = (name: string, help: string, pick: (rates: IngestRates) => number, cap: (c: { ingestBytesPerSecond: number; fragmentsPerSecond: number }) => number): void =>
    gauge(name, help, (g) => {
      for (const s of d.registry.all()) {
        const rates = d.rates.get(s.name);
        const used = rates === undefined ? 0 : pick(rates) / cap(s.capacity);
        g.set({ stream: s.name }, 1 - used);
      }
    });
  headroom(
    'openkvs_stream_ingest_bytes_headroom_ratio',
    'Share of the fixed ingest byte rate left over the last 10 s (1 = idle, 0 = at capacity, below 0 = bursting).',
    (rates) => rates.bytes.perSecond(),
    (c) => c.ingestBytesPerSecond,
  );
  headroom(
    'openkvs_stream_fragments_headroom_ratio',
    'Share of the fixed fragment rate left over the last 10 s (1 = idle, 0 = at capacity, below 0 = bursting).',
    (rates) => rates.fragments.perSecond(),
    (c) => c.fragmentsPerSecond,
  );
}
