import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MkvStreamParser } from '../../../src/formats/mkv/mkv-stream-parser.js';
import type { ParsedFragment } from '../../../src/media/parse-events.js';
import type { TrackInfo, TrackSet } from '../../../src/media/track.js';
import { fragmentSamples, type Sample, type TrackRun } from '../../../src/packaging/fragment-samples.js';
import { ContinuityCounters, TsSegmentError, tsSegment, type TsSegmentErrorKind } from '../../../src/packaging/ts.js';
import { clustersOf, fixture, realMedia } from '../../helpers/media.js';
import { packetsOf, pesUnitsOf, sectionOf } from '../formats/ts/ts-demux.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const WRAP = 2 ** 33;
const mod33 = (t: number): number => ((t % WRAP) + WRAP) % WRAP;

// ---------------------------------------------------------------------------------------------------------
// Hand-made runs: the segment layout, field by field.

const AVCC = hex('0142001effe1001d2742001e898b60501ed80b50601063030005dc00017705ef7c1f08846e01000428ce1f20');
const ASC_LC_48K_STEREO = hex('1190');
const H264: TrackInfo = { number: 1, kind: 'video', codecId: 'V_MPEG4/ISO/AVC', codecPrivate: AVCC };
const AAC: TrackInfo = { number: 2, kind: 'audio', codecId: 'A_AAC', codecPrivate: ASC_LC_48K_STEREO, sampleRate: 48000, channels: 2 };

/** A length-prefixed (4-byte) sample holding one NAL unit of `type` and `size` bytes. */
function nalSample(type: number, size: number): Uint8Array {
  const out = new Uint8Array(4 + size);
  new DataView(out.buffer).setUint32(0, size);
  out[4] = type;
  out.fill(0x5a, 5);
  return out;
}

function sample(ptsMs: number, dtsMs: number, keyframe: boolean, data: Uint8Array): Sample {
  return { ptsMs, dtsMs, durationMs: 0, keyframe, data };
}

/** Video in decode order I P B B (presentation 0, 3, 1, 2 frames), DTS handed out as fragmentSamples does. */
function videoRun(t0: number, frameMs = 40): TrackRun {
  const order = [0, 3, 1, 2, 4, 7, 5, 6];
  const pts = order.map((i) => t0 + i * frameMs);
  const sorted = [...pts].sort((a, b) => a - b);
  return {
    track: H264,
    samples: order.map((i, k) => sample(pts[k]!, sorted[k]!, i === 0, nalSample(i === 0 ? 0x65 : 0x41, 300 + 50 * k))),
  };
}

function audioRun(t0: number, count = 10): TrackRun {
  const frame = 1024 / 48;
  return { track: AAC, samples: Array.from({ length: count }, (_, i) => sample(t0 + i * frame, t0 + i * frame, true, new Uint8Array(200).fill(i))) };
}

describe('tsSegment layout', () => {
  const t0 = 1_703_120_790_149;
  const ts = tsSegment([videoRun(t0), audioRun(t0)]);
  const packets = packetsOf(ts);
  const units = pesUnitsOf(ts);

  it('opens with PAT and PMT; the PMT lists H.264 and AAC ADTS on PIDs 0x100 + track number, PCR on video', () => {
    expect(packets.every((p) => p.sync === 0x47)).toBe(true);
    expect(ts.length % 188).toBe(0);
    expect(packets[0]?.pid).toBe(0);
    expect(packets[1]?.pid).toBe(0x1000);
    const pmt = sectionOf(packets[1]!);
    expect(((pmt[8]! & 0x1f) << 8) | pmt[9]!).toBe(0x101);
    expect([...pmt.subarray(12, pmt.length - 4)]).toEqual([0x1b, 0xe1, 0x01, 0xf0, 0x00, 0x0f, 0xe1, 0x02, 0xf0, 0x00]);
  });

  it('interleaves both tracks by decode time, with DTS never after PTS', () => {
    expect(units).toHaveLength(18);
    const dts = units.map((u) => u.dts);
    expect(dts).toEqual([...dts].sort((a, b) => a - b));
    expect(units.every((u) => u.dts <= u.pts)).toBe(true);
    expect(new Set(units.map((u) => u.pid))).toEqual(new Set([0x101, 0x102]));
  });

  it('maps producer milliseconds to round(ms × 90) mod 2^33 and moves B-frame DTS back by the reorder lead', () => {
    const video = units.filter((u) => u.pid === 0x101);
    const base = mod33(Math.round(t0 * 90));
    expect(video.map((u) => mod33(u.pts - base) / 3600)).toEqual([0, 3, 1, 2, 4, 7, 5, 6]);
    // Decode times are the sorted presentation times one frame (the B-frame lead) earlier.
    expect(video.map((u) => mod33(u.dts - base) / 3600)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6].map((f) => mod33(f * 3600) / 3600));
    const audio = units.filter((u) => u.pid === 0x102);
    expect(audio.map((u) => u.pts)).toEqual(audio.map((_, i) => mod33(Math.round((t0 + (i * 1024) / 48) * 90))));
    expect(audio.every((u) => !u.hasDts)).toBe(true);
  });

  it('starts each video access unit with an AUD, and puts SPS and PPS before keyframes only', () => {
    const video = units.filter((u) => u.pid === 0x101);
    const nalTypes = (d: Uint8Array): number[] => {
      const types: number[] = [];
      for (let i = 0; i + 4 < d.length; i++) {
        if (d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 0 && d[i + 3] === 1) {
          types.push(d[i + 4]! & 0x1f);
        }
      }
      return types;
    };
    expect(video.map((u) => nalTypes(u.data))).toEqual([[9, 7, 8, 5], [9, 1], [9, 1], [9, 1], [9, 1], [9, 1], [9, 1], [9, 1]]);
    expect(video.map((u) => u.first.adaptation?.randomAccess ?? false)).toEqual([true, false, false, false, false, false, false, false]);
    expect(video.every((u) => u.first.adaptation?.pcr === mod33(u.dts - 9000))).toBe(true);
  });

  it('frames each AAC access unit as ADTS and marks it as a random access point', () => {
    const audio = units.filter((u) => u.pid === 0x102);
    for (const [i, u] of audio.entries()) {
      expect(Buffer.from(u.data.subarray(0, 2)).toString('hex')).toBe('fff1');
      expect(u.data.length).toBe(207);
      expect(u.data[7]).toBe(i);
      expect(u.declaredLength).toBe(3 + 5 + 207);
      expect(u.first.adaptation?.randomAccess).toBe(true);
      expect(u.first.adaptation?.pcr).toBeUndefined();
    }
  });

  it('puts the PCR on the audio PID when there is no video', () => {
    const audioOnly = packetsOf(tsSegment([audioRun(t0)]));
    const pmt = sectionOf(audioOnly[1]!);
    expect(((pmt[8]! & 0x1f) << 8) | pmt[9]!).toBe(0x102);
    expect(audioOnly.filter((p) => p.unitStart && p.pid === 0x102).every((p) => p.adaptation?.pcr !== undefined)).toBe(true);
  });

  it('orders by time, not by wrapped ticks, across the 2^33 wrap', () => {
    const nearWrap = WRAP / 90 - 100;
    const wrapped = pesUnitsOf(tsSegment([videoRun(nearWrap), audioRun(nearWrap)]));
    const audio = wrapped.filter((u) => u.pid === 0x102);
    // 10 frames of 21.3 ms from 100 ms before the wrap: the last five are past it.
    expect(audio.map((u) => u.pts < 9000)).toEqual([false, false, false, false, false, true, true, true, true, true]);
    expect(audio.map((u) => mod33(u.pts - audio[0]!.pts))).toEqual(audio.map((_, i) => Math.round((nearWrap + (i * 1024) / 48) * 90) - Math.round(nearWrap * 90)));
    const video = wrapped.filter((u) => u.pid === 0x101);
    expect(video.map((u) => mod33(u.pts - video[0]!.pts) / 3600)).toEqual([0, 3, 1, 2, 4, 7, 5, 6]);
  });

  it('starts continuity counters at 0, or continues the ones it is given', () => {
    const again = packetsOf(tsSegment([videoRun(t0), audioRun(t0)]));
    expect(again.filter((p) => p.pid === 0x101).map((p) => p.cc)[0]).toBe(0);
    const counters = new ContinuityCounters();
    const byPid = new Map<number, number[]>();
    for (let i = 0; i < 3; i++) {
      for (const p of packetsOf(tsSegment([videoRun(t0 + i * 320), audioRun(t0 + i * 320)], { continuity: counters }))) {
        byPid.set(p.pid, [...(byPid.get(p.pid) ?? []), p.cc]);
      }
    }
    expect([...byPid.keys()].sort()).toEqual([0, 0x101, 0x102, 0x1000]);
    for (const ccs of byPid.values()) {
      expect(ccs).toEqual(ccs.map((_, i) => i % 16));
    }
  });

  it('writes only PAT and PMT for a fragment without samples', () => {
    expect(packetsOf(tsSegment([])).map((p) => p.pid)).toEqual([0, 0x1000]);
  });
});

describe('tsSegment errors', () => {
  const one = (track: Partial<TrackInfo>, data = nalSample(0x65, 10)): TrackRun[] => [
    { track: { ...H264, ...track }, samples: [sample(0, 0, true, data)] },
  ];

  it.each<[string, TrackRun[], TsSegmentErrorKind, RegExp]>([
    ['VP8', one({ codecId: 'V_VP8', codecPrivate: undefined }), 'unsupported', /H\.264, H\.265 and AAC only/],
    ['MJPEG', one({ codecId: 'V_MJPEG' }), 'unsupported', /H\.264, H\.265 and AAC only/],
    ['Opus', one({ number: 2, kind: 'audio', codecId: 'A_OPUS', codecPrivate: hex('4f707573486561640102') }), 'unsupported', /AAC only/],
    ['G.711 (A_MS/ACM)', one({ codecId: 'A_MS/ACM' }), 'unsupported', /AAC only/],
    ['AAC with a PCE channel layout', one({ kind: 'audio', codecId: 'A_AAC', codecPrivate: hex('1180') }), 'unsupported', /channel configuration 0/],
    ['AAC ELD', one({ kind: 'audio', codecId: 'A_AAC', codecPrivate: hex('f8ea20') }), 'unsupported', /object type 39/],
    ['a track number without a PID', one({ number: 0xf00 }), 'unsupported', /track numbers above/],
    ['H.264 without CodecPrivate', one({ codecPrivate: undefined }), 'missing-cpd', /no CodecPrivate/],
    ['H.265 with empty CodecPrivate', one({ codecId: 'V_MPEGH/ISO/HEVC', codecPrivate: new Uint8Array(0) }), 'missing-cpd', /no CodecPrivate/],
    ['AAC without CodecPrivate', one({ kind: 'audio', codecId: 'A_AAC', codecPrivate: undefined }), 'missing-cpd', /no CodecPrivate/],
    ['a truncated avcC', one({ codecPrivate: AVCC.subarray(0, 20) }), 'invalid-cpd', /avcC SPS/],
    ['garbage avcC', one({ codecPrivate: hex('deadbeef00112233') }), 'invalid-cpd', /configurationVersion/],
    ['an avcC given as hvcC', one({ codecId: 'V_MPEGH/ISO/HEVC' }), 'invalid-cpd', /hvcC/],
    ['a cut-off AudioSpecificConfig', one({ kind: 'audio', codecId: 'A_AAC', codecPrivate: hex('11') }), 'invalid-cpd', /samplingFrequencyIndex is cut off/],
    ['a NAL length past the end of the frame', one({}, hex('000000ff65')), 'invalid-frame', /NAL unit/],
    ['an AAC frame too big for ADTS', [{ track: AAC, samples: [sample(0, 0, true, new Uint8Array(9000))] }], 'invalid-frame', /ADTS/],
  ])('%s → %s', (_name, runs, kind, message) => {
    let error: unknown;
    try {
      tsSegment(runs);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TsSegmentError);
    const e = error as TsSegmentError;
    expect(e.kind).toBe(kind);
    expect(e.trackNumber).toBe(runs[0]!.track.number);
    expect(e.message).toMatch(message);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Real media end to end: stored fragments → TS segments → ffmpeg/ffprobe.

type Proc = { code: number | null; stdout: string; stderr: string };

function run(cmd: string, args: string[]): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  }
  return r.stdout;
}

/** Runs `fn` over `items` with at most `limit` at a time. */
async function inBatches<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    out.push(...(await Promise.all(items.slice(i, i + limit).map((item, k) => fn(item, i + k)))));
  }
  return out;
}

type StreamSummary = { codec: string; frames: number; width?: number; height?: number; sampleRate?: string; channels?: number };

/** Per codec type (video/audio): the codec and its parameters as ffprobe decodes them, and the decoded frame count. */
async function streamSummaries(file: string): Promise<Record<string, StreamSummary>> {
  const entries = 'stream=codec_type,codec_name,nb_read_frames,width,height,sample_rate,channels';
  const out = await ok('/usr/bin/ffprobe', ['-v', 'error', '-count_frames', '-show_entries', entries, '-of', 'json', file]);
  type Probed = { codec_type: string; codec_name: string; nb_read_frames: string; width?: number; height?: number; sample_rate?: string; channels?: number };
  const { streams } = JSON.parse(out) as { streams: Probed[] };
  const summaries: Record<string, StreamSummary> = {};
  for (const s of streams) {
    expect(summaries[s.codec_type], `one ${s.codec_type} stream in ${file}`).toBeUndefined();
    summaries[s.codec_type] = {
      codec: s.codec_name,
      frames: Number(s.nb_read_frames),
      ...(s.width === undefined ? {} : { width: s.width, height: s.height }),
      ...(s.sample_rate === undefined ? {} : { sampleRate: s.sample_rate, channels: s.channels }),
    };
  }
  return summaries;
}

type Packet = { type: string; pts: number; dts: number };

async function packets(file: string): Promise<Packet[]> {
  const out = await ok('/usr/bin/ffprobe', ['-v', 'error', '-show_entries', 'packet=codec_type,pts,dts', '-of', 'csv=p=0', file]);
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [type, pts, dts] = line.split(',');
      return { type: type!, pts: Number(pts), dts: dts === 'N/A' ? Number(pts) : Number(dts) };
    });
}

/** The decoded frames of a file in output order: codec type and key_frame flag. */
async function decodedFrames(file: string): Promise<{ frames: { type: string; key: boolean }[]; stderr: string }> {
  const r = await run('/usr/bin/ffprobe', ['-v', 'error', '-show_entries', 'frame=media_type,key_frame', '-of', 'csv=p=0', file]);
  expect(r.code).toBe(0);
  const frames = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [type, key] = l.split(',');
      return { type: type!, key: key === '1' };
    });
  return { frames, stderr: r.stderr };
}

type Input = {
  name: string;
  bytes: () => Uint8Array;
  /** Added to every producer timestamp (ms), to move the stream across the 2^33 tick wrap. */
  baseMs?: number;
  /** Every cluster starts with a keyframe, so every segment must decode on its own. */
  keyframeClusters: boolean;
};

function load(bytes: Uint8Array): { set: TrackSet; fragments: ParsedFragment[] } {
  const header = new MkvStreamParser().push(bytes).find((e) => e.kind === 'header');
  if (header?.kind !== 'header') {
    throw new Error('no Tracks');
  }
  return { set: header.header, fragments: clustersOf(bytes) };
}

/** The sample runs of one stored fragment, timed as ingest times it (producer time = cluster time + base). */
function runsOf(set: TrackSet, f: ParsedFragment, baseMs: number): TrackRun[] {
  const scaleMs = set.timecodeScaleNs / 1e6;
  const span = (f.maxBlockTimecode - f.minBlockTimecode) * scaleMs;
  const durationMs = Math.round(span + (f.blockCount > 1 ? span / (f.blockCount - 1) : 0));
  return fragmentSamples(set, f.bytes, 0, { producerTimestampMs: baseMs + f.timecode * scaleMs, durationMs, timecode: f.timecode });
}

let dir: string;
const generated = new Map<string, Uint8Array>();

/** testsrc + sine encoded with one 1 s GOP per cluster (closed GOPs, B-frames on) into MKV. */
async function generate(name: string, video: string[], sampleRate: number): Promise<void> {
  const file = join(dir, name);
  await ok('/usr/bin/ffmpeg', [
    ...['-nostdin', '-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30:duration=3'],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${sampleRate}:duration=3`],
    ...video,
    ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k'],
    // Keyframes more than 4 KiB into a cluster start the next one; the time limit must not cut a GOP first.
    ...['-cluster_time_limit', '5000', '-cluster_size_limit', '8000000', file],
  ]);
  generated.set(name, new Uint8Array(readFileSync(file)));
}

const generatedInput = (name: string): (() => Uint8Array) => () => {
  const bytes = generated.get(name);
  if (bytes === undefined) {
    throw new Error(`${name} was not generated`);
  }
  return bytes;
};

const INPUTS: Input[] = [
  { name: 'mkv-inputs/clusters.mkv (H.264 High, 8 clusters)', bytes: () => realMedia('mkv-inputs/clusters.mkv'), keyframeClusters: true },
  {
    name: 'kvs-producer/kvssink-test-stream-1_0.mkv (KVS producer SDK, epoch timecodes)',
    bytes: () => realMedia('kvs-producer/kvssink-test-stream-1_0.mkv'),
    keyframeClusters: true,
  },
  { name: 'media-fixtures/mkv/h264-5s-1s-gop.mkv', bytes: () => fixture('mkv/h264-5s-1s-gop.mkv'), keyframeClusters: true },
  { name: 'generated H.264 + AAC 48 kHz (B-frames)', bytes: generatedInput('h264-aac.mkv'), keyframeClusters: true },
  { name: 'generated H.265 + AAC 44.1 kHz (B-frames)', bytes: generatedInput('hevc-aac.mkv'), keyframeClusters: true },
  {
    // Its 2 s clusters start 7 s before the 2^33 wrap of the 90 kHz clock.
    name: 'mkv-inputs/clusters.mkv across the 33-bit wrap',
    bytes: () => realMedia('mkv-inputs/clusters.mkv'),
    baseMs: WRAP / 90 - 7000,
    keyframeClusters: true,
  },
  {
    // Real H.264 + AAC; some of its clusters start mid-GOP, so only the whole stream is checked for those.
    name: 'mkv-inputs/vogels_330.mkv (HandBrake H.264 + AAC)',
    bytes: () => realMedia('mkv-inputs/vogels_330.mkv'),
    keyframeClusters: false,
  },
];

// Each test runs ffmpeg/ffprobe once per segment (37 for the KVS producer capture): generous room on a busy machine.
const E2E_TIMEOUT_MS = 240_000;

describe('tsSegment end to end', { timeout: E2E_TIMEOUT_MS }, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openkvs-ts-'));
    await Promise.all([
      generate('h264-aac.mkv', ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '2'], 48000),
      generate(
        'hevc-aac.mkv',
        ['-c:v', 'libx265', '-preset', 'veryfast', '-x265-params', 'keyint=30:min-keyint=30:scenecut=0:open-gop=0:bframes=3:log-level=error'],
        44100,
      ),
    ]);
  });

  afterAll(() => {
    if (dir !== undefined) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an H.264 + Opus stream (media-fixtures/mkv/h264-opus-5s.mkv)', () => {
    const { set, fragments } = load(fixture('mkv/h264-opus-5s.mkv'));
    expect(fragments.length).toBeGreaterThan(0);
    let error: unknown;
    try {
      tsSegment(runsOf(set, fragments[0]!, 0));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TsSegmentError);
    expect((error as TsSegmentError).kind).toBe('unsupported');
    expect((error as TsSegmentError).trackNumber).toBe(set.tracks.find((t) => t.codecId === 'A_OPUS')?.number);
  });

  describe.each(INPUTS)('$name', (input) => {
    let name: string;
    let segments: { file: string; runs: TrackRun[]; startsWithKeyframe: boolean }[];
    let whole: string;
    let inputFile: string;
    /** Per codec type, the index (in presentation order over the whole stream) of each segment's first frame. */
    const boundaries: Record<string, number[]> = {};

    beforeAll(() => {
      name = input.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      const bytes = input.bytes();
      inputFile = join(dir, `${name}.mkv`);
      writeFileSync(inputFile, bytes);
      const { set, fragments } = load(bytes);
      const counters = new ContinuityCounters();
      const chained: Uint8Array[] = [];
      segments = fragments.map((f, i) => {
        const runs = runsOf(set, f, input.baseMs ?? 0);
        const file = join(dir, `${name}-${i}.ts`);
        writeFileSync(file, tsSegment(runs));
        chained.push(tsSegment(runs, { continuity: counters }));
        return { file, runs, startsWithKeyframe: f.startsWithKeyframe };
      });
      const seen: Record<string, number> = {};
      for (const s of segments) {
        for (const r of s.runs) {
          const before = seen[r.track.kind] ?? 0;
          if (before > 0) {
            (boundaries[r.track.kind] ??= []).push(before);
          }
          seen[r.track.kind] = before + r.samples.length;
        }
      }
      whole = join(dir, `${name}-all.ts`);
      writeFileSync(whole, Buffer.concat(chained));
    });

    it('decodes all segments back to back without an error, with every input frame of every stream', async () => {
      expect(segments.length).toBeGreaterThan(1);
      const decode = await run('/usr/bin/ffmpeg', ['-nostdin', '-v', 'error', '-i', whole, '-f', 'null', '-']);
      expect(decode.code).toBe(0);
      expect(decode.stderr).toBe('');
      const [inStreams, outStreams] = await Promise.all([streamSummaries(inputFile), streamSummaries(whole)]);
      expect(inStreams.video?.frames).toBeGreaterThan(0);
      // Same codecs, picture sizes, sample rates and channel counts (the ADTS headers were read), same frame counts.
      expect(outStreams).toEqual(inStreams);
    });

    it('decodes each segment on its own, from a keyframe, with exactly its fragment’s frames', async () => {
      if (input.keyframeClusters) {
        expect(segments.every((s) => s.startsWithKeyframe)).toBe(true);
      }
      const standalone = segments.filter((s) => s.startsWithKeyframe);
      expect(standalone.length).toBeGreaterThan(1);
      await inBatches(standalone, 4, async (s) => {
        // ffprobe decodes every frame with the same decoders as ffmpeg and logs their errors the same way;
        // one process per segment instead of two keeps this test affordable for 37 segments.
        const { frames, stderr } = await decodedFrames(s.file);
        expect(stderr, s.file).toBe('');
        expect(frames.find((f) => f.type === 'video')?.key, s.file).toBe(true);
        const expected: Record<string, number> = {};
        for (const r of s.runs) {
          expected[r.track.kind] = (expected[r.track.kind] ?? 0) + r.samples.length;
        }
        const decoded: Record<string, number> = {};
        for (const f of frames) {
          decoded[f.type] = (decoded[f.type] ?? 0) + 1;
        }
        expect(decoded, s.file).toEqual(expected);
      });
    });

    it('writes PES decode times that rise at every access unit and never pass the presentation time', () => {
      // Read from the PES headers directly: ffprobe repairs DTS it finds implausible, which would hide a bug.
      const units = pesUnitsOf(readFileSync(whole));
      for (const pid of new Set(units.map((u) => u.pid))) {
        const own = units.filter((u) => u.pid === pid);
        const steps = own.slice(1).map((u, i) => mod33(u.dts - own[i]!.dts));
        expect(Math.min(...steps), `PID ${pid}`).toBeGreaterThan(0);
        expect(Math.max(...steps), `PID ${pid}`).toBeLessThan(90 * 1000);
        expect(own.every((u) => mod33(u.pts - u.dts) < 90 * 1000), `PID ${pid}`).toBe(true);
      }
    });

    it('keeps every PID’s continuity counter running across the chained segments', () => {
      const ccs = new Map<number, number[]>();
      for (const p of packetsOf(readFileSync(whole))) {
        ccs.set(p.pid, [...(ccs.get(p.pid) ?? []), p.cc]);
      }
      for (const [pid, list] of ccs) {
        expect(list.every((cc, i) => cc === i % 16), `PID ${pid}`).toBe(true);
      }
    });

    it('carries every input timestamp as round(ms × 90) mod 2^33, continuous from segment to segment', async () => {
      expect(segments.length).toBeGreaterThan(1);
      const [inPackets, outPackets] = await Promise.all([packets(inputFile), packets(whole)]);
      const base = input.baseMs ?? 0;
      for (const type of ['video', 'audio']) {
        const inPts = inPackets.filter((p) => p.type === type).map((p) => p.pts);
        const out = outPackets.filter((p) => p.type === type);
        expect(out.length, type).toBe(inPts.length);
        if (inPts.length === 0) {
          continue;
        }
        // The MKV inputs have a 1 ms timecode scale, so ffprobe's input PTS are the producer milliseconds.
        const expected = inPts.map((ms) => mod33(Math.round((base + ms) * 90))).sort((a, b) => a - b);
        expect(out.map((p) => mod33(p.pts)).sort((a, b) => a - b), type).toEqual(expected);
        // Where one segment meets the next, presentation time steps on exactly as in the input: no gap, no overlap.
        const sortedIn = inPts.slice().sort((a, b) => a - b);
        const first = out[0]!.pts;
        const pts = out.map((p) => mod33(p.pts - first)).sort((a, b) => a - b);
        for (const b of boundaries[type] ?? []) {
          const step = pts[b]! - pts[b - 1]!;
          const inStep = (sortedIn[b]! - sortedIn[b - 1]!) * 90;
          expect(Math.abs(step - inStep), `${type} step into frame ${b}`).toBeLessThanOrEqual(1);
          expect(step, `${type} step into frame ${b}`).toBeGreaterThan(0);
        }
      }
    });
  });
});
