// Encryption-at-rest benchmark (npm run bench:encryption): the same PutMedia uploads into two openkvs servers,
// one with --encryption on (the default) and one with --encryption off, taking turns on the same workload.
// Prints ingest throughput, PERSISTED-ack latency and server CPU for both and their ratio, plus the raw AES-256-GCM
// sealing rate of this machine; asserts nothing. The servers are child processes so their CPU is measured apart.

import { once, setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { sealBytes } from '../src/kms/envelope.js';
import { makeFixture, type Fixture } from './fixture.js';
import { cpuSeconds, createBenchStream, putMediaHeaders, startServing, stopChild, type ServingChild } from './process.js';
import { f1, f2, out, pad, percentile } from './report.js';

const FIXTURE_SECONDS = 20;
/** Back-to-back uploads: streams × rounds of the 20 clusters; each configuration runs ROUNDS times, alternating. */
const PLANS = [
  { streams: 1, repeats: 10 },
  { streams: 10, repeats: 2 },
] as const;
const ROUNDS = 3;
const RUN_TIMEOUT_MS = 120_000;

type Kind = 'on' | 'off';
type Unit = { bytes: Buffer; timecode: number | null };
type Result = { wallS: number; bytes: number; persisted: number; expected: number; latenciesMs: number[]; serverCpuS: number; errors: string[] };

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

/** One signed chunked PutMedia; latency per fragment from the flush of its last byte to its PERSISTED ack. */
async function upload(url: string, stream: string, units: Unit[], signal: AbortSignal): Promise<Omit<Result, 'wallS' | 'serverCpuS'>> {
  const target = new URL('/putMedia', url);
  const headers = await putMediaHeaders(target, stream);
  const fragments = units.flatMap((u, i) => (u.timecode !== null ? [i] : []));
  const writtenAt = new Array<number>(units.length).fill(NaN);
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  let next = 0;
  await new Promise<void>((resolve) => {
    const req = request(target, { method: 'POST', headers, agent, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        const now = performance.now();
        text += d;
        for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
          const line = text.slice(0, nl).trim();
          text = text.slice(nl + 1);
          if (line.length === 0) {
            continue;
          }
          const ack = JSON.parse(line) as { EventType: string; ErrorId?: number };
          if (ack.EventType === 'PERSISTED') {
            const k = fragments[next++];
            if (k !== undefined && Number.isFinite(writtenAt[k])) {
              latenciesMs.push(now - (writtenAt[k] ?? now));
            }
          } else if (ack.EventType === 'ERROR') {
            next++;
            errors.push(`ERROR ${ack.ErrorId}`);
          }
        }
      });
      res.on('end', () => resolve());
      res.on('error', (e) => {
        errors.push(e.message);
        resolve();
      });
    });
    req.on('error', (e) => {
      errors.push(e.message);
      resolve();
    });
    void (async () => {
      try {
        for (const [i, u] of units.entries()) {
          if (!req.write(u.bytes, () => (writtenAt[i] = performance.now()))) {
            await once(req, 'drain', { signal });
          }
        }
        req.end();
      } catch {
        // reported by the request's error handler
      }
    })();
  });
  return { bytes: units.reduce((n, u) => n + u.bytes.length, 0), persisted: latenciesMs.length, expected: fragments.length, latenciesMs, errors };
}

async function run(server: ServingChild, fx: Fixture, streams: number, repeats: number): Promise<Result> {
  const one: Unit[] = [{ bytes: fx.prefix, timecode: null }, ...fx.clusters.map((c) => ({ bytes: c.bytes, timecode: c.timecode }))];
  const units = Array.from({ length: repeats }, () => one).flat();
  const signal = AbortSignal.timeout(RUN_TIMEOUT_MS);
  setMaxListeners(0, signal);
  const cpu0 = cpuSeconds(server.proc.pid ?? 0);
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: streams }, (_, s) => upload(server.url, `enc-bench-${s}`, units, signal)));
  return {
    wallS: (performance.now() - t0) / 1000,
    serverCpuS: cpuSeconds(server.proc.pid ?? 0) - cpu0,
    bytes: results.reduce((n, r) => n + r.bytes, 0),
    persisted: results.reduce((n, r) => n + r.persisted, 0),
    expected: results.reduce((n, r) => n + r.expected, 0),
    latenciesMs: results.flatMap((r) => r.latenciesMs),
    errors: [...new Set(results.flatMap((r) => r.errors))],
  };
}

/** All rounds of one configuration and server merged: totals summed, latencies pooled. */
function merge(rs: Result[]): Result {
  return {
    wallS: rs.reduce((n, r) => n + r.wallS, 0),
    serverCpuS: rs.reduce((n, r) => n + r.serverCpuS, 0),
    bytes: rs.reduce((n, r) => n + r.bytes, 0),
    persisted: rs.reduce((n, r) => n + r.persisted, 0),
    expected: rs.reduce((n, r) => n + r.expected, 0),
    latenciesMs: rs.flatMap((r) => r.latenciesMs).sort((a, b) => a - b),
    errors: [...new Set(rs.flatMap((r) => r.errors))],
  };
}

const W = [10, 8, 9, 8, 8, 8, 11, 10];
const row = (cells: string[]): string => pad(cells.map((c, i) => [c, W[i] ?? 8]));

function report(label: string, kind: string, r: Result): void {
  const status = r.errors.length > 0 || r.persisted < r.expected ? `  ${r.persisted}/${r.expected} PERSISTED ${r.errors.slice(0, 3).join('; ')}` : '';
  out(
    row([label, kind, f1(r.bytes / 1e6 / r.wallS), f1(r.persisted / r.wallS), f1(percentile(r.latenciesMs, 0.5)), f1(percentile(r.latenciesMs, 0.99)), f2(r.serverCpuS), f2(r.serverCpuS / r.wallS)]) +
      status,
  );
}

/** The machine's AES-256-GCM rate on fragment-sized messages, the floor of what sealing costs. */
function sealRate(fx: Fixture): number {
  const key = randomBytes(32);
  const bytes = fx.clusters.reduce((n, c) => n + c.bytes.length, 0);
  const t0 = performance.now();
  let rounds = 0;
  while (performance.now() - t0 < 1000) {
    for (const c of fx.clusters) {
      sealBytes(key, [c.bytes], `openkvs:fragment:1:${c.timecode}`);
    }
    rounds++;
  }
  return (bytes * rounds) / 1e6 / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'openkvs-bench-enc-'));
  const servers: Partial<Record<Kind, ServingChild>> = {};
  try {
    out(`openkvs encryption bench: ${availableParallelism()} CPUs, node ${process.version}, data under ${dir}`);
    const fx = makeFixture(FIXTURE_SECONDS, FIXTURE_SECONDS);
    out(`fixture: ffmpeg testsrc2 1280x720 30 fps H.264 2 Mbps, ${fx.clusters.length} clusters of 1 s, ${f2(fx.file.length / 1e6)} MB`);
    out(`AES-256-GCM seal rate in this process: ${f1(sealRate(fx))} MB/s (one core)`);
    for (const kind of ['on', 'off'] as const) {
      const s = await startServing(['src/main.ts', 'serve', '--port', '0', '--data-dir', join(dir, kind), '--log-level', 'warn', '--encryption', kind]);
      servers[kind] = s;
      for (let i = 0; i < Math.max(...PLANS.map((p) => p.streams)); i++) {
        await createBenchStream(s, `enc-bench-${i}`);
      }
    }
    out(`each configuration runs ${ROUNDS} times per server, alternating on/off; figures pool the rounds\n`);
    out(row(['streams', 'crypt', 'MB/s', 'frag/s', 'p50 ms', 'p99 ms', 'srv CPU s', 'srv cores']));
    for (const p of PLANS) {
      const got: Record<Kind, Result[]> = { on: [], off: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const kind of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
          const s = servers[kind];
          if (s !== undefined) {
            got[kind].push(await run(s, fx, p.streams, p.repeats));
          }
        }
      }
      const on = merge(got.on);
      const off = merge(got.off);
      const label = `${p.streams}×${p.repeats * fx.clusters.length}`;
      report(label, 'on', on);
      report(label, 'off', off);
      const ratio = (a: number, b: number): string => `${f2(a / b)}×`;
      out(
        row([
          '',
          'on/off',
          ratio(on.bytes / on.wallS, off.bytes / off.wallS),
          ratio(on.persisted / on.wallS, off.persisted / off.wallS),
          ratio(percentile(on.latenciesMs, 0.5), percentile(off.latenciesMs, 0.5)),
          ratio(percentile(on.latenciesMs, 0.99), percentile(off.latenciesMs, 0.99)),
          ratio(on.serverCpuS / on.bytes, off.serverCpuS / off.bytes),
          '',
        ]),
      );
    }
    out('\nstreams: concurrent uploads × fragments each, back to back. p50/p99: from the flush of a cluster\'s last byte to');
    out('its PERSISTED ack. srv CPU s ratio is per byte ingested. on/off: throughput ≤ 1× and latency/CPU ≥ 1× mean encryption costs.');
  } finally {
    await Promise.all(Object.values(servers).map((s) => stopChild(s)));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
