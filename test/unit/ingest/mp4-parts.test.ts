import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/formats/errors.js';
import { childBoxes, readBoxHeader } from '../../../src/ingest/mp4/boxes.js';
import { ByteStore } from '../../../src/ingest/mp4/byte-store.js';
import { ClusterAssembler, ticksToMs } from '../../../src/ingest/mp4/cluster-assembler.js';
import type { BlockGroup, PendingBlock } from '../../../src/ingest/mp4/cluster-assembler.js';
import { ascChannelCount, opusHeadFromDOps } from '../../../src/ingest/mp4/codec-config.js';
import { parseMoof } from '../../../src/ingest/mp4/moof.js';
import type { TrackExtends } from '../../../src/ingest/mp4/moof.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const box = (type: string, ...payload: number[][]): number[] => {
  const body = payload.flat();
  return [...u32(8 + body.length), ...ascii(type), ...body];
};

describe('readBoxHeader', () => {
  it('reads a compact header', () => {
    expect(readBoxHeader(bytes(...u32(24), ...ascii('ftyp')), 100)).toEqual({ type: 'ftyp', start: 100, headerSize: 8, size: 24 });
  });

  it('reads a 64-bit largesize header', () => {
    // prettier-ignore
    const head = bytes(/* size 1 */ 0, 0, 0, 1, ...ascii('mdat'), /* largesize 2^32 + 16 */ 0, 0, 0, 1, 0, 0, 0, 16);
    expect(readBoxHeader(head, 0)).toEqual({ type: 'mdat', start: 0, headerSize: 16, size: 2 ** 32 + 16 });
  });

  it('reports size 0 as running to the end of the stream', () => {
    expect(readBoxHeader(bytes(0, 0, 0, 0, ...ascii('mdat')), 8)).toEqual({ type: 'mdat', start: 8, headerSize: 8, size: undefined });
  });

  it('asks for more bytes when the header is incomplete', () => {
    expect(readBoxHeader(bytes(0, 0, 0, 8, 0x6d, 0x6f, 0x6f), 0)).toBeUndefined();
    expect(readBoxHeader(bytes(0, 0, 0, 1, ...ascii('mdat'), 0, 0, 0), 0)).toBeUndefined();
  });

  it('rejects sizes smaller than the header and largesizes beyond 2^53', () => {
    expect(() => readBoxHeader(bytes(0, 0, 0, 7, ...ascii('free')), 0)).toThrow(ParseError);
    expect(() => readBoxHeader(bytes(0, 0, 0, 1, ...ascii('mdat'), 0, 0, 0, 0, 0, 0, 0, 15), 0)).toThrow(ParseError);
    expect(() => readBoxHeader(bytes(0, 0, 0, 1, ...ascii('mdat'), 0xff, 0, 0, 0, 0, 0, 0, 0), 0)).toThrow(ParseError);
  });
});

describe('childBoxes', () => {
  it('splits a container payload and places children at absolute offsets', () => {
    const payload = bytes(...box('mfhd', u32(0), u32(7)), ...box('free'));
    const children = childBoxes(payload, 1000);
    expect(children.map((c) => [c.type, c.start, c.payloadStart, c.payload.length])).toEqual([
      ['mfhd', 1000, 1008, 8],
      ['free', 1016, 1024, 0],
    ]);
  });

  it('rejects a child that overruns its parent or a cut-off header', () => {
    expect(() => childBoxes(bytes(...u32(20), ...ascii('free'), 0, 0), 0)).toThrow(ParseError);
    expect(() => childBoxes(bytes(...box('free'), 0, 0, 0), 0)).toThrow(ParseError);
  });
});

describe('parseMoof', () => {
  // prettier-ignore
  const moof = [
    ...box('mfhd', u32(0), /* sequence */ u32(1)),
    ...box('traf',
      box('tfhd',
        /* version 0, flags: default-base-is-moof | default duration | default size | default flags */ u32(0x020038),
        /* track_ID */ u32(1),
        /* default_sample_duration */ u32(512),
        /* default_sample_size */ u32(100),
        /* default_sample_flags: non-sync */ u32(0x01010000)),
      box('tfdt', /* version 1 */ u32(0x01000000), /* baseMediaDecodeTime */ u32(0), u32(90000)),
      box('trun',
        /* version 1, flags: data-offset | first-sample-flags | composition offsets */ u32(0x01000805),
        /* sample_count */ u32(3),
        /* data_offset */ u32(200),
        /* first_sample_flags: sync */ u32(0x02000000),
        /* cto[0] */ u32(1024), /* cto[1] (signed) */ u32(-512 >>> 0), /* cto[2] */ u32(0))),
    ...box('traf',
      box('tfhd', /* flags: none, so data follows the previous traf's */ u32(0), /* track_ID */ u32(2)),
      box('trun',
        /* version 0, flags: duration | size */ u32(0x000300),
        /* sample_count */ u32(2),
        /* duration, size */ u32(1024), u32(10),
        /* duration, size */ u32(1024), u32(12))),
  ];
  const trex = new Map<number, TrackExtends>([[2, { defaultDuration: 0, defaultSize: 0, defaultFlags: 0 }]]);

  it('resolves defaults, decode times, composition offsets, sync flags and absolute offsets', () => {
    const moofStart = 5000;
    const next = new Map<number, number>([[2, 48000]]);
    const samples = parseMoof(bytes(...moof), moofStart, moofStart + 8, trex, next);
    expect(samples).toEqual([
      { trackId: 1, dts: 90000, cto: 1024, duration: 512, size: 100, offset: 5200, sync: true },
      { trackId: 1, dts: 90512, cto: -512, duration: 512, size: 100, offset: 5300, sync: false },
      { trackId: 1, dts: 91024, cto: 0, duration: 512, size: 100, offset: 5400, sync: false },
      // No tfdt: decode time continues from the previous fragment; no base offset: after track 1's data.
      { trackId: 2, dts: 48000, cto: 0, duration: 1024, size: 10, offset: 5500, sync: true },
      { trackId: 2, dts: 49024, cto: 0, duration: 1024, size: 12, offset: 5510, sync: true },
    ]);
    expect([...next]).toEqual([
      [2, 50048],
      [1, 91536],
    ]);
  });

  it('rejects a traf without tfhd and a trun whose table does not fit', () => {
    const noTfhd = bytes(...box('traf', box('tfdt', u32(0), u32(0))));
    expect(() => parseMoof(noTfhd, 0, 8, trex, new Map())).toThrow(ParseError);
    // prettier-ignore
    const shortTrun = bytes(...box('traf',
      box('tfhd', u32(0x020000), u32(1)),
      box('trun', /* flags: size */ u32(0x000200), /* sample_count */ u32(1000), u32(1))));
    expect(() => parseMoof(shortTrun, 0, 8, trex, new Map())).toThrow(/table does not fit/);
  });

  it('caps the sample count of runs without per-sample fields', () => {
    // prettier-ignore
    const huge = bytes(...box('traf',
      box('tfhd', u32(0x020000), u32(1)),
      box('trun', u32(0), /* sample_count */ u32(0xffffffff))));
    expect(() => parseMoof(huge, 0, 8, trex, new Map())).toThrow(expect.objectContaining({ code: 'TOO_LARGE' }));
  });
});

describe('ByteStore', () => {
  it('reads ranges across chunks as standalone copies', () => {
    const s = new ByteStore();
    s.append(bytes(0, 1, 2));
    s.append(bytes());
    s.append(bytes(3, 4));
    s.append(bytes(5, 6, 7, 8));
    expect(s.end).toBe(9);
    const r = s.read(2, 5);
    expect(r).toEqual(bytes(2, 3, 4, 5, 6));
    expect(r.buffer.byteLength).toBe(5);
  });

  it('keeps its own copy of what it was given', () => {
    const s = new ByteStore();
    const chunk = bytes(1, 2, 3);
    s.append(chunk);
    chunk.fill(0);
    expect(s.read(0, 3)).toEqual(bytes(1, 2, 3));
  });

  it('forgets what lies before the discard point and releases whole chunks', () => {
    const s = new ByteStore();
    for (let i = 0; i < 200; i++) {
      s.append(bytes(i, i));
    }
    s.discardBefore(301);
    expect(s.start).toBe(301);
    expect(s.has(300, 1)).toBe(false);
    expect(s.read(301, 3)).toEqual(bytes(150, 151, 151));
    // Chunk 150 still holds byte 301, so 300 of the 400 bytes are released.
    expect(s.heldBytes).toBe(100);
    expect(() => s.read(299, 2)).toThrow(RangeError);
    // Discarding never moves backwards and stops at the end.
    s.discardBefore(10);
    expect(s.start).toBe(301);
    s.discardBefore(10_000);
    expect(s.start).toBe(400);
    expect(s.heldBytes).toBe(0);
  });
});

describe('codec configuration', () => {
  const ascCases: { name: string; asc: Uint8Array; channels: number }[] = [
    { name: 'AAC-LC 48 kHz stereo (11 90)', asc: bytes(0x11, 0x90), channels: 2 },
    { name: 'AAC-LC 48 kHz mono with sync extension (11 88 56 e5 00)', asc: bytes(0x11, 0x88, 0x56, 0xe5, 0x00), channels: 1 },
    { name: 'AAC-LC 48 kHz 5.1 (11 b0)', asc: bytes(0x11, 0xb0), channels: 6 },
    { name: 'AAC-LC 44.1 kHz 7.1 (12 38)', asc: bytes(0x12, 0x38), channels: 8 },
    { name: 'explicit 24-bit sampling frequency, stereo', asc: bytes(0x17, 0x80, 0x5d, 0xc0, 0x10), channels: 2 },
    { name: 'channel configuration 0 (program config element)', asc: bytes(0x11, 0x80), channels: 0 },
  ];
  for (const c of ascCases) {
    it(`ascChannelCount: ${c.name}`, () => {
      expect(ascChannelCount(c.asc)).toBe(c.channels);
    });
  }

  it('builds OpusHead from dOps (mapping family 0)', () => {
    const head = opusHeadFromDOps({
      Version: 0,
      OutputChannelCount: 2,
      PreSkip: 312,
      InputSampleRate: 48000,
      OutputGain: -256,
      ChannelMappingFamily: 0,
    });
    // prettier-ignore
    expect(head).toEqual(bytes(
      ...ascii('OpusHead'), /* version */ 1, /* channels */ 2,
      /* pre-skip 312 LE */ 0x38, 0x01, /* 48000 LE */ 0x80, 0xbb, 0x00, 0x00,
      /* gain -256 LE */ 0x00, 0xff, /* family */ 0,
    ));
  });

  it('builds OpusHead from dOps (mapping family 1 with a channel mapping table)', () => {
    const head = opusHeadFromDOps({
      Version: 0,
      OutputChannelCount: 3,
      PreSkip: 0,
      InputSampleRate: 44100,
      OutputGain: 0,
      ChannelMappingFamily: 1,
      StreamCount: 2,
      CoupledCount: 1,
      ChannelMapping: [0, 2, 1],
    });
    // prettier-ignore
    expect(head).toEqual(bytes(
      ...ascii('OpusHead'), 1, 3, 0, 0, /* 44100 LE */ 0x44, 0xac, 0, 0, 0, 0, /* family */ 1,
      /* streams */ 2, /* coupled */ 1, /* mapping */ 0, 2, 1,
    ));
  });
});

describe('ticksToMs', () => {
  const cases: [ticks: number, timescale: number, ms: number][] = [
    [0, 90000, 0],
    [512, 15360, 33],
    [1024, 48000, 21],
    [1536, 48000, 32], // 32.0
    [45, 90000, 1], // 0.5 ms rounds up
    [-1024, 48000, -21],
    [1_703_120_790_149 * 90, 90000, 1_703_120_790_149],
    [2 ** 53 - 1, 1_000_000, 9_007_199_254_741],
  ];
  for (const [ticks, timescale, ms] of cases) {
    it(`${ticks} @ ${timescale} → ${ms} ms`, () => {
      expect(ticksToMs(ticks, timescale)).toBe(ms);
    });
  }
});

describe('ClusterAssembler', () => {
  const block = (track: number, pts: number, keyframe = true, size = 10): PendingBlock => ({
    track,
    pts,
    order: pts / 1000,
    keyframe,
    size,
    offset: pts * 10,
  });
  const collect = (maxBytes = 1 << 20) => {
    const opened: number[] = [];
    const closed: BlockGroup[] = [];
    const a = new ClusterAssembler(
      maxBytes,
      (t) => opened.push(t),
      (g) => closed.push(g),
    );
    return { a, opened, closed };
  };

  it('opens a cluster at the lowest nearby presentation time, so reordered blocks fit', () => {
    const { a, opened, closed } = collect();
    // Keyframe at 100, then a B-frame (67) and audio (90) that present earlier.
    a.add([block(1, 100), block(1, 167, false), block(1, 67, false), block(2, 90)], (_b, i) => i === 0);
    a.close();
    expect(opened).toEqual([67]);
    expect(closed.map((g) => [g.timecode, g.blocks.length, g.bytes])).toEqual([[67, 4, 40]]);
  });

  it('starts a new cluster when a block is outside the int16 range of the current one', () => {
    const { a, closed } = collect();
    a.add([block(1, 0), block(1, 32_767, false), block(1, 32_768, false), block(1, 70_000, false)], () => false);
    a.close();
    expect(closed.map((g) => [g.timecode, g.blocks.map((b) => b.pts)])).toEqual([
      [0, [0, 32_767]],
      [32_768, [32_768]],
      [70_000, [70_000]],
    ]);
  });

  it('throws TOO_LARGE when a cluster would exceed the byte cap', () => {
    const { a } = collect(25);
    expect(() => a.add([block(1, 0), block(1, 1), block(1, 2)], () => false)).toThrow(
      expect.objectContaining({ code: 'TOO_LARGE' }),
    );
  });
});
