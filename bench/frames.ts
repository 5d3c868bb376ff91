// GetImages benchmark (npm run bench:frames): images/s of PRODUCER_TIMESTAMP GetImages over a stored 60 s stream,
// page after page, next to the same ffmpeg binary run by hand on the same Matroska bytes for each equivalent batch of
// 25 images, interleaved in the same run; full decode (interval below the GOP) against key frames only (interval ≥
// the GOP). Prints figures; asserts nothing. openkvs runs as a child process so that its CPU, and that of the ffmpeg
// processes it starts, is measured apart from this client's. The continuous-consumer part (10 live streams with image
// generation and hooks, against the same producers with it off) is bench/frames-consumers.ts, run after this one.

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MkvStreamParser } from '../src/formats/mkv/mkv-stream-parser.js';
import { findFfmpeg } from '../src/frames/ffmpeg-binary.js';
import { splitJpegs } from '../src/frames/frame-decoder.js';
import { signRequest } from '../test/helpers/signed-fetch.js';
import { consumerBench } from './frames-consumers.js';
import { createBenchStream, putMediaHeaders, startServing, stopChild, type ServingChild } from './process.js';
import { f0, f1, f2, out, pad, percentile, verdict } from './report.js';

const FIXTURE_SECONDS = 60;
const FPS = 30;
const GOP_FRAMES = 60;
const GOP_MS = (GOP_FRAMES * 1000) / FPS;
/** GetImages' page size (KVS: 25 images per response at most); the raw baseline decodes in batches of as many. */
const PAGE = 25;
const FULL_INTERVAL_MS = 200;
const KEY_INTERVAL_MS = GOP_MS;
/**
 * The range ends one full-decode interval before the fixture does: a sample time at 60 s exactly would fall after
 * the last fragment (NO_MEDIA), and a page without an image would skew images/s.
 */
const RANGE_MS = FIXTURE_SECONDS * 1000 - FULL_INTERVAL_MS;
const WIDTHS = [undefined, 320] as const;
/** A key-frame pass over the range is only 2 pages (25 + 5 images): it is run this many times, on fresh streams. */
const KEY_PASSES = 3;
const FLOOR_RUNS = 5;
/** The JPEG quality the server uses when FormatConfig gives none (80) is mjpeg qscale 8 (src/frames/frame-decoder.ts). */
const RAW_QSCALE = 8;
const WRITE_BYTES = 64 * 1024;
const UPLOAD_TIMEOUT_MS = 120_000;
const REQUEST_TIMEOUT_MS = 60_000;
const TARGET_RAW_RATIO = 0.8;
const TARGET_KEY_SPEEDUP = 3;

// ---------------------------------------------------------------------------------------------------------------
// Fixture

type Cluster = { bytes: Buffer; timecode: number };
type Fixture = { file: Buffer; prefix: Buffer; clusters: Cluster[]; seconds: number };

/**
 * bench/fixture.ts makes 1 s GOPs; this one needs 2 s GOPs (so that 200 ms sampling is below the GOP and 2000 ms is
 * not), one cluster each, so the same pipe-written file is made here with a longer GOP and cluster time limit.
 */
function makeGopFixture(ffmpegPath: string): Fixture {
  const t0 = performance.now();
  const file = execFileSync(
    ffmpegPath,
    [
      ...['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${FPS}:duration=${FIXTURE_SECONDS}`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p'],
      ...['-g', String(GOP_FRAMES), '-keyint_min', String(GOP_FRAMES), '-sc_threshold', '0', '-bf', '0', '-b:v', '2M', '-maxrate', '2M', '-bufsize', '2M'],
      ...['-cluster_time_limit', '2100', '-cluster_size_limit', '8000000', '-f', 'matroska', 'pipe:1'],
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const seconds = (performance.now() - t0) / 1000;
  const parser = new MkvStreamParser();
  const clusters: Cluster[] = [];
  let pos = 0;
  for (const ev of [...parser.push(file), ...parser.end()]) {
    if (ev.kind !== 'fragment') {
      continue;
    }
    const at = file.indexOf(ev.fragment.bytes, pos);
    if (at < 0) {
      throw new Error(`fixture: cluster ${ev.fragment.timecode} not found in the file`);
    }
    clusters.push({ bytes: file.subarray(at, at + ev.fragment.bytes.length), timecode: ev.fragment.timecode });
    pos = at + ev.fragment.bytes.length;
  }
  const first = clusters[0];
  if (first === undefined) {
    throw new Error('fixture: no clusters');
  }
  // The raw baseline picks clusters and frame numbers by arithmetic on these, so check they hold.
  clusters.forEach((c, i) => {
    if (c.timecode - first.timecode !== i * GOP_MS) {
      throw new Error(`fixture: cluster ${i} starts at ${c.timecode - first.timecode} ms, expected ${i * GOP_MS} (one cluster per ${GOP_MS} ms GOP)`);
    }
  });
  if (clusters.length !== (FIXTURE_SECONDS * 1000) / GOP_MS) {
    throw new Error(`fixture: ${clusters.length} clusters, expected ${(FIXTURE_SECONDS * 1000) / GOP_MS}`);
  }
  return { file, prefix: file.subarray(0, file.indexOf(first.bytes)), clusters, seconds };
}

// ---------------------------------------------------------------------------------------------------------------
// openkvs


/** The whole fixture in one chunked PutMedia, RELATIVE timecodes from producer time `p0Ms`; resolves with the PERSISTED count. */
async function putMedia(openkvs: ServingChild, streamName: string, file: Buffer, p0Ms: number): Promise<{ persisted: number; errors: string[] }> {
  const url = new URL('/putMedia', openkvs.url);
  const headers = await putMediaHeaders(url, streamName, p0Ms);
  let persisted = 0;
  const errors: string[] = [];
  // A stuck upload would otherwise hang the bench (a destroyed request never emits 'drain').
  const signal = AbortSignal.timeout(UPLOAD_TIMEOUT_MS);
  await new Promise<void>((resolve) => {
    const req = request(url, { method: 'POST', headers, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          errors.push(`PutMedia HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
        }
        for (const line of text.split('\n')) {
          if (line.includes('"PERSISTED"')) {
            persisted++;
          } else if (line.includes('"ERROR"') && errors.length < 5) {
            errors.push(`PutMedia ack ${line.trim()}`);
          }
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
        for (let at = 0; at < file.length; at += WRITE_BYTES) {
          if (!req.write(file.subarray(at, at + WRITE_BYTES))) {
            await once(req, 'drain', { signal });
          }
        }
        req.end();
      } catch {
        // the request failed; its error handler reports it
      }
    })();
  });
  return { persisted, errors };
}

type GetImagesResponse = { Images?: { TimeStamp: number; ImageContent?: string; Error?: string }[]; NextToken?: string };
type Page = { ms: number; images: Buffer[]; errors: string[]; nextToken: string | undefined };

/** One GetImages page, timed from the call to the parsed response (the images are base64-decoded after the clock stops). */
async function getImagesPage(openkvs: ServingChild, body: Record<string, unknown>, nextToken: string | undefined): Promise<Page> {
  const json = JSON.stringify(nextToken === undefined ? body : { ...body, NextToken: nextToken });
  const t0 = performance.now();
  const { headers } = await signRequest(`${openkvs.url}/getImages`, json);
  const res = await fetch(`${openkvs.url}/getImages`, { method: 'POST', headers, body: json, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) {
    return { ms, images: [], errors: [`GetImages HTTP ${res.status}: ${text.slice(0, 200)}`], nextToken: undefined };
  }
  const parsed = JSON.parse(text) as GetImagesResponse;
  const images: Buffer[] = [];
  const errors: string[] = [];
  for (const im of parsed.Images ?? []) {
    if (im.ImageContent !== undefined) {
      images.push(Buffer.from(im.ImageContent, 'base64'));
    } else {
      errors.push(`${im.TimeStamp}: ${im.Error ?? 'no image'}`);
    }
  }
  return { ms, images, errors, nextToken: parsed.NextToken };
}

// ---------------------------------------------------------------------------------------------------------------
// Raw ffmpeg: what decoding a batch costs with nothing around it

/** The decode one batch of sample times needs, worked out from the fixture's fixed layout. */
type Batch = {
  /** Offsets from the first frame, ms. */
  times: number[];
  /** Clusters to feed: from the one holding the key frame the first sample depends on, to the one holding the last. */
  from: number;
  to: number;
  keyframesOnly: boolean;
  /** Decoded frame numbers (presentation order, from the first fed frame) of the first and last image, and the step between images. */
  first: number;
  last: number;
  step: number;
};

function plan(intervalMs: number): Batch[] {
  const total = Math.floor(RANGE_MS / intervalMs) + 1;
  const times = Array.from({ length: total }, (_, i) => i * intervalMs);
  // The issue's rule: when the interval is at least the longest GOP, the key frame at or before each sample time
  // stands for it, so only key frames need decoding.
  const keyframesOnly = intervalMs >= GOP_MS;
  const batches: Batch[] = [];
  for (let i = 0; i < total; i += PAGE) {
    const part = times.slice(i, i + PAGE);
    const from = Math.floor(part[0]! / GOP_MS);
    const to = Math.floor(part.at(-1)! / GOP_MS);
    // The frame showing at t is the last one that started at or before it.
    const frameAt = (t: number): number => (keyframesOnly ? Math.floor(t / GOP_MS) - from : Math.floor(((t - from * GOP_MS) * FPS) / 1000 + 1e-9));
    const first = frameAt(part[0]!);
    const last = frameAt(part.at(-1)!);
    const step = part.length > 1 ? (last - first) / (part.length - 1) : 1;
    if (!Number.isInteger(step) || step < 1) {
      throw new Error(`interval ${intervalMs} ms is not a whole number of frames (or GOPs, key frames only)`);
    }
    batches.push({ times: part, from, to, keyframesOnly, first, last, step });
  }
  return batches;
}

/**
 * The same sample times decoded the plain way, every frame from each key frame on: what key-frame sampling saves is
 * measured against this, at the same interval (comparing two intervals would compare different amounts of work).
 */
function asFullDecode(b: Batch): Batch {
  return b.keyframesOnly ? { ...b, keyframesOnly: false, first: b.first * GOP_FRAMES, last: b.last * GOP_FRAMES, step: b.step * GOP_FRAMES } : b;
}

/** Raw ffmpeg over every batch of an interval's plan, as given or decoding every frame: images per second. */
async function rawRate(ffmpegPath: string, fx: Fixture, batches: Batch[], width: number | undefined): Promise<{ imagesPerS: number; images: number; errors: string[] }> {
  let ms = 0;
  let images = 0;
  const errors: string[] = [];
  for (const b of batches) {
    const r = await rawBatch(ffmpegPath, fx, b, width);
    ms += r.ms;
    images += r.images.length;
    if (r.error !== undefined) {
      errors.push(r.error);
    }
  }
  return { imagesPerS: images / (ms / 1000), images, errors };
}

const decodedFrames = (b: Batch): number => (b.to - b.from + 1) * (b.keyframesOnly ? 1 : GOP_FRAMES);

/**
 * One ffmpeg process per batch, fed on stdin the fixture's header and the clusters the batch needs: every fed frame
 * (or key frame) decoded, the batch's frames selected in the filter graph, scaled, JPEG. The input is assembled
 * before the clock starts: this is the decode alone, the least any server built on an ffmpeg per batch pays.
 */
function rawBatch(ffmpegPath: string, fx: Fixture, b: Batch, width: number | undefined): Promise<{ ms: number; images: Buffer[]; error?: string }> {
  const mkv = Buffer.concat([fx.prefix, ...fx.clusters.slice(b.from, b.to + 1).map((c) => c.bytes)]);
  const select = `select='between(n\\,${b.first}\\,${b.last})*not(mod(n-${b.first}\\,${b.step}))'`;
  const filters = width === undefined ? select : `${select},scale=${width}:-2`;
  const args = [
    ...['-hide_banner', '-nostats', '-v', 'error'],
    ...(b.keyframesOnly ? ['-skip_frame', 'nokey'] : []),
    ...['-f', 'matroska', '-i', 'pipe:0', '-an', '-vsync', 'passthrough', '-vf', filters],
    ...['-c:v', 'mjpeg', '-q:v', String(RAW_QSCALE), '-pix_fmt', 'yuvj420p', '-f', 'image2pipe', 'pipe:1'],
  ];
  const t0 = performance.now();
  const proc = spawn(ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  proc.stdout.on('data', (d: Buffer) => out.push(d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  // EPIPE if ffmpeg exits early; the exit code reports why.
  proc.stdin.on('error', () => undefined);
  proc.stdin.end(mkv);
  return new Promise((resolve) => {
    proc.once('close', (code) => {
      const ms = performance.now() - t0;
      const images = splitJpegs(Buffer.concat(out)).map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));
      resolve(code === 0 ? { ms, images } : { ms, images, error: `ffmpeg exited ${code}: ${err.slice(0, 300)}` });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// CPU

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/**
 * CPU seconds of a process itself and of its exited, waited-for children (the ffmpeg processes). Linux only.
 * bench/process.ts cpuSeconds gives the first; the second is what tells openkvs's decode from the raw one.
 */
function procCpu(pid: number | 'self'): { own: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  return { own: (f[11]! + f[12]!) / CLOCK_TICKS, children: (f[13]! + f[14]!) / CLOCK_TICKS };
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

type Side = {
  pageMs: number[];
  pageImages: number[];
  images: Buffer[];
  errors: string[];
  /** ffmpeg CPU s (children of the server, or of this process). */
  ffmpegS: number;
  /** The server's own CPU s (Node: HTTP, index, parsing, base64); NaN for raw. */
  nodeS: number;
};

type RunResult = { label: string; intervalMs: number; width: number | undefined; batches: Batch[]; ours: Side; raw: Side };

const emptySide = (): Side => ({ pageMs: [], pageImages: [], images: [], errors: [], ffmpegS: 0, nodeS: 0 });

/** What every run shares: the server, the binary both sides run, the fixture and its producer start time. */
type Bench = { openkvs: ServingChild; ffmpegPath: string; fx: Fixture; p0Ms: number };

function requestBody(b: Bench, stream: string, intervalMs: number, width: number | undefined): Record<string, unknown> {
  const start = b.p0Ms + b.fx.clusters[0]!.timecode;
  return {
    StreamName: stream,
    ImageSelectorType: 'PRODUCER_TIMESTAMP',
    StartTimestamp: start / 1000,
    EndTimestamp: (start + RANGE_MS) / 1000,
    SamplingInterval: intervalMs,
    Format: 'JPEG',
    MaxResults: PAGE,
    ...(width !== undefined ? { WidthPixels: width } : {}),
  };
}

/**
 * Every page of one request over the whole range, once per stream, each page followed by the raw batch for the same
 * sample times, so that anything else on the machine weighs on both alike.
 */
async function run(b: Bench, streams: string[], intervalMs: number, width: number | undefined): Promise<RunResult> {
  const ours = emptySide();
  const raw = emptySide();
  const batches: Batch[] = [];
  for (const stream of streams) {
    batches.push(...(await pass(b, requestBody(b, stream, intervalMs, width), plan(intervalMs), width, ours, raw)));
  }
  raw.nodeS = NaN;
  const size = width === undefined ? 'full size' : `${width} px wide`;
  return { label: `${intervalMs} ms, ${size}`, intervalMs, width, batches, ours, raw };
}

async function pass(b: Bench, body: Record<string, unknown>, batches: Batch[], width: number | undefined, ours: Side, raw: Side): Promise<Batch[]> {
  const pid = b.openkvs.proc.pid!;
  let token: string | undefined;
  for (const [i, batch] of batches.entries()) {
    const s0 = procCpu(pid);
    const page = await getImagesPage(b.openkvs, body, token);
    const s1 = procCpu(pid);
    ours.pageMs.push(page.ms);
    ours.pageImages.push(page.images.length);
    ours.images.push(...page.images);
    ours.errors.push(...page.errors);
    ours.ffmpegS += s1.children - s0.children;
    ours.nodeS += s1.own - s0.own;
    token = page.nextToken;
    if ((token === undefined) !== (i === batches.length - 1)) {
      ours.errors.push(`page ${i + 1} of ${batches.length}: ${token === undefined ? 'no NextToken' : 'NextToken after the last page'}`);
    }

    const c0 = procCpu('self');
    const r = await rawBatch(b.ffmpegPath, b.fx, batch, width);
    raw.ffmpegS += procCpu('self').children - c0.children;
    raw.pageMs.push(r.ms);
    raw.pageImages.push(r.images.length);
    raw.images.push(...r.images);
    if (r.error !== undefined) {
      raw.errors.push(r.error);
    } else if (r.images.length !== batch.times.length) {
      raw.errors.push(`batch ${i + 1}: ${r.images.length} images for ${batch.times.length} sample times`);
    }
    if (token === undefined && i < batches.length - 1) {
      break;
    }
  }
  return batches;
}

/**
 * The first page of a finished run asked for again: every image now comes from the server's image cache, so what is
 * left is the page's cost without ffmpeg (HTTP, signature, index, sample parsing, base64, JSON, this client).
 */
async function cachedPage(b: Bench, stream: string, intervalMs: number, width: number | undefined): Promise<{ ms: number[]; nodeS: number; problems: string[] }> {
  const body = requestBody(b, stream, intervalMs, width);
  const pid = b.openkvs.proc.pid!;
  const ms: number[] = [];
  const problems: string[] = [];
  const c0 = procCpu(pid);
  for (let i = 0; i < FLOOR_RUNS; i++) {
    const page = await getImagesPage(b.openkvs, body, undefined);
    ms.push(page.ms);
    problems.push(...page.errors);
  }
  const c1 = procCpu(pid);
  if (c1.children > c0.children) {
    problems.push('ffmpeg ran: not every image came from the cache');
  }
  return { ms, nodeS: (c1.own - c0.own) / FLOOR_RUNS, problems };
}

/**
 * What any batch costs before its first decode: one ffmpeg process fed the header and one cluster, key frame only,
 * one full-size JPEG. Every GetImages page pays it once, whatever the interval.
 */
async function startupFloor(ffmpegPath: string, fx: Fixture): Promise<number[]> {
  const [one] = plan(KEY_INTERVAL_MS);
  const b: Batch = { ...one!, times: [0], to: one!.from, last: one!.first };
  const ms: number[] = [];
  for (let i = 0; i < FLOOR_RUNS; i++) {
    ms.push((await rawBatch(ffmpegPath, fx, b, undefined)).ms);
  }
  return ms;
}

// ---------------------------------------------------------------------------------------------------------------
// Report

/** Targets are judged on the ratio as printed (2 decimals), so that no line reads "0.80× (NOT met)" against 0.8. */
const shown = (x: number): number => Math.round(x * 100) / 100;

/** percentile() of values in any order. */
const quantile = (values: number[], q: number): number => percentile([...values].sort((a, b) => a - b), q);

const wallS = (s: Side): number => s.pageMs.reduce((a, b) => a + b, 0) / 1000;
const imagesPerS = (s: Side): number => s.images.length / wallS(s);
/** images/s over the pages that hold a whole page of images: a longer range is mostly such pages. */
function fullPageRate(s: Side): number {
  const full = s.pageMs.filter((_, i) => s.pageImages[i] === PAGE);
  return (full.length * PAGE) / (full.reduce((a, b) => a + b, 0) / 1000);
}

/** Width × height from a baseline JPEG's SOF0 segment, to show both sides made images of the same size. */
function jpegSize(jpeg: Buffer | undefined): string {
  if (jpeg === undefined) {
    return '-';
  }
  for (let i = 2; i + 8 < jpeg.length; ) {
    if (jpeg[i] !== 0xff) {
      return '?';
    }
    const marker = jpeg[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      return `${jpeg.readUInt16BE(i + 7)}x${jpeg.readUInt16BE(i + 5)}`;
    }
    i += 2 + jpeg.readUInt16BE(i + 2);
  }
  return '?';
}

const HEADER: [string, number][] = [
  ['sampling', 20],
  ['side', 8],
  ['pages', 6],
  ['images', 7],
  ['size', 9],
  ['dec/img', 8],
  ['wall s', 7],
  ['images/s', 9],
  ['page p50 ms', 12],
  ['page max ms', 12],
  ['ffmpeg ms/img', 14],
  ['node ms/img', 12],
  ['KB/img', 7],
];

function sideRow(label: string, side: 'openkvs' | 'raw', r: RunResult, s: Side): string {
  const decoded = r.batches.reduce((a, b) => a + decodedFrames(b), 0);
  const bytes = s.images.reduce((a, im) => a + im.length, 0);
  const row = pad([
    [label, 20],
    [side, 8],
    [String(s.pageMs.length), 6],
    [`${s.images.length}`, 7],
    [jpegSize(s.images[0]), 9],
    [f1(decoded / r.batches.reduce((a, b) => a + b.times.length, 0)), 8],
    [f2(wallS(s)), 7],
    [f1(imagesPerS(s)), 9],
    [f0(quantile(s.pageMs, 0.5)), 12],
    [f0(Math.max(...s.pageMs)), 12],
    [f1((s.ffmpegS * 1000) / s.images.length), 14],
    [f1((s.nodeS * 1000) / s.images.length), 12],
    [f1(bytes / 1e3 / s.images.length), 7],
  ]);
  return s.errors.length === 0 ? row : `${row}\n  !!! ${side}: ${s.errors.length} error(s): ${s.errors.slice(0, 3).join('; ')}`;
}

function ratioRow(r: RunResult): string {
  const same = r.ours.images.filter((im, i) => r.raw.images[i]?.equals(im) === true).length;
  const ratio = imagesPerS(r.ours) / imagesPerS(r.raw);
  const cpu = r.ours.ffmpegS / r.ours.images.length / (r.raw.ffmpegS / r.raw.images.length);
  return (
    pad([
      ['', 20],
      ['ratio', 8],
      ['', 6],
      ['', 7],
      ['', 9],
      ['', 8],
      [f2(wallS(r.ours) / wallS(r.raw)) + '×', 7],
      [f2(ratio) + '×', 9],
      [f2(quantile(r.ours.pageMs, 0.5) / quantile(r.raw.pageMs, 0.5)) + '×', 12],
      ['', 12],
      [f2(cpu) + '×', 14],
      ['', 12],
      ['', 7],
    ]) + `   byte-identical images: ${same}/${r.raw.images.length}`
  );
}

/** The GetImages part: its own server and data under `dir`, stopped before returning. */
async function getImagesBench(ffmpeg: { path: string }, dir: string, nodeArgs: string[]): Promise<void> {
  let openkvs: ServingChild | undefined;
  try {
    const fx = makeGopFixture(ffmpeg.path);
    const sizes = fx.clusters.map((c) => c.bytes.length);
    out(
      `fixture: ffmpeg testsrc2 1280x720 ${FPS} fps H.264 baseline 2 Mbps, key frame every ${GOP_FRAMES} frames (${GOP_MS} ms), ` +
        `${fx.clusters.length} clusters of one GOP (${f1(Math.min(...sizes) / 1e3)}–${f1(Math.max(...sizes) / 1e3)} KB), ${f2(fx.file.length / 1e6)} MB, made in ${f1(fx.seconds)} s`,
    );
    // The server must decode with the very binary the baseline runs.
    openkvs = await startServing(['src/main.ts', 'serve', '--port', '0', '--data-dir', join(dir, 'openkvs'), '--log-level', 'warn'], {
      nodeArgs,
      env: { FFMPEG_PATH: ffmpeg.path },
    });

    // A whole second, so that sample times are round numbers in the output and in NextTokens.
    const p0Ms = Math.floor(Date.now() / 1000) * 1000;
    const upload = async (stream: string): Promise<void> => {
      await createBenchStream(openkvs!, stream);
      const up = await putMedia(openkvs!, stream, fx.file, p0Ms);
      if (up.errors.length > 0 || up.persisted !== fx.clusters.length) {
        throw new Error(`upload ${stream}: ${up.persisted}/${fx.clusters.length} PERSISTED; ${up.errors.join('; ')}`);
      }
    };
    out(`uploads: the fixture in one PutMedia per stream, RELATIVE timecodes from producer time P0 = ${new Date(p0Ms).toISOString()}`);
    out(
      `GetImages PRODUCER_TIMESTAMP from P0 to P0 + ${f1(RANGE_MS / 1000)} s, JPEG (default quality 80 = qscale ${RAW_QSCALE}), pages of ${PAGE}, one at a time, ` +
        'each followed by raw ffmpeg on the same clusters for the same sample times',
    );

    // Unreported: fluent-ffmpeg probes the binary's formats and encoders on first use, and the JIT warms up.
    const bench: Bench = { openkvs, ffmpegPath: ffmpeg.path, fx, p0Ms };
    await upload('frames-warmup');
    await run(bench, ['frames-warmup'], KEY_INTERVAL_MS, 320);
    const floor = await startupFloor(ffmpeg.path, fx);
    let cached: Awaited<ReturnType<typeof cachedPage>> | undefined;

    out('');
    out(pad(HEADER));
    const results: RunResult[] = [];
    for (const width of WIDTHS) {
      for (const intervalMs of [FULL_INTERVAL_MS, KEY_INTERVAL_MS]) {
        const passes = intervalMs >= GOP_MS ? KEY_PASSES : 1;
        // Fresh streams for every pass: GetImages keeps recent images in a cache keyed by stream and frame, and the
        // 2000 ms samples are frames the 200 ms run has already made, so a reused stream would skip the decode.
        const streams = Array.from({ length: passes }, (_, i) => `frames-${intervalMs}-${width ?? 'full'}-${i}`);
        // Uploaded just before the run, so their fragments are in the server's byte cache as the fixture is in ours.
        for (const stream of streams) {
          await upload(stream);
        }
        const r = await run(bench, streams, intervalMs, width);
        const decode = intervalMs >= GOP_MS ? 'key frames' : 'full decode';
        out(sideRow(`${intervalMs} ms ${decode}`, 'openkvs', r, r.ours));
        out(sideRow('', 'raw', r, r.raw));
        out(ratioRow(r));
        results.push(r);
        if (cached === undefined) {
          cached = await cachedPage(bench, streams[0]!, intervalMs, width);
        }
      }
    }

    out('');
    const lines = [
      'images/s: images received per wall second of the pages (openkvs: request start to parsed response; raw: ffmpeg start to exit);',
      '  dec/img: frames each side decodes per image (whole clusters, from the key frame the first sample needs);',
      "  ffmpeg ms/img: CPU of the ffmpeg processes (openkvs's children / this process's) per image; node ms/img: the server's own CPU per image.",
      `fixed costs per page: one raw ffmpeg process fed one cluster, making one JPEG, p50 ${f0(quantile(floor, 0.5))} ms (${FLOOR_RUNS} runs), paid by`,
      '  both sides on every page whatever the interval; the first page of the first run asked for again (every image from the',
      `  server's image cache, no ffmpeg): p50 ${f0(quantile(cached?.ms ?? [], 0.5))} ms, server CPU ${f0((cached?.nodeS ?? NaN) * 1000)} ms per page` +
        (cached !== undefined && cached.problems.length > 0 ? `\n  !!! ${cached.problems.slice(0, 3).join('; ')}` : ''),
      'targets (reported, not asserted):',
      `  GetImages ≥ ${TARGET_RAW_RATIO}× raw ffmpeg decoding the same bytes, images/s:`,
    ];
    for (const r of results) {
      const ratio = imagesPerS(r.ours) / imagesPerS(r.raw);
      lines.push(`    ${r.label}: ${f2(ratio)}× (${verdict(shown(ratio) >= TARGET_RAW_RATIO)})`);
    }
    lines.push(`  (for reference, not the target) key-frame sampling at ${KEY_INTERVAL_MS} ms against full decode at ${FULL_INTERVAL_MS} ms, images/s — different work per image:`);
    for (const width of WIDTHS) {
      const full = results.find((r) => r.width === width && r.intervalMs === FULL_INTERVAL_MS);
      const key = results.find((r) => r.width === width && r.intervalMs === KEY_INTERVAL_MS);
      if (full !== undefined && key !== undefined) {
        const speedup = imagesPerS(key.ours) / imagesPerS(full.ours);
        lines.push(
          `    ${width === undefined ? 'full size' : `${width} px wide`}: openkvs ${f2(speedup)}×; ` +
            `raw ffmpeg in the same run ${f2(imagesPerS(key.raw) / imagesPerS(full.raw))}×; ` +
            `pages of ${PAGE} only: openkvs ${f2(fullPageRate(key.ours) / fullPageRate(full.ours))}×, raw ${f2(fullPageRate(key.raw) / fullPageRate(full.raw))}×`,
        );
      }
    }
    lines.push(`  key-frame sampling ≥ ${TARGET_KEY_SPEEDUP}× full decode of the same samples (${KEY_INTERVAL_MS} ms = the GOP; raw ffmpeg decoding every frame, same clusters, same images):`);
    for (const width of WIDTHS) {
      const key = results.find((r) => r.width === width && r.intervalMs === KEY_INTERVAL_MS);
      if (key === undefined) {
        continue;
      }
      const batches = plan(KEY_INTERVAL_MS);
      const full = await rawRate(ffmpeg.path, fx, batches.map(asFullDecode), width);
      const rawKey = await rawRate(ffmpeg.path, fx, batches, width);
      const speedup = imagesPerS(key.ours) / full.imagesPerS;
      lines.push(
        `    ${width === undefined ? 'full size' : `${width} px wide`}: openkvs ${f1(imagesPerS(key.ours))} images/s against full decode ${f1(full.imagesPerS)} = ` +
          `${f2(speedup)}× (${verdict(shown(speedup) >= TARGET_KEY_SPEEDUP)}); raw key frames ${f1(rawKey.imagesPerS)} images/s = ${f2(rawKey.imagesPerS / full.imagesPerS)}× full decode` +
          (full.errors.length + rawKey.errors.length > 0 ? `\n    !!! ${[...full.errors, ...rawKey.errors].slice(0, 2).join('; ')}` : ''),
      );
    }
    lines.push('  continuous consumer across 10 live streams (frames delivered/s, lag, ingest with consumers on/off): see below (bench/frames-consumers.ts)');
    out(lines.join('\n'));
    const warnings = openkvs.stderr().trim();
    if (warnings.length > 0) {
      out(`openkvs stderr:\n${warnings.split('\n').slice(0, 20).join('\n')}`);
    }
  } finally {
    if (openkvs !== undefined) {
      await stopChild(openkvs);
    }
  }
}

async function main(): Promise<void> {
  const benchStart = performance.now();
  // OPENKVS_BENCH_ONLY=getimages or =consumers runs one part.
  const only = process.env['OPENKVS_BENCH_ONLY'];
  if (only !== undefined && only !== 'getimages' && only !== 'consumers') {
    throw new Error(`OPENKVS_BENCH_ONLY must be getimages or consumers, not ${only}`);
  }
  const ffmpeg = findFfmpeg(process.env);
  if (ffmpeg === null) {
    throw new Error('no ffmpeg found: set FFMPEG_PATH or put ffmpeg on the PATH');
  }
  const version = execFileSync(ffmpeg.path, ['-version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  // OPENKVS_BENCH_NODE_ARGS lets a profiling run add e.g. --cpu-prof --cpu-prof-dir=/tmp/prof to the server only.
  const nodeArgs = (process.env['OPENKVS_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a.length > 0);
  const dir = mkdtempSync(join(tmpdir(), 'openkvs-bench-frames-'));
  try {
    out(`openkvs frames bench: ${availableParallelism()} CPUs, load average ${f2(loadavg()[0]!)}, node ${process.version}, data under ${dir}`);
    out(`ffmpeg: ${ffmpeg.path} (from ${ffmpeg.source}; also the server's, via FFMPEG_PATH): ${version}`);
    if (only !== 'consumers') {
      await getImagesBench(ffmpeg, join(dir, 'getimages'), nodeArgs);
      rmSync(join(dir, 'getimages'), { recursive: true, force: true });
    }
    if (only !== 'getimages') {
      await consumerBench({ ffmpegPath: ffmpeg.path, dir: join(dir, 'consumers'), nodeArgs });
    }
    out(`bench took ${f1((performance.now() - benchStart) / 1000)} s; 1-minute load average at the end ${f2(loadavg()[0]!)} on ${availableParallelism()} CPUs`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
