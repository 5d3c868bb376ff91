// Continuous frame consumers, the second part of npm run bench:frames: 10 live streams, each fed by a real-time
// producer (one 1 s fragment per second), on a fresh openkvs child process, in three phases on fresh streams each:
// image generation off (baseline), image generation ENABLED to a file:// destination with a MODULE hook computing mean
// luma on every stream, plus a hook that always throws on one stream and one that never returns on another
// (consumers), then off again (baseline 2). Prints images delivered against the sampling grid, lag, drops, server CPU
// per image, and the producers' PERSISTED-ack latency with consumers against without, to show whether the consumers
// slow ingest. Asserts nothing.

import { execFileSync } from 'node:child_process';
import { once, setMaxListeners } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeFixture, type Fixture } from './fixture.js';
import { api, cpuMeter, createBenchStream, putMediaHeaders, startServing, stopChild, type ServingChild } from './process.js';
import { f0, f1, f2, out, pad, percentile } from './report.js';

const STREAMS = 10;
/** Media seconds each producer sends per phase (one fragment per second); OPENKVS_BENCH_CONSUMER_SECONDS overrides. */
const DEFAULT_MEDIA_SECONDS = 30;
const FPS = 30;
/** The producers' picture size; OPENKVS_BENCH_CONSUMER_SIZE overrides (e.g. 640x360: a quarter of the decoding). */
const DEFAULT_SIZE = '1280x720';
/** SamplingInterval per stream, alternating: 5 streams at 5 images/s, 5 at 1 image/s. */
const INTERVALS_MS = [200, 1000] as const;
const WIDTH = 640;
/** The stream (index) that also gets a hook that always throws: a 200 ms one, so it is called 5 times a second. */
const THROWING_STREAM = 0;
/** The stream that also gets a hook that never returns (a busy loop): a 1000 ms one, see HANG_TIMEOUT_MS. */
const HANGING_STREAM = 1;
/**
 * The hanging hook's TimeoutMs. A busy-looping hook holds a CPU core until its worker is terminated, so its timeout
 * decides what it costs: 200 ms once a second is ~0.2 core of the 2, enough to exercise terminate-and-restart on
 * every frame without turning the run into a test of a saturated machine.
 */
const HANG_TIMEOUT_MS = 200;
/** How often describeFrameConsumer is polled for LagMs, on every stream, in both phases alike. */
const POLL_MS = 500;
/** After the producers end: how long the consumers get to deliver the last images (the decoder flushes after 1.5 s idle). */
const DRAIN_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 10_000;
const UPLOAD_SLACK_MS = 60_000;

const HOOKS: Record<string, string> = {
  'luma.mjs': `// bench: mean luma of the grayscale thumbnail, as a timeline event per image
export default function onFrame(frame) {
  const { data } = frame.luma;
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  return { label: 'luma', confidence: sum / data.length / 255 };
}
`,
  'throws.mjs': `export default function onFrame() { throw new Error('bench: this hook always throws'); }\n`,
  'hangs.mjs': `export default function onFrame() { for (;;) {} }\n`,
};

/** The consumer phase runs between two baseline phases, so that drift in the machine's load shows in the baseline itself. */
type Phase = 'baseline' | 'consumers' | 'baseline 2';

// ---------------------------------------------------------------------------------------------------------------
// Server CPU: the Node process and the ffmpeg decoders it runs. The decoders live as long as the stream is fed, so
// their CPU is read from their own /proc entries while they run; the ones that exited count through cutime/cstime.

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** /proc/<pid>/stat fields after the command name (index 0 = state, 1 = ppid, 11/12 = utime/stime, 13/14 = cutime/cstime). */
function statFields(pid: number | string): number[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map((x) => Number(x));
  } catch {
    return null; // exited meanwhile
  }
}

function readFileOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The live child processes of `pid` with their stat fields. */
function children(pid: number): Map<number, number[]> {
  const found = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry)) {
      const f = statFields(entry);
      if (f !== null && f[1] === pid) {
        found.set(Number(entry), f);
      }
    }
  }
  return found;
}

function serverTreeCpu(pid: number): { node: number; ffmpeg: number } {
  const own = statFields(pid);
  if (own === null) {
    return { node: NaN, ffmpeg: NaN };
  }
  let ticks = own[13]! + own[14]!;
  for (const f of children(pid).values()) {
    ticks += f[11]! + f[12]! + f[13]! + f[14]!;
  }
  return { node: (own[11]! + own[12]!) / CLOCK_TICKS, ffmpeg: ticks / CLOCK_TICKS };
}

// ---------------------------------------------------------------------------------------------------------------
// Producer: one chunked PutMedia, each cluster written when its timecode is due; PERSISTED acks timed on arrival.

type Produced = {
  /** PERSISTED ack arrival (performance.now()) per fragment number. */
  ackedAt: Map<string, number>;
  firstAckAt: number;
  lastAckAt: number;
  /** Per fragment, in order: from the write holding its last byte being flushed to its PERSISTED ack. */
  latenciesMs: number[];
  persisted: number;
  expected: number;
  errors: string[];
};

async function produce(server: ServingChild, stream: string, fx: Fixture, clusters: number, startAt: number, signal: AbortSignal): Promise<Produced> {
  const url = new URL('/putMedia', server.url);
  const headers = await putMediaHeaders(url, stream, performance.timeOrigin + startAt);
  const sent = fx.clusters.slice(0, clusters);
  const t0 = sent[0]!.timecode;
  const writtenAt = new Array<number>(sent.length).fill(NaN);
  const acked = new Array<number>(sent.length).fill(NaN);
  const ackedAt = new Map<string, number>();
  const errors: string[] = [];
  let next = 0;

  await new Promise<void>((resolve) => {
    const req = request(url, { method: 'POST', headers, signal }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          errors.push(`PutMedia HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
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
          if (line.length === 0) {
            continue;
          }
          const ack = JSON.parse(line) as { EventType: string; FragmentNumber?: string; FragmentTimecode?: number; ErrorId?: number };
          if (ack.EventType === 'PERSISTED' && ack.FragmentNumber !== undefined) {
            // acks come in order: the n-th PERSISTED is the n-th cluster sent
            acked[next++] = now;
            ackedAt.set(ack.FragmentNumber, now);
          } else if (ack.EventType === 'ERROR' && errors.length < 5) {
            errors.push(`PutMedia ERROR ${ack.ErrorId} (timecode ${ack.FragmentTimecode ?? '-'})`);
          }
        }
      });
      res.on('end', () => resolve());
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
        if (startAt > performance.now()) {
          await new Promise((r) => setTimeout(r, startAt - performance.now()));
        }
        if (!req.write(fx.prefix)) {
          await once(req, 'drain', { signal });
        }
        for (const [i, c] of sent.entries()) {
          const due = startAt + (c.timecode - t0);
          if (due > performance.now()) {
            await new Promise((r) => setTimeout(r, due - performance.now()));
          }
          // Flushed to the socket: from here on, the time to PERSISTED is the server's (and the wire's).
          if (!req.write(c.bytes, () => (writtenAt[i] = performance.now()))) {
            await once(req, 'drain', { signal });
          }
        }
        req.end();
      } catch {
        // the request failed or was aborted; its error handler reports it
      }
    })();
  });

  const latenciesMs = sent.flatMap((_, i) => (Number.isFinite(acked[i]!) && Number.isFinite(writtenAt[i]!) ? [acked[i]! - writtenAt[i]!] : []));
  const persisted = acked.filter((a) => Number.isFinite(a)).length;
  if (persisted < sent.length && errors.length === 0) {
    errors.push(`${sent.length - persisted} of ${sent.length} fragments never PERSISTED`);
  }
  const times = acked.filter((a) => Number.isFinite(a));
  return { ackedAt, firstAckAt: Math.min(...times), lastAckAt: Math.max(...times), latenciesMs, persisted, expected: sent.length, errors };
}

// ---------------------------------------------------------------------------------------------------------------
// Watching the consumers: describeFrameConsumer polls, and the destination files as they appear.

type HookStatus = { Name: string; Calls: number; Errors: number; Timeouts: number; Events: number; Dropped: number; LastError: string | null };
type Described = {
  Status: string;
  LastError?: string;
  Hooks: HookStatus[];
  Destination?: { Delivered: number; Errors: number; Dropped: number; LastError: string | null };
  FramesDecoded: number;
  FramesDelivered: number;
  FramesDropped: number;
  DecoderRestarts: number;
  QueueLength: number;
  LagMs: number | null;
};
/** `ms`: the call's round trip, a proxy for how long the server's event loop makes a request wait. */
type Poll = { at: number; ms: number; d: Described };

const describe = (server: ServingChild, stream: string): Promise<Described> => api<Described>(server, 'openkvs/describeFrameConsumer', { StreamName: stream });

/**
 * Polls every stream every POLL_MS until stopped and keeps every answer; also notes the server's child processes,
 * every POLL_MS (its long-lived ffmpeg decoders; short-lived ones, such as fluent-ffmpeg's capability probes, may be
 * missed).
 */
function startPolling(
  server: ServingChild,
  streams: string[],
): { polls: Poll[][]; childPids: Set<number>; otherPids: Set<number>; latest: () => (Described | undefined)[]; stop: () => Promise<void> } {
  const polls: Poll[][] = streams.map(() => []);
  const childPids = new Set<number>();
  const otherPids = new Set<number>();
  let stopped = false;
  // on a timer of its own: a loaded server can take seconds to answer a poll
  const scan = setInterval(() => {
    for (const child of children(server.proc.pid!).keys()) {
      if (!childPids.has(child)) {
        childPids.add(child);
        // decoders run a filter graph; anything else is a short ffmpeg run (fluent-ffmpeg's capability probes)
        if (!readFileOr(`/proc/${child}/cmdline`).includes('-filter_complex')) {
          otherPids.add(child);
        }
      }
    }
  }, POLL_MS);
  const loop = (async () => {
    while (!stopped) {
      const t = performance.now();
      await Promise.all(
        streams.map(async (s, i) => {
          const t0 = performance.now();
          const d = await describe(server, s).catch(() => undefined);
          if (d !== undefined) {
            polls[i]!.push({ at: t, ms: performance.now() - t0, d });
          }
        }),
      );
      const wait = POLL_MS - (performance.now() - t);
      if (wait > 0 && !stopped) {
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  })();
  return {
    polls,
    childPids,
    otherPids,
    latest: () => polls.map((p) => p.at(-1)?.d),
    stop: async () => {
      stopped = true;
      clearInterval(scan);
      await loop;
    },
  };
}

type Seen = { at: number; wallMs: number };

/**
 * The time each image file appears (renamed into place), per stream. The directories a SERVER_TIMESTAMP file can
 * land in (`<stream>/YYYY/MM/DD/HH`, UTC) are made beforehand for every hour the phase can span, so that each is
 * watched (inotify) before its first file.
 */
function watchImages(outDir: string, streams: string[], spanMs: number): { seen: Map<string, Seen>[]; close: () => void; dirs: string[][] } {
  const seen = streams.map(() => new Map<string, Seen>());
  const watchers: FSWatcher[] = [];
  const dirs: string[][] = streams.map(() => []);
  const two = (n: number): string => String(n).padStart(2, '0');
  const hours = new Set<string>();
  const hourOf = (t: number): string => {
    const d = new Date(t);
    return `${d.getUTCFullYear()}/${two(d.getUTCMonth() + 1)}/${two(d.getUTCDate())}/${two(d.getUTCHours())}`;
  };
  const from = Date.now();
  for (let t = from; t < from + spanMs; t += 600_000) {
    hours.add(hourOf(t));
  }
  hours.add(hourOf(from + spanMs));
  streams.forEach((stream, i) => {
    for (const h of hours) {
      const dir = join(outDir, stream, h);
      mkdirSync(dir, { recursive: true });
      dirs[i]!.push(dir);
      watchers.push(
        watch(dir, (_event, name) => {
          if (typeof name === 'string' && name.endsWith('.jpg') && !seen[i]!.has(name)) {
            const at = performance.now();
            seen[i]!.set(name, { at, wallMs: performance.timeOrigin + at });
          }
        }),
      );
    }
  });
  return { seen, dirs, close: () => watchers.forEach((w) => w.close()) };
}

// ---------------------------------------------------------------------------------------------------------------
// A phase

type StreamResult = {
  name: string;
  intervalMs: number;
  expected: number;
  produced: Produced;
  /** Image files in the destination at the end (images written after `last` was read may be among them). */
  files: string[];
  seen: Map<string, Seen>;
  lagMs: number[];
  /** describeFrameConsumer round trips while the producer was live. */
  pollMs: number[];
  last: Described | undefined;
};

type PhaseResult = {
  phase: Phase;
  streams: StreamResult[];
  wallS: number;
  /** From the last producer's end until every consumer had settled every expected image (or the drain timed out). */
  drainS: number;
  drained: boolean;
  /** Server child processes seen during the phase: ffmpeg decoders, and other (short) ffmpeg runs. */
  decoders: number;
  otherProcesses: number;
  nodeS: number;
  ffmpegS: number;
  clientS: number;
  load: number;
};

type Ctx = { server: ServingChild; fx: Fixture; seconds: number; outDir: string };

const intervalOf = (i: number): number => INTERVALS_MS[i % INTERVALS_MS.length]!;

/** Sampling-grid slots the stream's frames fall in: the images a consumer that sees every frame must deliver. */
function expectedImages(seconds: number, intervalMs: number): number {
  const slots = new Set<number>();
  for (let k = 0; k < seconds * FPS; k++) {
    slots.add(Math.floor(Math.round((k * 1000) / FPS) / intervalMs));
  }
  return slots.size;
}

function hooksOf(i: number): Record<string, unknown>[] {
  const hooks: Record<string, unknown>[] = [{ Name: 'luma', Type: 'MODULE', Module: 'luma.mjs' }];
  if (i === THROWING_STREAM) {
    hooks.push({ Name: 'throws', Type: 'MODULE', Module: 'throws.mjs' });
  }
  if (i === HANGING_STREAM) {
    hooks.push({ Name: 'hangs', Type: 'MODULE', Module: 'hangs.mjs', TimeoutMs: HANG_TIMEOUT_MS });
  }
  return hooks;
}

/** All of a stream's expected images settled by every sink (delivered, failed or dropped), queues empty. */
function settled(d: Described | undefined, expected: number): boolean {
  return d !== undefined && d.FramesDelivered + d.FramesDropped >= expected && d.QueueLength === 0;
}

function imageGeneration(ctx: Ctx, i: number, status: 'ENABLED' | 'DISABLED'): Record<string, unknown> {
  return {
    Status: status,
    ImageSelectorType: 'SERVER_TIMESTAMP',
    DestinationConfig: { Uri: `file://localhost${ctx.outDir}`, DestinationRegion: 'us-east-1' },
    SamplingInterval: intervalOf(i),
    Format: 'JPEG',
    WidthPixels: WIDTH,
  };
}

async function runPhase(ctx: Ctx, phase: Phase): Promise<PhaseResult> {
  const { server, fx, seconds } = ctx;
  const prefix = { baseline: 'base', consumers: 'cons', 'baseline 2': 'base2' }[phase];
  const names = Array.from({ length: STREAMS }, (_, i) => `${prefix}-${i}`);
  for (const name of names) {
    await createBenchStream(server, name);
  }
  let watcher: ReturnType<typeof watchImages> | undefined;
  if (phase === 'consumers') {
    watcher = watchImages(ctx.outDir, names, (seconds + 120) * 1000);
    for (const [i, name] of names.entries()) {
      await api(server, 'openkvs/updateFrameHooks', { StreamName: name, Hooks: hooksOf(i) });
      await api(server, 'updateImageGenerationConfiguration', { StreamName: name, ImageGenerationConfiguration: imageGeneration(ctx, i, 'ENABLED') });
    }
    // Consumers start asynchronously; the producers must not begin before every one of them is waiting.
    const deadline = performance.now() + START_TIMEOUT_MS;
    for (const name of names) {
      while ((await describe(server, name)).Status !== 'RUNNING') {
        if (performance.now() > deadline) {
          throw new Error(`consumer of ${name} not RUNNING after ${START_TIMEOUT_MS} ms: ${JSON.stringify(await describe(server, name))}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  const pid = server.proc.pid!;
  const cpu0 = serverTreeCpu(pid);
  const meter = cpuMeter(pid);
  const poller = startPolling(server, names);
  const abort = AbortSignal.timeout(seconds * 1000 + UPLOAD_SLACK_MS);
  setMaxListeners(0, abort);
  // Signing and connecting happen before the first write; streams start spread over one fragment period.
  const start = performance.now() + 300;
  const produced = await Promise.all(names.map((name, i) => produce(server, name, fx, seconds, start + (i * 1000) / STREAMS, abort)));
  const producersEnd = performance.now();
  const expected = names.map((_, i) => (phase === 'consumers' ? expectedImages(seconds, intervalOf(i)) : 0));
  let drained = true;
  if (phase === 'consumers') {
    drained = false;
    while (performance.now() - producersEnd < DRAIN_TIMEOUT_MS) {
      const latest = poller.latest();
      if (names.every((_, i) => settled(latest[i], expected[i]!))) {
        drained = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const drainS = (performance.now() - producersEnd) / 1000;
  await poller.stop();
  const m = meter();
  const cpu1 = serverTreeCpu(pid);
  watcher?.close();
  // The consumers' final counters, read next to the file count (a loaded server can answer a poll seconds late).
  const final = await Promise.all(names.map((name) => describe(server, name).catch(() => undefined)));
  const files = names.map((_, i) => (watcher?.dirs[i] ?? []).flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.jpg'))));
  if (phase === 'consumers') {
    // the next baseline runs, like the first, on a server with no consumer
    for (const [i, name] of names.entries()) {
      await api(server, 'updateImageGenerationConfiguration', { StreamName: name, ImageGenerationConfiguration: imageGeneration(ctx, i, 'DISABLED') });
    }
  }

  const streams = names.map((name, i): StreamResult => {
    const p = produced[i]!;
    const polls = poller.polls[i]!;
    // LagMs while the producer is live: after its last fragment the figure only says where the consumer stopped.
    const live = polls.filter((x) => x.at >= p.firstAckAt && x.at <= p.lastAckAt);
    const lagMs = live.filter((x) => x.d.LagMs !== null).map((x) => x.d.LagMs!);
    return {
      name,
      intervalMs: intervalOf(i),
      expected: expected[i]!,
      produced: p,
      files: files[i]!,
      seen: watcher?.seen[i] ?? new Map(),
      lagMs,
      pollMs: live.map((x) => x.ms),
      last: final[i] ?? polls.at(-1)?.d,
    };
  });
  return {
    phase,
    streams,
    wallS: m.wallS,
    drainS,
    drained,
    decoders: poller.childPids.size - poller.otherPids.size,
    otherProcesses: poller.otherPids.size,
    nodeS: cpu1.node - cpu0.node,
    ffmpegS: cpu1.ffmpeg - cpu0.ffmpeg,
    clientS: m.clientS,
    load: loadavg()[0]!,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Report

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const q = (xs: number[], p: number): number => percentile(sorted(xs), p);

/** Per image seen appearing: ms from its fragment's PERSISTED ack, and from its own server timestamp (in the file name). */
function imageLatencies(s: StreamResult): { fromAck: number[]; fromServerTs: number[]; first: number } {
  const fromAck: number[] = [];
  const fromServerTs: number[] = [];
  let first = { serverTs: Infinity, ms: NaN };
  for (const [name, seen] of s.seen) {
    const m = /^(\d+)-(\d+)\.jpg$/.exec(name);
    if (m === null) {
      continue;
    }
    const serverTs = Number(m[1]);
    fromServerTs.push(seen.wallMs - serverTs);
    const ack = s.produced.ackedAt.get(m[2]!);
    if (ack !== undefined) {
      fromAck.push(seen.at - ack);
      if (serverTs < first.serverTs) {
        first = { serverTs, ms: seen.at - ack };
      }
    }
  }
  return { fromAck, fromServerTs, first: first.ms };
}

/** Images that appeared while the producer was live, per second of that span. */
function liveRate(s: StreamResult): number {
  const spanS = (s.produced.lastAckAt - s.produced.firstAckAt) / 1000;
  let n = 0;
  for (const seen of s.seen.values()) {
    if (seen.at >= s.produced.firstAckAt && seen.at <= s.produced.lastAckAt) {
      n++;
    }
  }
  return n / spanS;
}

function hookText(d: Described | undefined): string {
  if (d === undefined) {
    return '';
  }
  return d.Hooks.map((h) => `${h.Name} ${h.Calls}c/${h.Events}ev/${h.Errors}err/${h.Timeouts}to/${h.Dropped}dr`).join(', ');
}

const STREAM_HEADER: [string, number][] = [
  ['stream', 7],
  ['every', 7],
  ['expected', 9],
  ['images', 7],
  ['ratio', 6],
  ['img/s', 6],
  ['exp/s', 6],
  ['dropped', 8],
  ['LagMs p50', 10],
  ['p99', 6],
  ['ack→img p50', 12],
  ['p99', 6],
  ['first', 6],
  ['srvTs→img p50', 14],
  ['p99', 6],
];

function streamRow(label: string, intervalLabel: string, rs: StreamResult[]): string {
  const expected = rs.reduce((a, s) => a + s.expected, 0);
  const images = rs.reduce((a, s) => a + s.files.length, 0);
  const lat = rs.map(imageLatencies);
  const dropped = rs.reduce((a, s) => a + (s.last?.FramesDropped ?? NaN), 0);
  const firsts = lat.map((l) => l.first);
  return pad([
    [label, 7],
    [intervalLabel, 7],
    [String(expected), 9],
    [String(images), 7],
    [f2(images / expected), 6],
    [f1(rs.reduce((a, s) => a + liveRate(s), 0)), 6],
    [f1(rs.reduce((a, s) => a + 1000 / s.intervalMs, 0)), 6],
    [String(dropped), 8],
    [f0(q(rs.flatMap((s) => s.lagMs), 0.5)), 10],
    [f0(q(rs.flatMap((s) => s.lagMs), 0.99)), 6],
    [f0(q(lat.flatMap((l) => l.fromAck), 0.5)), 12],
    [f0(q(lat.flatMap((l) => l.fromAck), 0.99)), 6],
    [f0(rs.length === 1 ? firsts[0]! : Math.max(...firsts)), 6],
    [f0(q(lat.flatMap((l) => l.fromServerTs), 0.5)), 14],
    [f0(q(lat.flatMap((l) => l.fromServerTs), 0.99)), 6],
  ]);
}

const INGEST_HEADER: [string, number][] = [
  ['phase', 10],
  ['frags', 9],
  ['p50 ms', 7],
  ['p99 ms', 7],
  ['p99 2nd+', 9],
  ['max ms', 7],
  ['poll p50', 9],
  ['p99', 6],
  ['node s', 7],
  ['ffmpeg s', 9],
  ['srv cores', 10],
  ['client', 7],
  ['wall s', 7],
  ['load', 6],
];

type IngestFigures = { p50: number; p99: number; p99Later: number; max: number; pollP50: number; pollP99: number };

/** Over one phase, or pooled over several (the two baselines). */
function ingestFigures(...phases: PhaseResult[]): IngestFigures {
  const streams = phases.flatMap((r) => r.streams);
  const all = streams.flatMap((s) => s.produced.latenciesMs);
  const later = streams.flatMap((s) => s.produced.latenciesMs.slice(1));
  const polls = streams.flatMap((s) => s.pollMs);
  return { p50: q(all, 0.5), p99: q(all, 0.99), p99Later: q(later, 0.99), max: Math.max(...all), pollP50: q(polls, 0.5), pollP99: q(polls, 0.99) };
}

function ingestRow(r: PhaseResult): string {
  const g = ingestFigures(r);
  const persisted = r.streams.reduce((a, s) => a + s.produced.persisted, 0);
  const expected = r.streams.reduce((a, s) => a + s.produced.expected, 0);
  const errors = [...new Set(r.streams.flatMap((s) => s.produced.errors))];
  const row = pad([
    [r.phase, 10],
    [`${persisted}/${expected}`, 9],
    [f1(g.p50), 7],
    [f1(g.p99), 7],
    [f1(g.p99Later), 9],
    [f1(g.max), 7],
    [f1(g.pollP50), 9],
    [f1(g.pollP99), 6],
    [f2(r.nodeS), 7],
    [f2(r.ffmpegS), 9],
    [f2((r.nodeS + r.ffmpegS) / r.wallS), 10],
    [f2(r.clientS / r.wallS), 7],
    [f1(r.wallS), 7],
    [f2(r.load), 6],
  ]);
  return errors.length === 0 ? row : `${row}\n  !!! ${errors.slice(0, 3).join('; ')}`;
}

/** The consumer phase against both baselines: latencies pooled, CPU averaged. */
/** PERSISTED p99 over all producers per window of WINDOW fragments (≈ seconds): start-up against the steady state. */
const WINDOW = 5;
function ingestTimeline(r: PhaseResult): string {
  const n = Math.max(...r.streams.map((s) => s.produced.latenciesMs.length));
  const cells: string[] = [];
  for (let k = 0; k < n; k += WINDOW) {
    cells.push(f0(q(r.streams.flatMap((s) => s.produced.latenciesMs.slice(k, k + WINDOW)), 0.99)));
  }
  return `${r.phase.padStart(10)}: ${cells.join(' ')}`;
}

function ingestRatioRow(ours: PhaseResult, bases: PhaseResult[]): string {
  const a = ingestFigures(ours);
  const b = ingestFigures(...bases);
  const base = { nodeS: mean(bases.map((r) => r.nodeS)), ffmpegS: mean(bases.map((r) => r.ffmpegS)) };
  const x = (n: number, d: number): string => `${f2(n / d)}×`;
  return pad([
    ['ratio', 10],
    ['', 9],
    [x(a.p50, b.p50), 7],
    [x(a.p99, b.p99), 7],
    [x(a.p99Later, b.p99Later), 9],
    [x(a.max, b.max), 7],
    [x(a.pollP50, b.pollP50), 9],
    [x(a.pollP99, b.pollP99), 6],
    [x(ours.nodeS, base.nodeS), 7],
    ['', 9],
    [x(ours.nodeS + ours.ffmpegS, base.nodeS + base.ffmpegS), 10],
    ['', 7],
    ['', 7],
    ['', 6],
  ]);
}

function mediaSeconds(): number {
  const raw = process.env['OPENKVS_BENCH_CONSUMER_SECONDS'];
  const s = raw === undefined ? DEFAULT_MEDIA_SECONDS : Number(raw);
  if (!Number.isInteger(s) || s < 5 || s > 600) {
    throw new Error(`OPENKVS_BENCH_CONSUMER_SECONDS must be a whole number of seconds from 5 to 600, not ${raw}`);
  }
  return s;
}

/**
 * The continuous-consumer part of bench:frames, on its own openkvs child process (data, hooks and images under
 * `dir`), decoding with `ffmpegPath`. Prints its section of the report.
 */
export async function consumerBench(opts: { ffmpegPath: string; dir: string; nodeArgs: string[] }): Promise<void> {
  const seconds = mediaSeconds();
  const dataDir = join(opts.dir, 'data');
  const outDir = join(opts.dir, 'images');
  mkdirSync(join(dataDir, 'hooks'), { recursive: true });
  for (const [file, source] of Object.entries(HOOKS)) {
    writeFileSync(join(dataDir, 'hooks', file), source);
  }
  const t0 = performance.now();
  const size = process.env['OPENKVS_BENCH_CONSUMER_SIZE'] ?? DEFAULT_SIZE;
  if (!/^\d{2,4}x\d{2,4}$/.test(size)) {
    throw new Error(`OPENKVS_BENCH_CONSUMER_SIZE must be WIDTHxHEIGHT, not ${size}`);
  }
  const fx = makeFixture(seconds, seconds, { ffmpegPath: opts.ffmpegPath, size });
  const sizes = fx.clusters.map((c) => c.bytes.length);
  out('');
  out(`continuous frame consumers: ${STREAMS} live streams, each a real-time PutMedia of ${seconds} s (one fragment per second), in three phases`);
  out(
    `fixture: bench/fixture.ts, ffmpeg testsrc2 ${size} ${FPS} fps H.264 2 Mbps max, ${fx.clusters.length} clusters of 1 s ` +
      `(${f1(Math.min(...sizes) / 1e3)}–${f1(Math.max(...sizes) / 1e3)} KB), made in ${f1((performance.now() - t0) / 1000)} s`,
  );
  out(
    `baseline, then consumers, then baseline 2, each on fresh streams. baseline: image generation off. consumers: image generation ENABLED, SamplingInterval ${INTERVALS_MS.join('/')} ms alternating, ` +
      `JPEG WidthPixels ${WIDTH}, SERVER_TIMESTAMP file://localhost destination;`,
  );
  out(
    `  a MODULE hook (mean luma -> one event per image) on every stream, plus one that always throws on cons-${THROWING_STREAM} ` +
      `and one that never returns (busy loop, TimeoutMs ${HANG_TIMEOUT_MS}) on cons-${HANGING_STREAM}`,
  );
  const server = await startServing(['src/main.ts', 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
    nodeArgs: opts.nodeArgs,
    env: { FFMPEG_PATH: opts.ffmpegPath },
  });
  try {
    const ctx: Ctx = { server, fx, seconds, outDir };
    const base = await runPhase(ctx, 'baseline');
    const cons = await runPhase(ctx, 'consumers');
    const base2 = await runPhase(ctx, 'baseline 2');
    const bases = [base, base2];

    out('');
    out(pad(STREAM_HEADER) + '   hooks: calls/events/errors/timeouts/dropped');
    for (const s of cons.streams) {
      const errors = [s.last?.LastError, s.last?.Destination?.LastError].filter((e) => e !== undefined && e !== null);
      const unseen = s.files.length - s.seen.size;
      out(
        `${streamRow(s.name, `${s.intervalMs} ms`, [s])}   ${hookText(s.last)}` +
          (s.last?.DecoderRestarts ? `; ${s.last.DecoderRestarts} decoder restarts` : '') +
          (unseen !== 0 ? `; ${unseen} files not seen appearing` : '') +
          (errors.length > 0 ? `\n  !!! ${errors.join('; ').slice(0, 300)}` : ''),
      );
    }
    for (const interval of INTERVALS_MS) {
      out(streamRow('all', `${interval} ms`, cons.streams.filter((s) => s.intervalMs === interval)));
    }
    out(streamRow('all', 'both', cons.streams));
    if (!cons.drained) {
      out(`  !!! not every consumer settled its expected images within ${DRAIN_TIMEOUT_MS / 1000} s of the producers' end`);
    }

    out('');
    out(pad(INGEST_HEADER));
    out(ingestRow(base));
    out(ingestRow(cons));
    out(ingestRow(base2));
    out(ingestRatioRow(cons, bases));
    out(`PERSISTED p99 ms per ${WINDOW} s of media (fragments ${WINDOW} at a time, all producers):`);
    for (const r of [base, cons, base2]) {
      out(ingestTimeline(r));
    }

    const images = cons.streams.reduce((a, s) => a + s.files.length, 0);
    const expected = cons.streams.reduce((a, s) => a + s.expected, 0);
    const delivered = cons.streams.reduce((a, s) => a + (s.last?.Destination?.Delivered ?? 0), 0);
    const dropped = cons.streams.reduce((a, s) => a + (s.last?.FramesDropped ?? 0), 0);
    const extraS = cons.nodeS + cons.ffmpegS - mean(bases.map((r) => r.nodeS + r.ffmpegS));
    const a = ingestFigures(cons);
    const b = ingestFigures(...bases);
    out('');
    out(
      [
        'every: SamplingInterval; expected: images on the sampling grid of the media sent; images: files in the destination at the end;',
        '  ratio: images / expected; img/s, exp/s: images that appeared while the producer was live, per second of it, against 1000 / interval;',
        '  dropped: FramesDropped (an image some sink dropped from its 32-image queue);',
        "  LagMs: describeFrameConsumer's, polled every 500 ms while the producer was live: newest fragment's end minus the checkpoint frame's",
        '    server timestamp. A producer here sends each 1 s cluster at once, so that end is up to 1 s in the future and LagMs cannot fall',
        '    below (fragment duration − offset of the last sampled frame in it): ~800 ms at 200 ms, ~1000 ms at 1000 ms, with no delay at all;',
        "  ack→img: from the PERSISTED ack of the image's fragment (this process) to its file appearing in the destination (inotify);",
        "    first: the same for the stream's first image (ffmpeg and hook-worker start-up); srvTs→img: file appearing minus the frame's",
        '    server timestamp (from the file name; same machine clock), which includes the frame\'s offset in its fragment, so it can be negative;',
        "  hooks: from the consumer's status at the end.",
        "ingest: p50/p99 PERSISTED latency of the 10 producers (write of a cluster's last byte to its ack); p99 2nd+ without each upload's",
        "  first fragment; poll: describeFrameConsumer round trip while the producers were live (how long the server's event loop makes a",
        '  small request wait); node s / ffmpeg s: server CPU (its own threads, hook workers included / its ffmpeg children, live and exited)',
        '  over the phase and the drain; srv cores: both per wall second; client: this process per wall second; load: 1-minute load average',
        '  at the end of the phase; ratio: consumers against both baselines (latencies pooled, CPU averaged).',
        `summary (reported, not asserted), ${availableParallelism()} CPUs:`,
        `  images delivered: ${images} of ${expected} expected (${f2(images / expected)}×; destination Delivered ${delivered}), ` +
          `${f1(images / seconds)}/s against ${f1(expected / seconds)}/s expected; FramesDropped ${dropped}; ` +
          `drain after the producers' end ${f1(cons.drainS)} s${cons.drained ? '' : ' (timed out)'}`,
        `  lag: LagMs p50 ${f0(q(cons.streams.flatMap((s) => s.lagMs), 0.5))} / p99 ${f0(q(cons.streams.flatMap((s) => s.lagMs), 0.99))} ms; ` +
          `PERSISTED → image file p50 ${f0(q(cons.streams.flatMap((s) => imageLatencies(s).fromAck), 0.5))} / ` +
          `p99 ${f0(q(cons.streams.flatMap((s) => imageLatencies(s).fromAck), 0.99))} ms`,
        `  server CPU per delivered image: ${f1(((cons.nodeS + cons.ffmpegS) * 1000) / images)} ms in all (ffmpeg ${f1((cons.ffmpegS * 1000) / images)}, ` +
          `node ${f1((cons.nodeS * 1000) / images)}), ${f1((extraS * 1000) / images)} ms above the baselines' ingest (${f2(extraS)} CPU s more); ` +
          `ffmpeg ${f0((cons.ffmpegS * 1000) / (STREAMS * seconds))} ms per stream per media second (every frame is decoded); ` +
          `${cons.decoders} ffmpeg decoder processes seen for ${STREAMS} streams (and ${cons.otherProcesses} other ffmpeg runs)`,
        `  ingest with consumers on vs off: PERSISTED p50 ${f2(a.p50 / b.p50)}×, p99 ${f2(a.p99 / b.p99)}×, p99 2nd+ ${f2(a.p99Later / b.p99Later)}× ` +
          `(${f1(a.p50)}/${f1(a.p99)} ms against ${f1(b.p50)}/${f1(b.p99)} ms); describeFrameConsumer round trip p50 ${f2(a.pollP50 / b.pollP50)}×, ` +
          `p99 ${f2(a.pollP99 / b.pollP99)}×`,
      ].join('\n'),
    );
    const warnings = server.stderr().trim();
    if (warnings.length > 0) {
      out(`openkvs stderr (consumer part):\n${warnings.split('\n').slice(0, 20).join('\n')}`);
    }
  } finally {
    await stopChild(server);
  }
}
