import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MkvStreamParser, parseClusterBlocks } from '../../../src/formats/mkv/mkv-stream-parser.js';
import type { ParseEvent, ParsedFragment, ParsedHeader } from '../../../src/media/parse-events.js';
import { H264FrameWriter } from '../../../src/sdk/frame-writer.js';
import { annexBToAvcc, splitAnnexB, toLengthPrefixed } from '../../../src/sdk/h264.js';
import { REAL_MEDIA } from '../../helpers/media.js';

type Frame = { au: Buffer; key: boolean };

function producerCFrames(): Frame[] {
  const media = readFileSync(resolve(REAL_MEDIA, 'elementary/producer-c_h264_frames_001-180.h264'));
  const rows = readFileSync(resolve(REAL_MEDIA, 'elementary/producer-c_h264_frames_001-180.frames.csv'), 'utf8').trim().split('\n').slice(1);
  return rows.map((row) => {
    const [, , offset, size, , key] = row.split(',');
    return { au: media.subarray(Number(offset), Number(offset) + Number(size)), key: key === '1' };
  });
}

function parse(bytes: Uint8Array): { header: ParsedHeader; fragments: ParsedFragment[] } {
  const p = new MkvStreamParser();
  const events: ParseEvent[] = [...p.push(bytes), ...p.end()];
  const header = events.find((e) => e.kind === 'header');
  if (header?.kind !== 'header') {
    throw new Error('no header');
  }
  return { header: header.header, fragments: events.flatMap((e) => (e.kind === 'fragment' ? [e.fragment] : [])) };
}

const T0 = 1_767_225_600_000;
const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

describe('H264FrameWriter', () => {
  it('makes one cluster per GOP from Annex-B frames, with keyframes detected and the avcC built', () => {
    const frames = producerCFrames();
    const seen: Uint8Array[] = [];
    const w = new H264FrameWriter({ track: { width: 640, height: 480, frameDurationMs: 40 }, onCluster: (c) => seen.push(c) });
    expect(w.ready).toBe(false);
    expect(() => w.header()).toThrow(/codecPrivate/);
    const returned: Uint8Array[] = [];
    frames.forEach((f, i) => {
      const c = w.pushAccessUnit(f.au, T0 + i * 40);
      if (c !== null) {
        returned.push(c);
      }
    });
    returned.push(w.flush()!);
    expect(w.flush()).toBeNull();
    // onCluster sees the very clusters returned (compared by identity: deep-comparing megabytes is slow).
    expect(seen).toHaveLength(returned.length);
    expect(returned.every((c, i) => c === seen[i])).toBe(true);

    const { header, fragments } = parse(concat([w.header(), ...returned]));
    expect(header.tracks).toEqual([
      expect.objectContaining({ number: 1, kind: 'video', codecId: 'V_MPEG4/ISO/AVC', width: 640, height: 480, defaultDurationNs: 40_000_000, codecPrivate: w.codecPrivate }),
    ]);
    expect(fragments.map((f) => f.timecode)).toEqual([0, 45, 90, 135].map((i) => T0 + i * 40));
    expect(fragments.every((f) => f.startsWithKeyframe)).toBe(true);
    const blocks = fragments.flatMap((f) => parseClusterBlocks(f.bytes).blocks);
    expect(blocks).toHaveLength(180);
    expect(blocks.map((b) => b.keyframe)).toEqual(frames.map((f) => f.key));
    expect(blocks.map((b) => b.timecode)).toEqual(frames.map((_, i) => T0 + i * 40));
    // Blocks hold the frame as 4-byte length-prefixed NAL units, without the access unit delimiter.
    const first = blocks[0]!.frames[0]!;
    const nals = splitAnnexB(frames[0]!.au).filter((n) => (n[0]! & 0x1f) !== 9);
    expect(Buffer.from(first).equals(Buffer.from(toLengthPrefixed(nals)))).toBe(true);
  });

  it('takes AVCC frames with a given codecPrivate, and the keyframe flag from the caller', () => {
    const frames = producerCFrames().slice(0, 50);
    const probe = new H264FrameWriter({ track: { width: 640, height: 480 } });
    probe.pushAccessUnit(frames[0]!.au, T0);
    const w = new H264FrameWriter({ track: { width: 640, height: 480, codecPrivate: probe.codecPrivate! }, inputFormat: 'avcc' });
    const out: Uint8Array[] = [];
    frames.forEach((f, i) => {
      const c = w.pushAccessUnit(annexBToAvcc(f.au), T0 + i * 40, { keyframe: i === 0 || i === 20 });
      if (c !== null) {
        out.push(c);
      }
    });
    out.push(w.flush()!);
    const { fragments } = parse(concat([w.header(), ...out]));
    expect(fragments.map((f) => f.timecode)).toEqual([T0, T0 + 20 * 40]);
    expect(fragments.map((f) => f.blockCount)).toEqual([20, 30]);
  });

  it('drops frames before the first keyframe, which nothing could decode', () => {
    const frames = producerCFrames();
    const w = new H264FrameWriter({ track: { width: 640, height: 480 } });
    for (let i = 1; i <= 5; i++) {
      expect(w.pushAccessUnit(frames[i]!.au, T0 + i * 40)).toBeNull();
    }
    expect(w.droppedBeforeKeyframe).toBe(5);
    expect(w.ready).toBe(false);
    w.pushAccessUnit(frames[0]!.au, T0 + 240);
    expect(w.ready).toBe(true);
    expect(parse(concat([w.header(), w.flush()!])).fragments.map((f) => f.blockCount)).toEqual([1]);
  });

  it('continues a GOP longer than maxClusterDurationMs in a new cluster (16-bit block offsets)', () => {
    const frames = producerCFrames();
    const w = new H264FrameWriter({ track: { width: 640, height: 480 }, maxClusterDurationMs: 1000 });
    const out: Uint8Array[] = [];
    // 45 frames 40 ms apart → 1.76 s of GOP: frames at offsets 0..1000 in one cluster, the rest in a second.
    for (let i = 0; i < 45; i++) {
      const c = w.pushAccessUnit(frames[i]!.au, T0 + i * 40);
      if (c !== null) {
        out.push(c);
      }
    }
    out.push(w.flush()!);
    const { fragments } = parse(concat([w.header(), ...out]));
    expect(fragments.map((f) => [f.timecode - T0, f.blockCount, f.startsWithKeyframe])).toEqual([
      [0, 26, true],
      [1040, 19, false],
    ]);
  });

  it('refuses a first keyframe without SPS/PPS when no codecPrivate is given', () => {
    const idrOnly = Uint8Array.of(0, 0, 0, 1, 0x65, 0x88, 0x84);
    expect(() => new H264FrameWriter({ track: { width: 2, height: 2 } }).pushAccessUnit(idrOnly, 0)).toThrow(/codecPrivate/);
  });

  it.each([
    ['a zero width', { track: { width: 0, height: 2 } }],
    ['maxClusterDurationMs above the int16 block offset', { track: { width: 2, height: 2 }, maxClusterDurationMs: 40_000 }],
  ])('refuses %s', (_, opts) => {
    expect(() => new H264FrameWriter(opts)).toThrow(RangeError);
  });

  it('refuses a negative timestamp', () => {
    expect(() => new H264FrameWriter({ track: { width: 2, height: 2 } }).pushAccessUnit(Uint8Array.of(0, 0, 1, 0x41), -1)).toThrow(RangeError);
  });
});
