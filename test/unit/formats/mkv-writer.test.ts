import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../../src/formats/ebml/ebml-writer.js';
import { MkvStreamParser, parseClusterBlocks } from '../../../src/formats/mkv/mkv-stream-parser.js';
import { writeCluster, writeMkvHeader, writeTags } from '../../../src/formats/mkv/mkv-writer.js';
import type { MkvWriteBlock } from '../../../src/formats/mkv/mkv-writer.js';
import type { TrackSet } from '../../../src/media/track.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

describe('writeMkvHeader', () => {
  it('writes EBML header, unknown-size Segment, Info and Tracks', () => {
    const set: TrackSet = {
      timecodeScaleNs: 1_000_000,
      tracks: [
        { number: 1, kind: 'video', codecId: 'V_MPEG4/ISO/AVC', codecPrivate: bytes(1, 2, 3), width: 640, height: 360 },
      ],
    };
    // prettier-ignore
    const want = bytes(
      /* EBML */ 0x1a, 0x45, 0xdf, 0xa3, /* size 35 */ 0xa3,
      /*   EBMLVersion 1 */ 0x42, 0x86, 0x81, 0x01,
      /*   EBMLReadVersion 1 */ 0x42, 0xf7, 0x81, 0x01,
      /*   EBMLMaxIDLength 4 */ 0x42, 0xf2, 0x81, 0x04,
      /*   EBMLMaxSizeLength 8 */ 0x42, 0xf3, 0x81, 0x08,
      /*   DocType */ 0x42, 0x82, 0x88, ...ascii('matroska'),
      /*   DocTypeVersion 4 */ 0x42, 0x87, 0x81, 0x04,
      /*   DocTypeReadVersion 2 */ 0x42, 0x85, 0x81, 0x02,
      /* Segment */ 0x18, 0x53, 0x80, 0x67, /* unknown size */ 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      /*   Info */ 0x15, 0x49, 0xa9, 0x66, /* size 27 */ 0x9b,
      /*     TimecodeScale 1e6 */ 0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40,
      /*     MuxingApp */ 0x4d, 0x80, 0x87, ...ascii('openkvs'),
      /*     WritingApp */ 0x57, 0x41, 0x87, ...ascii('openkvs'),
      /*   Tracks */ 0x16, 0x54, 0xae, 0x6b, /* size 45 */ 0xad,
      /*     TrackEntry */ 0xae, /* size 43 */ 0xab,
      /*       TrackNumber 1 */ 0xd7, 0x81, 0x01,
      /*       TrackUID 1 (= number) */ 0x73, 0xc5, 0x81, 0x01,
      /*       TrackType video */ 0x83, 0x81, 0x01,
      /*       CodecID */ 0x86, 0x8f, ...ascii('V_MPEG4/ISO/AVC'),
      /*       CodecPrivate */ 0x63, 0xa2, 0x83, 0x01, 0x02, 0x03,
      /*       Video */ 0xe0, 0x88,
      /*         PixelWidth 640 */ 0xb0, 0x82, 0x02, 0x80,
      /*         PixelHeight 360 */ 0xba, 0x82, 0x01, 0x68,
    );
    expect(writeMkvHeader(set)).toEqual(want);
  });

  it('writes title, apps, names, languages, durations, audio and subtitle tracks', () => {
    const set: TrackSet = {
      timecodeScaleNs: 1_000_000,
      tracks: [
        {
          number: 2,
          uid: 0x1234n,
          kind: 'audio',
          codecId: 'A_AAC',
          codecPrivate: bytes(0x11, 0x90),
          name: 'sound',
          language: 'eng',
          defaultDurationNs: 21_333_333.4,
          sampleRate: 48000,
          channels: 2,
        },
        { number: 3, kind: 'subtitle', codecId: 'S_TEXT/UTF8' },
      ],
    };
    const hdr = writeMkvHeader(set, { muxingApp: 'm', writingApp: 'w', title: 'T' });
    // prettier-ignore
    const info = bytes(
      /* Info */ 0x15, 0x49, 0xa9, 0x66, /* size 19 */ 0x93,
      /*   TimecodeScale */ 0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40,
      /*   MuxingApp "m" */ 0x4d, 0x80, 0x81, 0x6d,
      /*   WritingApp "w" */ 0x57, 0x41, 0x81, 0x77,
      /*   Title "T" */ 0x7b, 0xa9, 0x81, 0x54,
    );
    // prettier-ignore
    const audioEntry = bytes(
      /* TrackEntry */ 0xae, /* size 61 */ 0xbd,
      /*   TrackNumber 2 */ 0xd7, 0x81, 0x02,
      /*   TrackUID 0x1234 */ 0x73, 0xc5, 0x82, 0x12, 0x34,
      /*   TrackType audio */ 0x83, 0x81, 0x02,
      /*   CodecID */ 0x86, 0x85, ...ascii('A_AAC'),
      /*   CodecPrivate */ 0x63, 0xa2, 0x82, 0x11, 0x90,
      /*   Name */ 0x53, 0x6e, 0x85, ...ascii('sound'),
      /*   Language */ 0x22, 0xb5, 0x9c, 0x83, ...ascii('eng'),
      /*   DefaultDuration 21333333 (rounded) */ 0x23, 0xe3, 0x83, 0x84, 0x01, 0x45, 0x85, 0x55,
      /*   Audio */ 0xe1, /* size 13 */ 0x8d,
      /*     SamplingFrequency 48000.0 (8-byte float) */ 0xb5, 0x88, 0x40, 0xe7, 0x70, 0, 0, 0, 0, 0,
      /*     Channels 2 */ 0x9f, 0x81, 0x02,
    );
    // prettier-ignore
    const subtitleEntry = bytes(
      /* TrackEntry */ 0xae, /* size 23 */ 0x97,
      /*   TrackNumber 3 */ 0xd7, 0x81, 0x03,
      /*   TrackUID 3 */ 0x73, 0xc5, 0x81, 0x03,
      /*   TrackType subtitle */ 0x83, 0x81, 0x11,
      /*   CodecID */ 0x86, 0x8b, ...ascii('S_TEXT/UTF8'),
    );
    const tracks = concatBytes([bytes(/* Tracks */ 0x16, 0x54, 0xae, 0x6b, /* size 88 */ 0xd8), audioEntry, subtitleEntry]);
    const ebmlAndSegment = 40 + 12;
    expect(hdr.subarray(ebmlAndSegment)).toEqual(concatBytes([info, tracks]));
  });

  it('rejects track numbers that cannot be written', () => {
    expect(() => writeMkvHeader({ timecodeScaleNs: 1_000_000, tracks: [{ number: 0, kind: 'video', codecId: 'V_VP8' }] })).toThrow(
      RangeError,
    );
  });
});

describe('writeCluster', () => {
  it('writes a known-size cluster with relative int16 SimpleBlock timecodes', () => {
    const blocks: MkvWriteBlock[] = [
      { track: 1, timecode: 1000, keyframe: true, data: bytes(0xaa, 0xbb) },
      { track: 2, timecode: 990, keyframe: false, data: bytes(0xcc) },
    ];
    // prettier-ignore
    const want = bytes(
      /* Cluster */ 0x1f, 0x43, 0xb6, 0x75, /* size 19 */ 0x93,
      /*   Timecode 1000 */ 0xe7, 0x82, 0x03, 0xe8,
      /*   SimpleBlock */ 0xa3, /* size 6 */ 0x86,
      /*     track 1 */ 0x81, /* +0 */ 0x00, 0x00, /* flags: keyframe */ 0x80, 0xaa, 0xbb,
      /*   SimpleBlock */ 0xa3, /* size 5 */ 0x85,
      /*     track 2 */ 0x82, /* -10 */ 0xff, 0xf6, /* flags */ 0x00, 0xcc,
    );
    expect(writeCluster(1000, blocks)).toEqual(want);
  });

  it('writes an empty cluster', () => {
    expect(writeCluster(0, [])).toEqual(bytes(0x1f, 0x43, 0xb6, 0x75, 0x83, 0xe7, 0x81, 0x00));
  });

  it('uses a 2-byte track number vint for track 127 and above', () => {
    const c = writeCluster(0, [{ track: 200, timecode: 0, keyframe: true, data: bytes(1) }]);
    // prettier-ignore
    expect(c.subarray(c.length - 8)).toEqual(bytes(
      /* SimpleBlock */ 0xa3, /* size 6 */ 0x86,
      /*   track 200 */ 0x40, 0xc8, /* +0 */ 0x00, 0x00, /* keyframe */ 0x80, 0x01,
    ));
  });

  it('accepts the int16 extremes and rejects anything beyond', () => {
    const at = (timecode: number): MkvWriteBlock[] => [{ track: 1, timecode, keyframe: false, data: bytes() }];
    expect(() => writeCluster(40000, at(40000 - 32768))).not.toThrow();
    expect(() => writeCluster(40000, at(40000 + 32767))).not.toThrow();
    expect(() => writeCluster(40000, at(40000 - 32769))).toThrow(RangeError);
    expect(() => writeCluster(40000, at(40000 + 32768))).toThrow(RangeError);
    expect(() => writeCluster(-1, [])).toThrow(RangeError);
    expect(() => writeCluster(0, [{ track: 0, timecode: 0, keyframe: true, data: bytes() }])).toThrow(RangeError);
  });
});

describe('writeTags', () => {
  it('writes one Tag without Targets by default', () => {
    // prettier-ignore
    const want = bytes(
      /* Tags */ 0x12, 0x54, 0xc3, 0x67, /* size */ 0x8e,
      /*   Tag */ 0x73, 0x73, /* size */ 0x8b,
      /*     SimpleTag */ 0x67, 0xc8, 0x88,
      /*       TagName "A" */ 0x45, 0xa3, 0x81, 0x41,
      /*       TagString "b" */ 0x44, 0x87, 0x81, 0x62,
    );
    expect(writeTags([{ name: 'A', value: 'b' }])).toEqual(want);
  });

  it('writes Targets with TargetTypeValue when asked', () => {
    // prettier-ignore
    const want = bytes(
      /* Tags */ 0x12, 0x54, 0xc3, 0x67, 0x95,
      /*   Tag */ 0x73, 0x73, 0x92,
      /*     Targets */ 0x63, 0xc0, 0x84,
      /*       TargetTypeValue 50 */ 0x68, 0xca, 0x81, 0x32,
      /*     SimpleTag */ 0x67, 0xc8, 0x88,
      /*       TagName "A" */ 0x45, 0xa3, 0x81, 0x41,
      /*       TagString "b" */ 0x44, 0x87, 0x81, 0x62,
    );
    expect(writeTags([{ name: 'A', value: 'b' }], { targetTypeValue: 50 })).toEqual(want);
  });
});

// Real producer frames (H.264 AVCC + raw AAC, from the KVS Java SDK sample) muxed by the writer must be
// accepted by ffprobe and decode cleanly with ffmpeg.
describe('written file accepted by ffmpeg', () => {
  const ELEMENTARY = '/work/shared/real-media/elementary';
  // avcC of the Java SDK sample (DemoTrackInfos.java), Constrained Baseline 640x480.
  const AVCC = bytes(
    0x01, 0x42, 0xc0, 0x28, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x42, 0xc0, 0x28, 0xdb, 0x02, 0x80, 0xf6, 0xc0, 0x5a, 0x80,
    0x80, 0x80, 0xa0, 0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x57, 0xe4, 0x01, 0xe3, 0x06, 0x5c, 0x01, 0x00, 0x04, 0x68,
    0xca, 0x8c, 0xb2,
  );
  type Frame = { track: number; tsMs: number; key: boolean; data: Uint8Array };
  const loadFrames = (name: string, track: number): Frame[] => {
    const data = readFileSync(join(ELEMENTARY, `${name}`));
    const csv = readFileSync(join(ELEMENTARY, `${name.replace(/\.[^.]+$/, '')}.frames.csv`), 'utf8').trim().split('\n');
    const header = (csv[0] ?? '').split(',');
    const col = (n: string): number => header.indexOf(n);
    return csv.slice(1).map((line) => {
      const f = line.split(',');
      const offset = Number(f[col('offset')]);
      const size = Number(f[col('size')]);
      return {
        track,
        tsMs: Math.round(Number(BigInt(f[col('timestamp_ns')] ?? '0') / 1000n) / 1000),
        key: f[col('key')] === '1',
        data: new Uint8Array(data.subarray(offset, offset + size)),
      };
    });
  };
  const dir = mkdtempSync(join(tmpdir(), 'mkv-writer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('muxes two GOPs of H.264 + AAC that ffprobe lists and ffmpeg decodes without errors', () => {
    const video = loadFrames('java-sdk_av_video_avcc.h264-avcc', 1);
    const audio = loadFrames('java-sdk_av_audio_aac_raw.aac', 2);
    const keyIdx = video.flatMap((f, i) => (f.key ? [i] : []));
    expect(keyIdx.slice(0, 3)).toEqual([0, 229, 449]);
    const gopStarts = [video[0]!.tsMs, video[229]!.tsMs, video[449]!.tsMs];
    const inGop = (g: number) => (f: Frame) => f.tsMs >= gopStarts[g]! && f.tsMs < gopStarts[g + 1]!;
    const clusters: Uint8Array[] = [];
    let videoCount = 0;
    let audioCount = 0;
    for (const g of [0, 1]) {
      const frames = [...video.filter(inGop(g)), ...audio.filter(inGop(g))].sort((a, b) => a.tsMs - b.tsMs || a.track - b.track);
      videoCount += frames.filter((f) => f.track === 1).length;
      audioCount += frames.filter((f) => f.track === 2).length;
      clusters.push(
        writeCluster(
          gopStarts[g]!,
          frames.map((f) => ({ track: f.track, timecode: f.tsMs, keyframe: f.key, data: f.data })),
        ),
      );
    }
    const header = writeMkvHeader(
      {
        timecodeScaleNs: 1_000_000,
        tracks: [
          { number: 1, kind: 'video', codecId: 'V_MPEG4/ISO/AVC', codecPrivate: AVCC, width: 640, height: 480 },
          { number: 2, kind: 'audio', codecId: 'A_AAC', codecPrivate: bytes(0x11, 0x90), sampleRate: 48000, channels: 2 },
        ],
      },
      { title: 'writer test' },
    );
    const file = join(dir, 'av.mkv');
    writeFileSync(file, concatBytes([header, ...clusters, writeTags([{ name: 'K', value: 'v' }])]));

    const probe = spawnSync(
      'ffprobe',
      ['-v', 'error', '-show_streams', '-show_packets', '-show_format', '-of', 'json', file],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    expect(probe.stderr).toBe('');
    expect(probe.status).toBe(0);
    const info = JSON.parse(probe.stdout) as {
      streams: { index: number; codec_name: string; width?: number; height?: number; sample_rate?: string; channels?: number }[];
      packets: { stream_index: number; pts: number; flags: string }[];
      format: { tags?: Record<string, string> };
    };
    expect(info.streams.map((s) => s.codec_name)).toEqual(['h264', 'aac']);
    expect(info.streams[0]).toMatchObject({ width: 640, height: 480 });
    expect(info.streams[1]).toMatchObject({ sample_rate: '48000', channels: 2 });
    expect(info.format.tags?.['title']).toBe('writer test');
    const vp = info.packets.filter((p) => p.stream_index === 0);
    const ap = info.packets.filter((p) => p.stream_index === 1);
    expect(vp).toHaveLength(videoCount);
    expect(ap).toHaveLength(audioCount);
    expect(vp[0]?.pts).toBe(gopStarts[0]);
    expect(vp[0]?.flags.startsWith('K')).toBe(true);
    expect(vp.filter((p) => p.flags.startsWith('K')).map((p) => p.pts)).toEqual(gopStarts.slice(0, 2));

    const decode = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
    expect(decode.stderr).toBe('');
    expect(decode.status).toBe(0);
  });
});

// What the writer produces must read back identically through the ingest's Matroska parser.
describe('round trip through MkvStreamParser', () => {
  const set: TrackSet = {
    timecodeScaleNs: 1_000_000,
    tracks: [
      { number: 1, uid: 0xabcdef01n, kind: 'video', codecId: 'V_MPEG4/ISO/AVC', codecPrivate: bytes(1, 0x42, 0xc0, 0x1e), width: 640, height: 360 },
      { number: 2, kind: 'audio', codecId: 'A_AAC', codecPrivate: bytes(0x11, 0x90), sampleRate: 48000, channels: 2, language: 'eng', name: 'a' },
    ],
  };
  const clusters: { timecode: number; blocks: MkvWriteBlock[] }[] = [
    {
      timecode: 0,
      blocks: [
        { track: 1, timecode: 0, keyframe: true, data: bytes(0, 0, 0, 2, 0x65, 0x88) },
        { track: 2, timecode: 0, keyframe: true, data: bytes(0x21, 0x10) },
        { track: 1, timecode: 33, keyframe: false, data: bytes(0, 0, 0, 1, 0x41) },
        { track: 2, timecode: 21, keyframe: true, data: bytes(0x21, 0x11) },
      ],
    },
    {
      // Far from the previous cluster and with a block before its own timecode (negative offset).
      timecode: 1_700_000_000_000,
      blocks: [
        { track: 2, timecode: 1_700_000_000_000 - 5, keyframe: true, data: bytes(0x21, 0x12) },
        { track: 1, timecode: 1_700_000_000_000 + 32767, keyframe: true, data: bytes(0, 0, 0, 1, 0x65) },
      ],
    },
  ];
  const tags = [
    { name: 'AWS_KINESISVIDEO_FRAGMENT_NUMBER', value: '91343852333181432392682062607743920146264806734' },
    { name: 'note', value: 'ünïcode' },
  ];

  it('header, clusters and tags come back as written', () => {
    const header = writeMkvHeader(set, { title: 'round trip' });
    const written = clusters.map((c) => writeCluster(c.timecode, c.blocks));
    const tagBytes = writeTags(tags, { targetTypeValue: 50 });
    const stream = concatBytes([header, written[0]!, tagBytes, written[1]!]);

    const parser = new MkvStreamParser();
    const events = [...parser.push(stream), ...parser.end()];
    expect(events.map((e) => e.kind)).toEqual(['header', 'fragment-start', 'fragment', 'tags', 'fragment-start', 'fragment']);

    const h = events[0];
    expect(h?.kind === 'header' && h.header.timecodeScaleNs).toBe(1_000_000);
    if (h?.kind === 'header') {
      expect(h.header.tracks).toHaveLength(2);
      set.tracks.forEach((t, i) => expect(h.header.tracks[i]).toMatchObject(t));
    }

    const frags = events.flatMap((e) => (e.kind === 'fragment' ? [e.fragment] : []));
    frags.forEach((f, i) => {
      const c = clusters[i]!;
      expect(f.timecode).toBe(c.timecode);
      expect(f.bytes).toEqual(written[i]);
      expect(f.blockCount).toBe(c.blocks.length);
      expect(f.minBlockTimecode).toBe(Math.min(...c.blocks.map((b) => b.timecode)));
      expect(f.maxBlockTimecode).toBe(Math.max(...c.blocks.map((b) => b.timecode)));
      expect(f.trackNumbers).toEqual([1, 2]);
      expect(f.startsWithKeyframe).toBe(true);
      const parsed = parseClusterBlocks(f.bytes);
      expect(parsed.timecode).toBe(c.timecode);
      expect(parsed.blocks.map((b) => ({ track: b.track, timecode: b.timecode, keyframe: b.keyframe, data: b.frames[0] }))).toEqual(c.blocks);
      expect(parsed.blocks.every((b) => b.frames.length === 1 && !b.invisible && !b.discardable)).toBe(true);
    });

    const t = events.find((e) => e.kind === 'tags');
    expect(t?.kind === 'tags' && t.tags).toEqual(tags);
    expect(t?.kind === 'tags' && t.bytes).toEqual(tagBytes);
  });
});
