import { describe, expect, it } from 'vitest';
import { byStream, dashboardRows, histogramQuantile, parseMetrics } from '../../../src/console/assets/metrics-text.js';
import { ServerMetrics } from '../../../src/metrics/server-metrics.js';

const PERSIST = 'openkvs_putmedia_fragment_persist_latency_seconds';

describe('parseMetrics', () => {
  it('reads names, escaped label values and special numbers, skipping comments', () => {
    const text = [
      '# HELP x_total a counter',
      '# TYPE x_total counter',
      'x_total{stream="cam \\"1\\"",error="a\\\\b"} 3',
      'y 1.5e3',
      'z_bucket{le="+Inf"} +Inf',
      '',
    ].join('\n');
    expect(parseMetrics(text)).toEqual([
      { name: 'x_total', labels: { stream: 'cam "1"', error: 'a\\b' }, value: 3 },
      { name: 'y', labels: {}, value: 1500 },
      { name: 'z_bucket', labels: { le: '+Inf' }, value: Infinity },
    ]);
  });

  it("reads the server's own exposition: per-stream histograms and counters", async () => {
    const m = new ServerMetrics();
    const persist = m.persistLatency.child('cam1');
    for (const s of [0.003, 0.004, 0.02, 0.2]) {
      persist.observe(s);
    }
    m.incomingBytes.child('cam1').inc(1000);
    m.errorAcks.inc('cam1', { error_id: '4004', error: 'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS' });
    const samples = parseMetrics(await m.registry.metrics());
    expect(byStream(samples, 'openkvs_putmedia_incoming_bytes_total').get('cam1')).toBe(1000);
    expect(byStream(samples, `${PERSIST}_count`).get('cam1')).toBe(4);
    expect(byStream(samples, 'openkvs_putmedia_error_acks_total').get('cam1')).toBe(1);
    expect(samples.find((s) => s.name === 'openkvs_server_putmedia_incoming_bytes_total')?.value).toBe(1000);
  });
});

describe('histogramQuantile', () => {
  it('interpolates within the bucket as Prometheus does', () => {
    const buckets = [
      { le: 0.01, count: 2 },
      { le: 0.1, count: 6 },
      { le: 1, count: 8 },
      { le: Infinity, count: 8 },
    ];
    expect(histogramQuantile(buckets, 0.25)).toBeCloseTo(0.01);
    expect(histogramQuantile(buckets, 0.5)).toBeCloseTo(0.01 + (0.09 * 2) / 4);
    expect(histogramQuantile(buckets, 1)).toBeCloseTo(0.1 + 0.9);
  });

  it('is null without observations and the highest finite bound in the +Inf bucket', () => {
    expect(histogramQuantile([{ le: Infinity, count: 0 }], 0.5)).toBeNull();
    expect(histogramQuantile([], 0.5)).toBeNull();
    expect(
      histogramQuantile(
        [
          { le: 1, count: 1 },
          { le: Infinity, count: 10 },
        ],
        0.95,
      ),
    ).toBe(1);
  });
});

describe('dashboardRows', () => {
  const scrape = (bytes: number, fragments: number, persisted: number[], stored: number) =>
    parseMetrics(
      [
        `openkvs_putmedia_incoming_bytes_total{stream="cam1"} ${bytes}`,
        `openkvs_putmedia_incoming_fragments_total{stream="cam1"} ${fragments}`,
        `${PERSIST}_bucket{le="0.01",stream="cam1"} ${persisted[0]}`,
        `${PERSIST}_bucket{le="0.1",stream="cam1"} ${persisted[1]}`,
        `${PERSIST}_bucket{le="+Inf",stream="cam1"} ${persisted[2]}`,
        `openkvs_store_bytes{stream="cam1"} ${stored}`,
        `openkvs_store_fragments{stream="cam1"} ${fragments}`,
        'openkvs_store_bytes{stream="idle"} 0',
      ].join('\n'),
    );

  it('has no rates on the first scrape, and latency since the start', () => {
    const [cam1, idle] = dashboardRows(null, scrape(1000, 2, [2, 2, 2], 900), 0);
    expect(cam1).toMatchObject({ stream: 'cam1', bytesPerSecond: null, fragmentsPerSecond: null, latencyWindow: 'since start', storedBytes: 900, storedFragments: 2 });
    expect(cam1?.persistP50).toBeCloseTo(0.005);
    expect(idle).toMatchObject({ stream: 'idle', incomingBytes: 0, persistP50: null });
  });

  it('rates and latencies between two scrapes', () => {
    const before = scrape(1000, 2, [2, 2, 2], 900);
    const after = scrape(7000, 5, [2, 5, 5], 6000);
    const [cam1] = dashboardRows(before, after, 3000);
    expect(cam1).toMatchObject({ bytesPerSecond: 2000, fragmentsPerSecond: 1, latencyWindow: 'recent' });
    // the three new observations all fell in (0.01, 0.1]
    expect(cam1?.persistP50).toBeCloseTo(0.01 + 0.09 * 0.5);
  });

  it('a counter that went down (stream deleted and made again) counts from zero', () => {
    const [cam1] = dashboardRows(scrape(9000, 9, [0, 0, 0], 0), scrape(3000, 3, [0, 0, 0], 0), 1000);
    expect(cam1).toMatchObject({ bytesPerSecond: 3000, fragmentsPerSecond: 3, persistP50: null });
  });
});
