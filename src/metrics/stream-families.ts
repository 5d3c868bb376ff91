import { Counter, Histogram, type Registry } from 'prom-client';

// Per-stream series with a server-wide twin. A deleted stream's series are removed (a scrape must not keep
// reporting what is gone), which makes a sum over `stream` drop; the twin keeps counting, so rate() over the
// whole server stays right across deletions.

export type FamilySpec = { name: string; help: string; labels?: readonly string[] };

/** `openkvs_<x>_total{stream,…}` and `openkvs_server_<x>_total{…}`. */
export class StreamCounter {
  readonly perStream: Counter;
  readonly total: Counter;
  /** The extra label sets each stream has used, to remove all of its series. */
  readonly #seen = new Map<string, Map<string, Record<string, string>>>();

  constructor(registry: Registry, spec: FamilySpec) {
    const labels = spec.labels ?? [];
    this.perStream = new Counter({ name: `openkvs_${spec.name}_total`, help: spec.help, labelNames: ['stream', ...labels], registers: [registry] });
    this.total = new Counter({ name: `openkvs_server_${spec.name}_total`, help: `${spec.help} All streams, deleted ones included.`, labelNames: [...labels], registers: [registry] });
  }

  /** The stream's child, for callers that cache it (hot paths). */
  child(stream: string): Counted {
    const one = this.perStream.labels(stream);
    const all = this.total;
    return { inc: (n = 1) => (one.inc(n), all.inc(n)) };
  }

  inc(stream: string, labels: Record<string, string>, n = 1): void {
    const full = { stream, ...labels };
    let sets = this.#seen.get(stream);
    if (sets === undefined) {
      sets = new Map();
      this.#seen.set(stream, sets);
    }
    sets.set(JSON.stringify(full), full);
    this.perStream.inc(full, n);
    this.total.inc(labels, n);
  }

  remove(stream: string): void {
    for (const full of this.#seen.get(stream)?.values() ?? []) {
      this.perStream.remove(full);
    }
    this.#seen.delete(stream);
    this.perStream.remove({ stream });
  }
}

export type Counted = { inc(n?: number): void };
export type Observed = { observe(seconds: number): void };

/** `openkvs_<x>_seconds{stream}` and `openkvs_server_<x>_seconds`. */
export class StreamHistogram {
  readonly perStream: Histogram;
  readonly total: Histogram;

  constructor(registry: Registry, spec: FamilySpec & { buckets: number[] }) {
    this.perStream = new Histogram({ name: `openkvs_${spec.name}_seconds`, help: spec.help, labelNames: ['stream'], buckets: spec.buckets, registers: [registry] });
    this.total = new Histogram({ name: `openkvs_server_${spec.name}_seconds`, help: `${spec.help} All streams.`, buckets: spec.buckets, registers: [registry] });
  }

  child(stream: string): Observed {
    const one = this.perStream.labels(stream);
    const all = this.total;
    return { observe: (s) => (one.observe(s), all.observe(s)) };
  }

  remove(stream: string): void {
    this.perStream.remove({ stream });
  }
}
