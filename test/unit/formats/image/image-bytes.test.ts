import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParseError } from '../../../../src/formats/errors.js';
import { MAX_PGM_SIDE, encodedImageLength, imageSize, parsePgm, pgmLength } from '../../../../src/formats/image/image-bytes.js';

// Real encoder output (ffmpeg), then the cuts a pipe reader sees: every prefix is "incomplete", the exact length
// is found inside longer buffers, and images written back to back split where they should.

async function encode(codec: string, size: string, pixFmt: string): Promise<Uint8Array> {
  const { stdout } = await promisify(execFile)(
    'ffmpeg',
    ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=1`, '-frames:v', '1', '-c:v', codec, '-pix_fmt', pixFmt, '-f', 'image2pipe', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  return new Uint8Array(stdout);
}

let jpeg: Uint8Array;
let png: Uint8Array;
let pgm: Uint8Array;

beforeAll(async () => {
  [jpeg, png, pgm] = await Promise.all([encode('mjpeg', '320x180', 'yuvj420p'), encode('png', '64x36', 'rgb24'), encode('pgm', '160x90', 'gray')]);
});

const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

describe('encodedImageLength', () => {
  it.each([
    ['JPEG', () => jpeg],
    ['PNG', () => png],
  ])('finds the end of a %s, and answers null for every shorter prefix', (_name, get) => {
    const img = get();
    expect(encodedImageLength(img)).toBe(img.length);
    expect(encodedImageLength(cat(img, img, pgm))).toBe(img.length);
    for (const cut of [0, 1, 7, 8, 20, Math.floor(img.length / 2), img.length - 1]) {
      expect(encodedImageLength(img.subarray(0, cut))).toBeNull();
    }
  });

  it.each([
    ['PGM', () => pgm],
    ['text', () => new TextEncoder().encode('hello world, not an image')],
    ['zeros', () => new Uint8Array(16)],
  ])('refuses what is not a JPEG or PNG (%s)', (_name, get) => {
    expect(() => encodedImageLength(get())).toThrow(ParseError);
  });

  it('refuses a JPEG whose marker chain is broken', () => {
    const broken = jpeg.slice();
    broken[2] = 0x00; // the byte after SOI must start a marker
    expect(() => encodedImageLength(broken)).toThrow(ParseError);
  });
});

describe('PGM thumbnails', () => {
  it('reads the 8-bit grayscale pixels, and finds the end inside a longer buffer', () => {
    const p = parsePgm(pgm);
    expect(p).toMatchObject({ width: 160, height: 90 });
    expect(p.data.length).toBe(160 * 90);
    expect(pgmLength(cat(pgm, jpeg))).toBe(pgm.length);
    for (const cut of [0, 1, 2, 5, 12, pgm.length - 1]) {
      expect(pgmLength(pgm.subarray(0, cut))).toBeNull();
    }
  });

  it.each([
    ['P6 (colour)', 'P6\n2 2\n255\n'],
    ['16-bit', 'P5\n2 2\n65535\n'],
    ['no number', 'P5\nx 2\n255\n'],
    ['too large', `P5\n${MAX_PGM_SIDE + 1} 2\n255\n`],
  ])('refuses %s', (_name, header) => {
    expect(() => pgmLength(cat(new TextEncoder().encode(header), new Uint8Array(64)))).toThrow(ParseError);
  });

  it('refuses a truncated thumbnail when asked to read it', () => {
    expect(() => parsePgm(pgm.subarray(0, pgm.length - 1))).toThrow(ParseError);
  });
});

describe('imageSize', () => {
  it('reads JPEG start-of-frame and PNG IHDR sizes, 0x0 for anything else', () => {
    expect(imageSize(jpeg)).toEqual({ width: 320, height: 180 });
    expect(imageSize(png)).toEqual({ width: 64, height: 36 });
    expect(imageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xd9]))).toEqual({ width: 0, height: 0 });
  });
});
