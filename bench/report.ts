// Formatting shared by the benches' printed reports.

export const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '-');
export const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
export const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '-');
export const pad = (cells: [string, number][]): string => cells.map(([s, w]) => s.padStart(w)).join(' ');
export const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
export const out = (s: string): void => void process.stdout.write(s + '\n');

/** The q-quantile (nearest rank) of ascending values; NaN when there are none. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
