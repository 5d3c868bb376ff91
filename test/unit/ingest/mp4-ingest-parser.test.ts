import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MkvStreamParser } from '../../../src/formats/mkv/mkv-stream-parser.js';
import { Mp4IngestParser, looksLikeMp4 } from '../../../src/ingest/mp4/mp4-ingest-parser.js';
import type { ParseEvent, ParsedFragment, ParsedHeader } from '../../../src/media/parse-events.js';
import { prng } from '../../helpers/prng.js';

const FIXTURES = join(import.meta.dirname, '../../../media-fixtures/mp4');
const REAL = '/work/shared/real-media/fmp4';

type Case = {
  name: string;
  load: () => Uint8Array;
  codecs: string[];
  timecodes: number[];
  /** Blocks per Matroska track number, summed over all fragments. */
  blocks: Record<number, number>;
};

const fixture = (name: string) => () => new Uint8Array(readFileSync(join(FIXTURES, name)));
const cat =
  (...paths: string[]) =>
  () =>
    new Uint8Array(Buffer.concat(paths.map((p) => readFileSync(p))));
const SHAKA_INIT = join(REAL, 'shaka/multiple-trun-init.mp4');
const SHAKA_SEGMENT = join(REAL, 'shaka/multiple-trun-segment.mp4');

const CASES: Case[] = [
  {
    name: 'h264-frag.mp4',
    load: fixture('h264-frag.mp4'),
    codecs: ['V_MPEG4/ISO/AVC'],
    timecodes: [0, 1000, 2000, 3000, 4000],
    blocks: { 1: 150 },
  },
  {
    name: 'h264-progressive-faststart.mp4',
    load: fixture('h264-progressive-faststart.mp4'),
    codecs: ['V_MPEG4/ISO/AVC'],
    timecodes: [0, 1000, 2000, 3000, 4000],
    blocks: { 1: 150 },
  },
  {
    name: 'h264-progressive-moov-at-end.mp4',
    load: fixture('h264-progressive-moov-at-end.mp4'),
    codecs: ['V_MPEG4/ISO/AVC'],
    timecodes: [0, 1000, 2000, 3000, 4000],
    blocks: { 1: 150 },
  },
  {
    // ffmpeg's fragmented writer has no edit list to hide AAC priming, so it delays video by 1024/48000 s
    // after the first frame: keyframes really are at 1.021 s, 2.021 s, ... in this file.
    name: 'h264-aac-frag.mp4',
    load: fixture('h264-aac-frag.mp4'),
    codecs: ['V_MPEG4/ISO/AVC', 'A_AAC'],
    timecodes: [0, 1021, 2021, 3021, 4021],
    blocks: { 1: 150, 2: 236 },
  },
  {
    name: 'h264-aac-progressive.mp4',
    load: fixture('h264-aac-progressive.mp4'),
    codecs: ['V_MPEG4/ISO/AVC', 'A_AAC'],
    timecodes: [0, 1000, 2000, 3000, 4000],
    blocks: { 1: 150, 2: 236 },
  },
  {
    // Main profile with 2 B-frames: the video edit list (media_time = 2 frames) brings the first PTS to 0.
    name: 'h264-bframes-progressive.mp4',
    load: fixture('h264-bframes-progressive.mp4'),
    codecs: ['V_MPEG4/ISO/AVC'],
    timecodes: [0, 1000, 2000, 3000, 4000],
    blocks: { 1: 150 },
  },
  {
    name: 'hevc-frag.mp4',
    load: fixture('hevc-frag.mp4'),
    codecs: ['V_MPEGH/ISO/HEVC'],
    timecodes: [0, 1000, 2000, 3000, 4000],
    blocks: { 1: 150 },
  },
  {
    // Audio only: cut at the first frame at or after 2 s (AAC frames are 21.33 ms).
    name: 'aac-audio-only.mp4',
    load: fixture('aac-audio-only.mp4'),
    codecs: ['A_AAC'],
    timecodes: [0, 2005, 4011],
    blocks: { 1: 236 },
  },
  {
    name: 'opus-audio-only.mp4',
    load: fixture('opus-audio-only.mp4'),
    codecs: ['A_OPUS'],
    timecodes: [0, 2000, 4000],
    blocks: { 1: 251 },
  },
  {
    name: 'mediabunny frag-buck-bunny.mp4 (H.264 + 6-channel AAC, 5 moofs)',
    load: cat(join(REAL, 'mediabunny/frag-buck-bunny.mp4')),
    codecs: ['V_MPEG4/ISO/AVC', 'A_AAC'],
    timecodes: [0, 1000, 2000, 3000, 4000],
    blocks: { 1: 120, 2: 234 },
  },
  {
    // B-frames in truns with composition offsets; 2 s GOPs starting at decode time 10 s.
    name: 'shaka multiple-trun init + segment (B-frames)',
    load: cat(SHAKA_INIT, SHAKA_SEGMENT),
    codecs: ['V_MPEG4/ISO/AVC'],
    timecodes: [10033, 12035, 14037],
    blocks: { 1: 180 },
  },
];

function parseWhole(bytes: Uint8Array, options?: ConstructorParameters<typeof Mp4IngestParser>[0]): ParseEvent[] {
  const p = new Mp4IngestParser(options);
  return [...p.push(bytes), ...p.end()];
}


function parseChunked(bytes: Uint8Array, seed: number, maxChunk: number, options?: ConstructorParameters<typeof Mp4IngestParser>[0]): ParseEvent[] {
  const rnd = prng(seed);
  const p = new Mp4IngestParser(options);
  const events: ParseEvent[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const n = 1 + Math.floor(rnd() * maxChunk);
    // Hand out views of a larger buffer, as a network stream would, and scribble over them afterwards
    // to prove the parser keeps its own copies.
    const chunk = bytes.slice(pos, pos + n);
    events.push(...p.push(chunk));
    chunk.fill(0xee);
    pos += n;
  }
  events.push(...p.end());
  return events;
}

const headerOf = (events: ParseEvent[]): ParsedHeader => {
  const h = events.find((e) => e.kind === 'header');
  if (h?.kind !== 'header') {
    throw new Error('no header event');
  }
  return h.header;
};
const fragmentsOf = (events: ParseEvent[]): ParsedFragment[] => events.flatMap((e) => (e.kind === 'fragment' ? [e.fragment] : []));

function ffprobeJson(path: string, args: string[]): Record<string, unknown> {
  const r = spawnSync('ffprobe', ['-v', 'error', ...args, '-of', 'json', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

type ProbeStream = {
  codec_type: string;
  extradata?: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  nb_read_frames?: string;
  nb_read_packets?: string;
};

/** ffprobe prints extradata as an xxd-style hexdump; this turns it back into bytes. */
function hexdumpBytes(dump: string): Uint8Array {
  const hex = dump
    .split('\n')
    .filter((l) => /^[0-9a-f]{8}: /.test(l))
    .map((l) => l.slice(10, 49).replace(/ /g, ''))
    .join('');
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

const tmp = mkdtempSync(join(tmpdir(), 'mp4-ingest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Mp4IngestParser on real files', () => {
  for (const c of CASES) {
    describe(c.name, () => {
      const bytes = c.load();
      const events = parseWhole(bytes);
      const slug = c.name.replace(/[^a-z0-9]+/gi, '_');

      it('emits one header first, then fragment-start/fragment pairs', () => {
        expect(events[0]?.kind).toBe('header');
        expect(events.filter((e) => e.kind === 'header')).toHaveLength(1);
        const rest = events.slice(1).map((e) => e.kind);
        expect(rest).toEqual(c.timecodes.flatMap(() => ['fragment-start', 'fragment']));
        const starts = events.flatMap((e) => (e.kind === 'fragment-start' ? [e.timecode] : []));
        expect(starts).toEqual(fragmentsOf(events).map((f) => f.timecode));
      });

      it('describes the tracks in a 1 ms TrackSet whose header bytes are the written MKV header', () => {
        const h = headerOf(events);
        expect(h.timecodeScaleNs).toBe(1_000_000);
        expect(h.tracks.map((t) => t.codecId)).toEqual(c.codecs);
        expect(h.tracks.map((t) => t.number)).toEqual(c.codecs.map((_, i) => i + 1));
        // The header bytes open with the EBML magic and an unknown-size Segment.
        expect([...h.bytes.subarray(0, 4)]).toEqual([0x1a, 0x45, 0xdf, 0xa3]);
      });

      it('cuts the expected fragments with consistent metadata', () => {
        const frags = fragmentsOf(events);
        expect(frags.map((f) => f.timecode)).toEqual(c.timecodes);
        for (const f of frags) {
          expect(f.startsWithKeyframe).toBe(true);
          expect(f.minBlockTimecode).toBeGreaterThanOrEqual(f.timecode);
          expect(f.maxBlockTimecode).toBeGreaterThanOrEqual(f.minBlockTimecode);
          expect(f.trackNumbers).toEqual(Object.keys(c.blocks).map(Number));
          // Known-size Cluster element: ID 1F 43 B6 75.
          expect([...f.bytes.subarray(0, 4)]).toEqual([0x1f, 0x43, 0xb6, 0x75]);
        }
        expect(frags.reduce((n, f) => n + f.blockCount, 0)).toBe(Object.values(c.blocks).reduce((a, b) => a + b, 0));
        // Fragment windows follow each other.
        for (let i = 1; i < frags.length; i++) {
          expect(frags[i]!.timecode).toBeGreaterThan(frags[i - 1]!.timecode);
        }
      });

      it('gives identical events when fed in small random chunks', () => {
        expect(parseChunked(bytes, 1, 4096)).toEqual(events);
        expect(parseChunked(bytes, 2, 509)).toEqual(events);
      });

      it('reads back through the Matroska ingest parser as the same header and fragments', () => {
        const mkv = new MkvStreamParser();
        const stream = Buffer.concat([headerOf(events).bytes, ...fragmentsOf(events).map((f) => f.bytes)]);
        const again = [...mkv.push(new Uint8Array(stream)), ...mkv.end()];
        const { bytes: _h1, ...trackSet } = headerOf(events);
        const { bytes: _h2, ...trackSetAgain } = headerOf(again);
        expect(trackSetAgain).toEqual(trackSet);
        expect(fragmentsOf(again)).toEqual(fragmentsOf(events));
      });

      it('matches ffprobe: codec private bytes, dimensions, sample rate, channels', () => {
        const src = join(tmp, `${slug}.probe.mp4`);
        writeFileSync(src, bytes);
        const probe = ffprobeJson(src, ['-show_streams', '-show_data']) as { streams: ProbeStream[] };
        const h = headerOf(events);
        expect(probe.streams).toHaveLength(h.tracks.length);
        h.tracks.forEach((t, i) => {
          const s = probe.streams[i]!;
          expect(t.kind).toBe(s.codec_type);
          expect(t.codecPrivate).toEqual(hexdumpBytes(s.extradata ?? ''));
          if (t.kind === 'video') {
            expect([t.width, t.height]).toEqual([s.width, s.height]);
          } else {
            expect([t.sampleRate, t.channels]).toEqual([Number(s.sample_rate), s.channels]);
          }
        });
      });

      it('produces a Matroska file that ffmpeg decodes without errors, frame for frame', () => {
        const src = join(tmp, `${slug}.mp4`);
        const mkv = join(tmp, `${slug}.mkv`);
        writeFileSync(src, bytes);
        writeFileSync(mkv, Buffer.concat([headerOf(events).bytes, ...fragmentsOf(events).map((f) => f.bytes)]));
        const decode = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', mkv, '-f', 'null', '-'], { encoding: 'utf8' });
        expect(decode.stderr).toBe('');
        expect(decode.status).toBe(0);
        const count = (path: string) =>
          (ffprobeJson(path, ['-count_frames', '-count_packets', '-show_entries', 'stream=codec_type,nb_read_frames,nb_read_packets']) as {
            streams: ProbeStream[];
          }).streams;
        const before = count(src);
        const after = count(mkv);
        expect(after.map((s) => s.codec_type)).toEqual(before.map((s) => s.codec_type));
        after.forEach((s, i) => {
          // Every sample became a block.
          expect(s.nb_read_packets).toBe(before[i]!.nb_read_packets);
          // Audio edit lists trim AAC priming when decoding the MP4 (one frame fewer); Matroska keeps the
          // priming frame in the stream, so decoded audio frames are compared with packets instead.
          if (s.codec_type === 'video') {
            expect(s.nb_read_frames).toBe(before[i]!.nb_read_frames);
          } else {
            expect(Number(s.nb_read_frames)).toBeGreaterThanOrEqual(Number(before[i]!.nb_read_frames));
          }
        });
      });
    });
  }
});

describe('Mp4IngestParser emission timing', () => {
  const pushUpTo = (p: Mp4IngestParser, bytes: Uint8Array, end: number): ParseEvent[] => {
    const events: ParseEvent[] = [];
    for (let pos = 0; pos < end; pos += 1000) {
      events.push(...p.push(bytes.subarray(pos, Math.min(end, pos + 1000))));
    }
    return events;
  };

  it('fragmented: each fragment is out once the next moof has arrived, the last at end()', () => {
    const bytes = fixture('h264-frag.mp4')();
    const p = new Mp4IngestParser();
    // Everything but the trailing mfra box: all five moof+mdat pairs are complete.
    const mfra = bytes.length - 143;
    const before = pushUpTo(p, bytes, mfra);
    expect(before.map((e) => e.kind)).toEqual(['header', ...Array(4).fill(['fragment-start', 'fragment']).flat(), 'fragment-start']);
    const after = [...p.push(bytes.subarray(mfra)), ...p.end()];
    expect(after.map((e) => e.kind)).toEqual(['fragment']);
  });

  it('progressive with the moov first: fragments go out while the mdat is still arriving', () => {
    const bytes = fixture('h264-progressive-faststart.mp4')();
    const p = new Mp4IngestParser();
    const half = pushUpTo(p, bytes, Math.floor(bytes.length / 2));
    expect(half[0]?.kind).toBe('header');
    expect(fragmentsOf(half).length).toBeGreaterThanOrEqual(2);
    const rest = [...p.push(bytes.subarray(Math.floor(bytes.length / 2))), ...p.end()];
    expect(fragmentsOf([...half, ...rest])).toEqual(fragmentsOf(parseWhole(bytes)));
  });

  it('progressive with the moov last: nothing until the moov is complete, then everything', () => {
    const bytes = fixture('h264-progressive-moov-at-end.mp4')();
    const p = new Mp4IngestParser();
    expect(pushUpTo(p, bytes, bytes.length - 1)).toEqual([]);
    const events = [...p.push(bytes.subarray(bytes.length - 1)), ...p.end()];
    expect(fragmentsOf(events)).toHaveLength(5);
  });

  it('moov-first and moov-last layouts of the same encode give the same fragments', () => {
    const a = parseWhole(fixture('h264-progressive-faststart.mp4')());
    const b = parseWhole(fixture('h264-progressive-moov-at-end.mp4')());
    expect(fragmentsOf(a)).toEqual(fragmentsOf(b));
    expect(headerOf(a)).toEqual(headerOf(b));
  });

  it('releases fragmented data as it goes: a buffer cap smaller than the file is enough', () => {
    const bytes = fixture('h264-aac-frag.mp4')();
    expect(parseChunked(bytes, 3, 2048, { maxBufferedBytes: 48 * 1024 })).toEqual(parseWhole(bytes));
  });

  it('releases progressive data as it goes when the moov comes first', () => {
    const bytes = fixture('h264-progressive-faststart.mp4')();
    expect(parseChunked(bytes, 4, 2048, { maxBufferedBytes: 32 * 1024 })).toEqual(parseWhole(bytes));
  });
});

describe('looksLikeMp4', () => {
  const ascii = (s: string) => Uint8Array.from([...s].map((ch) => ch.charCodeAt(0)));
  const box = (size: number, type: string, rest: number[] = []) =>
    Uint8Array.from([(size >>> 24) & 0xff, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff, ...ascii(type), ...rest]);
  const cases: { name: string; head: Uint8Array; want: boolean }[] = [
    { name: 'progressive fixture (ftyp)', head: fixture('h264-progressive-faststart.mp4')().subarray(0, 64), want: true },
    { name: 'fragmented fixture (ftyp)', head: fixture('h264-frag.mp4')().subarray(0, 64), want: true },
    { name: 'media segment (moof)', head: readFileSync(SHAKA_SEGMENT).subarray(0, 64), want: true },
    { name: 'styp', head: box(24, 'styp', [...ascii('msdh'), 0, 0, 0, 0, ...ascii('msdhmsix')]), want: true },
    { name: 'moov', head: box(1000, 'moov'), want: true },
    { name: 'largesize moof', head: box(1, 'moof'), want: true },
    { name: 'ftyp smaller than its fields', head: box(12, 'ftyp', [...ascii('isom')]), want: false },
    { name: 'ftyp with a partial brand', head: box(18, 'ftyp', [...ascii('isom')]), want: false },
    { name: 'ftyp with a binary brand', head: box(16, 'ftyp', [0, 1, 2, 3]), want: false },
    { name: 'moov of size 0', head: box(0, 'moov'), want: false },
    { name: 'mdat first', head: box(100, 'mdat'), want: false },
    { name: 'Matroska EBML header', head: Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x86, 0x81]), want: false },
    { name: 'HTTP text', head: ascii('POST /putMedia HTTP/1.1\r\n'), want: false },
    { name: 'too short', head: box(16, 'ftyp').subarray(0, 7), want: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(looksLikeMp4(c.head)).toBe(c.want);
    });
  }
});
