// The fuzz loop, shared by the command-line runner (in a worker thread, under a watchdog) and the vitest file.
// Input `index` of a run is a pure function of (seed, target, index), so a finding is reproduced from its
// numbers alone and a run can resume after the watchdog kills a hung worker.

import { hashBytes, mixSeed, rng } from './mutator.js';
import { TARGET_NAMES, TARGETS } from './targets.js';
import type { Outcome, TargetName } from './targets.js';

export type FuzzInput = { input: Uint8Array; chunkSeed: number };

export function fuzzInput(target: TargetName, seed: number, index: number): FuzzInput {
  const r = rng(mixSeed(seed, TARGET_NAMES.indexOf(target), index));
  const chunkSeed = r.int(0x7fffffff);
  return { input: TARGETS[target].generate(r), chunkSeed };
}

export type FindingKind = 'crash' | 'hang';

export type Finding = {
  target: TargetName;
  kind: FindingKind;
  seed: number;
  index: number;
  chunkSeed: number;
  /** Name of the input file: FNV hash of its bytes. */
  hash: string;
  /** Error name and message, or the time a slow input took. */
  message: string;
  stack: string;
  /** Groups findings that are the same bug: error name plus the first stack frame in openkvs code. */
  signature: string;
  ms: number;
  input: Uint8Array;
};

export type RunResult = { outcome: Outcome } | { error: unknown };

/** One input through its target; never throws. */
export function runInput(target: TargetName, input: Uint8Array, chunkSeed: number): RunResult {
  try {
    return { outcome: TARGETS[target].run(input, chunkSeed) };
  } catch (error) {
    return { error };
  }
}

export function describeError(error: unknown): { message: string; stack: string; signature: string } {
  const e = error instanceof Error ? error : new Error(String(error));
  const stack = e.stack ?? `${e.name}: ${e.message}`;
  const frame =
    stack
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.startsWith('at ') && l.includes('/src/')) ?? '(no openkvs frame)';
  // Line numbers only: the column and the absolute path differ between runs and machines.
  const where = frame.replace(/^.*\/src\//, 'src/').replace(/:(\d+):\d+\)?$/, ':$1');
  return { message: `${e.name}: ${e.message}`, stack, signature: `${e.name} at ${where}` };
}

export type TargetStats = {
  target: TargetName;
  inputs: number;
  accepted: number;
  rejected: number;
  crashes: number;
  hangs: number;
  /** Distinct crash signatures. */
  signatures: string[];
  ms: number;
  slowestMs: number;
};

export const emptyStats = (target: TargetName): TargetStats => ({
  target,
  inputs: 0,
  accepted: 0,
  rejected: 0,
  crashes: 0,
  hangs: 0,
  signatures: [],
  ms: 0,
  slowestMs: 0,
});

export type FuzzOptions = {
  seed: number;
  /** First input index (a resumed run starts after the input the watchdog gave up on). */
  from: number;
  /** One past the last input index. */
  to: number;
  /** An input taking longer than this is reported as a hang (it finished, but a real hang would not). */
  slowMs: number;
  /** Called with the index about to run, so a watchdog can see which input is stuck. */
  onStart?: (index: number) => void;
  onFinding?: (f: Finding) => void;
};

export function fuzz(target: TargetName, o: FuzzOptions, stats: TargetStats = emptyStats(target)): TargetStats {
  const seen = new Set(stats.signatures);
  // Loads the corpus (and everything derived from it) before the clock starts, or the first input looks slow.
  fuzzInput(target, o.seed, o.from);
  const t0 = performance.now();
  for (let index = o.from; index < o.to; index++) {
    o.onStart?.(index);
    const { input, chunkSeed } = fuzzInput(target, o.seed, index);
    const start = performance.now();
    const result = runInput(target, input, chunkSeed);
    const ms = performance.now() - start;
    stats.inputs++;
    stats.slowestMs = Math.max(stats.slowestMs, ms);
    const base = { target, seed: o.seed, index, chunkSeed, hash: hashBytes(input), ms, input };
    if ('error' in result) {
      stats.crashes++;
      const d = describeError(result.error);
      if (!seen.has(d.signature)) {
        seen.add(d.signature);
        stats.signatures.push(d.signature);
      }
      o.onFinding?.({ ...base, kind: 'crash', ...d });
    } else {
      stats[result.outcome]++;
    }
    if (ms > o.slowMs) {
      stats.hangs++;
      o.onFinding?.({ ...base, kind: 'hang', message: `took ${ms.toFixed(0)} ms`, stack: '', signature: `hang ${target}` });
    }
  }
  stats.ms += performance.now() - t0;
  return stats;
}
