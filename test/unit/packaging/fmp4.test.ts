// Fragmented MP4 packaging, checked by ffmpeg/ffprobe decoding what the packager wrote: real and generated
// MKV inputs go through the store's view (clusters → fragmentSamples) and come out as init + media segments.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MkvStreamParser } from '../../../src/formats/mkv/mkv-stream-parser.js';
import type { TrackInfo, TrackSet } from '../../../src/media/track.js';
import { codecString, initSegment, mediaSegment, UnsupportedCodecError } from '../../../src/packaging/fmp4.js';
import type { PackagingRefusal } from '../../../src/packaging/fmp4.js';
import { fragmentSamples } from '../../../src/packaging/fragment-samples.js';
import type { TrackRun } from '../../../src/packaging/fragment-samples.js';
import { clustersOf, FIXTURES, REAL_MEDIA } from '../../helpers/media.js';

const FFMPEG = '/usr/bin/ffmpeg';
const FFPROBE = '/usr/bin/ffprobe';
const HOOK_TIMEOUT = 180_000;

type Run = { stdout: string; stderr: string };

function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((done, fail) => {
    execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) {
        fail(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      } else {
        done({ stdout, stderr });
      }
    });
  });
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---- the store's view of an MKV upload ----

type StoredFragment = { runs: TrackRun[] };
type Stored = { set: TrackSet; fragments: StoredFragment[] };

function headerOf(bytes: Uint8Array): TrackSet {
  for (const ev of new MkvStreamParser().push(bytes)) {
    if (ev.kind === 'header') {
      return { timecodeScaleNs: ev.header.timecodeScaleNs, tracks: ev.header.tracks };
    }
  }
  throw new Error('no Matroska header');
}

/**
 * Fragments as the ingest session records them: the producer timestamp is the cluster timecode (ABSOLUTE
 * timecodes) or the session start plus it (RELATIVE), the duration is the block span plus one frame.
 */
function store(bytes: Uint8Array, producerStartMs: number | 'absolute'): Stored {
  const set = headerOf(bytes);
  const scaleMs = set.timecodeScaleNs / 1e6;
  const fragments = clustersOf(bytes).map((f) => {
    const span = (f.maxBlockTimecode - f.minBlockTimecode) * scaleMs;
    const video = set.tracks.find((t) => t.kind === 'video' && f.trackNumbers.includes(t.number));
    const frame = video?.defaultDurationNs !== undefined ? video.defaultDurationNs / 1e6 : f.blockCount > 1 ? span / (f.blockCount - 1) : 0;
    const producerTimestampMs = (producerStartMs === 'absolute' ? 0 : producerStartMs) + f.timecode * scaleMs;
    const runs = fragmentSamples(set, f.bytes, 0, { producerTimestampMs, durationMs: Math.round(span + frame), timecode: f.timecode });
    return { runs };
  });
  return { set, fragments };
}

// ---- what ffprobe / ffmpeg say ----

type StreamInfo = {
  index: number;
  codec_name: string;
  profile?: string;
  level?: number;
  time_base: string;
  nb_read_frames?: string;
  codec_tag_string?: string;
  tags?: { language?: string; handler_name?: string };
  /**
   * For a fragmented MP4, ffmpeg's mov demuxer sets this to the decode time after the last trun sample
   * (tfdt + the sum of trun durations), which is how the tests see sample durations: ffprobe's packet
   * durations are guessed from the frame rate, not read from the trun.
   */
  duration_ts?: number;
};

async function streams(file: string, countFrames: boolean): Promise<StreamInfo[]> {
  const entries = 'stream=index,codec_name,codec_tag_string,profile,level,time_base,nb_read_frames,duration_ts:stream_tags=language,handler_name';
  const args = ['-v', 'error', ...(countFrames ? ['-count_frames'] : []), '-show_entries', entries, '-of', 'json', file];
  return (JSON.parse((await run(FFPROBE, args)).stdout) as { streams: StreamInfo[] }).streams;
}

type Packet = { stream_index: number; pts?: number; dts?: number; pts_time?: string; dts_time?: string; duration_time?: string; flags?: string };
type Frame = { stream_index: number; pts?: number };

async function packets(file: string): Promise<Packet[]> {
  const out = await run(FFPROBE, ['-v', 'error', '-show_entries', 'packet=stream_index,pts,dts,pts_time,dts_time,duration_time,flags', '-of', 'json', file]);
  return (JSON.parse(out.stdout) as { packets: Packet[] }).packets;
}

/** Packets, decoded frames and per-stream end of one file; `stderr` holds any demuxing or decoding error. */
async function probeDecode(file: string): Promise<{ packets: Packet[]; frames: Frame[]; ends: number[]; stderr: string }> {
  const entries = 'packet=stream_index,pts,dts:frame=stream_index,pts:stream=index,duration_ts';
  const out = await run(FFPROBE, ['-v', 'error', '-show_entries', entries, '-of', 'json', file]);
  const json = JSON.parse(out.stdout) as { packets_and_frames?: (Packet & Frame & { type: string })[]; streams: StreamInfo[] };
  const items = json.packets_and_frames ?? [];
  return {
    packets: items.filter((i) => i.type === 'packet'),
    frames: items.filter((i) => i.type === 'frame'),
    ends: json.streams.map((st) => st.duration_ts ?? NaN),
    stderr: out.stderr,
  };
}

/**
 * The sample index ffmpeg's mov demuxer builds from each trun, per stream in decode order. Its keyframe
 * flag comes from the trun sample flags; ffprobe's packet flags do not show that for H.264, whose parser
 * sets them from the bitstream.
 */
async function trunIndex(file: string): Promise<Map<number, { dts: number; size: number; keyframe: boolean }[]>> {
  const out = await run(FFPROBE, ['-v', 'trace', '-i', file]);
  const index = new Map<number, { dts: number; size: number; keyframe: boolean }[]>();
  for (const m of out.stderr.matchAll(/AVIndex stream (\d+), sample \d+, offset [0-9a-f]+, dts (-?\d+), size (\d+), distance \d+, keyframe (\d)/g)) {
    const stream = Number(m[1]);
    index.set(stream, [...(index.get(stream) ?? []), { dts: Number(m[2]), size: Number(m[3]), keyframe: m[4] === '1' }]);
  }
  return index;
}

async function decodeErrors(file: string): Promise<string> {
  return (await run(FFMPEG, ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-'])).stderr.trim();
}

/** MD5 of every decoded frame of one stream, in presentation order. */
async function frameHashes(file: string, stream: number): Promise<string[]> {
  const out = await run(FFMPEG, ['-nostdin', '-v', 'error', '-i', file, '-map', `0:${stream}`, '-fps_mode', 'passthrough', '-f', 'framemd5', '-']);
  return out.stdout
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());
}

function byStream<T extends { stream_index: number }>(items: T[]): Map<number, T[]> {
  const m = new Map<number, T[]>();
  for (const i of items) {
    m.set(i.stream_index, [...(m.get(i.stream_index) ?? []), i]);
  }
  return m;
}

const seconds = (s: string | undefined): number => (s === undefined || s === 'N/A' ? NaN : Number(s));

/** An MKV stream's presentation span in seconds (a block without a duration lasts an average frame) and that frame. */
function inputSpan(ps: Packet[]): { span: number; frame: number } {
  const starts = ps.map((p) => seconds(p.pts_time));
  const first = Math.min(...starts);
  const frame = (Math.max(...starts) - first) / Math.max(1, ps.length - 1);
  const end = Math.max(...ps.map((p) => seconds(p.pts_time) + (Number.isNaN(seconds(p.duration_time)) ? frame : seconds(p.duration_time))));
  return { span: end - first, frame };
}

/** An output stream's span: the sum of its trun durations, from the first decode time to the end of the last trun. */
function outputSpan(ps: Packet[], stream: StreamInfo): number {
  const timescale = Number(stream.time_base.split('/')[1]);
  return (stream.duration_ts! - Math.min(...ps.map((p) => p.dts!))) / timescale;
}

// ---- inputs ----

type Input = {
  name: string;
  path: string;
  producerStartMs: number | 'absolute';
  /** The source timeline has no gaps between clusters, so consecutive segments must be back to back. */
  continuous: boolean;
};

const fixturePath = (rel: string): string => resolve(FIXTURES, rel);
const realPath = (rel: string): string => resolve(REAL_MEDIA, rel);

const INPUTS: Input[] = [
  { name: 'h264-5s-1s-gop.mkv', path: fixturePath('mkv/h264-5s-1s-gop.mkv'), producerStartMs: 0, continuous: true },
  // A RELATIVE-timecode session starting at a fractional epoch millisecond: tfdt above 32 bits, sub-tick rounding.
  { name: 'h264-5s-1s-gop.mkv @ epoch', path: fixturePath('mkv/h264-5s-1s-gop.mkv'), producerStartMs: 1_700_000_000_000.4, continuous: true },
  { name: 'h264-aac-5s.mkv', path: fixturePath('mkv/h264-aac-5s.mkv'), producerStartMs: 0, continuous: true },
  { name: 'hevc-5s.mkv', path: fixturePath('mkv/hevc-5s.mkv'), producerStartMs: 0, continuous: true },
  // Decode times run a frame ahead of presentation times here, so the session must not start at 0.
  { name: 'h264-bframes-5s.mkv', path: fixturePath('mkv/h264-bframes-5s.mkv'), producerStartMs: 1_700_000_000_000, continuous: true },
  { name: 'kvssink-test-stream-1_0.mkv', path: realPath('kvs-producer/kvssink-test-stream-1_0.mkv'), producerStartMs: 'absolute', continuous: true },
  // Real uploads whose clusters have gaps between them (a dropped frame, timecodes rounded to the millisecond).
  { name: 'clusters.mkv', path: realPath('mkv-inputs/clusters.mkv'), producerStartMs: 1_511_852_108_513, continuous: false },
  { name: 'bezos_vogels.mkv', path: realPath('mkv-inputs/bezos_vogels.mkv'), producerStartMs: 0, continuous: false },
  { name: 'vogels_330.mkv', path: realPath('mkv-inputs/vogels_330.mkv'), producerStartMs: 0, continuous: false },
];

type SegmentProbe = { keyframeStart: boolean; sampleCounts: number[]; firstDtsMs: number[]; packets: Packet[]; frames: Frame[]; ends: number[]; stderr: string };

type Result = {
  stored: Stored;
  input: { streams: StreamInfo[]; packets: Packet[] };
  output: { streams: StreamInfo[]; packets: Packet[]; errors: string; index: Map<number, { dts: number; size: number; keyframe: boolean }[]> };
  hashes: { input: string[]; output: string[] }[];
  segments: SegmentProbe[];
};

let tmp = '';

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'openkvs-fmp4-'));
});

afterAll(() => {
  if (tmp !== '') {
    rmSync(tmp, { recursive: true, force: true });
  }
});

async function packageAndProbe(input: Input, dir: string): Promise<Result> {
  const bytes = new Uint8Array(readFileSync(input.path));
  const stored = store(bytes, input.producerStartMs);
  const init = initSegment(stored.set.tracks);
  const segments = stored.fragments.map((f, i) => mediaSegment(f.runs, i + 1));
  const whole = join(dir, 'whole.mp4');
  writeFileSync(whole, Buffer.concat([init, ...segments]));
  const [inStreams, outStreams, inPackets, outPackets, errors, index] = await Promise.all([
    streams(input.path, true),
    streams(whole, true),
    packets(input.path),
    packets(whole),
    decodeErrors(whole),
    trunIndex(whole),
  ]);
  const hashes = await mapLimit(outStreams, 2, async (s) => ({ input: await frameHashes(input.path, s.index), output: await frameHashes(whole, s.index) }));
  const probes = await mapLimit(segments, 4, async (seg, i) => {
    const file = join(dir, `seg-${i + 1}.mp4`);
    writeFileSync(file, Buffer.concat([init, seg]));
    const runs = stored.fragments[i]!.runs;
    const video = runs.find((r) => r.track.kind === 'video');
    const probe = await probeDecode(file);
    return {
      keyframeStart: video === undefined || video.samples[0]!.keyframe,
      sampleCounts: runs.map((r) => r.samples.length),
      firstDtsMs: runs.map((r) => r.samples[0]!.dtsMs),
      ...probe,
    };
  });
  return {
    stored,
    input: { streams: inStreams, packets: inPackets },
    output: { streams: outStreams, packets: outPackets, errors, index },
    hashes,
    segments: probes,
  };
}

describe.each(INPUTS)('fMP4 from $name', (input) => {
  let r: Result;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmp, 'in-'));
    r = await packageAndProbe(input, dir);
  }, HOOK_TIMEOUT);

  it('init + every segment decodes without a single error, with the input frame count per stream', () => {
    expect(r.output.errors).toBe('');
    expect(r.output.streams.map((s) => [s.codec_name, Number(s.nb_read_frames)])).toEqual(
      r.input.streams.map((s) => [s.codec_name, Number(s.nb_read_frames)]),
    );
    expect(r.output.streams.length).toBe(r.stored.set.tracks.length);
  });

  it('decodes to the same pictures and sound as the input', () => {
    for (const h of r.hashes) {
      expect(h.output.length).toBeGreaterThan(0);
      expect(h.output).toEqual(h.input);
    }
  });

  it('marks exactly the Matroska keyframes (and every audio frame) as sync samples, with their sizes', () => {
    r.stored.set.tracks.forEach((track, i) => {
      const samples = r.stored.fragments.flatMap((f) => f.runs.find((run) => run.track.number === track.number)?.samples ?? []);
      const index = r.output.index.get(i) ?? [];
      expect(index.map((e) => e.keyframe)).toEqual(samples.map((s) => track.kind === 'audio' || s.keyframe));
      expect(index.map((e) => e.size)).toEqual(samples.map((s) => s.data.length));
      if (track.kind === 'video') {
        expect(index.filter((e) => !e.keyframe).length).toBeGreaterThan(0);
      }
    });
  });

  it('describes each track as the Matroska header does (language, handler name)', () => {
    r.stored.set.tracks.forEach((t, i) => {
      const tags = r.output.streams[i]!.tags ?? {};
      expect(tags.language).toBe(t.language !== undefined && /^[a-z]{3}$/.test(t.language) ? t.language : 'und');
      expect(tags.handler_name).toBe(t.name ?? (t.kind === 'video' ? 'VideoHandler' : 'SoundHandler'));
    });
  });

  it('keeps every stream duration within one frame and presentation times within a millisecond', () => {
    const inStreams = byStream(r.input.packets);
    const outStreams = byStream(r.output.packets);
    const origin = (m: Map<number, Packet[]>): number => Math.min(...[...m.values()].flat().map((p) => seconds(p.pts_time)));
    const inOrigin = origin(inStreams);
    const outOrigin = origin(outStreams);
    expect([...outStreams.keys()].sort()).toEqual([...inStreams.keys()].sort());
    for (const [index, inPs] of inStreams) {
      const outPs = outStreams.get(index)!;
      expect(outPs.length).toBe(inPs.length);
      const a = inputSpan(inPs);
      expect(Math.abs(outputSpan(outPs, r.output.streams[index]!) - a.span)).toBeLessThanOrEqual(a.frame);
      // Same decode order on both sides (MKV blocks and trun samples), so times compare packet by packet.
      inPs.forEach((p, i) => {
        const inT = seconds(p.pts_time) - inOrigin;
        const outT = seconds(outPs[i]!.pts_time) - outOrigin;
        expect(Math.abs(outT - inT)).toBeLessThanOrEqual(0.0011);
      });
    }
  });

  it('each segment that starts with a keyframe decodes on its own, every sample of it', () => {
    const standalone = r.segments.filter((s) => s.keyframeStart);
    if (input.continuous) {
      // These sources cut a cluster at every keyframe, so none may be skipped.
      expect(standalone.length).toBe(r.segments.length);
    }
    expect(standalone.length).toBeGreaterThan(0);
    for (const s of standalone) {
      expect(s.stderr.trim()).toBe('');
      const frames = byStream(s.frames);
      expect(s.sampleCounts.map((_, i) => frames.get(i)?.length ?? 0)).toEqual(s.sampleCounts);
    }
  });

  it('starts every segment at its first decode time and makes consecutive segments continuous', () => {
    const timescales = r.output.streams.map((s) => Number(s.time_base.split('/')[1]));
    let previousEnd: number[] | undefined;
    for (const [n, s] of r.segments.entries()) {
      const ps = byStream(s.packets);
      s.sampleCounts.forEach((count, i) => {
        const own = ps.get(i) ?? [];
        expect(own.length).toBe(count);
        const tfdt = own[0]!.dts!;
        expect(tfdt).toBe(Math.round((s.firstDtsMs[i]! * timescales[i]!) / 1000));
        expect(s.ends[i]!).toBeGreaterThan(own[own.length - 1]!.dts!);
        if (previousEnd !== undefined) {
          const gap = tfdt - previousEnd[i]!;
          if (input.continuous) {
            // Block times are whole milliseconds: a video frame's end lands on that grid, but an AAC frame
            // (21.333 ms) truncated by the muxer can end up to a millisecond before the next one starts.
            const tolerance = r.stored.set.tracks[i]!.kind === 'audio' ? timescales[i]! / 1000 : 1;
            expect(Math.abs(gap), `segment ${n + 1} stream ${i}`).toBeLessThanOrEqual(tolerance);
          } else {
            // Gaps in the source stay gaps; segments must never overlap.
            expect(gap, `segment ${n + 1} stream ${i}`).toBeGreaterThanOrEqual(-1);
          }
        }
      });
      previousEnd = s.ends;
    }
    // The concatenation ends where the last segment does.
    expect(r.output.streams.map((st) => st.duration_ts)).toEqual(previousEnd);
  });

  it('gives codec strings that match the profile and level ffprobe reads from the input', () => {
    r.stored.set.tracks.forEach((track, i) => {
      const s = r.input.streams[i]!;
      expect(r.output.streams[i]!.codec_tag_string).toBe(codecString(track).split('.')[0]);
      expect(codecString(track)).toBe(expectedCodecString(s));
    });
  });
});

/** What RFC 6381 says the codec string is, from ffprobe's description of the input stream. */
function expectedCodecString(s: StreamInfo): string {
  const hex = (v: number): string => v.toString(16).toUpperCase().padStart(2, '0');
  if (s.codec_name === 'h264') {
    // ffprobe names the profile; the constraint byte follows from it for the profiles in these inputs.
    const known: Record<string, [number, number]> = { 'Constrained Baseline': [0x42, 0xc0], Baseline: [0x42, 0x00], Main: [0x4d, 0x40], High: [0x64, 0x00] };
    const [profile, constraints] = known[s.profile ?? ''] ?? [NaN, NaN];
    return `avc1.${hex(profile)}${hex(constraints)}${hex(s.level ?? NaN)}`;
  }
  if (s.codec_name === 'hevc') {
    // Main: profile_idc 1, compatibility flags 1 and 2 (reversed: 0x6); libx265 sets progressive + frame-only (0x90).
    expect(s.profile).toBe('Main');
    return `hvc1.1.6.L${s.level}.90`;
  }
  if (s.codec_name === 'aac') {
    const objectType: Record<string, number> = { LC: 2, 'HE-AAC': 5, 'HE-AACv2': 29 };
    return `mp4a.40.${objectType[s.profile ?? ''] ?? NaN}`;
  }
  throw new Error(`no expected codec string for ${s.codec_name}`);
}

describe('B-frames', () => {
  let outPackets: Packet[];
  let inPackets: Packet[];
  let frames: Frame[];
  let stderr: string;

  beforeAll(async () => {
    const input = INPUTS.find((i) => i.name === 'h264-bframes-5s.mkv')!;
    const stored = store(new Uint8Array(readFileSync(input.path)), input.producerStartMs);
    const file = join(tmp, 'bframes.mp4');
    writeFileSync(file, Buffer.concat([initSegment(stored.set.tracks), ...stored.fragments.map((f, i) => mediaSegment(f.runs, i + 1))]));
    const probe = await probeDecode(file);
    outPackets = probe.packets;
    frames = probe.frames;
    stderr = probe.stderr;
    inPackets = await packets(input.path);
  }, HOOK_TIMEOUT);

  it('carries composition offsets: presentation order differs from decode order, exactly as in the input', () => {
    expect(outPackets.some((p) => p.pts !== p.dts)).toBe(true);
    const reordered = outPackets.some((p, i) => i > 0 && p.pts! < outPackets[i - 1]!.pts!);
    expect(reordered).toBe(true);
    const rel = (ps: Packet[], scale: number): number[] => ps.map((p) => (p.pts! - ps[0]!.pts!) / scale);
    const inRel = rel(inPackets, 1000);
    rel(outPackets, 90000).forEach((t, i) => expect(Math.abs(t - inRel[i]!)).toBeLessThan(0.0006));
  });

  it('decodes all 150 frames with increasing presentation times', () => {
    expect(stderr.trim()).toBe('');
    expect(frames.length).toBe(150);
    frames.forEach((f, i) => {
      if (i > 0) {
        expect(f.pts!).toBeGreaterThan(frames[i - 1]!.pts!);
      }
    });
  });
});

describe('a fragment without samples of a track', () => {
  it('gets an empty segment (a traf without trun at the fragment start): the track plays on around it', async () => {
    const input = INPUTS.find((i) => i.name === 'h264-aac-5s.mkv')!;
    const stored = store(new Uint8Array(readFileSync(input.path)), input.producerStartMs);
    const aac = stored.set.tracks.find((t) => t.codecId === 'A_AAC')!;
    const audioOf = (i: number): TrackRun[] => stored.fragments[i]!.runs.filter((r) => r.track.number === aac.number);
    const secondStartMs = audioOf(1)[0]!.samples[0]!.dtsMs;
    const empty = mediaSegment([{ track: aac, samples: [] }], 2, secondStartMs);
    const text = Buffer.from(empty).toString('latin1');
    expect([text.includes('tfdt'), text.includes('trun'), text.endsWith('\0\0\0\x08mdat')]).toEqual([true, false, true]);
    // without a time it is still refused: nothing says where the track's time is
    expect(() => mediaSegment([{ track: aac, samples: [] }], 2)).toThrow(RangeError);

    const file = join(tmp, 'audio-gap.mp4');
    writeFileSync(file, Buffer.concat([initSegment([aac]), mediaSegment(audioOf(0), 1), empty, mediaSegment(audioOf(2), 3)]));
    const probe = await probeDecode(file);
    expect(probe.stderr.trim()).toBe('');
    expect(probe.frames.length).toBe(audioOf(0)[0]!.samples.length + audioOf(2)[0]!.samples.length);
  });
});

describe('refusals', () => {
  const h264 = headerOf(new Uint8Array(readFileSync(fixturePath('mkv/h264-aac-5s.mkv'))));
  const avc = h264.tracks.find((t) => t.codecId === 'V_MPEG4/ISO/AVC')!;
  const aac = h264.tracks.find((t) => t.codecId === 'A_AAC')!;
  const hevc = headerOf(new Uint8Array(readFileSync(fixturePath('mkv/hevc-5s.mkv')))).tracks[0]!;
  const opusSet = headerOf(new Uint8Array(readFileSync(fixturePath('mkv/h264-opus-5s.mkv'))));
  const opus = opusSet.tracks.find((t) => t.codecId === 'A_OPUS')!;
  const avcC = avc.codecPrivate!;
  const patched = (bytes: Uint8Array, at: number, value: number): Uint8Array => {
    const copy = new Uint8Array(bytes);
    copy[at] = value;
    return copy;
  };
  const with_ = (t: TrackInfo, codecPrivate: Uint8Array | undefined): TrackInfo => ({ ...t, codecPrivate });

  const cases: [string, PackagingRefusal, TrackInfo][] = [
    ['Opus (from h264-opus-5s.mkv)', 'unsupported', opus],
    ['VP8', 'unsupported', { ...avc, codecId: 'V_VP8' }],
    ['VP9', 'unsupported', { ...avc, codecId: 'V_VP9' }],
    ['MJPEG in VFW', 'unsupported', { ...avc, codecId: 'V_MS/VFW/FOURCC' }],
    ['G.711 A-law', 'unsupported', { ...aac, codecId: 'A_MS/ACM' }],
    ['H.264 without CodecPrivate', 'missing-cpd', with_(avc, undefined)],
    ['H.264 with empty CodecPrivate', 'missing-cpd', with_(avc, new Uint8Array(0))],
    ['H.265 without CodecPrivate', 'missing-cpd', with_(hevc, undefined)],
    ['AAC without CodecPrivate', 'missing-cpd', with_(aac, undefined)],
    ['avcC cut inside the SPS', 'invalid-cpd', with_(avc, avcC.subarray(0, 10))],
    ['avcC cut before the PPS count', 'invalid-cpd', with_(avc, avcC.subarray(0, 8 + ((avcC[6]! << 8) | avcC[7]!)))],
    ['avcC of 4 bytes', 'invalid-cpd', with_(avc, avcC.subarray(0, 4))],
    ['avcC version 0', 'invalid-cpd', with_(avc, patched(avcC, 0, 0))],
    ['avcC with no SPS', 'invalid-cpd', with_(avc, patched(avcC, 5, 0xe0))],
    ['avcC with 3-byte NAL lengths', 'invalid-cpd', with_(avc, patched(avcC, 4, 0xfe))],
    ['Annex B start code instead of avcC', 'invalid-cpd', with_(avc, Uint8Array.of(0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e))],
    ['hvcC cut in its header', 'invalid-cpd', with_(hevc, hevc.codecPrivate!.subarray(0, 20))],
    ['hvcC cut inside a NAL unit array', 'invalid-cpd', with_(hevc, hevc.codecPrivate!.subarray(0, 40))],
    ['hvcC version 0', 'invalid-cpd', with_(hevc, patched(hevc.codecPrivate!, 0, 0))],
    ['AudioSpecificConfig of 1 byte', 'invalid-cpd', with_(aac, aac.codecPrivate!.subarray(0, 1))],
    ['AudioSpecificConfig with object type 0', 'invalid-cpd', with_(aac, Uint8Array.of(0x01, 0x88))],
    ['AudioSpecificConfig with reserved frequency index 13', 'invalid-cpd', with_(aac, Uint8Array.of(0x16, 0x88))],
  ];

  it.each(cases)('%s → %s', (_name, kind, track) => {
    const refusal = (fn: () => unknown): UnsupportedCodecError => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(UnsupportedCodecError);
        return e as UnsupportedCodecError;
      }
      throw new Error('expected a refusal');
    };
    // Next to a good H.264 track unless the refused track is that track.
    const fromInit = refusal(() => initSegment(track.number === avc.number ? [track] : [avc, track]));
    expect(fromInit.kind).toBe(kind);
    expect(fromInit.trackNumber).toBe(track.number);
    expect(fromInit.codecId).toBe(track.codecId);
    expect(refusal(() => codecString(track)).kind).toBe(kind);
    const runs: TrackRun[] = [{ track, samples: [{ ptsMs: 0, dtsMs: 0, durationMs: 20, keyframe: true, data: new Uint8Array(8) }] }];
    expect(refusal(() => mediaSegment(runs, 1)).kind).toBe(kind);
  });

  it('refuses decode times before 0 (tfdt is unsigned) rather than wrapping them', () => {
    const runs: TrackRun[] = [{ track: avc, samples: [{ ptsMs: 0, dtsMs: -33.3, durationMs: 33.3, keyframe: true, data: new Uint8Array(8) }] }];
    expect(() => mediaSegment(runs, 1)).toThrow(RangeError);
  });

  it('accepts the intact records the refusals were derived from', () => {
    expect(codecString(avc)).toBe('avc1.42C01E');
    expect(codecString(aac)).toBe('mp4a.40.2');
    expect(codecString(hevc)).toBe('hvc1.1.6.L63.90');
    expect(initSegment([avc, aac]).length).toBeGreaterThan(0);
  });
});
