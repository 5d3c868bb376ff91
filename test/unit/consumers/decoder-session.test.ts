import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecoderSession, type DecodedFrame } from '../../../src/consumers/decoder-session.js';
import { findFfmpeg } from '../../../src/frames/ffmpeg-binary.js';
import type { DecoderOptions as LiveDecoderOptions } from '../../../src/consumers/decoder-session.js';
import { parseClusterBlocks } from '../../../src/formats/mkv/mkv-blocks.js';
import { MkvStreamParser } from '../../../src/formats/mkv/mkv-stream-parser.js';
import type { ParsedFragment } from '../../../src/media/parse-events.js';
import type { FragmentRecord, StoredTrackInfo } from '../../../src/store/fragment-store.js';
import { REAL_MEDIA, clustersOf, fixture, realMedia } from '../../helpers/media.js';

const ffmpeg = findFfmpeg(process.env);
const FFMPEG = ffmpeg?.path ?? 'ffmpeg-not-found';

/** 5 s of 640x360 H.264 at 30 fps, one 1 s GOP per cluster, cluster timecodes 0, 1000, … 4000 (RELATIVE). */
const GOP = 'mkv/h264-5s-1s-gop.mkv';
/** The KVS producer SDK's PutMedia body: 37 clusters 1.5 s apart, 640x480 30 fps, absolute epoch-ms timecodes. */
const KVSSINK = 'kvs-producer/kvssink-test-stream-1_0.mkv';

type Media = { info: StoredTrackInfo; clusters: ParsedFragment[]; videoTrack: number };

function mediaOf(bytes: Uint8Array, trackInfoId = 7): Media {
  const head = new MkvStreamParser().push(bytes).find((e) => e.kind === 'header');
  if (head?.kind !== 'header') {
    throw new Error('no Matroska header');
  }
  const { bytes: header, ...tracks } = head.header;
  const video = tracks.tracks.find((t) => t.kind === 'video');
  if (video === undefined) {
    throw new Error('no video track');
  }
  return { info: { id: trackInfoId, streamId: 1, header, ...tracks }, clusters: clustersOf(bytes), videoTrack: video.number };
}

/** Fake index rows for the clusters: producer time from `producerOf`, server time a per-fragment offset later. */
function recordsOf(m: Media, producerOf: (c: ParsedFragment) => number): FragmentRecord[] {
  return m.clusters.map((c, i) => ({
    streamId: 1,
    fragmentNumber: `91343852333181432392682062607743920146264${String(883612 + i)}`,
    producerTimestampMs: producerOf(c),
    // a different producer→server offset per fragment, so a frame mapped to the wrong fragment shows
    serverTimestampMs: producerOf(c) + 2000 + 7 * i,
    durationMs: 1000,
    timecode: c.timecode,
    size: c.bytes.length,
    tagsSize: 0,
    trackInfoId: m.info.id,
  }));
}

/** Every video frame of the input: its media time and the fragment it is in. */
function inputFrames(m: Media, records: FragmentRecord[]): { ms: number; fragment: FragmentRecord }[] {
  const scale = m.info.timecodeScaleNs / 1e6;
  return m.clusters
    .flatMap((c, i) => parseClusterBlocks(c.bytes).blocks.filter((b) => b.track === m.videoTrack).map((b) => ({ ms: b.timecode * scale, fragment: records[i]! })))
    .sort((a, b) => a.ms - b.ms);
}

/** The documented grid: the first frame at or after each multiple of the interval. */
function gridPicks<T extends { ms: number }>(frames: T[], intervalMs: number): T[] {
  const out: T[] = [];
  let last: number | null = null;
  for (const f of frames) {
    const slot = Math.floor(f.ms / intervalMs);
    if (last === null || slot > last) {
      out.push(f);
      last = slot;
    }
  }
  return out;
}

async function decode(m: Media, records: FragmentRecord[], opts: Omit<LiveDecoderOptions, 'ffmpegPath'>): Promise<{ frames: DecodedFrame[]; session: DecoderSession }> {
  const frames: DecodedFrame[] = [];
  const session = new DecoderSession(m.info, { ffmpegPath: FFMPEG, ...opts }, (f) => frames.push(f));
  for (const [i, r] of records.entries()) {
    expect(session.accepts(r)).toBe(true);
    await session.feed(r, m.clusters[i]!.bytes);
  }
  await session.end();
  return { frames, session };
}

/** Width and height from a JPEG's start-of-frame or a PNG's IHDR. */
function imageSize(img: Uint8Array): { format: 'JPEG' | 'PNG'; width: number; height: number } {
  const b = Buffer.from(img.buffer, img.byteOffset, img.byteLength);
  if (b.readUInt32BE(0) === 0x89504e47) {
    return { format: 'PNG', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  expect(b.readUInt16BE(0)).toBe(0xffd8);
  let p = 2;
  while (p + 9 < b.length) {
    const marker = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    if (marker >= 0xffc0 && marker <= 0xffcf && marker !== 0xffc4 && marker !== 0xffc8 && marker !== 0xffcc) {
      return { format: 'JPEG', height: b.readUInt16BE(p + 5), width: b.readUInt16BE(p + 7) };
    }
    p += 2 + len;
  }
  throw new Error('JPEG without a start-of-frame');
}

const T0 = 1_750_000_000_000;

/** Pids of the live processes whose command line contains `marker` (read from /proc). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) {
      continue;
    }
    let cmdline: string;
    let state: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      // the state after the parenthesised command name: a zombie has exited already
      state = readFileSync(`/proc/${name}/stat`, 'utf8').replace(/^.*\) /s, '').charAt(0);
    } catch {
      continue; // gone while we looked
    }
    if (cmdline.includes(marker) && state !== 'Z') {
      pids.push(Number(name));
    }
  }
  return pids;
}

describe('DecoderSession', () => {
  it('has an ffmpeg to run', () => {
    expect(ffmpeg).not.toBeNull();
    expect(existsSync(FFMPEG)).toBe(true);
  });

  describe(`${GOP} fed as fragments (RELATIVE timecodes, producer start ${T0})`, () => {
    const m = mediaOf(fixture(GOP));
    const records = recordsOf(m, (c) => T0 + c.timecode);
    const input = inputFrames(m, records);

    it('is the fixture the tests expect', () => {
      expect(m.clusters.map((c) => c.timecode)).toEqual([0, 1000, 2000, 3000, 4000]);
      expect(input).toHaveLength(150);
    });

    it.each<[number, number]>([
      [250, 20],
      [300, 17],
      [333, 15],
      [500, 10],
      [700, 8],
      [1000, 5],
      [1300, 4],
      [2000, 3],
    ])('every %i ms: %i frames, on the grid, each mapped to its own fragment and timestamps', async (intervalMs, count) => {
      const { frames } = await decode(m, records, { intervalMs, format: 'JPEG', quality: 80, width: 320, lumaWidth: 160 });
      const expected = gridPicks(input, intervalMs);
      expect(expected).toHaveLength(count);
      expect(frames.map((f) => f.mediaMs)).toEqual(expected.map((e) => e.ms));
      expect(frames.map((f) => f.fragment.fragmentNumber)).toEqual(expected.map((e) => e.fragment.fragmentNumber));
      for (const f of frames) {
        const offset = f.mediaMs - f.fragment.timecode;
        expect(f.producerTimestamp).toBe(f.fragment.producerTimestampMs + offset);
        expect(f.serverTimestamp).toBe(f.fragment.serverTimestampMs + offset);
        expect(f.producerTimestamp).toBe(T0 + f.mediaMs);
      }
    });

    // Regression: slots were floor(t/0.1) in floating point, and 0.3/0.1 < 3 put the frame at 300 ms in slot 2, so
    // it was skipped and the frame after it taken. These frames sit exactly on a slot start that floating point misses.
    it.each<[number, number, number[]]>([
      [100, 50, [300, 600, 1200, 2400, 2900, 4100, 4300, 4800]],
      [200, 25, [600, 1200, 2400, 4800]],
      [400, 13, [1200, 2400, 4800]],
    ])('every %i ms: %i frames, including the slot starts floating point misses (%j)', async (intervalMs, count, exact) => {
      const { frames } = await decode(m, records, { intervalMs, format: 'JPEG', quality: 80, width: 160, lumaWidth: 160 });
      const expected = gridPicks(input, intervalMs);
      expect(expected).toHaveLength(count);
      for (const ms of exact) {
        expect(expected.map((e) => e.ms)).toContain(ms);
      }
      expect(frames.map((f) => f.mediaMs)).toEqual(expected.map((e) => e.ms));
      expect(frames.map((f) => f.fragment.fragmentNumber)).toEqual(expected.map((e) => e.fragment.fragmentNumber));
      expect(frames.map((f) => f.producerTimestamp)).toEqual(expected.map((e) => T0 + e.ms));
    });

    it.each<[string, Omit<LiveDecoderOptions, 'ffmpegPath' | 'intervalMs'>, { format: 'JPEG' | 'PNG'; width: number; height: number }, { width: number; height: number }]>([
      ['JPEG at source size', { format: 'JPEG', quality: 80, lumaWidth: 160 }, { format: 'JPEG', width: 640, height: 360 }, { width: 160, height: 90 }],
      ['JPEG at WidthPixels 320', { format: 'JPEG', quality: 30, width: 320, lumaWidth: 160 }, { format: 'JPEG', width: 320, height: 180 }, { width: 160, height: 90 }],
      ['PNG at HeightPixels 120 (width kept even)', { format: 'PNG', quality: 80, height: 120, lumaWidth: 160 }, { format: 'PNG', width: 214, height: 120 }, { width: 160, height: 90 }],
      ['PNG at 64x64 (aspect not kept)', { format: 'PNG', quality: 80, width: 64, height: 64, lumaWidth: 160 }, { format: 'PNG', width: 64, height: 64 }, { width: 160, height: 90 }],
      ['a narrower thumbnail when asked', { format: 'JPEG', quality: 80, width: 320, lumaWidth: 64 }, { format: 'JPEG', width: 320, height: 180 }, { width: 64, height: 36 }],
    ])('%s: the image is what it says, the luma thumbnail at most 160 px wide', async (_name, opts, image, luma) => {
      const { frames } = await decode(m, records, { intervalMs: 1000, ...opts });
      expect(frames).toHaveLength(5);
      for (const f of frames) {
        expect({ width: f.width, height: f.height }).toEqual({ width: image.width, height: image.height });
        expect(imageSize(f.image)).toEqual(image);
        expect({ width: f.luma.width, height: f.luma.height }).toEqual(luma);
        expect(f.luma.width).toBeLessThanOrEqual(160);
        expect(f.luma.data).toHaveLength(luma.width * luma.height);
      }
    });

    it('the thumbnail is the picture: testsrc frames a second apart differ, and are not flat', async () => {
      const { frames } = await decode(m, records, { intervalMs: 1000, format: 'JPEG', quality: 80, lumaWidth: 160 });
      const digests = new Set(frames.map((f) => Buffer.from(f.luma.data).toString('base64')));
      expect(digests.size).toBe(5);
      for (const f of frames) {
        const values = new Set(f.luma.data);
        expect(values.size).toBeGreaterThan(16);
        const mean = f.luma.data.reduce((s, v) => s + v, 0) / f.luma.data.length;
        expect(mean).toBeGreaterThan(30);
        expect(mean).toBeLessThan(225);
      }
    });

    it('a fragment on another track set, or earlier in media time, needs a new session; equal or later does not', async () => {
      const frames: DecodedFrame[] = [];
      const s = new DecoderSession(m.info, { ffmpegPath: FFMPEG, intervalMs: 1000, format: 'JPEG', quality: 80, lumaWidth: 160 }, (f) => frames.push(f));
      expect(s.trackInfoId).toBe(7);
      expect(s.accepts(records[2]!)).toBe(true);
      expect(s.accepts({ ...records[2]!, trackInfoId: 8 })).toBe(false);
      await s.feed(records[2]!, m.clusters[2]!.bytes);
      expect(s.mediaStartMs(records[2]!)).toBe(2000);
      expect(s.accepts(records[1]!)).toBe(false);
      expect(s.accepts(records[2]!)).toBe(true);
      expect(s.accepts(records[3]!)).toBe(true);
      await s.feed(records[3]!, m.clusters[3]!.bytes);
      await s.end();
      expect(s.exited).toBe(true);
      expect(s.accepts(records[4]!)).toBe(false);
      expect(frames.map((f) => [f.mediaMs, f.fragment.fragmentNumber])).toEqual([
        [2000, records[2]!.fragmentNumber],
        [3000, records[3]!.fragmentNumber],
      ]);
      // feeding an exited session is a no-op that resolves at once
      await s.feed(records[4]!, m.clusters[4]!.bytes);
      expect(frames).toHaveLength(2);
    });

    it('kill ends a running session; finished settles and it accepts nothing more', async () => {
      let frames = 0;
      const s = new DecoderSession(m.info, { ffmpegPath: FFMPEG, intervalMs: 1000, format: 'JPEG', quality: 80, lumaWidth: 160 }, () => frames++);
      for (const [i, r] of records.entries()) {
        await s.feed(r, m.clusters[i]!.bytes);
      }
      // a frame out means ffmpeg is up and running
      const deadline = Date.now() + 20_000;
      while (frames === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(frames).toBeGreaterThan(0);
      s.kill();
      await expect(s.finished).rejects.toThrow(/SIGKILL/);
      expect(s.exited).toBe(true);
      expect(s.accepts(records[4]!)).toBe(false);
    });

    // Regression: fluent-ffmpeg probes ffmpeg before it spawns it, and a kill in that window did nothing: ffmpeg was
    // started afterwards, waited on its stdin for good, and `finished` never settled.
    it('kill right after construction (before ffmpeg is spawned): finished settles and no ffmpeg is left running', async () => {
      // a thumbnail width no other test uses marks this session's ffmpeg in the process list (it is in the filter graph)
      const lumaWidth = 1597;
      const marker = `min(${lumaWidth},iw)`;
      expect(processesWith(marker)).toEqual([]);
      const s = new DecoderSession(m.info, { ffmpegPath: FFMPEG, intervalMs: 1000, format: 'JPEG', quality: 80, lumaWidth }, () => undefined);
      s.kill();
      const outcome = await Promise.race([
        s.finished.then(
          () => 'resolved',
          (err: Error) => err.message,
        ),
        new Promise<string>((r) => setTimeout(() => r('still running after 15 s'), 15_000)),
      ]);
      // killed on spawn (SIGKILL), or it read the header alone and quit first: either way ffmpeg exited
      expect(outcome).toMatch(/^resolved$|SIGKILL|ffmpeg failed/);
      expect(s.exited).toBe(true);
      expect(s.accepts(records[0]!)).toBe(false);
      // nothing is spawned later either
      await new Promise((r) => setTimeout(r, 500));
      expect(processesWith(marker)).toEqual([]);
    });

    it('the process-list check sees a running session’s ffmpeg, and kill removes it', async () => {
      const lumaWidth = 1599;
      const marker = `min(${lumaWidth},iw)`;
      const s = new DecoderSession(m.info, { ffmpegPath: FFMPEG, intervalMs: 1000, format: 'JPEG', quality: 80, lumaWidth }, () => undefined);
      const deadline = Date.now() + 15_000;
      while (processesWith(marker).length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(processesWith(marker)).toHaveLength(1);
      s.kill();
      await expect(s.finished).rejects.toThrow(/SIGKILL/);
      expect(processesWith(marker)).toEqual([]);
    });

    it('input ffmpeg cannot read: finished rejects with ffmpeg’s reason', async () => {
      const bad: StoredTrackInfo = { ...m.info, header: new Uint8Array(4096).fill(0x42) };
      const s = new DecoderSession(bad, { ffmpegPath: FFMPEG, intervalMs: 1000, format: 'JPEG', quality: 80, lumaWidth: 160 }, () => undefined);
      await s.feed(records[0]!, m.clusters[0]!.bytes);
      await expect(s.end()).rejects.toThrow(/ffmpeg failed/);
      expect(s.exited).toBe(true);
    });
  });

  describe(`a real kvssink upload with absolute epoch-ms timecodes (${REAL_MEDIA}/${KVSSINK})`, () => {
    const m = mediaOf(realMedia(KVSSINK));
    // ABSOLUTE timecodes: the producer timestamp is the cluster timecode itself
    const records = recordsOf(m, (c) => c.timecode);
    const input = inputFrames(m, records);

    it('is the upload the tests expect', () => {
      expect(m.clusters).toHaveLength(37);
      expect(m.clusters[0]!.timecode).toBe(1_703_120_790_149);
      expect(m.clusters[36]!.timecode).toBe(1_703_120_790_149 + 36 * 1500);
      expect(input).toHaveLength(1640);
    });

    // Regression: the encoders rounded the copied epoch-ms timestamps to 1/framerate, so images came out up to 16 ms
    // before their frames (…790149 → …790133, …791016 → …791000), and a frame right at a cluster start was given the
    // previous fragment.
    it('every 1000 ms: the exact producer timestamps of the picked frames', async () => {
      const { frames } = await decode(m, records, { intervalMs: 1000, format: 'JPEG', quality: 80, width: 160, lumaWidth: 160 });
      const expected = gridPicks(input, 1000);
      expect(frames.slice(0, 3).map((f) => f.producerTimestamp)).toEqual([1_703_120_790_149, 1_703_120_791_016, 1_703_120_792_016]);
      expect(frames.slice(0, 3).map((f) => f.fragment.fragmentNumber)).toEqual([records[0]!.fragmentNumber, records[0]!.fragmentNumber, records[1]!.fragmentNumber]);
      expect(frames.map((f) => f.mediaMs)).toEqual(expected.map((e) => e.ms));
      expect(frames.map((f) => f.producerTimestamp)).toEqual(expected.map((e) => e.ms));
      expect(frames.map((f) => f.fragment.fragmentNumber)).toEqual(expected.map((e) => e.fragment.fragmentNumber));
      expect(frames.map((f) => f.serverTimestamp)).toEqual(expected.map((e) => e.fragment.serverTimestampMs + (e.ms - e.fragment.timecode)));
    });

    it('every 201 ms: each frame from the fragment it is in, at its exact timestamps, including those at a cluster start', async () => {
      const { frames } = await decode(m, records, { intervalMs: 201, format: 'JPEG', quality: 80, width: 160, lumaWidth: 160 });
      const expected = gridPicks(input, 201);
      expect(expected).toHaveLength(273);
      // the picks that are a cluster's first frame (rounded to 1/30 s they came out 16 ms early, in the fragment before)
      const atStart = [9, 11, 22, 24, 35].map((i) => ({ ms: m.clusters[i]!.timecode, fragment: records[i]!.fragmentNumber }));
      expect(atStart.map((a) => a.ms - 1_703_120_790_149)).toEqual([13_500, 16_500, 33_000, 36_000, 52_500]);
      for (const a of atStart) {
        expect(expected.map((e) => e.ms)).toContain(a.ms);
        expect(frames.find((f) => f.producerTimestamp === a.ms)?.fragment.fragmentNumber).toBe(a.fragment);
      }
      expect(frames.map((f) => f.mediaMs)).toEqual(expected.map((e) => e.ms));
      expect(frames.map((f) => f.fragment.fragmentNumber)).toEqual(expected.map((e) => e.fragment.fragmentNumber));
      expect(frames.map((f) => f.producerTimestamp)).toEqual(expected.map((e) => e.ms));
      expect(frames.map((f) => f.serverTimestamp)).toEqual(expected.map((e) => e.fragment.serverTimestampMs + (e.ms - e.fragment.timecode)));
    });

    it.each<[number, number]>([
      [1000, 55],
      [1500, 37],
    ])('every %i ms: %i frames, one per grid slot, with each fragment’s own producer→server offset', async (intervalMs, count) => {
      const { frames } = await decode(m, records, { intervalMs, format: 'JPEG', quality: 80, width: 320, lumaWidth: 160 });
      const expected = gridPicks(input, intervalMs);
      expect(expected).toHaveLength(count);
      expect(frames).toHaveLength(count);
      const slots = frames.map((f) => Math.floor(f.producerTimestamp / intervalMs));
      expect(slots).toEqual(expected.map((e) => Math.floor(e.ms / intervalMs)));
      expect(frames.map((f) => f.fragment.fragmentNumber)).toEqual(expected.map((e) => e.fragment.fragmentNumber));
      for (const f of frames) {
        expect(f.serverTimestamp - f.producerTimestamp).toBe(f.fragment.serverTimestampMs - f.fragment.producerTimestampMs);
        expect(Number.isInteger(f.producerTimestamp)).toBe(true);
        expect({ width: f.width, height: f.height }).toEqual({ width: 320, height: 240 });
        expect(imageSize(f.image)).toEqual({ format: 'JPEG', width: 320, height: 240 });
        expect({ width: f.luma.width, height: f.luma.height, bytes: f.luma.data.length }).toEqual({ width: 160, height: 120, bytes: 160 * 120 });
      }
    });
  });

  // Made at test time (not a stored fixture): every frame of a 5 fps clip sits on a 200 ms slot start.
  describe('a 5 fps clip (10 s testsrc, one 1 s GOP per cluster, made with ffmpeg into a temp dir)', () => {
    let dir: string;
    let m: Media;
    let records: FragmentRecord[];
    let input: { ms: number; fragment: FragmentRecord }[];

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'openkvs-decoder-5fps-'));
      const file = join(dir, 'h264-10s-5fps.mkv');
      // the media-fixtures mkv recipe at 5 fps: bitexact, keyframe every 5 frames, one cluster per GOP
      execFileSync(FFMPEG, [
        '-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
        '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=5:duration=10',
        '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '5', '-keyint_min', '5', '-sc_threshold', '0', '-bf', '0',
        '-cluster_time_limit', '1100', '-cluster_size_limit', '8000000',
        '-fflags', '+bitexact', '-flags:v', '+bitexact', '-map_metadata', '-1',
        '-f', 'matroska', file,
      ]);
      m = mediaOf(new Uint8Array(readFileSync(file)));
      records = recordsOf(m, (c) => T0 + c.timecode);
      input = inputFrames(m, records);
    });

    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('is the clip the test expects: 50 frames 200 ms apart in 10 clusters', () => {
      expect(m.clusters.map((c) => c.timecode)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000]);
      expect(input.map((f) => f.ms)).toEqual(Array.from({ length: 50 }, (_, k) => 200 * k));
    });

    it('every 200 ms: every frame, 600, 1200, 2400, 4800, 5800, 8200, 8600 and 9600 ms among them', async () => {
      const { frames } = await decode(m, records, { intervalMs: 200, format: 'PNG', quality: 80, lumaWidth: 160 });
      expect(frames.map((f) => f.mediaMs)).toEqual(input.map((f) => f.ms));
      expect(frames.map((f) => f.fragment.fragmentNumber)).toEqual(input.map((f) => f.fragment.fragmentNumber));
      expect(frames.map((f) => f.producerTimestamp)).toEqual(input.map((f) => T0 + f.ms));
    });
  });
});
