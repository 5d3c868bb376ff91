import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MkvStreamParser, parseClusterBlocks } from '../../src/formats/mkv/mkv-stream-parser.js';
import { putMedia, type AckEvent } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, controlClient, startTestServer } from '../helpers/server.js';

// kill -9 the server mid-upload, several times, and check the promise behind PERSISTED: whatever was acked
// PERSISTED survives byte for byte, nothing half-written is ever indexed, and recovery leaves no torn tails.

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
// 37 unknown-size clusters (~95 KB each, absolute timecodes) with producer Tags between them: the real
// producer upload, so tags prefixes and unknown-size cluster boundaries are both exercised.
const SOURCE_PATH = resolve(process.cwd(), '../shared/real-media/kvs-producer/kvssink-test-stream-1_0.mkv');
const STREAM = 'crash-durability';
// Slow drip: ~8 KB every 15 ms is about 5 clusters/s, so a kill lands mid-upload with later clusters unsent.
const DRIP = { chunkSize: 8192, chunkDelayMs: 15 };
// Flat out: the server then holds up to 8 fragments written but not yet committed, so a kill is likely to
// leave bytes in a segment that no index row covers (a real torn tail).
const FLAT_OUT = { chunkSize: 65536, chunkDelayMs: 0 };
const START_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 10_000;

type KillPoint = { name: string; pace: { chunkSize: number; chunkDelayMs: number }; shouldKill(ack: AckEvent, persistedThisRound: number): boolean };

// Each round kills at a different moment of the durable path. The default stream capacity (5 fragments/s,
// 10 s burst) covers all of them.
const ROUNDS: KillPoint[] = [
  { name: 'drip, just after the 3rd PERSISTED ack (next cluster half received)', pace: DRIP, shouldKill: (a, n) => a.EventType === 'PERSISTED' && n >= 3 },
  { name: 'flat out, on the 2nd PERSISTED ack (more commits in flight)', pace: FLAT_OUT, shouldKill: (a, n) => a.EventType === 'PERSISTED' && n >= 2 },
  { name: 'drip, on a BUFFERING ack after 1 PERSISTED (its predecessor just RECEIVED)', pace: DRIP, shouldKill: (a, n) => a.EventType === 'BUFFERING' && n >= 1 },
  { name: 'flat out, on a RECEIVED ack after 8 PERSISTED', pace: FLAT_OUT, shouldKill: (a, n) => a.EventType === 'RECEIVED' && n >= 8 },
  { name: 'drip, just after the 5th PERSISTED ack', pace: DRIP, shouldKill: (a, n) => a.EventType === 'PERSISTED' && n >= 5 },
];

type SourceFragment = { cluster: Uint8Array; tags: Uint8Array };

/** The source's clusters by Timecode, each with the Tags elements the producer sent since the previous cluster. */
function sourceFragments(bytes: Uint8Array): Map<number, SourceFragment> {
  const parser = new MkvStreamParser();
  const out = new Map<number, SourceFragment>();
  let pendingTags: Uint8Array[] = [];
  for (const ev of [...parser.push(bytes), ...parser.end()]) {
    if (ev.kind === 'tags') {
      pendingTags.push(ev.bytes);
    } else if (ev.kind === 'fragment') {
      // Timecodes identify clusters below, so they must be unique in the source.
      expect(out.has(ev.fragment.timecode)).toBe(false);
      out.set(ev.fragment.timecode, { cluster: ev.fragment.bytes, tags: Buffer.concat(pendingTags) });
      pendingTags = [];
    }
  }
  return out;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

type Child = { proc: ChildProcess; port: number; url: string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; output(): string };

/** `openkvs serve` as a separate process, so it can really be killed with SIGKILL. */
async function startChild(dataDir: string): Promise<Child> {
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

/**
 * A TCP relay in front of the child that reads the acks off the wire as they pass. The PutMedia helper only
 * reports acks once its response ends, which a killed server never lets happen; the relay sees each one the
 * moment the server sent it, so it decides when to kill and records exactly what was acknowledged.
 */
async function startAckTap(targetPort: number, onAck: (ack: AckEvent) => void): Promise<{ url: string; upstreamClosed: Promise<void>; close(): Promise<void> }> {
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

const summarize = (acks: AckEvent[]): string => acks.map((a) => `${a.EventType}:${a.FragmentNumber ?? '-'}${a.ErrorId !== undefined ? `:${a.ErrorId}` : ''}`).join(' ');

/** Upload the source at the round's pace and SIGKILL the child at the kill point; returns every ack the server sent. */
async function uploadAndKill(child: Child, source: Uint8Array, kill: KillPoint): Promise<AckEvent[]> {
  const acks: AckEvent[] = [];
  let persisted = 0;
  let killed = false;
  const tap = await startAckTap(child.port, (ack) => {
    acks.push(ack);
    if (ack.EventType === 'PERSISTED') {
      persisted++;
    }
    if (!killed && (ack.EventType === 'ERROR' || kill.shouldKill(ack, persisted))) {
      killed = true;
      child.proc.kill('SIGKILL');
    }
  });
  try {
    const upload = putMedia(tap.url, source, { streamName: STREAM, ...kill.pace }).then(
      () => 'the upload completed',
      (err: unknown) => `the upload failed (${String(err)})`,
    );
    const first = await within(Promise.race([child.exited.then(() => 'exited'), upload]), 30_000, `kill point "${kill.name}"; acks so far: ${summarize(acks)}`);
    if (!killed) {
      throw new Error(`${first} before the kill point "${kill.name}"; acks: ${summarize(acks)}\n${child.output()}`);
    }
    const exit = await within(child.exited, EXIT_TIMEOUT_MS, 'the child to exit after SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    // An ack the server wrote just before dying is still a promise it made: read the connection to its end.
    await within(tap.upstreamClosed, EXIT_TIMEOUT_MS, 'the killed server connection to close');
    await within(upload, EXIT_TIMEOUT_MS, 'the PutMedia client to notice the dead server');
  } finally {
    await tap.close();
  }
  expect(acks.filter((a) => a.EventType === 'ERROR'), summarize(acks)).toEqual([]);
  return acks;
}

/**
 * Read the index directly, before an in-process server could run a recovery of its own, so this judges what the
 * restarted child's recovery left: each segment file ends exactly where its last indexed fragment ends, and no
 * segment file exists that the index does not know.
 */
function checkNoTornTails(dataDir: string): void {
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

const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-crash-'));
const children: Child[] = [];
afterAll(() => {
  for (const c of children) {
    c.proc.kill('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 during PutMedia', () => {
  it('keeps every PERSISTED fragment byte-identical, indexes nothing torn, and truncates torn tails', async () => {
    const source = new Uint8Array(readFileSync(SOURCE_PATH));
    const expected = sourceFragments(source);
    expect(expected.size).toBe(37);

    const persisted = new Map<string, number>();
    for (const [round, kill] of ROUNDS.entries()) {
      const child = await startChild(dataDir);
      children.push(child);
      if (round === 0) {
        const kv = controlClient(child.url);
        await kv.send(new CreateStreamCommand({ StreamName: STREAM, DataRetentionInHours: 24 }));
        kv.destroy();
      }
      const acks = await uploadAndKill(child, source, kill);
      for (const a of acks) {
        if (a.EventType === 'PERSISTED' && a.FragmentNumber !== undefined && a.FragmentTimecode !== undefined) {
          persisted.set(a.FragmentNumber, a.FragmentTimecode);
        }
      }
    }
    expect(persisted.size).toBeGreaterThanOrEqual(3 + 2 + 1 + 8 + 5);

    // Whether a kill above landed between a write and its commit is down to timing, so also leave such a torn
    // tail on purpose: the first half of a cluster after the newest segment's last fragment.
    const streamDirs = readdirSync(join(dataDir, 'streams'));
    expect(streamDirs).toHaveLength(1);
    const segDir = join(dataDir, 'streams', streamDirs[0]!);
    const newest = join(segDir, readdirSync(segDir).sort().at(-1)!);
    const anyCluster = expected.values().next().value!.cluster;
    appendFileSync(newest, anyCluster.subarray(0, anyCluster.length >> 1));

    // A restart on the crashed data dir must recover and then shut down cleanly.
    const last = await startChild(dataDir);
    children.push(last);
    last.proc.kill('SIGTERM');
    expect(await within(last.exited, EXIT_TIMEOUT_MS, 'openkvs to stop on SIGTERM')).toEqual({ code: 0, signal: null });

    checkNoTornTails(dataDir);

    const server = await startTestServer({}, { dataDir });
    try {
      const stream = server.registry.find({ name: STREAM });
      expect(stream).toBeDefined();
      const listed = server.store.list({ streamId: stream!.id, notBeforeServerMs: 0 });
      const listedNumbers = new Set(listed.map((f) => f.fragmentNumber));
      const missing = [...persisted.keys()].filter((n) => !listedNumbers.has(n));
      expect(missing, 'fragments acked PERSISTED but not in the index').toEqual([]);

      for (const f of listed) {
        const want = expected.get(f.timecode);
        expect(want, `fragment ${f.fragmentNumber}: timecode ${f.timecode} is not a source cluster`).toBeDefined();
        const stored = await server.store.readBytes(f);
        const cluster = stored.subarray(f.tagsSize);
        // A complete, well-formed cluster, not a prefix of one…
        expect(parseClusterBlocks(cluster).timecode).toBe(f.timecode);
        // …and exactly the bytes the producer sent, tags included.
        expect(Buffer.compare(cluster, want!.cluster), `fragment ${f.fragmentNumber}: cluster bytes differ from the source`).toBe(0);
        expect(Buffer.compare(stored.subarray(0, f.tagsSize), want!.tags), `fragment ${f.fragmentNumber}: tags bytes differ from the source`).toBe(0);
        const ackedTimecode = persisted.get(f.fragmentNumber);
        if (ackedTimecode !== undefined) {
          expect(f.timecode).toBe(ackedTimecode);
        }
      }
    } finally {
      await server.stop();
    }
  });
});
