import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../src/formats/ebml/ebml-writer.js';
import { ParseError } from '../../../src/formats/errors.js';
import { MAX_BLOCKS_PER_FRAGMENT } from '../../../src/ingest/mp4/cluster-assembler.js';
import { MAX_SAMPLES_PER_MOOF } from '../../../src/ingest/mp4/moof.js';
import { MAX_MOVIE_SAMPLES } from '../../../src/ingest/mp4/movie.js';
import { Mp4IngestParser } from '../../../src/ingest/mp4/mp4-ingest-parser.js';
import type { Mp4IngestParserOptions } from '../../../src/ingest/mp4/mp4-ingest-parser.js';
import type { ParseEvent } from '../../../src/media/parse-events.js';
import { prng } from '../../helpers/prng.js';

const FIXTURES = join(import.meta.dirname, '../../../media-fixtures/mp4');
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));
const ascii = (s: string): Uint8Array => Uint8Array.from([...s].map((c) => c.charCodeAt(0)));
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const box = (type: string, payload: Uint8Array | number[] = []): Uint8Array =>
  Uint8Array.from([...u32(8 + payload.length), ...ascii(type), ...payload]);

/** Runs the whole input (in `chunk`-byte pushes) and returns the events, or the error thrown. */
function run(bytes: Uint8Array, chunk = bytes.length || 1, options?: Mp4IngestParserOptions): { events: ParseEvent[]; error?: unknown } {
  const p = new Mp4IngestParser(options);
  const events: ParseEvent[] = [];
  try {
    for (let pos = 0; pos < bytes.length; pos += chunk) {
      events.push(...p.push(bytes.subarray(pos, pos + chunk)));
    }
    events.push(...p.end());
    return { events };
  } catch (error) {
    return { events, error };
  }
}

function expectParseError(error: unknown, code: 'INVALID' | 'TOO_LARGE'): ParseError {
  expect(error).toBeInstanceOf(ParseError);
  const e = error as ParseError;
  expect(e.code).toBe(code);
  expect(Number.isInteger(e.offset) && e.offset >= 0).toBe(true);
  return e;
}

/** Offset of the first top-level box of the given type. */
function topLevelBox(bytes: Uint8Array, type: string): { start: number; size: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let pos = 0; pos + 8 <= bytes.length; ) {
    const size = view.getUint32(pos);
    if (String.fromCharCode(...bytes.subarray(pos + 4, pos + 8)) === type) {
      return { start: pos, size };
    }
    pos += size;
  }
  throw new Error(`no ${type} box`);
}

describe('Mp4IngestParser rejects what is not MP4', () => {
  const cases: { name: string; bytes: Uint8Array }[] = [
    { name: 'HTTP request text', bytes: ascii('PUT /putMedia HTTP/1.1\r\nHost: localhost\r\nContent-Type: video/mp4\r\n\r\n') },
    { name: 'JSON', bytes: ascii('{"StreamName":"x","FragmentTimecodeType":"ABSOLUTE"}') },
    { name: 'Matroska', bytes: Uint8Array.from([0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01]) },
    { name: 'an mdat-sized box with a binary type', bytes: Uint8Array.from([0, 0, 0, 16, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]) },
    { name: 'a box smaller than its header', bytes: Uint8Array.from([0, 0, 0, 4, ...ascii('ftyp'), 0, 0, 0, 0]) },
    { name: 'an empty stream', bytes: new Uint8Array(0) },
    { name: 'less than a box header', bytes: Uint8Array.from([0, 0, 0]) },
    { name: 'ftyp only (no moov)', bytes: box('ftyp', [...ascii('isom'), 0, 0, 2, 0, ...ascii('isom')]) },
    { name: 'moof before moov', bytes: Uint8Array.from([...box('ftyp', [...ascii('iso6'), 0, 0, 0, 0]), ...box('moof', box('mfhd', [0, 0, 0, 0, 0, 0, 0, 1]))]) },
    { name: 'a moov with no tracks', bytes: box('moov', box('mvhd', new Array<number>(100).fill(0))) },
    { name: 'a moov of garbage', bytes: box('moov', Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff)) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      for (const chunk of [c.bytes.length || 1, 3]) {
        const r = run(c.bytes, chunk);
        expectParseError(r.error, 'INVALID');
        expect(r.events.filter((e) => e.kind === 'fragment')).toEqual([]);
      }
    });
  }

  it('rejects a stream whose only track has a codec it does not carry', () => {
    const bytes = load('h264-progressive-faststart.mp4').slice();
    const moov = topLevelBox(bytes, 'moov');
    const at = Buffer.from(bytes.subarray(moov.start, moov.start + moov.size)).indexOf('avc1');
    bytes.set(ascii('mp4v'), moov.start + at);
    expect(expectParseError(run(bytes).error, 'INVALID').message).toMatch(/no H\.264, H\.265, AAC or Opus track/);
  });

  it('rejects a second moov', () => {
    const bytes = load('h264-frag.mp4');
    const moov = topLevelBox(bytes, 'moov');
    const doubled = Buffer.concat([bytes.subarray(0, moov.start + moov.size), bytes.subarray(moov.start, moov.start + moov.size)]);
    expect(expectParseError(run(new Uint8Array(doubled)).error, 'INVALID').message).toMatch(/second moov/);
  });

  it('rejects a top-level box with a non-ASCII type after a valid start', () => {
    const p = new Mp4IngestParser();
    // Everything before the garbage converts; the push carrying the garbage throws.
    const before = p.push(load('h264-frag.mp4'));
    expect(before.filter((e) => e.kind === 'fragment')).toHaveLength(4);
    let error: unknown;
    try {
      p.push(Uint8Array.from([0, 0, 0, 8, 0x00, 0x01, 0x02, 0x03]));
    } catch (e) {
      error = e;
    }
    expect(expectParseError(error, 'INVALID').offset).toBe(load('h264-frag.mp4').length);
  });

  it('keeps failing with the same error once it has failed', () => {
    const p = new Mp4IngestParser();
    let first: unknown;
    try {
      p.push(ascii('GET / HTTP/1.1\r\n\r\n'));
    } catch (e) {
      first = e;
    }
    expectParseError(first, 'INVALID');
    expect(() => p.push(load('h264-frag.mp4'))).toThrow(first as Error);
    expect(() => p.end()).toThrow(first as Error);
  });
});

describe('Mp4IngestParser rejects truncated uploads at end()', () => {
  for (const name of ['h264-frag.mp4', 'h264-aac-frag.mp4', 'h264-progressive-faststart.mp4', 'h264-progressive-moov-at-end.mp4', 'opus-audio-only.mp4']) {
    it(name, () => {
      const bytes = load(name);
      const whole = run(bytes).events;
      for (const cut of [1, 8, 100, Math.floor(bytes.length / 3), Math.floor(bytes.length / 2), bytes.length - 200, bytes.length - 1]) {
        const r = run(bytes.subarray(0, cut), 997);
        expectParseError(r.error, 'INVALID');
        // What came out before the cut is exactly the start of the full conversion.
        expect(r.events).toEqual(whole.slice(0, r.events.length));
      }
    });
  }
});

/** Offset of the first box of the given type anywhere in the file (found by its type bytes). */
function boxInside(bytes: Uint8Array, type: string): number {
  for (let i = 4; i + 4 <= bytes.length; i++) {
    if (String.fromCharCode(...bytes.subarray(i, i + 4)) === type) {
      return i - 4;
    }
  }
  throw new Error(`no ${type} box`);
}

/**
 * The ftyp and moov of a fragmented file, then `count` moofs each with a trun of `samples` samples that
 * carry no per-sample fields, non-sync by default (tfhd default flags), of the trex default size (0).
 */
function withMoof(frag: Uint8Array, samples: number, count = 1): Uint8Array {
  const head = frag.subarray(0, topLevelBox(frag, 'moof').start);
  const parts: Uint8Array[] = [head];
  for (let i = 0; i < count; i++) {
    const tfhd = box('tfhd', [...u32(0x020020), ...u32(1), ...u32(0x01010000)]);
    const tfdt = box('tfdt', [...u32(0), ...u32(i * samples)]);
    const trun = box('trun', [...u32(0), ...u32(samples)]);
    const traf = box('traf', [...tfhd, ...tfdt, ...trun]);
    parts.push(box('moof', [...box('mfhd', [...u32(0), ...u32(i + 1)]), ...traf]), box('mdat'));
  }
  return concatBytes(parts);
}

describe('Mp4IngestParser enforces its caps', () => {
  it('refuses to hold a moov-at-end file larger than maxBufferedBytes', () => {
    const r = run(load('h264-progressive-moov-at-end.mp4'), 4096, { maxBufferedBytes: 48 * 1024 });
    expectParseError(r.error, 'TOO_LARGE');
    expect(r.events).toEqual([]);
  });

  it('refuses a moof whose data exceeds maxFragmentBytes', () => {
    const r = run(load('h264-frag.mp4'), 4096, { maxFragmentBytes: 8 * 1024 });
    expectParseError(r.error, 'TOO_LARGE');
  });

  it('refuses a progressive fragment whose data exceeds maxFragmentBytes', () => {
    const r = run(load('h264-progressive-faststart.mp4'), 4096, { maxFragmentBytes: 8 * 1024 });
    expectParseError(r.error, 'TOO_LARGE');
  });

  it('refuses a moov declaring more than MAX_MOVIE_SAMPLES samples before mp4box makes them', () => {
    // A constant-size stsz declares its count without a table: 20 bytes for any number of samples.
    const bytes = load('h264-progressive-faststart.mp4').slice();
    const stsz = boxInside(bytes, 'stsz');
    new DataView(bytes.buffer).setUint32(stsz + 12, 1);
    new DataView(bytes.buffer).setUint32(stsz + 16, MAX_MOVIE_SAMPLES + 1);
    const e = expectParseError(run(bytes).error, 'TOO_LARGE');
    expect(e.message).toContain(`more than ${MAX_MOVIE_SAMPLES} samples`);
  });

  it('refuses a trun declaring more than MAX_SAMPLES_PER_MOOF samples of the default size', () => {
    // No per-sample fields: each sample costs the moof nothing, and with a default size of 0 no data either.
    const e = expectParseError(run(withMoof(load('h264-frag.mp4'), MAX_SAMPLES_PER_MOOF + 1)).error, 'TOO_LARGE');
    expect(e.message).toContain(`more than ${MAX_SAMPLES_PER_MOOF} samples`);
  });

  it('refuses a run of moofs that grows one cluster beyond MAX_BLOCKS_PER_FRAGMENT blocks', () => {
    // Moofs without a keyframe continue the open cluster; empty samples never reach the byte cap.
    const frag = load('h264-frag.mp4');
    const moofs = Math.ceil((MAX_BLOCKS_PER_FRAGMENT + 1) / MAX_SAMPLES_PER_MOOF) + 1;
    const e = expectParseError(run(withMoof(frag, MAX_SAMPLES_PER_MOOF, moofs)).error, 'TOO_LARGE');
    expect(e.fragmentTooLarge).toBe(true);
  });

  it('refuses a moov box larger than maxBufferedBytes before buffering it', () => {
    const head = Uint8Array.from([...box('ftyp', [...ascii('isom'), 0, 0, 0, 0]), ...u32(0x7fff_0000), ...ascii('moov')]);
    const r = run(head, head.length, { maxBufferedBytes: 1024 * 1024 });
    expectParseError(r.error, 'TOO_LARGE');
  });
});

describe('Mp4IngestParser on corrupted real files', () => {

  for (const name of ['h264-aac-frag.mp4', 'h264-aac-progressive.mp4', 'opus-audio-only.mp4']) {
    it(`${name}: random byte damage in the boxes either converts or throws ParseError`, () => {
      const original = load(name);
      const moov = topLevelBox(original, 'moov');
      const firstMoof = name.includes('frag') ? topLevelBox(original, 'moof') : undefined;
      const rnd = prng(name.length);
      let failures = 0;
      for (let round = 0; round < 150; round++) {
        const bytes = original.slice();
        // Damage the structure (moov, first moof and the box headers around them), not just sample data.
        const region = firstMoof !== undefined && round % 2 === 1 ? firstMoof : moov;
        const hits = 1 + Math.floor(rnd() * 4);
        for (let h = 0; h < hits; h++) {
          const at = region.start + Math.floor(rnd() * region.size);
          bytes[at] = Math.floor(rnd() * 256);
        }
        const r = run(bytes, 1 + Math.floor(rnd() * 8192));
        if (r.error !== undefined) {
          expect(r.error).toBeInstanceOf(ParseError);
          failures++;
        }
      }
      // Some damage must have been noticed, or the test is not reaching the parser.
      expect(failures).toBeGreaterThan(0);
    });
  }

  it('rejects sample tables shorter than the stsz (mp4box fills the missing times with NaN)', () => {
    // Found by the fuzz harness: a sample with no stts entry reached the Matroska writer, which threw a RangeError.
    const bytes = load('h264-progressive-faststart.mp4').slice();
    const stsz = boxInside(bytes, 'stsz');
    const view = new DataView(bytes.buffer);
    view.setUint32(stsz + 12, 1);
    view.setUint32(stsz + 16, view.getUint32(stsz + 16) + 1);
    const e = expectParseError(run(bytes).error, 'INVALID');
    expect(e.message).toContain('sample tables of track 1');
  });

  it('a truncated moof box inside a complete stream is INVALID', () => {
    const bytes = load('h264-frag.mp4').slice();
    const moof = topLevelBox(bytes, 'moof');
    // Claim the moof's first child (mfhd) is larger than the moof itself.
    new DataView(bytes.buffer).setUint32(moof.start + 8, moof.size);
    expectParseError(run(bytes).error, 'INVALID');
  });
});
