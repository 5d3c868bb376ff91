// HLS benchmark (npm run bench:hls): segment and media-playlist requests/s and latency of an fMP4 ON_DEMAND session,
// against express.static serving the very same bytes as files in the same run; then media-playlist generation time
// for a stream of 1 000 against one of 100 000 fragments. Prints figures; asserts nothing. openkvs and the static
// server run as child processes so that their CPU is measured apart from this client's.
//
// `tsx bench/hls.ts --static DIR` is the static server itself: one file, so the baseline is visibly no more than
// express.static and cannot drift from what the bench starts.

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { MkvStreamParser, parseClusterBlocks } from '../src/formats/mkv/mkv-stream-parser.js';
import { writeCluster } from '../src/formats/mkv/mkv-writer.js';
import { signRequest } from '../test/helpers/signed-fetch.js';
import { makeFixture } from './fixture.js';
import { api, cpuMeter, createBenchStream, startServing, stopChild, type ServingChild } from './process.js';
import { f1, f2, out, pad, percentile, verdict } from './report.js';

const STATIC_FLAG = '--static';
const FIXTURE_SECONDS = 20;
const MIN_CLUSTERS = 16;
/** Concurrent keep-alive clients of the throughput runs (each waits for its response before the next request). */
const CLIENTS = 16;
const RUN_MS = 5_000;
/** RUN_MS is measured in this many slices per server, alternating between the two. */
const SLICES = 5;
/** Unreported load before each run, so that the JIT and the connection pool are warm for the measured one. */
const WARMUP_MS = 1_000;
/**
 * The packaged-segment cache and the fragment-byte cache hold 64 MB each, and every ingested fragment enters the
 * latter. This many more copies of the ~5 MB fixture uploaded after the cold stream push its bytes out, so its
 * first fetches read the segment file (from the page cache: the data was just written).
 */
const FILLER_COPIES = 16;
const STREAM_SIZES = [1_000, 100_000] as const;
/** The "recent part" of a big stream that a player scrubbing near the end asks for. */
const TAIL_FRAGMENTS = 1_000;
const PLAYLIST_GETS = 40;
const PLAYLIST_WARMUP_GETS = 5;
/** Producer spacing of the tiny fragments: 100 000 of them span 67 minutes, well inside ON_DEMAND's 24 h range cap. */
const TINY_FRAME_MS = 40;
/** Bytes per write of a bulk upload: the server parses a byte stream, so batching only saves chunk framing. */
const WRITE_BYTES = 64 * 1024;
const UPLOAD_TIMEOUT_MS = 180_000;
const REQUEST_TIMEOUT_MS = 30_000;
const TARGET_THROUGHPUT_RATIO = 0.5;
const TARGET_SIZE_RATIO = 2;

// ---------------------------------------------------------------------------------------------------------------
// Child processes

type Child = ServingChild;
const startChild = (args: string[]): Promise<Child> => startServing(args);

const startOpenkvs = (dataDir: string): Promise<Child> =>
  startChild(['src/main.ts', 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);

const startStatic = (dir: string): Promise<Child> => startChild(['bench/hls.ts', STATIC_FLAG, dir]);

/** The baseline server: nothing but express.static, with its defaults (stat per request, ETag, streamed reads). */
function serveStatic(dir: string): void {
  const app = express();
  app.use(express.static(dir));
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`static: serving http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

/** Server and client CPU over a stretch of wall time. */

// ---------------------------------------------------------------------------------------------------------------
// Control plane and ingest


const createStream = (openkvs: Child, name: string): Promise<unknown> => createBenchStream(openkvs, name);

type Upload = { persisted: number; errors: string[]; seconds: number; partStartedAtMs: number[] };

/**
 * One chunked PutMedia of `parts` back to back. `partStartedAtMs`: the wall clock (Date.now, the clock the server
 * stamps fragments with) just before each part's first byte was written, so every fragment of that part carries a
 * server timestamp at or after it.
 */
async function putMedia(openkvs: Child, streamName: string, parts: Buffer[], timecodes: 'ABSOLUTE' | 'RELATIVE'): Promise<Upload> {
  const url = new URL('/putMedia', openkvs.url);
  const { headers } = await signRequest(url.href, '', {
    applyChecksum: false,
    headers: {
      'content-type': 'video/x-matroska',
      'x-amzn-stream-name': streamName,
      'x-amzn-fragment-timecode-type': timecodes,
      'x-amzn-producer-start-timestamp': (Date.now() / 1000).toFixed(3),
      'x-amzn-fragment-acknowledgment-required': '1',
    },
  });
  headers['transfer-encoding'] = 'chunked';
  let persisted = 0;
  const errors: string[] = [];
  const partStartedAtMs: number[] = [];
  const t0 = performance.now();
  // A stuck upload would otherwise hang the bench (a destroyed request never emits 'drain').
  const signal = AbortSignal.timeout(UPLOAD_TIMEOUT_MS);
  await new Promise<void>((resolve) => {
    const req = request(url, { method: 'POST', headers, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        if (res.statusCode !== 200) {
          return;
        }
        const nl = text.lastIndexOf('\n');
        if (nl < 0) {
          return;
        }
        for (const line of text.slice(0, nl).split('\n')) {
          // 3 acks per fragment, 300 000 for the big stream: a substring test instead of parsing each keeps the
          // client off the CPU the server needs.
          if (line.includes('"PERSISTED"')) {
            persisted++;
          } else if (line.includes('"ERROR"') && errors.length < 5) {
            errors.push(`PutMedia ack ${line.trim()}`);
          }
        }
        text = text.slice(nl + 1);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) {
          errors.push(`PutMedia HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
        }
        resolve();
      });
      res.on('error', (e) => {
        errors.push(`PutMedia response: ${e.message}`);
        resolve();
      });
    });
    req.on('error', (e) => {
      errors.push(`PutMedia request: ${e.message}`);
      resolve();
    });
    void (async () => {
      try {
        for (const part of parts) {
          partStartedAtMs.push(Date.now());
          for (let at = 0; at < part.length; at += WRITE_BYTES) {
            if (!req.write(part.subarray(at, at + WRITE_BYTES))) {
              await once(req, 'drain', { signal });
            }
          }
        }
        req.end();
      } catch {
        // the request failed; its error handler reports it
      }
    })();
  });
  return { persisted, errors, seconds: (performance.now() - t0) / 1000, partStartedAtMs };
}

type SessionRequest = {
  mode: 'ON_DEMAND' | 'LIVE';
  kind?: 'SERVER_TIMESTAMP' | 'PRODUCER_TIMESTAMP';
  fromMs?: number;
  toMs?: number;
  maxResults?: number;
};

/** A fresh fMP4 session; returns its master playlist URL. */
async function hlsSession(openkvs: Child, streamName: string, s: SessionRequest): Promise<string> {
  const body: Record<string, unknown> = { StreamName: streamName, PlaybackMode: s.mode, ContainerFormat: 'FRAGMENTED_MP4', Expires: 3600 };
  if (s.mode !== 'LIVE') {
    body['HLSFragmentSelector'] = {
      FragmentSelectorType: s.kind ?? 'SERVER_TIMESTAMP',
      TimestampRange: { StartTimestamp: (s.fromMs ?? 0) / 1000, EndTimestamp: (s.toMs ?? 0) / 1000 },
    };
  }
  if (s.maxResults !== undefined) {
    body['MaxMediaPlaylistFragmentResults'] = s.maxResults;
  }
  return (await api<{ HLSStreamingSessionURL: string }>(openkvs, 'getHLSStreamingSessionURL', body)).HLSStreamingSessionURL;
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP client

type Target = { host: string; port: number; path: string };
const target = (url: string): Target => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port), path: u.pathname + u.search };
};

type Got = { status: number; bytes: number; body: Buffer | null };

/** One GET on a keep-alive agent; the body is kept only when asked, so load runs do not buffer what they count. */
function get(t: Target, agent: Agent, keepBody = false): Promise<Got> {
  return new Promise<Got>((resolve, reject) => {
    const req = request({ host: t.host, port: t.port, path: t.path, agent, timeout: REQUEST_TIMEOUT_MS }, (res: IncomingMessage) => {
      let bytes = 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keepBody) {
          chunks.push(c);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, body: keepBody ? Buffer.concat(chunks) : null }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${t.path.slice(0, 60)}: no response in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function getBody(url: string, agent: Agent): Promise<Buffer> {
  const r = await get(target(url), agent, true);
  if (r.status !== 200) {
    throw new Error(`GET ${url.slice(0, 120)}: HTTP ${r.status} ${r.body?.toString('utf8').slice(0, 200)}`);
  }
  return r.body!;
}

/** The URIs of a playlist (relative ones resolved against its URL), EXT-X-MAP included. */
function playlistUris(text: string, base: string): { map: string[]; uris: string[] } {
  const map: string[] = [];
  const uris: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^#EXT-X-MAP:URI="([^"]+)"/.exec(line);
    if (m?.[1] !== undefined) {
      map.push(new URL(m[1], base).href);
    } else if (line.length > 0 && !line.startsWith('#')) {
      uris.push(new URL(line, base).href);
    }
  }
  return { map, uris };
}


// ---------------------------------------------------------------------------------------------------------------
// Throughput: K clients, fixed duration

type LoadResult = { requests: number; bytes: number; p50: number; p99: number; wallS: number; serverS: number; clientS: number; errors: string[] };
type LoadSlice = Omit<LoadResult, 'p50' | 'p99'> & { latencies: number[] };

/** CLIENTS loops, each sending its next request when the previous response has ended, until `ms` have passed. */
async function loadSlice(server: Child, targets: Target[], agent: Agent, ms: number): Promise<LoadSlice> {
  const latencies: number[] = [];
  const errors: string[] = [];
  let bytes = 0;
  let next = 0;
  const meter = cpuMeter(server.proc.pid!);
  const deadline = performance.now() + ms;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline && errors.length <= 100) {
        const t = targets[next++ % targets.length]!;
        const t0 = performance.now();
        try {
          const r = await get(t, agent);
          if (r.status !== 200) {
            errors.push(`HTTP ${r.status}`);
            continue;
          }
          latencies.push(performance.now() - t0);
          bytes += r.bytes;
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
    }),
  );
  return { requests: latencies.length, bytes, latencies, ...meter(), errors };
}

/**
 * Baseline and openkvs under the same load, in alternating slices: whatever else runs on the machine then weighs
 * on both about equally, instead of on whichever happened to run while it was busy.
 */
async function loadPair(base: Child, baseUrls: string[], ours: Child, ourUrls: string[]): Promise<{ base: LoadResult; ours: LoadResult }> {
  const sides = [
    { server: base, targets: baseUrls.map(target), agent: new Agent({ keepAlive: true, maxSockets: CLIENTS }), slices: [] as LoadSlice[] },
    { server: ours, targets: ourUrls.map(target), agent: new Agent({ keepAlive: true, maxSockets: CLIENTS }), slices: [] as LoadSlice[] },
  ];
  for (const side of sides) {
    await loadSlice(side.server, side.targets, side.agent, WARMUP_MS);
  }
  for (let i = 0; i < SLICES; i++) {
    for (const side of sides) {
      side.slices.push(await loadSlice(side.server, side.targets, side.agent, RUN_MS / SLICES));
    }
  }
  const [b, o] = sides.map((side): LoadResult => {
    side.agent.destroy();
    const sum = (f: (x: LoadSlice) => number): number => side.slices.reduce((acc, x) => acc + f(x), 0);
    const latencies = side.slices.flatMap((x) => x.latencies).sort((x, y) => x - y);
    return {
      requests: sum((x) => x.requests),
      bytes: sum((x) => x.bytes),
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      wallS: sum((x) => x.wallS),
      serverS: sum((x) => x.serverS),
      clientS: sum((x) => x.clientS),
      errors: side.slices.flatMap((x) => x.errors),
    };
  });
  return { base: b!, ours: o! };
}

/** Each URL once, one at a time: what a single player waits per request. */
async function sequentialLatencies(urls: string[], agent: Agent): Promise<{ sorted: number[]; errors: string[] }> {
  const out: number[] = [];
  const errors: string[] = [];
  for (const url of urls) {
    const t0 = performance.now();
    const r = await get(target(url), agent);
    if (r.status === 200) {
      out.push(performance.now() - t0);
    } else {
      errors.push(`HTTP ${r.status}`);
    }
  }
  return { sorted: out.sort((a, b) => a - b), errors };
}

// ---------------------------------------------------------------------------------------------------------------
// Report helpers

/** A ratio, as 1.23×. */
const fx = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '-');

const rps = (r: LoadResult): number => r.requests / r.wallS;
const mbps = (r: LoadResult): number => r.bytes / 1e6 / r.wallS;

const LOAD_COLUMNS: [string, number][] = [['what', 9], ['server', 8], ['req/s', 8], ['MB/s', 8], ['p50 ms', 7], ['p99 ms', 7], ['srv cores', 10], ['CPU µs/req', 11], ['client', 7], ['errors', 7]];

function loadRow(what: string, server: string, r: LoadResult): string {
  return pad([
    [what, 9],
    [server, 8],
    [f1(rps(r)), 8],
    [f1(mbps(r)), 8],
    [f2(r.p50), 7],
    [f2(r.p99), 7],
    [f2(r.serverS / r.wallS), 10],
    [f1((r.serverS / r.requests) * 1e6), 11],
    [f2(r.clientS / r.wallS), 7],
    [String(r.errors.length), 7],
  ]) + (r.errors.length > 0 ? `\n  !!! ${[...new Set(r.errors)].slice(0, 3).join('; ')}` : '');
}

function ratioRow(what: string, ours: LoadResult, base: LoadResult): string {
  return pad([
    [what, 9],
    ['ratio', 8],
    [fx(rps(ours) / rps(base)), 8],
    [fx(mbps(ours) / mbps(base)), 8],
    [fx(ours.p50 / base.p50), 7],
    [fx(ours.p99 / base.p99), 7],
    ['', 10],
    [fx(ours.serverS / ours.requests / (base.serverS / base.requests)), 11],
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Part 1: throughput against express.static

/** Server-time ranges that hold each throughput stream's fragments (bounded by the upload's wall clock). */
const streamRanges = new Map<string, { fromMs: number; toMs: number }>();

type ThroughputResult = { segments: { ours: LoadResult; base: LoadResult }; playlist: { ours: LoadResult; base: LoadResult } };

async function throughputSection(openkvs: Child, dir: string): Promise<{ result: ThroughputResult; staticServer: Child }> {
  const video = makeFixture(FIXTURE_SECONDS, MIN_CLUSTERS);
  const sizes = video.clusters.map((c) => c.bytes.length);
  out(
    `fixture: ffmpeg testsrc2 1280x720 30 fps H.264 2 Mbps, ${video.clusters.length} clusters of 1 s (${f1(Math.min(...sizes) / 1e3)}–${f1(Math.max(...sizes) / 1e3)} KB), ${f2(video.file.length / 1e6)} MB`,
  );
  const fixtureBytes = Buffer.concat([video.prefix, ...video.clusters.map((c) => c.bytes)]);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  // The cold stream is uploaded before the filler, the measured one after: only the cold one's bytes leave the cache.
  const uploads: [string, Upload][] = [];
  for (const [name, copies] of [['hls-cold', 1], ['hls-filler', FILLER_COPIES], ['hls', 1]] as const) {
    await createStream(openkvs, name);
    const from = Date.now() - 1000;
    const up = await putMedia(openkvs, name, Array.from({ length: copies }, () => fixtureBytes), 'RELATIVE');
    uploads.push([name, up]);
    if (up.errors.length > 0 || up.persisted !== copies * video.clusters.length) {
      throw new Error(`upload ${name}: ${up.persisted} of ${copies * video.clusters.length} PERSISTED; ${up.errors.join('; ')}`);
    }
    streamRanges.set(name, { fromMs: from, toMs: Date.now() + 1000 });
  }
  out(`uploads: ${uploads.map(([n, u]) => `${n} ${u.persisted} fragments in ${f2(u.seconds)} s`).join(', ')}`);

  // Learn the session's URLs and keep its exact bytes as the static server's files.
  const range = streamRanges.get('hls')!;
  const master = await hlsSession(openkvs, 'hls', { mode: 'ON_DEMAND', ...range });
  const variant = playlistUris((await getBody(master, agent)).toString('utf8'), master).uris[0]!;
  const playlist = await getBody(variant, agent);
  const { map, uris } = playlistUris(playlist.toString('utf8'), variant);
  const staticDir = join(dir, 'static');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'media.m3u8'), playlist);
  writeFileSync(join(staticDir, 'init.mp4'), await getBody(map[0]!, agent));
  const segmentNames: string[] = [];
  let segmentBytes = 0;
  for (const [i, uri] of uris.entries()) {
    const bytes = await getBody(uri, agent);
    segmentBytes += bytes.length;
    segmentNames.push(`seg-${String(i).padStart(3, '0')}.mp4`);
    writeFileSync(join(staticDir, segmentNames.at(-1)!), bytes);
  }
  const staticServer = await startStatic(staticDir);
  const staticUrl = (name: string): string => `${staticServer.url}/${name}`;
  out(
    `session: ON_DEMAND fMP4, ${uris.length} media segments (${f1(segmentBytes / uris.length / 1e3)} KB on average), ${new Set(map).size} init segment, media playlist ${f1(playlist.length / 1e3)} KB;` +
      ' the static server serves these bytes from files',
  );

  // First fetch: a stream nobody fetched from yet, its fragment bytes pushed out of openkvs's caches by the filler.
  const coldRange = streamRanges.get('hls-cold')!;
  const coldMaster = await hlsSession(openkvs, 'hls-cold', { mode: 'ON_DEMAND', ...coldRange });
  const coldVariant = playlistUris((await getBody(coldMaster, agent)).toString('utf8'), coldMaster).uris[0]!;
  const cold = playlistUris((await getBody(coldVariant, agent)).toString('utf8'), coldVariant);
  const first = await sequentialLatencies(cold.uris, agent);
  const again = await sequentialLatencies(cold.uris, agent);
  const fromFiles = await sequentialLatencies(segmentNames.map(staticUrl), agent);
  agent.destroy();

  out('');
  out(`segment latency, one request at a time over ${cold.uris.length} segments (a single player):`);
  out(pad([['', 34], ['p50 ms', 7], ['max ms', 7]]));
  const latRow = (label: string, r: { sorted: number[]; errors: string[] }): string =>
    pad([[label, 34], [f2(percentile(r.sorted, 0.5)), 7], [f2(r.sorted.at(-1) ?? NaN), 7]]) + (r.errors.length > 0 ? `  !!! ${r.errors.slice(0, 3).join('; ')}` : '');
  out(latRow('openkvs first fetch (packaged now)', first));
  out(latRow('openkvs again (packaged, cached)', again));
  out(latRow('static (page cache)', fromFiles));

  out('');
  out(
    `throughput: ${CLIENTS} keep-alive clients, each waiting for its response before the next request; per server ${RUN_MS / 1000} s in ${SLICES} slices` +
      ` alternating with the other server's, after ${WARMUP_MS / 1000} s unreported`,
  );
  out('  segments: the session\'s media segments round-robin; playlist: its media playlist, again and again');
  out(pad(LOAD_COLUMNS));
  const segments = await loadPair(staticServer, segmentNames.map(staticUrl), openkvs, uris);
  out(loadRow('segments', 'static', segments.base));
  out(loadRow('segments', 'openkvs', segments.ours));
  out(ratioRow('segments', segments.ours, segments.base));
  const playlists = await loadPair(staticServer, [staticUrl('media.m3u8')], openkvs, [variant]);
  out(loadRow('playlist', 'static', playlists.base));
  out(loadRow('playlist', 'openkvs', playlists.ours));
  out(ratioRow('playlist', playlists.ours, playlists.base));
  return { result: { segments, playlist: playlists }, staticServer };
}

// ---------------------------------------------------------------------------------------------------------------
// Part 2: playlist generation against stream size

type Tiny = { header: Buffer; track: number; frame: Uint8Array };

/**
 * A 160x120 H.264 stream whose every frame is an IDR, so that one frame makes a complete fragment. The first frame
 * carries x264's settings SEI; a later one is the bare ~75-byte picture repeated to build the big stream.
 */
function makeTiny(): Tiny {
  const file = execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', `color=c=gray:size=160x120:rate=${1000 / TINY_FRAME_MS}:duration=0.2`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '1', '-bf', '0'],
    ...['-f', 'matroska', 'pipe:1'],
  ]);
  const parser = new MkvStreamParser();
  const fragment = [...parser.push(file), ...parser.end()].find((ev) => ev.kind === 'fragment');
  if (fragment?.kind !== 'fragment') {
    throw new Error('tiny fixture: no cluster');
  }
  const block = parseClusterBlocks(fragment.fragment.bytes).blocks.filter((b) => b.keyframe).at(-1);
  if (block?.frames[0] === undefined) {
    throw new Error('tiny fixture: no keyframe');
  }
  return { header: file.subarray(0, file.indexOf(fragment.fragment.bytes)), track: block.track, frame: block.frames[0] };
}

type SizedStream = { name: string; count: number; upload: Upload; firstMs: number; tailServerFromMs: number; serverToMs: number; liveUrl: string };

async function bigStream(openkvs: Child, tiny: Tiny, count: number, producerBaseMs: number): Promise<SizedStream> {
  const name = `tiny-${count}`;
  await createStream(openkvs, name);
  const cluster = (i: number): Uint8Array => {
    const tc = producerBaseMs + i * TINY_FRAME_MS;
    return writeCluster(tc, [{ track: tiny.track, timecode: tc, keyframe: true, data: tiny.frame }]);
  };
  const tailFrom = Math.max(0, count - TAIL_FRAGMENTS);
  const head = Buffer.concat([tiny.header, ...Array.from({ length: tailFrom }, (_, i) => cluster(i))]);
  const tail = Buffer.concat(Array.from({ length: count - tailFrom }, (_, i) => cluster(tailFrom + i)));
  const upload = await putMedia(openkvs, name, [head, tail], 'ABSOLUTE');
  if (upload.errors.length > 0 || upload.persisted !== count) {
    throw new Error(`upload ${name}: ${upload.persisted} of ${count} PERSISTED; ${upload.errors.join('; ')}`);
  }
  // LIVE needs a fragment from the last 30 s, so its session is taken at once; its GETs come later.
  const liveUrl = await hlsSession(openkvs, name, { mode: 'LIVE', maxResults: 5 });
  const serverToMs = Date.now() + 1000;
  // Server timestamps are the server's to give: ListFragments from just before the tail was sent finds them.
  const listed: { FragmentNumber: string; ServerTimestamp: number }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await api<{ Fragments: { FragmentNumber: string; ServerTimestamp: number }[]; NextToken?: string }>(
      openkvs,
      'listFragments',
      nextToken !== undefined
        ? { StreamName: name, NextToken: nextToken }
        : {
            StreamName: name,
            FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: upload.partStartedAtMs[1]! / 1000, EndTimestamp: serverToMs / 1000 } },
          },
    );
    listed.push(...page.Fragments);
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  const tailFirst = listed[Math.max(0, listed.length - TAIL_FRAGMENTS)];
  if (tailFirst === undefined) {
    throw new Error(`${name}: ListFragments found nothing after the tail's upload start`);
  }
  return { name, count, upload, firstMs: producerBaseMs, tailServerFromMs: Math.round(tailFirst.ServerTimestamp * 1000), serverToMs, liveUrl };
}

type PlaylistCase = { label: string; session: (s: SizedStream) => SessionRequest | 'live' };

const PLAYLIST_CASES: PlaylistCase[] = [
  { label: 'ON_DEMAND server, last 1000', session: (s) => ({ mode: 'ON_DEMAND', kind: 'SERVER_TIMESTAMP', fromMs: s.tailServerFromMs, toMs: s.serverToMs, maxResults: 1000 }) },
  { label: 'ON_DEMAND server, full, max 1000', session: (s) => ({ mode: 'ON_DEMAND', kind: 'SERVER_TIMESTAMP', fromMs: s.upload.partStartedAtMs[0]! - 1000, toMs: s.serverToMs, maxResults: 1000 }) },
  {
    label: 'ON_DEMAND producer, last 1000',
    session: (s) => {
      const from = s.firstMs + Math.max(0, s.count - TAIL_FRAGMENTS) * TINY_FRAME_MS;
      return { mode: 'ON_DEMAND', kind: 'PRODUCER_TIMESTAMP', fromMs: from, toMs: s.firstMs + s.count * TINY_FRAME_MS, maxResults: 1000 };
    },
  },
  { label: 'ON_DEMAND producer, full, max 1000', session: (s) => ({ mode: 'ON_DEMAND', kind: 'PRODUCER_TIMESTAMP', fromMs: s.firstMs, toMs: s.firstMs + s.count * TINY_FRAME_MS, maxResults: 1000 }) },
  { label: 'LIVE, max 5, same session', session: () => 'live' },
];

type PlaylistTiming = { sorted: number[]; sessionMs: number[]; entries: number; bytes: number; errors: string[] };
type Probe = { timing: PlaylistTiming; run(record: boolean): Promise<void> };

/** One case on one stream: each run() is one media-playlist GET (ON_DEMAND: of a fresh session, LIVE: a reload). */
function probe(openkvs: Child, s: SizedStream, c: PlaylistCase, agent: Agent): Probe {
  const timing: PlaylistTiming = { sorted: [], sessionMs: [], entries: 0, bytes: 0, errors: [] };
  const req = c.session(s);
  let liveVariant: string | undefined;
  return {
    timing,
    run: async (record) => {
      let url: string;
      if (req === 'live') {
        liveVariant ??= playlistUris((await getBody(s.liveUrl, agent)).toString('utf8'), s.liveUrl).uris[0]!;
        url = liveVariant;
      } else {
        const t0 = performance.now();
        const master = await hlsSession(openkvs, s.name, req);
        if (record) {
          timing.sessionMs.push(performance.now() - t0);
        }
        // Built rather than read from the master playlist, whose bandwidth estimate walks the same window: the timed
        // GET is then the session's first look at the index.
        url = new URL(`getHLSMediaPlaylist.m3u8?${new URL(master).search.slice(1)}&TrackNumber=1`, master).href;
      }
      const t0 = performance.now();
      const r = await get(target(url), agent, true);
      const ms = performance.now() - t0;
      if (r.status !== 200) {
        timing.errors.push(`HTTP ${r.status} ${r.body?.toString('utf8').slice(0, 200)}`);
        return;
      }
      if (record) {
        timing.sorted.push(ms);
        timing.entries = r.body!.toString('utf8').split('\n').filter((l) => l.startsWith('#EXTINF')).length;
        timing.bytes = r.bytes;
      }
    },
  };
}

type SizeRow = { label: string; small: PlaylistTiming; big: PlaylistTiming };

async function sizeSection(openkvs: Child): Promise<SizeRow[]> {
  const tiny = makeTiny();
  out('');
  out(
    `playlist generation vs stream size: tiny fragments (160x120 H.264, one ${tiny.frame.length}-byte IDR frame per cluster, ${TINY_FRAME_MS} ms apart, ABSOLUTE timecodes), one PutMedia per stream`,
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  // Producer time in the past and disjoint per stream, so a producer range names one stream's fragments only.
  let producerBaseMs = Date.now() - 2 * 3600_000;
  const streams: SizedStream[] = [];
  for (const count of STREAM_SIZES) {
    const s = await bigStream(openkvs, tiny, count, producerBaseMs);
    producerBaseMs += count * TINY_FRAME_MS;
    streams.push(s);
    out(`  ${s.name}: ${count} fragments uploaded in ${f2(s.upload.seconds)} s (${f1(count / s.upload.seconds)} fragments/s)`);
  }

  out(
    `per row: ${PLAYLIST_WARMUP_GETS} unreported then ${PLAYLIST_GETS} timed media-playlist GETs per stream, one at a time, alternating between the streams;` +
      ' ON_DEMAND: a fresh session per GET; LIVE: one session reloaded',
  );
  out(
    pad([['session', 35], ['entries', 8], ['KB', 7], ['1k p50', 7], ['1k p99', 7], ['100k p50', 9], ['100k p99', 9], ['p50 ×', 7], ['p99 ×', 7], ['Δp50 ms', 8], ['sess 1k', 8], ['sess 100k', 10], ['sess ×', 7]]),
  );
  const rows: SizeRow[] = [];
  for (const c of PLAYLIST_CASES) {
    const probes = streams.map((s) => probe(openkvs, s, c, agent));
    for (let i = 0; i < PLAYLIST_WARMUP_GETS + PLAYLIST_GETS; i++) {
      for (const p of probes) {
        await p.run(i >= PLAYLIST_WARMUP_GETS);
      }
    }
    const [small, big] = probes.map((p) => ({ ...p.timing, sorted: p.timing.sorted.sort((a, b) => a - b), sessionMs: p.timing.sessionMs.sort((a, b) => a - b) }));
    rows.push({ label: c.label, small: small!, big: big! });
    const p = (t: PlaylistTiming, q: number): number => percentile(t.sorted, q);
    const entries = small!.entries === big!.entries ? String(big!.entries) : `${small!.entries}/${big!.entries}`;
    const errors = [...small!.errors, ...big!.errors];
    out(
      pad([
        [c.label, 35],
        [entries, 8],
        [f1(big!.bytes / 1e3), 7],
        [f2(p(small!, 0.5)), 7],
        [f2(p(small!, 0.99)), 7],
        [f2(p(big!, 0.5)), 9],
        [f2(p(big!, 0.99)), 9],
        [fx(p(big!, 0.5) / p(small!, 0.5)), 7],
        [fx(p(big!, 0.99) / p(small!, 0.99)), 7],
        [f2(p(big!, 0.5) - p(small!, 0.5)), 8],
        [f2(percentile(small!.sessionMs, 0.5)), 8],
        [f2(percentile(big!.sessionMs, 0.5)), 10],
        [fx(percentile(big!.sessionMs, 0.5) / percentile(small!.sessionMs, 0.5)), 7],
      ]) + (errors.length > 0 ? `\n  !!! ${errors.slice(0, 3).join('; ')}` : ''),
    );
  }
  agent.destroy();
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const benchStart = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'openkvs-bench-hls-'));
  let openkvs: Child | undefined;
  let staticServer: Child | undefined;
  try {
    out(`openkvs HLS bench: ${availableParallelism()} CPUs, load average ${f2(loadavg()[0]!)}, node ${process.version}, data under ${dir}`);
    openkvs = await startOpenkvs(join(dir, 'openkvs'));
    const only = process.env['OPENKVS_BENCH_ONLY'];
    let tp: ThroughputResult | undefined;
    if (only !== 'playlist') {
      const r = await throughputSection(openkvs, dir);
      tp = r.result;
      staticServer = r.staticServer;
      await stopChild(staticServer);
    }
    const sizes = only === 'throughput' ? [] : await sizeSection(openkvs);

    out('');
    const lines = [
      'req/s, MB/s: responses (200, body read to the end) per wall second of the run; p50/p99: request start to last body byte;',
      '  srv cores: server CPU s / wall s (all threads, /proc); CPU µs/req: server CPU per response, the figure least moved by',
      '  other load on the machine;',
      "  client: this process's CPU / wall (it shares the machine with the server).",
      'targets (reported, not asserted):',
    ];
    if (tp !== undefined) {
      for (const [what, r] of [['segments', tp.segments], ['playlist', tp.playlist]] as const) {
        const ratio = rps(r.ours) / rps(r.base);
        lines.push(`  ${what} requests/s ≥ ${TARGET_THROUGHPUT_RATIO}× express.static: ${f2(ratio)}× (${verdict(ratio >= TARGET_THROUGHPUT_RATIO)})`);
      }
    }
    for (const r of sizes) {
      const ratio = percentile(r.big.sorted, 0.5) / percentile(r.small.sorted, 0.5);
      lines.push(`  ${r.label}: 100k-fragment playlist p50 ≤ ${TARGET_SIZE_RATIO}× the 1k one: ${f2(ratio)}× (${verdict(ratio <= TARGET_SIZE_RATIO)})`);
    }
    // Everything else on the machine competes with both servers and the client; a load near the CPU count or
    // above it means the figures say more about the neighbours than about openkvs.
    lines.push(`bench took ${f1((performance.now() - benchStart) / 1000)} s; 1-minute load average at the end ${f2(loadavg()[0]!)} on ${availableParallelism()} CPUs`);
    out(lines.join('\n'));
    const warnings = openkvs.stderr().trim();
    if (warnings.length > 0) {
      out(`openkvs stderr:\n${warnings.split('\n').slice(0, 20).join('\n')}`);
    }
  } finally {
    if (staticServer !== undefined) {
      await stopChild(staticServer);
    }
    if (openkvs !== undefined) {
      await stopChild(openkvs);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === STATIC_FLAG) {
  serveStatic(process.argv[3] ?? '.');
} else {
  await main();
}
