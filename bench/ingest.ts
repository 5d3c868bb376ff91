// Ingest benchmark (npm run bench:ingest): N concurrent PutMedia uploads of a ~2 Mbps 720p clip into openkvs,
// as fast as possible and at real-time pace, next to the same bytes sent to the floor (bench/floor-server.ts:
// append + fdatasync per fragment, nothing else). Prints throughput, PERSISTED-ack latency and server CPU;
// asserts nothing. Both servers run as child processes so their CPU is measured apart from this client's.

import { once, setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { frameHeader } from './floor-server.js';
import { makeFixture, type Fixture } from './fixture.js';
import { cpuSeconds, createBenchStream, putMediaHeaders, startServing, stopChild, type ServingChild } from './process.js';
import { f1, f2, percentile } from './report.js';

const FIXTURE_SECONDS = 20;
const STREAM_COUNTS = [1, 10, 100] as const;
type N = (typeof STREAM_COUNTS)[number];
// Sized so the whole bench stays within ~3 minutes on 2 cores; the real-time runs dominate (they take as long
// as the media they send), so more streams send fewer seconds each.
const FAST_PLAN: Record<N, { clusters: number; repeats: number }> = { 1: { clusters: 20, repeats: 20 }, 10: { clusters: 20, repeats: 4 }, 100: { clusters: 10, repeats: 1 } };
const REALTIME_CLUSTERS: Record<N, number> = { 1: 20, 10: 12, 100: 8 };
const RUN_TIMEOUT_MS = 120_000;

type Mode = 'fast' | 'realtime';
type ServerKind = 'openkvs' | 'floor';

/** One write of the upload; a fragment when it ends with a cluster (timecode set). */
type Unit = { bytes: Buffer; timecode: number | null };

// ---------------------------------------------------------------------------------------------------------------
// Servers under test, as child processes.

type Child = ServingChild & { kind: ServerKind };

async function startChild(kind: ServerKind, dir: string): Promise<Child> {
  const args =
    kind === 'openkvs'
      ? ['src/main.ts', 'serve', '--port', '0', '--data-dir', dir, '--log-level', 'warn']
      : ['bench/floor-server.ts', '--port', '0', '--dir', dir];
  return { ...(await startServing(args)), kind };
}


// ---------------------------------------------------------------------------------------------------------------
// The client: one chunked POST per stream, latency measured per fragment on this side of the wire.

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

/** latenciesMs in upload order; the first entry is the upload's first fragment (new track info, maybe a new segment). */
type UploadResult = { bytes: number; latenciesMs: number[]; persisted: number; expected: number; errors: string[] };

async function upload(target: Child, streamName: string, units: Unit[], due: number[] | null, signal: AbortSignal): Promise<UploadResult> {
  const floor = target.kind === 'floor';
  const url = new URL(floor ? '/floor' : '/putMedia', target.url);
  const headers = floor ? { 'transfer-encoding': 'chunked' } : await putMediaHeaders(url, streamName);

  const writtenAt = new Array<number>(units.length).fill(NaN);
  const ackedAt = new Array<number>(units.length).fill(NaN);
  const fragmentUnits = units.flatMap((u, i) => (u.timecode !== null ? [i] : []));
  let nextFragment = 0;
  const errors: string[] = [];

  // openkvs acks every fragment in order, so the n-th PERSISTED (or per-fragment ERROR) is the n-th cluster sent.
  const onOpenkvsLine = (line: string, now: number): void => {
    const ack = JSON.parse(line) as { EventType: string; FragmentTimecode?: number; ErrorId?: number };
    if (ack.EventType !== 'PERSISTED' && ack.EventType !== 'ERROR') {
      return;
    }
    if (ack.EventType === 'ERROR' && ack.FragmentTimecode === undefined) {
      errors.push(`ERROR ${ack.ErrorId}`);
      return;
    }
    const k = fragmentUnits[nextFragment++];
    if (k === undefined || units[k]!.timecode !== ack.FragmentTimecode) {
      errors.push(`${ack.EventType} for timecode ${ack.FragmentTimecode}, expected ${k === undefined ? 'none' : units[k]!.timecode}`);
    } else if (ack.EventType === 'ERROR') {
      errors.push(`ERROR ${ack.ErrorId} for timecode ${ack.FragmentTimecode}`);
    } else {
      ackedAt[k] = now;
    }
  };
  const onFloorLine = (line: string, now: number): void => {
    const k = Number(line);
    if (units[k]?.timecode !== null) {
      ackedAt[k] = now;
    }
  };
  const onLine = floor ? onFloorLine : onOpenkvsLine;

  await new Promise<void>((resolve) => {
    const req = request(url, { method: 'POST', headers, agent, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          errors.push(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
          resolve();
        });
        return;
      }
      res.on('data', (d: string) => {
        const now = performance.now();
        text += d;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
          const line = text.slice(0, nl).trim();
          text = text.slice(nl + 1);
          if (line.length > 0) {
            onLine(line, now);
          }
        }
      });
      res.on('end', () => resolve());
      res.on('error', (e) => {
        errors.push(`response: ${e.message}`);
        resolve();
      });
    });
    req.on('error', (e) => {
      errors.push(`request: ${e.message}`);
      resolve();
    });
    void (async () => {
      try {
        for (const [i, u] of units.entries()) {
          const at = due?.[i];
          if (at !== undefined && at > performance.now()) {
            await new Promise((r) => setTimeout(r, at - performance.now()));
          }
          if (floor) {
            req.write(frameHeader(u.bytes.length));
          }
          // Flushed to the socket: from here on, the time to PERSISTED is the server's (and the wire's).
          const ok = req.write(u.bytes, () => (writtenAt[i] = performance.now()));
          if (!ok) {
            await once(req, 'drain', { signal });
          }
        }
        req.end();
      } catch {
        // the request failed or was aborted; its error handler reports it
      }
    })();
  });

  const latenciesMs = fragmentUnits.flatMap((k) => (Number.isFinite(ackedAt[k]!) && Number.isFinite(writtenAt[k]!) ? [ackedAt[k]! - writtenAt[k]!] : []));
  const persisted = fragmentUnits.filter((k) => Number.isFinite(ackedAt[k]!)).length;
  if (persisted < fragmentUnits.length && errors.length === 0) {
    errors.push(`${fragmentUnits.length - persisted} fragments never acked`);
  }
  return { bytes: units.reduce((n, u) => n + u.bytes.length, 0), latenciesMs, persisted, expected: fragmentUnits.length, errors };
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

type RunResult = {
  mode: Mode;
  n: N;
  kind: ServerKind;
  wallS: number;
  mbPerS: number;
  fragmentsPerS: number;
  p50: number;
  p99: number;
  /** p99 without each upload's first fragment: the steady state, without per-upload setup. */
  p99Later: number;
  serverCpuS: number;
  clientCpuS: number;
  persisted: number;
  expected: number;
  errors: string[];
};


function plan(fx: Fixture, mode: Mode, n: N, stream: number): { units: Unit[]; dueOffsetsMs: number[] | null } {
  if (mode === 'fast') {
    const { clusters, repeats } = FAST_PLAN[n];
    const one: Unit[] = [{ bytes: fx.prefix, timecode: null }, ...fx.clusters.slice(0, clusters)];
    return { units: Array.from({ length: repeats }, () => one).flat(), dueOffsetsMs: null };
  }
  const clusters = fx.clusters.slice(0, REALTIME_CLUSTERS[n]);
  const t0 = clusters[0]!.timecode;
  // Streams start spread over one fragment period, as independent cameras would.
  const stagger = (stream * 1000) / n;
  const units: Unit[] = [{ bytes: fx.prefix, timecode: null }, ...clusters];
  return { units, dueOffsetsMs: [stagger, ...clusters.map((c) => stagger + (c.timecode - t0))] };
}

async function run(fx: Fixture, target: Child, mode: Mode, n: N): Promise<RunResult> {
  const plans = Array.from({ length: n }, (_, s) => plan(fx, mode, n, s));
  const abort = AbortSignal.timeout(RUN_TIMEOUT_MS);
  // Every request and every wait for 'drain' listens on it.
  setMaxListeners(0, abort);
  const cpu0 = cpuSeconds(target.proc.pid!);
  const self0 = process.cpuUsage();
  // Real-time uploads start a little later so signing and connecting are not part of the first fragment.
  const start = performance.now() + (mode === 'realtime' ? 200 : 0);
  const results = await Promise.all(
    plans.map((p, s) =>
      upload(
        target,
        `bench-${s}`,
        p.units,
        p.dueOffsetsMs?.map((d) => start + d) ?? null,
        abort,
      ),
    ),
  );
  const wallS = (performance.now() - start) / 1000;
  const serverCpuS = cpuSeconds(target.proc.pid!) - cpu0;
  const self = process.cpuUsage(self0);
  const latencies = results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const later = results.flatMap((r) => r.latenciesMs.slice(1)).sort((a, b) => a - b);
  const bytes = results.reduce((s, r) => s + r.bytes, 0);
  const persisted = results.reduce((s, r) => s + r.persisted, 0);
  const errors = [...new Set(results.flatMap((r) => r.errors))];
  return {
    mode,
    n,
    kind: target.kind,
    wallS,
    mbPerS: bytes / 1e6 / wallS,
    fragmentsPerS: persisted / wallS,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    p99Later: percentile(later, 0.99),
    serverCpuS,
    clientCpuS: (self.user + self.system) / 1e6,
    persisted,
    expected: results.reduce((s, r) => s + r.expected, 0),
    errors,
  };
}

async function createStreams(openkvs: Child, count: number): Promise<void> {
  // The default capacity (5 fragments/s, 12.5 MB/s per stream) would turn "as fast as possible" into a capacity test.
  for (let s = 0; s < count; s++) {
    await createBenchStream(openkvs, `bench-${s}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const times = (a: number, b: number): string => `${f2(a / b)}×`;

type Column = { title: string; width: number; cell(r: RunResult): string; ratio?(ours: RunResult, floor: RunResult): string };
const COLUMNS: Column[] = [
  { title: 'mode', width: 8, cell: (r) => r.mode },
  { title: 'N', width: 5, cell: (r) => String(r.n) },
  { title: 'server', width: 9, cell: (r) => r.kind },
  { title: 'MB/s', width: 8, cell: (r) => f1(r.mbPerS), ratio: (o, f) => times(o.mbPerS, f.mbPerS) },
  { title: 'frag/s', width: 8, cell: (r) => f1(r.fragmentsPerS), ratio: (o, f) => times(o.fragmentsPerS, f.fragmentsPerS) },
  { title: 'p50 ms', width: 8, cell: (r) => f1(r.p50), ratio: (o, f) => times(o.p50, f.p50) },
  { title: 'p99 ms', width: 8, cell: (r) => f1(r.p99), ratio: (o, f) => times(o.p99, f.p99) },
  { title: 'p99 2nd+', width: 9, cell: (r) => f1(r.p99Later), ratio: (o, f) => times(o.p99Later, f.p99Later) },
  { title: 'srv CPU s', width: 10, cell: (r) => f2(r.serverCpuS), ratio: (o, f) => times(o.serverCpuS, f.serverCpuS) },
  { title: 'wall s', width: 7, cell: (r) => f1(r.wallS) },
  { title: 'srv cores', width: 10, cell: (r) => f2(r.serverCpuS / r.wallS) },
  { title: 'client', width: 7, cell: (r) => f2(r.clientCpuS / r.wallS) },
];

const line = (cells: string[]): string => cells.map((c, i) => c.padStart(COLUMNS[i]!.width)).join(' ');
const headerRow = (): string => line(COLUMNS.map((c) => c.title));

function row(r: RunResult): string {
  const status = r.errors.length > 0 ? `  ${r.persisted}/${r.expected} PERSISTED; ${r.errors.slice(0, 3).join('; ')}` : '';
  return line(COLUMNS.map((c) => c.cell(r))) + status;
}

function ratioRow(ours: RunResult, floor: RunResult): string {
  return line(COLUMNS.map((c) => (c.title === 'server' ? 'ratio' : (c.ratio?.(ours, floor) ?? ''))));
}

async function main(): Promise<void> {
  const benchStart = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'openkvs-bench-'));
  const children: Child[] = [];
  try {
    process.stdout.write(`openkvs ingest bench: ${availableParallelism()} CPUs, node ${process.version}, data under ${dir}\n`);
    const fx = makeFixture(FIXTURE_SECONDS, Math.max(...Object.values(REALTIME_CLUSTERS), ...Object.values(FAST_PLAN).map((p) => p.clusters)));
    const sizes = fx.clusters.map((c) => c.bytes.length);
    process.stdout.write(
      `fixture: ffmpeg testsrc2 1280x720 30 fps H.264 2 Mbps, ${fx.clusters.length} clusters of 1 s (${f1(Math.min(...sizes) / 1e3)}–${f1(Math.max(...sizes) / 1e3)} KB), ${f2(fx.file.length / 1e6)} MB\n`,
    );
    process.stdout.write(
      `fast: each stream sends ${STREAM_COUNTS.map((n) => `N=${n}: ${FAST_PLAN[n].clusters * FAST_PLAN[n].repeats}`).join(', ')} clusters back to back; ` +
        `realtime: each cluster when its timecode is due, ${STREAM_COUNTS.map((n) => `N=${n}: ${REALTIME_CLUSTERS[n]} s`).join(', ')}\n\n`,
    );

    const openkvs = await startChild('openkvs', join(dir, 'openkvs'));
    children.push(openkvs);
    const floor = await startChild('floor', join(dir, 'floor'));
    children.push(floor);
    await createStreams(openkvs, Math.max(...STREAM_COUNTS));

    process.stdout.write(headerRow() + '\n');
    const all: RunResult[] = [];
    for (const mode of ['fast', 'realtime'] as const) {
      for (const n of STREAM_COUNTS) {
        // openkvs and the floor take turns on the same workload, so drift (page cache, disk) hits both alike.
        const ours = await run(fx, openkvs, mode, n);
        process.stdout.write(row(ours) + '\n');
        const base = await run(fx, floor, mode, n);
        process.stdout.write(row(base) + '\n');
        process.stdout.write(ratioRow(ours, base) + '\n');
        all.push(ours, base);
      }
    }

    const find = (mode: Mode, n: N, kind: ServerKind): RunResult => all.find((r) => r.mode === mode && r.n === n && r.kind === kind)!;
    const single = find('fast', 1, 'openkvs').mbPerS / find('fast', 1, 'floor').mbPerS;
    const rt100 = find('realtime', 100, 'openkvs').p99;
    const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');
    process.stdout.write(
      [
        '',
        'p50/p99: client side, from the write of a cluster\'s last byte to its PERSISTED ack (floor: its ack line);',
        '  p99 2nd+ leaves out each upload\'s first fragment, which pays one-off setup (track info, often a new segment file).',
        'srv cores: server CPU s / wall s (all its threads); client: the same for this process, which shares the machine.',
        'ratio: openkvs / floor (throughput: higher is better, ≤ 1 expected; latency and CPU: lower is better, ≥ 1 expected).',
        'targets from the issue (reported, not asserted):',
        `  single stream, as fast as possible, ≥ 0.70× the floor's throughput: ${f2(single)}× (${verdict(single >= 0.7)})`,
        `  100 real-time streams, p99 PERSISTED ≤ 50 ms on 2 cores (this machine: ${availableParallelism()}): ${f1(rt100)} ms (${verdict(rt100 <= 50)})`,
        `bench took ${f1((performance.now() - benchStart) / 1000)} s`,
        '',
      ].join('\n'),
    );
    const warnings = openkvs.stderr().trim();
    if (warnings.length > 0) {
      process.stdout.write(`openkvs stderr:\n${warnings.split('\n').slice(0, 20).join('\n')}\n`);
    }
  } finally {
    await Promise.all(children.map(stopChild));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
