// npm run fuzz -- [--inputs N] [--seed S] [--target mkv|mp4|rtp|codec|all] [--slow-ms 1000] [--hang-ms 10000]
// npm run fuzz -- --replay test/fuzz/crashers/mkv/<hash>.bin
//
// Runs each target in a worker thread for N inputs. The main thread is the watchdog: an input still running
// after --hang-ms is a hang, the worker is killed and a new one resumes after it. Inputs that finish but take
// longer than --slow-ms are reported as hangs too. Every crash and hang is written to
// test/fuzz/crashers/<target>/<hash>.bin with <hash>.json (seed, index, chunk seed, error) next to it.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { describeError, emptyStats, fuzzInput, runInput } from './engine.js';
import type { Finding, TargetStats } from './engine.js';
import { hashBytes } from './mutator.js';
import { TARGET_NAMES } from './targets.js';
import type { TargetName } from './targets.js';
import type { WorkerJob, WorkerMessage } from './worker.js';

const here = dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    target: { type: 'string', default: 'all' },
    'slow-ms': { type: 'string', default: '1000' },
    'hang-ms': { type: 'string', default: '10000' },
    out: { type: 'string', default: join(here, 'crashers') },
    replay: { type: 'string' },
  },
});

function isTarget(t: string): t is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(t);
}

function replay(file: string): void {
  const meta = existsSync(file.replace(/\.bin$/, '.json')) ? (JSON.parse(readFileSync(file.replace(/\.bin$/, '.json'), 'utf8')) as { target?: string; chunkSeed?: number }) : {};
  const target = meta.target ?? values.target ?? basename(dirname(file));
  if (!isTarget(target)) {
    throw new Error(`--replay: cannot tell the target of ${file} (give --target)`);
  }
  const result = runInput(target, new Uint8Array(readFileSync(file)), meta.chunkSeed ?? 0);
  if ('error' in result) {
    process.stdout.write(`${target} ${file}: CRASH\n${describeError(result.error).stack}\n`);
    process.exitCode = 1;
  } else {
    process.stdout.write(`${target} ${file}: ${result.outcome}\n`);
  }
}

function writeFinding(out: string, f: Finding): string {
  const dir = join(out, f.target);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${f.hash}.bin`);
  if (!existsSync(path)) {
    writeFileSync(path, f.input);
    const { input: _input, ...meta } = f;
    writeFileSync(join(dir, `${f.hash}.json`), `${JSON.stringify({ ...meta, bytes: f.input.length }, null, 2)}\n`);
  }
  return path;
}

function merge(into: TargetStats, part: TargetStats): void {
  into.inputs += part.inputs;
  into.accepted += part.accepted;
  into.rejected += part.rejected;
  into.crashes += part.crashes;
  into.hangs += part.hangs;
  into.ms += part.ms;
  into.slowestMs = Math.max(into.slowestMs, part.slowestMs);
  for (const s of part.signatures) {
    if (!into.signatures.includes(s)) {
      into.signatures.push(s);
    }
  }
}

type Segment = { stats?: TargetStats; stuckAt?: number; error?: unknown };

/** Runs inputs [from, to) in a worker; stops early at an input that hangs or kills the worker. */
function runSegment(target: TargetName, seed: number, from: number, to: number, onFinding: (f: Finding) => void): Promise<Segment> {
  const progress = new SharedArrayBuffer(8);
  const cells = new Int32Array(progress);
  // -1 until the worker has loaded and started its first input.
  Atomics.store(cells, 0, -1);
  const job: WorkerJob = { target, seed, from, to, slowMs: Number(values['slow-ms']), progress };
  const hangMs = Number(values['hang-ms']);
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: { ...job, entry: new URL('./worker.ts', import.meta.url).href },
    resourceLimits: { maxOldGenerationSizeMb: 2048 },
  });
  const started = performance.now();
  return new Promise((done) => {
    let lastIndex = -1;
    let since = performance.now();
    let lastReport = performance.now();
    let settled = false;
    const finish = (s: Segment): void => {
      if (!settled) {
        settled = true;
        clearInterval(timer);
        done(s);
      }
    };
    const timer = setInterval(() => {
      const index = Atomics.load(cells, 0);
      const now = performance.now();
      if (index !== lastIndex) {
        lastIndex = index;
        since = now;
      } else if (now - since > (index < 0 ? 120_000 : hangMs)) {
        void worker.terminate();
        finish({ stuckAt: index });
      }
      if (now - lastReport > 10_000) {
        lastReport = now;
        const n = Atomics.load(cells, 1);
        process.stdout.write(`  ${target}: ${from + n}/${to} (${((n * 1000) / (now - started)).toFixed(0)} inputs/s)\n`);
      }
    }, 200);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'finding') {
        onFinding(m.finding);
      } else {
        finish({ stats: m.stats });
      }
    });
    const failed = (error: unknown): void => {
      const index = Atomics.load(cells, 0);
      if (index < 0) {
        // Not an input's fault: the worker could not start. Retrying would fail the same way.
        throw new Error(`fuzz worker for ${target} did not start: ${describeError(error).message}`);
      }
      finish({ stuckAt: index, error });
    };
    worker.on('error', failed);
    worker.on('exit', () => failed(new Error('worker exited')));
  });
}

async function fuzzTarget(target: TargetName, seed: number, inputs: number, out: string): Promise<TargetStats> {
  const total = emptyStats(target);
  const reported = new Set<string>();
  const onFinding = (f: Finding): void => {
    const path = writeFinding(out, f);
    if (!reported.has(f.signature)) {
      reported.add(f.signature);
      process.stdout.write(`  ${f.kind.toUpperCase()} ${target} #${f.index} ${f.message.split('\n')[0]} [${f.signature}] → ${path}\n`);
    }
  };
  const t0 = performance.now();
  for (let from = 0; from < inputs; ) {
    const seg = await runSegment(target, seed, from, inputs, onFinding);
    if (seg.stats !== undefined) {
      merge(total, seg.stats);
      break;
    }
    // The worker hung on (or died in) input stuckAt: record it, count what ran before it, resume after it.
    const index = seg.stuckAt ?? from;
    const { input, chunkSeed } = fuzzInput(target, seed, index);
    const d = seg.error === undefined ? { message: `no result after ${values['hang-ms']} ms`, stack: '', signature: `hang ${target}` } : describeError(seg.error);
    const f: Finding = { target, kind: seg.error === undefined ? 'hang' : 'crash', seed, index, chunkSeed, hash: hashBytes(input), ms: Number(values['hang-ms']), input, ...d };
    onFinding(f);
    const part = emptyStats(target);
    part.inputs = index - from + 1;
    if (f.kind === 'hang') {
      part.hangs = 1;
    } else {
      part.crashes = 1;
      part.signatures = [f.signature];
    }
    merge(total, part);
    from = index + 1;
  }
  total.ms = performance.now() - t0;
  return total;
}

async function main(): Promise<void> {
  if (values.replay !== undefined) {
    replay(resolve(values.replay));
    return;
  }
  const seed = Number(values.seed);
  const inputs = Number(values.inputs);
  const targets = values.target === 'all' ? [...TARGET_NAMES] : values.target.split(',');
  for (const t of targets) {
    if (!isTarget(t)) {
      throw new Error(`unknown target ${t}; one of ${TARGET_NAMES.join(', ')} or all`);
    }
  }
  process.stdout.write(`fuzz: seed ${seed}, ${inputs} inputs per target, targets ${targets.join(', ')}\n`);
  const results: TargetStats[] = [];
  for (const t of targets as TargetName[]) {
    results.push(await fuzzTarget(t, seed, inputs, values.out));
  }
  process.stdout.write('\ntarget  inputs    accepted  rejected  crashes  hangs  seconds  inputs/s  slowest ms\n');
  for (const s of results) {
    process.stdout.write(
      `${s.target.padEnd(6)}  ${String(s.inputs).padStart(8)}  ${String(s.accepted).padStart(8)}  ${String(s.rejected).padStart(8)}  ${String(s.crashes).padStart(7)}  ${String(s.hangs).padStart(5)}  ${(s.ms / 1000).toFixed(1).padStart(7)}  ${((s.inputs * 1000) / s.ms).toFixed(0).padStart(8)}  ${s.slowestMs.toFixed(0).padStart(10)}\n`,
    );
    for (const sig of s.signatures) {
      process.stdout.write(`        ${sig}\n`);
    }
  }
  if (results.some((s) => s.crashes > 0 || s.hangs > 0)) {
    process.exitCode = 1;
  }
}

await main();
