// Soak test (npm run soak): openkvs under a steady, realistic load for a bounded time — 50 real-time producers
// (PutMedia of a looping H.264 fixture at the pace of its timecodes, each rotating to a new connection now and
// then as KVS producers do), live GetMedia readers and LIVE HLS players — sampling the server every few seconds:
// RSS, heap after a full GC, open file descriptors, event-loop delay, CPU, and, client side, PERSISTED-ack latency,
// delivered fragments and errors. Prints a row per sample and a summary; exits 1 when memory or descriptors grow
// without bound over the second half of the run, or when any producer or consumer saw an error.
// Options (flags or environment): --duration 10m (SOAK_DURATION), --producers 50 (SOAK_PRODUCERS),
// --getmedia 10 (SOAK_GETMEDIA), --hls 10 (SOAK_HLS), --interval 5s (SOAK_INTERVAL), --rotate 60s (SOAK_ROTATE).
// Limits: SOAK_MAX_HEAP_MB_PER_MIN (2), SOAK_MAX_RSS_MB_PER_MIN (10), SOAK_FD_MARGIN (16). docs/operations.md.

import { fork, type ChildProcess } from 'node:child_process';
import { once, setMaxListeners } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeMaster, encodeUint } from '../src/formats/ebml/ebml-writer.js';
import { EbmlId } from '../src/formats/ebml/ids.js';
import { readElementId, readElementSize } from '../src/formats/ebml/vint.js';
import { MkvStreamParser } from '../src/formats/mkv/mkv-stream-parser.js';
import { TEST_ACCESS_KEY, TEST_SECRET } from '../test/helpers/server.js';
import { signRequest } from '../test/helpers/signed-fetch.js';
import { SHARED_READ_CACHE_BYTES } from '../src/core/fragment-reader.js';
import { MEDIA_CACHE_BYTES } from '../src/playback/playback-service.js';
import { MAX_OPEN_READ_HANDLES } from '../src/store/embedded/embedded-fragment-store.js';
import { api, cpuSeconds, putMediaHeaders } from './process.js';
import { f0, f1, out, percentile } from './report.js';
import type { SoakParentMessage, SoakSample, SoakServerMessage } from './soak-server.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = join(REPO_ROOT, 'media-fixtures/mkv/h264-5s-piped.mkv');
const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Options

function parseDuration(what: string, s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (m === null) {
    throw new Error(`${what}: expected a duration such as 90s, 10m or 1h, got "${s}"`);
  }
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

function parseCount(what: string, s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`${what}: expected a whole number, got "${s}"`);
  }
  return n;
}

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string' },
    producers: { type: 'string' },
    getmedia: { type: 'string' },
    hls: { type: 'string' },
    interval: { type: 'string' },
    rotate: { type: 'string' },
  },
  strict: true,
});
const env = process.env;
const opt = (flag: string | undefined, name: string, def: string): string => flag ?? env[name] ?? def;
const OPTIONS = {
  durationMs: parseDuration('--duration', opt(flags.duration, 'SOAK_DURATION', '10m')),
  producers: parseCount('--producers', opt(flags.producers, 'SOAK_PRODUCERS', '50')),
  getMedia: parseCount('--getmedia', opt(flags.getmedia, 'SOAK_GETMEDIA', '10')),
  hls: parseCount('--hls', opt(flags.hls, 'SOAK_HLS', '10')),
  intervalMs: parseDuration('--interval', opt(flags.interval, 'SOAK_INTERVAL', '5s')),
  rotateMs: parseDuration('--rotate', opt(flags.rotate, 'SOAK_ROTATE', '60s')),
  maxHeapMbPerMin: Number(env['SOAK_MAX_HEAP_MB_PER_MIN'] ?? 2),
  maxRssMbPerMin: Number(env['SOAK_MAX_RSS_MB_PER_MIN'] ?? 10),
  fdMargin: parseCount('SOAK_FD_MARGIN', env['SOAK_FD_MARGIN'] ?? '16'),
};
if (OPTIONS.producers < 1 || OPTIONS.getMedia > OPTIONS.producers || OPTIONS.hls > OPTIONS.producers) {
  throw new Error('need at least one producer, and no more GetMedia or HLS consumers than producers (each reads its own stream)');
}
/** Consumers start once every stream has fragments to play. */
const CONSUMERS_START_MS = 5_000;
/** RSS growth is counted from here: streams, sessions and connections all exist by then. */
const WARM_UP_MS = Math.min(60_000, OPTIONS.durationMs / 4);
const HLS_POLL_MS = 1_000;
const DRAIN_TIMEOUT_MS = 20_000;

// ---------------------------------------------------------------------------------------------------------------
// The fixture, looped: clusters re-timed so each loop continues the previous one's timeline.

type Loop = { prefix: Buffer; clusters: { timecode: number; children: Uint8Array[] }[]; lengthMs: number };

function loadLoop(path: string): Loop {
  const file = readFileSync(path);
  const parser = new MkvStreamParser();
  const found: { at: number; bytes: Uint8Array; timecode: number }[] = [];
  let pos = 0;
  for (const ev of [...parser.push(file), ...parser.end()]) {
    if (ev.kind === 'fragment') {
      const at = file.indexOf(ev.fragment.bytes, pos);
      found.push({ at, bytes: ev.fragment.bytes, timecode: ev.fragment.timecode });
      pos = at + ev.fragment.bytes.length;
    }
  }
  if (found.length < 2) {
    throw new Error(`${path}: expected several clusters`);
  }
  const clusters = found.map((c) => ({ timecode: c.timecode, children: clusterChildren(c.bytes) }));
  const last = found.at(-1)!.timecode;
  return { prefix: file.subarray(0, found[0]!.at), clusters, lengthMs: last + (last - found.at(-2)!.timecode) };
}

/** A cluster's children but its Timecode (written anew per loop) and CRC-32 (which the new timecode would break). */
function clusterChildren(cluster: Uint8Array): Uint8Array[] {
  const id = readElementId(cluster, 0, cluster.length, 0)!;
  const size = readElementSize(cluster, id.length, cluster.length, id.length)!;
  const end = size.unknown ? cluster.length : id.length + size.length + size.value;
  const children: Uint8Array[] = [];
  for (let p = id.length + size.length; p < end; ) {
    const cid = readElementId(cluster, p, end, p)!;
    const csize = readElementSize(cluster, p + cid.length, end, p + cid.length)!;
    const next = p + cid.length + csize.length + csize.value;
    if (cid.id !== EbmlId.Timecode && cid.id !== EbmlId.CRC32) {
      children.push(cluster.subarray(p, next));
    }
    p = next;
  }
  return children;
}

// ---------------------------------------------------------------------------------------------------------------
// What the clients saw: totals for the summary, and per-sample windows.

type Counters = { persisted: number; ackLatencies: number[]; gmFragments: number; gmBytes: number; gmBehindMs: number[]; hlsSegments: number; hlsBytes: number; errors: number };
const newCounters = (): Counters => ({ persisted: 0, ackLatencies: [], gmFragments: 0, gmBytes: 0, gmBehindMs: [], hlsSegments: 0, hlsBytes: 0, errors: 0 });
const total = newCounters();
let win = newCounters();
const errorKinds = new Map<string, number>();
const totals = { fragmentsSent: 0, putMediaConnections: 0, getMediaConnections: 0, hlsPlaylists: 0 };

function count(f: (c: Counters) => void): void {
  f(total);
  f(win);
}

function recordError(who: string, what: string): void {
  count((c) => c.errors++);
  // numbers vary from one occurrence to the next; the kind of problem does not
  const kind = `${who}: ${what.replace(/\d{4,}/g, 'N').slice(0, 200)}`;
  errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

// ---------------------------------------------------------------------------------------------------------------
// Producers

type Run = { stopping: boolean; url: string };

/**
 * One camera: clusters sent when their media time has passed (a cluster is complete when the next one starts),
 * on connections of `rotateMs` each; producer timestamps continue across connections as a camera's clock does.
 */
async function producer(run: Run, stream: string, loop: Loop, startAt: number): Promise<void> {
  const n = loop.clusters.length;
  const mediaMs = (k: number): number => Math.floor(k / n) * loop.lengthMs + loop.clusters[k % n]!.timecode;
  const epoch0 = Date.now() + (startAt - performance.now());
  let k = 0;
  while (!run.stopping) {
    k = await connection(run, stream, loop, k, mediaMs, (at) => startAt + at, epoch0);
  }
}

async function connection(run: Run, stream: string, loop: Loop, first: number, mediaMs: (k: number) => number, due: (mediaMs: number) => number, epoch0: number): Promise<number> {
  const url = new URL('/putMedia', run.url);
  const base = mediaMs(first);
  const headers = await putMediaHeaders(url, stream, epoch0 + base);
  totals.putMediaConnections++;
  const pending: { timecode: number; writtenAt: number }[] = [];
  const who = `producer ${stream}`;
  const req = request(url, { method: 'POST', headers, agent });
  const answered = new Promise<void>((resolve) => {
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          recordError(who, `HTTP ${res.statusCode} ${text.slice(0, 120)}`);
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
            onAck(line, now);
          }
        }
      });
      res.on('end', resolve);
      res.on('error', (e) => {
        recordError(who, `response: ${e.message}`);
        resolve();
      });
    });
    req.on('error', (e) => {
      recordError(who, `request: ${e.message}`);
      resolve();
    });
  });
  const onAck = (line: string, now: number): void => {
    const ack = JSON.parse(line) as { EventType: string; FragmentTimecode?: number; ErrorId?: number; ErrorCode?: string };
    if (ack.EventType === 'ERROR') {
      recordError(who, `ERROR ack ${ack.ErrorId} ${ack.ErrorCode ?? ''}`);
      if (ack.FragmentTimecode !== undefined && pending[0]?.timecode === ack.FragmentTimecode) {
        pending.shift();
      }
      return;
    }
    if (ack.EventType !== 'PERSISTED') {
      return;
    }
    // acks come in the order fragments were sent
    const p = pending.shift();
    if (p === undefined || p.timecode !== ack.FragmentTimecode) {
      recordError(who, `PERSISTED for timecode ${ack.FragmentTimecode}, expected ${p?.timecode ?? 'none'}`);
      return;
    }
    count((c) => {
      c.persisted++;
      if (Number.isFinite(p.writtenAt)) {
        c.ackLatencies.push(now - p.writtenAt);
      }
    });
  };

  req.write(loop.prefix);
  let k = first;
  while (!run.stopping && (k === first || mediaMs(k) - base < OPTIONS.rotateMs)) {
    // wait in steps, so a stop is noticed within a second
    for (let wait = due(mediaMs(k + 1)) - performance.now(); wait > 0 && !run.stopping; wait = due(mediaMs(k + 1)) - performance.now()) {
      await sleep(Math.min(wait, 1000));
    }
    if (run.stopping || req.destroyed) {
      break;
    }
    const c = loop.clusters[k % loop.clusters.length]!;
    const timecode = mediaMs(k) - base;
    const entry = { timecode, writtenAt: NaN };
    pending.push(entry);
    totals.fragmentsSent++;
    // flushed to the socket: from here the time to PERSISTED is the server's (and the wire's)
    const flowing = req.write(encodeMaster(EbmlId.Cluster, [encodeUint(EbmlId.Timecode, timecode), ...c.children]), () => (entry.writtenAt = performance.now()));
    k++;
    if (!flowing) {
      try {
        await once(req, 'drain');
      } catch {
        break; // the request failed; its error handler has counted it
      }
    }
  }
  req.end();
  const timer = setTimeout(() => req.destroy(new Error(`no end of the acks ${DRAIN_TIMEOUT_MS} ms after the body ended`)), DRAIN_TIMEOUT_MS);
  await answered;
  clearTimeout(timer);
  if (pending.length > 0) {
    recordError(who, `${pending.length} fragment(s) without PERSISTED when the connection ended`);
  }
  return k;
}

// ---------------------------------------------------------------------------------------------------------------
// Consumers

/** A live GetMedia reader (StartSelectorType NOW); a response the server ends is followed by a new one. */
async function getMediaConsumer(run: Run, stream: string, signal: AbortSignal): Promise<void> {
  const who = `GetMedia ${stream}`;
  while (!signal.aborted) {
    const url = `${run.url}/getMedia`;
    const body = JSON.stringify({ StreamName: stream, StartSelector: { StartSelectorType: 'NOW' } });
    const { headers } = await signRequest(url, body);
    totals.getMediaConnections++;
    await new Promise<void>((resolve) => {
      const req = request(url, { method: 'POST', headers, agent, signal }, (res) => {
        if (res.statusCode !== 200) {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => {
            recordError(who, `HTTP ${res.statusCode} ${text.slice(0, 120)}`);
            resolve();
          });
          return;
        }
        const parser = new MkvStreamParser();
        res.on('data', (chunk: Buffer) => {
          count((c) => (c.gmBytes += chunk.length));
          try {
            for (const ev of parser.push(chunk)) {
              if (ev.kind === 'fragment') {
                count((c) => c.gmFragments++);
              } else if (ev.kind === 'tags') {
                for (const t of ev.tags) {
                  if (t.name === 'AWS_KINESISVIDEO_ERROR_CODE') {
                    recordError(who, `error chunk ${t.value}`);
                  } else if (t.name === 'AWS_KINESISVIDEO_MILLIS_BEHIND_NOW') {
                    const behind = Number(t.value);
                    count((c) => c.gmBehindMs.push(behind));
                  }
                }
              }
            }
          } catch (err) {
            recordError(who, `unparsable media: ${(err as Error).message}`);
            res.destroy();
          }
        });
        res.on('end', resolve);
        res.on('close', resolve);
        res.on('error', (e) => {
          if (!signal.aborted) {
            recordError(who, `response: ${e.message}`);
          }
          resolve();
        });
      });
      req.on('error', (e) => {
        if (!signal.aborted) {
          recordError(who, `request: ${e.message}`);
        }
        resolve();
      });
      req.end(body);
    });
    if (!signal.aborted) {
      // the KVS limit of GetMedia calls per second per stream applies to reconnects too
      await sleep(500);
    }
  }
}

/** A LIVE HLS player: polls the media playlist as hls.js does and fetches the init segment and every new segment. */
async function hlsConsumer(run: Run, stream: string, signal: AbortSignal): Promise<void> {
  const who = `HLS ${stream}`;
  const get = async (url: string): Promise<Buffer | null> => {
    try {
      const res = await fetch(url, { signal });
      const bytes = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) {
        recordError(who, `HTTP ${res.status} for ${new URL(url).pathname}: ${bytes.toString('utf8', 0, 120)}`);
        return null;
      }
      return bytes;
    } catch (err) {
      if (!signal.aborted) {
        recordError(who, `GET ${new URL(url).pathname}: ${(err as Error).message}`);
      }
      return null;
    }
  };
  let session: { HLSStreamingSessionURL: string };
  try {
    session = await api(run, 'getHLSStreamingSessionURL', { StreamName: stream, PlaybackMode: 'LIVE', Expires: 43_200 });
  } catch (err) {
    recordError(who, (err as Error).message);
    return;
  }
  const master = await get(session.HLSStreamingSessionURL);
  const mediaPath = master?.toString('utf8').split('\n').find((l) => l.startsWith('getHLSMediaPlaylist'));
  if (mediaPath === undefined) {
    if (master !== null) {
      recordError(who, 'no media playlist in the master playlist');
    }
    return;
  }
  const mediaUrl = new URL(mediaPath, session.HLSStreamingSessionURL).href;
  let seen = new Set<string>();
  let initFetched = false;
  while (!signal.aborted) {
    const started = performance.now();
    const playlist = await get(mediaUrl);
    if (playlist !== null) {
      totals.hlsPlaylists++;
      const lines = playlist.toString('utf8').split('\n');
      const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(lines.find((l) => l.startsWith('#EXT-X-MAP')) ?? '');
      if (map !== null && !initFetched) {
        initFetched = (await get(new URL(map[1]!, mediaUrl).href)) !== null;
      }
      const uris = lines.filter((l) => l.length > 0 && !l.startsWith('#'));
      for (const uri of uris) {
        if (seen.has(uri) || signal.aborted) {
          continue;
        }
        const seg = await get(new URL(uri, mediaUrl).href);
        if (seg !== null) {
          count((c) => {
            c.hlsSegments++;
            c.hlsBytes += seg.length;
          });
        }
      }
      // only what the playlist still lists: the set stays as small as the playlist
      seen = new Set(uris);
    }
    await sleep(HLS_POLL_MS - (performance.now() - started));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The server and its samples

type Child = { proc: ChildProcess; url: string; logHead: string[]; logTail: string[]; errorLines: number; warnLines: number };

async function startServer(dataDir: string): Promise<Child> {
  const proc = fork(fileURLToPath(new URL('./soak-server.ts', import.meta.url)), [dataDir], {
    cwd: REPO_ROOT,
    execArgv: ['--expose-gc', '--import', 'tsx'],
    env: { ...process.env, OPENKVS_ACCESS_KEY_ID: TEST_ACCESS_KEY, OPENKVS_SECRET_ACCESS_KEY: TEST_SECRET },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const child: Child = { proc, url: '', logHead: [], logTail: [], errorLines: 0, warnLines: 0 };
  let partial = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      child.errorLines += /"level":"(error|fatal)"/.test(l) ? 1 : 0;
      child.warnLines += /"level":"warn"/.test(l) ? 1 : 0;
      // the first lines and the latest: enough to see what went wrong without holding a long run's log
      if (child.logHead.length < 20) {
        child.logHead.push(l);
      } else {
        child.logTail.push(l);
        if (child.logTail.length > 20) {
          child.logTail.shift();
        }
      }
    }
  });
  const ready = await new Promise<SoakServerMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the soak server did not start in 60 s')), 60_000);
    proc.once('message', (m: SoakServerMessage) => {
      clearTimeout(timer);
      resolve(m);
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the soak server exited (code ${code}, signal ${signal}) before serving:\n${child.logHead.join('\n')}`));
    });
  });
  if (ready.type !== 'ready') {
    throw new Error(`unexpected first message ${ready.type}`);
  }
  child.url = ready.url;
  return child;
}

function askSample(child: Child): Promise<SoakSample | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.proc.off('message', onMessage);
      resolve(null);
    }, 15_000);
    const onMessage = (m: SoakServerMessage): void => {
      if (m.type === 'sample') {
        clearTimeout(timer);
        child.proc.off('message', onMessage);
        resolve(m);
      }
    };
    child.proc.on('message', onMessage);
    child.proc.send({ type: 'sample' } satisfies SoakParentMessage);
  });
}

/** The server's open descriptors by kind: each kind has its own bound (checks in main). */
type Fds = { fds: number; sockets: number; segments: number; other: number };

function fdsOf(pid: number): Fds {
  const n: Fds = { fds: 0, sockets: 0, segments: 0, other: 0 };
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed since the listing
    }
    n.fds++;
    if (target.startsWith('socket:')) {
      n.sockets++;
    } else if (target.endsWith('.seg')) {
      n.segments++;
    } else {
      n.other++;
    }
  }
  return n;
}

type Row = SoakSample & Fds & { tS: number; cpuPct: number; clients: Counters; windowS: number };

const COLUMNS: [string, number, (r: Row) => string][] = [
  ['t s', 6, (r) => f0(r.tS)],
  ['rss MB', 7, (r) => f1(r.rss / MB)],
  ['heap MB', 8, (r) => f1(r.heapUsed / MB)],
  ['ext MB', 7, (r) => f1(r.external / MB)],
  ['fds', 5, (r) => String(r.fds)],
  ['socks', 6, (r) => String(r.sockets)],
  ['segs', 5, (r) => String(r.segments)],
  ['loop p50', 9, (r) => f1(r.loopP50)],
  ['loop p99', 9, (r) => f1(r.loopP99)],
  ['loop max', 9, (r) => f0(r.loopMax)],
  ['gc ms', 6, (r) => f0(r.gcMs)],
  ['cpu %', 6, (r) => f0(r.cpuPct)],
  ['frag/s', 7, (r) => f1(r.clients.persisted / r.windowS)],
  ['ack p50', 8, (r) => f0(percentile([...r.clients.ackLatencies].sort((a, b) => a - b), 0.5))],
  ['ack p99', 8, (r) => f0(percentile([...r.clients.ackLatencies].sort((a, b) => a - b), 0.99))],
  ['GM frag/s', 10, (r) => f1(r.clients.gmFragments / r.windowS)],
  ['GM behind', 10, (r) => f0(Math.max(-Infinity, ...r.clients.gmBehindMs))],
  ['HLS seg/s', 10, (r) => f1(r.clients.hlsSegments / r.windowS)],
  ['errors', 7, (r) => String(r.clients.errors)],
];
const header = (): string => COLUMNS.map(([t, w]) => t.padStart(w)).join(' ');
const format = (r: Row): string => COLUMNS.map(([, w, cell]) => cell(r).padStart(w)).join(' ');

/** Least-squares slope of y over x. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) {
    return NaN;
  }
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  return sxx === 0 ? NaN : sxy / sxx;
}

/** true: met; false: failed; 'inconclusive': growth a bounded cache may still explain (passes, with a note). */
type Check = [string, boolean | 'inconclusive'];

/** What the server's bounded media caches may hold once full: RSS growth up to this can be them filling. */
const CACHE_ALLOWANCE_MB = (SHARED_READ_CACHE_BYTES + MEDIA_CACHE_BYTES) / MB + 32;

/**
 * RSS over the second half: a slope under the limit passes. A steeper one fails only once the growth since the
 * warm-up is more than the media caches can hold (2 × 64 MiB, filled at the rate media arrives: minutes at this
 * load); below that a short run cannot tell a cache filling from a leak, and says so.
 */
function rssCheck(points: number, perMin: number, growthMb: number): Check {
  const what = `RSS, second half: ${f1(perMin)} MB/min ≤ ${OPTIONS.maxRssMbPerMin}`;
  if (points >= 3 && perMin <= OPTIONS.maxRssMbPerMin) {
    return [what, true];
  }
  if (points >= 3 && growthMb <= CACHE_ALLOWANCE_MB) {
    return [`${what}: steeper, but +${f0(growthMb)} MB since the warm-up is within what the media caches may hold (${f0(CACHE_ALLOWANCE_MB)} MB) — run longer to judge`, 'inconclusive'];
  }
  return [`${what} (+${f0(growthMb)} MB since the warm-up, caches allow ${f0(CACHE_ALLOWANCE_MB)} MB)`, false];
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'openkvs-soak-'));
  let child: Child | null = null;
  try {
    const loop = loadLoop(FIXTURE);
    out(
      `openkvs soak: ${OPTIONS.producers} real-time producers (${loop.clusters.length} × ~${f0(loop.lengthMs / loop.clusters.length)} ms clusters of ${FIXTURE.slice(REPO_ROOT.length)}, looped; a new connection every ${f0(OPTIONS.rotateMs / 1000)} s), ` +
        `${OPTIONS.getMedia} live GetMedia readers, ${OPTIONS.hls} LIVE HLS players, for ${f0(OPTIONS.durationMs / 1000)} s, a sample every ${f0(OPTIONS.intervalMs / 1000)} s`,
    );
    out(`machine: ${availableParallelism()} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}, node ${process.version}; data under ${dir}`);
    child = await startServer(join(dir, 'data'));
    const server = child;
    const pid = server.proc.pid!;
    const run: Run = { stopping: false, url: server.url };
    const streams = Array.from({ length: OPTIONS.producers }, (_, i) => `soak-${i}`);
    for (const s of streams) {
      await api(run, 'createStream', { StreamName: s, DataRetentionInHours: 1 });
    }

    const rows: Row[] = [];
    const sample = async (windowS: number, tS: number, cpu0: number): Promise<Row | null> => {
      const s = await askSample(server);
      if (s === null) {
        return null;
      }
      const row: Row = { ...s, tS, ...fdsOf(pid), cpuPct: ((cpuSeconds(pid) - cpu0) / windowS) * 100, clients: win, windowS };
      win = newCounters();
      return row;
    };

    const start = performance.now();
    const elapsedS = (): number => (performance.now() - start) / 1000;
    let cpuMark = cpuSeconds(pid);
    const first = await sample(1, 0, cpuSeconds(pid));
    if (first === null) {
      throw new Error('the soak server did not answer its first sample');
    }
    out('');
    out(header());
    out(format(first));
    rows.push(first);

    const producers = streams.map((s, i) => producer(run, s, loop, performance.now() + 200 + (i * 1000) / streams.length));
    const consumers = new AbortController();
    // Every fetch and request of the readers listens on it; fetch lets go of its listener only when the request
    // is garbage-collected, so a long run passes any listener limit without anything leaking.
    setMaxListeners(0, consumers.signal);
    const consumerRuns: Promise<void>[] = [];
    const startConsumers = setTimeout(() => {
      for (let i = 0; i < OPTIONS.getMedia; i++) {
        consumerRuns.push(getMediaConsumer(run, streams[i]!, consumers.signal));
      }
      // HLS players on other streams than the GetMedia readers where there are enough
      for (let i = 0; i < OPTIONS.hls; i++) {
        consumerRuns.push(hlsConsumer(run, streams[(OPTIONS.getMedia + i) % streams.length]!, consumers.signal));
      }
    }, CONSUMERS_START_MS);

    let lastAt = start;
    let crashed = false;
    server.proc.once('exit', () => (crashed = !run.stopping));
    while (performance.now() - start < OPTIONS.durationMs && !crashed) {
      await sleep(Math.min(OPTIONS.intervalMs, OPTIONS.durationMs - (performance.now() - start)));
      if (crashed) {
        break;
      }
      const now = performance.now();
      const row = await sample((now - lastAt) / 1000, elapsedS(), cpuMark);
      cpuMark = cpuSeconds(pid);
      lastAt = now;
      if (row === null) {
        out(`${f0(elapsedS()).padStart(6)}  (no answer from the server to the sample request within 15 s)`);
        continue;
      }
      rows.push(row);
      out(format(row));
    }

    // Stop: readers first (their disconnects are expected), then producers drain their last acks.
    const loadEndedS = elapsedS();
    clearTimeout(startConsumers);
    consumers.abort();
    run.stopping = true;
    await Promise.all([...producers, ...consumerRuns]);
    let after: Row | null = null;
    if (!crashed) {
      // past fetch's keep-alive (4 s), so the players' idle sockets are closed too
      await sleep(6_000);
      const now = performance.now();
      after = await sample((now - lastAt) / 1000, elapsedS(), cpuMark);
      if (after !== null) {
        out(`${format(after)}   ← after every client left`);
      }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Summary and verdicts

    const underLoad = rows.filter((r) => r.tS > 0);
    const secondHalf = underLoad.filter((r) => r.tS >= loadEndedS / 2);
    const perMin = (pick: (r: Row) => number): number => slope(secondHalf.map((r) => [r.tS / 60, pick(r) / MB]));
    const heapSlope = perMin((r) => r.heapUsed);
    const rssSlope = perMin((r) => r.rss);
    const warm = underLoad.find((r) => r.tS >= WARM_UP_MS / 1000);
    const rssGrowthMb = warm !== undefined && underLoad.length > 0 ? (underLoad.at(-1)!.rss - warm.rss) / MB : NaN;
    const most = (pick: (r: Row) => number): number => Math.max(...underLoad.map(pick));
    // Bounds by design: segment files are the store's read handles plus one being written per stream; sockets are
    // the idle ones plus the clients' (a rotating producer's old and new connection overlap; fetch keeps a few);
    // nothing else should be opened per request.
    const segmentBound = MAX_OPEN_READ_HANDLES + OPTIONS.producers;
    const clientSockets = 2 * OPTIONS.producers + OPTIONS.getMedia + 2 * OPTIONS.hls;
    const m = OPTIONS.fdMargin;
    const lat = [...total.ackLatencies].sort((a, b) => a - b);
    const loopP99s = underLoad.map((r) => r.loopP99).filter(Number.isFinite).sort((a, b) => a - b);
    const loopMax = Math.max(...underLoad.map((r) => r.loopMax).filter(Number.isFinite));
    const mbOf = (r: Row | undefined, pick: (r: Row) => number): string => (r === undefined ? '-' : f1(pick(r) / MB));
    const lastLoaded = underLoad.at(-1);

    out('');
    out(`load: ${f0(loadEndedS)} s; machine load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    out(
      `producers: ${totals.fragmentsSent} fragments sent on ${totals.putMediaConnections} PutMedia connections, ${total.persisted} PERSISTED; ` +
        `ack latency (flush of a cluster's last byte → its PERSISTED) p50 ${f0(percentile(lat, 0.5))} ms, p90 ${f0(percentile(lat, 0.9))} ms, p99 ${f0(percentile(lat, 0.99))} ms, max ${f0(lat.at(-1) ?? NaN)} ms`,
    );
    out(
      `consumers: GetMedia ${total.gmFragments} fragments, ${f1(total.gmBytes / MB)} MB on ${totals.getMediaConnections} connections (MillisBehindNow p99 ${f0(percentile([...total.gmBehindMs].sort((a, b) => a - b), 0.99))} ms); ` +
        `HLS ${total.hlsSegments} segments, ${f1(total.hlsBytes / MB)} MB from ${totals.hlsPlaylists} playlist polls`,
    );
    out(
      `server: RSS ${mbOf(first, (r) => r.rss)} → ${mbOf(lastLoaded, (r) => r.rss)} MB (max ${f1(Math.max(...underLoad.map((r) => r.rss)) / MB)}), ` +
        `heap after GC ${mbOf(first, (r) => r.heapUsed)} → ${mbOf(lastLoaded, (r) => r.heapUsed)} MB, fds ${first.fds} → ${lastLoaded?.fds ?? '-'}${after !== null ? ` (${after.fds} after the clients left: ${after.sockets} sockets, ${after.segments} segment files)` : ''}; ` +
        `event-loop delay p99 per window: median ${f1(percentile(loopP99s, 0.5))} ms, worst ${f1(loopP99s.at(-1) ?? NaN)} ms, max ${f0(loopMax)} ms; logged ${server.warnLines} warn and ${server.errorLines} error lines`,
    );

    const checks: Check[] = [
      [`the server ran to the end`, !crashed],
      [`heap after GC, second half: ${f1(heapSlope)} MB/min ≤ ${OPTIONS.maxHeapMbPerMin}`, secondHalf.length >= 3 && heapSlope <= OPTIONS.maxHeapMbPerMin],
      rssCheck(secondHalf.length, rssSlope, rssGrowthMb),
      [`segment-file fds: max ${most((r) => r.segments)} ≤ ${segmentBound} (${MAX_OPEN_READ_HANDLES} read handles + one being written per stream)`, most((r) => r.segments) <= segmentBound],
      [`sockets under load: max ${most((r) => r.sockets)} ≤ ${first.sockets + clientSockets + m} (${first.sockets} idle + ${clientSockets} of clients + ${m})`, most((r) => r.sockets) <= first.sockets + clientSockets + m],
      [`sockets after every client left: ${after?.sockets ?? 'no sample'} ≤ ${first.sockets + m} (idle + ${m})`, after !== null && after.sockets <= first.sockets + m],
      [`other fds: max ${most((r) => r.other)} ≤ ${first.other + m} (idle + ${m})`, Math.max(most((r) => r.other), after?.other ?? 0) <= first.other + m],
      [`no producer or consumer errors: ${total.errors}`, total.errors === 0],
      [`every fragment sent was PERSISTED: ${total.persisted}/${totals.fragmentsSent}`, total.persisted === totals.fragmentsSent && totals.fragmentsSent > 0],
      [`readers got media: GetMedia ${total.gmFragments} fragments, HLS ${total.hlsSegments} segments`, (OPTIONS.getMedia === 0 || total.gmFragments > 0) && (OPTIONS.hls === 0 || total.hlsSegments > 0)],
      [`no error lines in the server log: ${server.errorLines}`, server.errorLines === 0],
    ];
    out('');
    for (const [what, ok] of checks) {
      out(`${ok === true ? 'ok  ' : ok === false ? 'FAIL' : '??  '} ${what}`);
    }
    if (errorKinds.size > 0) {
      out('\nerrors by kind:');
      for (const [kind, n] of [...errorKinds].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
        out(`  ${n} × ${kind}`);
      }
    }
    if (server.logHead.length > 0) {
      out(`\nserver log (the first and the latest lines):\n${[...server.logHead, ...(server.logTail.length > 0 ? ['…', ...server.logTail] : [])].join('\n')}`);
    }
    const failed = checks.filter(([, ok]) => ok === false).length;
    const open = checks.filter(([, ok]) => ok === 'inconclusive').length;
    out(failed > 0 ? `\nsoak FAILED (${failed} check${failed === 1 ? '' : 's'})` : open > 0 ? '\nsoak passed, with an inconclusive check (??): run longer' : '\nsoak passed');
    return failed === 0 ? 0 : 1;
  } finally {
    if (child !== null && child.proc.exitCode === null && child.proc.signalCode === null) {
      const exited = once(child.proc, 'exit');
      child.proc.send({ type: 'stop' } satisfies SoakParentMessage);
      const kill = setTimeout(() => child?.proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(kill);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
