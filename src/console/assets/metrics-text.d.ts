// Types for metrics-text.js, so the Node tests can parse the server's /metrics with the console's own parser.

export type Sample = { name: string; labels: Record<string, string>; value: number };

export type DashboardRow = {
  stream: string;
  bytesPerSecond: number | null;
  fragmentsPerSecond: number | null;
  persistP50: number | null;
  persistP95: number | null;
  latencyWindow: 'recent' | 'since start';
  incomingBytes: number;
  incomingFragments: number;
  storedBytes: number;
  storedFragments: number;
};

export function parseMetrics(text: string): Sample[];
export function histogramQuantile(buckets: { le: number; count: number }[], q: number): number | null;
export function byStream(samples: Sample[], name: string): Map<string, number>;
export function dashboardRows(previous: Sample[] | null, current: Sample[], elapsedMs: number): DashboardRow[];
