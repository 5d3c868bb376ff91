// The Prometheus text exposition, parsed, and the dashboard's figures computed from two scrapes. Pure functions
// (no DOM, no fetch) so the Node tests check them against the server's real /metrics output.

/**
 * One sample per line that is not a comment: `name{a="x",b="y"} value`.
 * @param {string} text
 * @returns {{ name: string, labels: Record<string, string>, value: number }[]}
 */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) {
      continue;
    }
    samples.push({ name: m[1], labels: parseLabels(m[2] ?? ''), value: parseValue(m[3]) });
  }
  return samples;
}

/** @param {string} s */
function parseLabels(s) {
  const labels = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m;
  while ((m = re.exec(s)) !== null) {
    labels[m[1]] = m[2].replace(/\\(.)/g, (_all, c) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** @param {string} v */
function parseValue(v) {
  if (v === '+Inf') {
    return Infinity;
  }
  if (v === '-Inf') {
    return -Infinity;
  }
  return Number(v);
}

/**
 * The q-quantile of a histogram's cumulative buckets, interpolated within the bucket as Prometheus'
 * histogram_quantile does; null without observations. A quantile in the +Inf bucket is the highest finite bound.
 * @param {{ le: number, count: number }[]} buckets
 * @param {number} q
 */
export function histogramQuantile(buckets, q) {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) {
    return null;
  }
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) {
        return prevLe;
      }
      const inBucket = b.count - prevCount;
      return inBucket <= 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/**
 * Per stream: label value → the value of `name` (summed over any other labels).
 * @param {ReturnType<typeof parseMetrics>} samples @param {string} name
 */
export function byStream(samples, name) {
  const out = new Map();
  for (const s of samples) {
    if (s.name === name && s.labels.stream !== undefined) {
      out.set(s.labels.stream, (out.get(s.labels.stream) ?? 0) + s.value);
    }
  }
  return out;
}

/** Cumulative buckets of a stream's histogram `name` (without its _bucket suffix). */
function bucketsOf(samples, name, stream) {
  return samples.filter((s) => s.name === `${name}_bucket` && s.labels.stream === stream).map((s) => ({ le: parseValue(s.labels.le), count: s.value }));
}

const PERSIST = 'openkvs_putmedia_fragment_persist_latency_seconds';

/**
 * What the dashboard shows for each stream: rates between two scrapes `elapsedMs` apart (null on the first scrape),
 * PERSISTED latency percentiles over the fragments persisted between them (or since the start, when none were),
 * and what the stream holds.
 * @param {ReturnType<typeof parseMetrics> | null} previous
 * @param {ReturnType<typeof parseMetrics>} current
 * @param {number} elapsedMs
 */
export function dashboardRows(previous, current, elapsedMs) {
  const storedBytes = byStream(current, 'openkvs_store_bytes');
  const storedFragments = byStream(current, 'openkvs_store_fragments');
  const bytes = byStream(current, 'openkvs_putmedia_incoming_bytes_total');
  const fragments = byStream(current, 'openkvs_putmedia_incoming_fragments_total');
  const prevBytes = previous === null ? null : byStream(previous, 'openkvs_putmedia_incoming_bytes_total');
  const prevFragments = previous === null ? null : byStream(previous, 'openkvs_putmedia_incoming_fragments_total');
  const rate = (now, before, stream) => {
    if (before === null || elapsedMs <= 0) {
      return null;
    }
    const delta = (now.get(stream) ?? 0) - (before.get(stream) ?? 0);
    // a counter that went down was reset (the stream was deleted and made again): count from zero
    return ((delta >= 0 ? delta : (now.get(stream) ?? 0)) * 1000) / elapsedMs;
  };
  const streams = [...new Set([...storedBytes.keys(), ...bytes.keys()])].sort();
  return streams.map((stream) => {
    const now = bucketsOf(current, PERSIST, stream);
    const before = previous === null ? [] : bucketsOf(previous, PERSIST, stream);
    const recent = now.map((b) => ({ le: b.le, count: b.count - (before.find((p) => p.le === b.le)?.count ?? 0) }));
    const useRecent = previous !== null && (recent.at(-1)?.count ?? 0) > 0 && recent.every((b) => b.count >= 0);
    const latency = useRecent ? recent : now;
    return {
      stream,
      bytesPerSecond: rate(bytes, prevBytes, stream),
      fragmentsPerSecond: rate(fragments, prevFragments, stream),
      persistP50: histogramQuantile(latency, 0.5),
      persistP95: histogramQuantile(latency, 0.95),
      latencyWindow: useRecent ? 'recent' : 'since start',
      incomingBytes: bytes.get(stream) ?? 0,
      incomingFragments: fragments.get(stream) ?? 0,
      storedBytes: storedBytes.get(stream) ?? 0,
      storedFragments: storedFragments.get(stream) ?? 0,
    };
  });
}
