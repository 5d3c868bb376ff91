// One target's fuzz loop in a worker thread, so the runner's watchdog can kill an input that never returns.

import { parentPort, workerData } from 'node:worker_threads';
import { fuzz } from './engine.js';
import type { Finding, TargetStats } from './engine.js';
import type { TargetName } from './targets.js';

export type WorkerJob = { target: TargetName; seed: number; from: number; to: number; slowMs: number; progress: SharedArrayBuffer };
export type WorkerMessage = { type: 'finding'; finding: Finding } | { type: 'done'; stats: TargetStats };

const job = workerData as WorkerJob;
// [0]: index of the input running now; [1]: inputs finished, for the progress line.
const progress = new Int32Array(job.progress);
const stats = fuzz(job.target, {
  seed: job.seed,
  from: job.from,
  to: job.to,
  slowMs: job.slowMs,
  onStart: (index) => {
    Atomics.store(progress, 0, index);
    Atomics.store(progress, 1, index - job.from);
  },
  onFinding: (finding) => parentPort?.postMessage({ type: 'finding', finding } satisfies WorkerMessage),
});
parentPort?.postMessage({ type: 'done', stats } satisfies WorkerMessage);
