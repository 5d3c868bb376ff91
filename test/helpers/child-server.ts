import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { AckEvent } from './put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET } from './server.js';

// `openkvs serve` as a separate process for the kill -9 tests (crash-durability, load-kill): only a real process
// can be SIGKILLed, and only reading its data dir afterwards shows what a crash left.

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const START_TIMEOUT_MS = 20_000;
export const EXIT_TIMEOUT_MS = 10_000;

export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export type Child = { proc: ChildProcess; port: number; url: string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; output(): string };

/** `openkvs serve` as a separate process, so it can really be killed with SIGKILL. */
export async function startChild(dataDir: string): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
    cwd: REPO_ROOT,
    env: { ...process.env, OPENKVS_ACCESS_KEY_ID: TEST_ACCESS_KEY, OPENKVS_SECRET_ACCESS_KEY: TEST_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const output = (): string => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  proc.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const serving = new Promise<string>((res, reject) => {
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /openkvs: serving (http:\/\/\S+)/.exec(stdout);
      if (m?.[1] !== undefined) {
        res(m[1]);
      }
    });
    void exited.then(({ code, signal }) => reject(new Error(`openkvs exited (code ${code}, signal ${signal}) before serving\n${output()}`)));
  });
  let url: string;
  try {
    url = await within(serving, START_TIMEOUT_MS, `openkvs to print its serving line\n${output()}`);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  // main.ts prints the serving line just before it installs its signal handlers, in the same tick: a request
  // answered afterwards proves they are in place, so a SIGTERM sent next gets the graceful shutdown.
  const health = await within(fetch(`${url}/health`), START_TIMEOUT_MS, `GET /health\n${output()}`);
  await health.text();
  expect(health.status).toBe(200);
  return { proc, port: Number(new URL(url).port), url, exited, output };
}

export type AckTap = { url: string; upstreamClosed: Promise<void>; close(): Promise<void> };

/**
 * A TCP relay in front of the child that reads the acks off the wire as they pass. The PutMedia helper only
 * reports acks once its response ends, which a killed server never lets happen; the relay sees each one the
 * moment the server sent it, so it decides when to kill and records exactly what was acknowledged.
 */
export async function startAckTap(targetPort: number, onAck: (ack: AckEvent) => void): Promise<AckTap> {
  const sockets = new Set<Socket>();
  let closedUpstream!: () => void;
  const upstreamClosed = new Promise<void>((r) => (closedUpstream = r));
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.pipe(upstream);
    let text = '';
    let scanned = 0;
    upstream.on('data', (d: Buffer) => {
      client.write(d);
      text += d.toString('latin1');
      // Acks are single-line JSON objects each written whole; chunked framing around them has no braces.
      const re = /\{[^{}]*\}/g;
      re.lastIndex = scanned;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        scanned = re.lastIndex;
        onAck(JSON.parse(m[0]) as AckEvent);
      }
    });
    upstream.on('close', () => {
      client.destroy();
      closedUpstream();
    });
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upstreamClosed,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) {
          s.destroy();
        }
        server.close(() => r());
      }),
  };
}

export const summarizeAcks = (acks: AckEvent[]): string => acks.map((a) => `${a.EventType}:${a.FragmentNumber ?? '-'}${a.ErrorId !== undefined ? `:${a.ErrorId}` : ''}`).join(' ');

/**
 * Read the index directly, before an in-process server could run a recovery of its own, so this judges what the
 * restarted child's recovery left: each segment file ends exactly where its last indexed fragment ends, and no
 * segment file exists that the index does not know.
 */
export function checkNoTornTails(dataDir: string): void {
  const db = new Database(join(dataDir, 'openkvs.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const segments = db
      .prepare('SELECT s.id, s.stream_id, COALESCE(MAX(f.offset + f.size), 0) AS end FROM segments s LEFT JOIN fragments f ON f.segment_id = s.id GROUP BY s.id')
      .all() as { id: number; stream_id: number; end: number }[];
    const known = new Set<string>();
    for (const s of segments) {
      const path = join(dataDir, 'streams', String(s.stream_id), `${String(s.id).padStart(10, '0')}.seg`);
      known.add(path);
      const size = existsSync(path) ? statSync(path).size : 0;
      expect(size, `segment ${path}: file size vs end of its last indexed fragment`).toBe(s.end);
    }
    const root = join(dataDir, 'streams');
    const onDisk = existsSync(root) ? readdirSync(root).flatMap((d) => readdirSync(join(root, d)).map((f) => join(root, d, f))) : [];
    expect(onDisk.filter((p) => !known.has(p)), 'segment files the index does not know').toEqual([]);
  } finally {
    db.close();
  }
}
