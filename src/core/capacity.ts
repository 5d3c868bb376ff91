import type { StreamCapacity } from '../conf/config.js';
import { KvsError, invalidArgument } from '../errors/codes.js';

// Fixed capacity, changed only on purpose and in bounded steps — the resharding rules of Kinesis: each change
// at most doubles or halves a limit, and a stream gets at most 10 changes in any 24 hours. Never automatic.

export const MAX_CAPACITY_CHANGES_PER_DAY = 10;
const DAY_MS = 24 * 3_600_000;

export const CAPACITY_FIELDS = [
  'ingestBytesPerSecond',
  'fragmentsPerSecond',
  'putMediaConnections',
  'maxFragmentBytes',
  'maxFragmentDurationMs',
  'getMediaConnections',
  'readBytesPerSecond',
] as const;

const RANGES: Record<(typeof CAPACITY_FIELDS)[number], [number, number]> = {
  ingestBytesPerSecond: [1024, 10_000_000_000],
  fragmentsPerSecond: [1, 10_000],
  putMediaConnections: [1, 10_000],
  maxFragmentBytes: [1024, 1024 * 1024 * 1024],
  maxFragmentDurationMs: [100, 3_600_000],
  getMediaConnections: [1, 10_000],
  readBytesPerSecond: [1024, 10_000_000_000],
};

/** Apply a partial capacity (as sent in the openkvs `Capacity` extension member) on top of a base. */
export function mergeCapacity(base: StreamCapacity, change: Record<string, unknown>): StreamCapacity {
  const out: StreamCapacity = { ...base };
  for (const [k, v] of Object.entries(change)) {
    if (k === 'storageBudgetBytes') {
      if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) {
        throw invalidArgument('Capacity.storageBudgetBytes must be a positive integer or null.');
      }
      out.storageBudgetBytes = v as number | null;
      continue;
    }
    const range = RANGES[k as keyof typeof RANGES] as [number, number] | undefined;
    if (range === undefined) {
      throw invalidArgument(`Capacity.${k} is not a capacity setting (${[...CAPACITY_FIELDS, 'storageBudgetBytes'].join(', ')}).`);
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) {
      throw invalidArgument(`Capacity.${k} must be an integer from ${range[0]} to ${range[1]}.`);
    }
    out[k as (typeof CAPACITY_FIELDS)[number]] = v;
  }
  return out;
}

/** Check an explicit change against the step and frequency rules; returns the updated change history. */
export function checkCapacityChange(current: StreamCapacity, next: StreamCapacity, history: number[], nowMs: number): number[] {
  const recent = history.filter((t) => t > nowMs - DAY_MS);
  const changed = CAPACITY_FIELDS.some((f) => current[f] !== next[f]) || current.storageBudgetBytes !== next.storageBudgetBytes;
  if (!changed) {
    return recent;
  }
  for (const f of CAPACITY_FIELDS) {
    if (next[f] > current[f] * 2 || next[f] * 2 < current[f]) {
      throw invalidArgument(`Capacity.${f} can at most double or halve in one change (${current[f]} → ${next[f]}); change it in steps.`);
    }
  }
  const a = current.storageBudgetBytes;
  const b = next.storageBudgetBytes;
  if (a !== null && b !== null && (b > a * 2 || b * 2 < a)) {
    throw invalidArgument(`Capacity.storageBudgetBytes can at most double or halve in one change (${a} → ${b}).`);
  }
  if (recent.length >= MAX_CAPACITY_CHANGES_PER_DAY) {
    throw new KvsError('ClientLimitExceededException', `A stream's capacity can change at most ${MAX_CAPACITY_CHANGES_PER_DAY} times in 24 hours.`);
  }
  return [...recent, nowMs];
}
