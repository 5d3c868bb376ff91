import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { TEST_ACCESS_KEY, TEST_SECRET } from '../test/helpers/server.js';
import { signRequest, signedPost } from '../test/helpers/signed-fetch.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Stop a bench server: SIGTERM for a clean shutdown, SIGKILL if it has not exited 10 s later. */
export async function stopChild(c: { proc: ChildProcess }): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) {
    return;
  }
  const exited = once(c.proc, 'exit');
  c.proc.kill('SIGTERM');
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system, all threads) the process has used so far. Linux only. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export type ServingChild = { proc: ChildProcess; url: string; stderr(): string };

const STARTUP_TIMEOUT_MS = 30_000;

/**
 * Starts `node [nodeArgs] --import tsx <args>` in the repository with the test credentials and waits for the
 * "<name>: serving <url>" line every bench server prints.
 */
export function startServing(args: string[], opts: { nodeArgs?: string[]; env?: Record<string, string> } = {}): Promise<ServingChild> {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, OPENKVS_ACCESS_KEY_ID: TEST_ACCESS_KEY, OPENKVS_SECRET_ACCESS_KEY: TEST_SECRET, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise<ServingChild>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start in ${STARTUP_TIMEOUT_MS} ms\n${out}\n${err}`)), STARTUP_TIMEOUT_MS);
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^\w+: serving (http:\/\/\S+)/m.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve({ proc, url: m[1], stderr: () => err });
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (code ${code}, signal ${signal}) before serving\n${out}\n${err}`));
    });
  });
}

/** Server and client CPU over a stretch of wall time. */
export function cpuMeter(pid: number): () => { wallS: number; serverS: number; clientS: number } {
  const wall0 = performance.now();
  const srv0 = cpuSeconds(pid);
  const self0 = process.cpuUsage();
  return () => {
    const self = process.cpuUsage(self0);
    return { wallS: (performance.now() - wall0) / 1000, serverS: cpuSeconds(pid) - srv0, clientS: (self.user + self.system) / 1e6 };
  };
}

/**
 * Per-stream capacity for bench streams: rates high enough that no limiter paces uploads or reads (the defaults
 * are KVS's, e.g. 5 fragments/s per stream), so the benches measure the server, not its limits.
 */
export const BENCH_CAPACITY = {
  fragmentsPerSecond: 10_000,
  ingestBytesPerSecond: 10_000_000_000,
  readBytesPerSecond: 10_000_000_000,
  putMediaConnections: 10,
};

/** A signed KVS call (by hand: the AWS SDK drops the openkvs Capacity extension member); throws on an error answer. */
export async function api<T>(server: { url: string }, op: string, body: unknown): Promise<T> {
  const res = await signedPost(`${server.url}/${op}`, JSON.stringify(body));
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${op}: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
  return (text.length > 0 ? JSON.parse(text) : {}) as T;
}

/** A 24 h-retention stream with BENCH_CAPACITY (plus `capacity` overrides). */
export const createBenchStream = (server: { url: string }, name: string, capacity: Record<string, number> = {}): Promise<unknown> =>
  api(server, 'createStream', { StreamName: name, DataRetentionInHours: 24, Capacity: { ...BENCH_CAPACITY, ...capacity } });

/** Signed headers of a chunked PutMedia with acks, as the KVS producer SDKs send it (RELATIVE timecodes). */
export async function putMediaHeaders(url: URL, stream: string, producerStartMs: number = Date.now()): Promise<Record<string, string>> {
  const { headers } = await signRequest(url.href, '', {
    applyChecksum: false,
    headers: {
      'content-type': 'video/x-matroska',
      'x-amzn-stream-name': stream,
      'x-amzn-fragment-timecode-type': 'RELATIVE',
      'x-amzn-producer-start-timestamp': (producerStartMs / 1000).toFixed(3),
      'x-amzn-fragment-acknowledgment-required': '1',
    },
  });
  headers['transfer-encoding'] = 'chunked';
  return headers;
}
