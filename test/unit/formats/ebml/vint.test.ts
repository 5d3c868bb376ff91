import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../helpers/parse-error.js';
import { readElementId, readElementSize, readSignedVint, readVintValue, vintLength } from '../../../../src/formats/ebml/vint.js';

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);

function size(bytes: Uint8Array) {
  return readElementSize(bytes, 0, bytes.length, 100);
}


describe('vintLength', () => {
  it.each([
    [0xff, 1],
    [0x80, 1],
    [0x7f, 2],
    [0x40, 2],
    [0x20, 3],
    [0x10, 4],
    [0x08, 5],
    [0x04, 6],
    [0x02, 7],
    [0x01, 8],
    [0x00, 0],
  ])('first byte 0x%s → %i bytes', (first, len) => {
    expect(vintLength(first)).toBe(len);
  });
});

describe('readElementSize', () => {
  // [annotation, bytes, value, length]
  const known: [string, Uint8Array, number, number][] = [
    ['1 byte: 0x81 = 1', b(0x81), 1, 1],
    ['1 byte: 0x80 = 0', b(0x80), 0, 1],
    ['1 byte: 0xfe = 126 (largest known 1-byte size)', b(0xfe), 126, 1],
    ['2 bytes: 0x40 0x7f = 127', b(0x40, 0x7f), 127, 2],
    ['2 bytes: 0x7f 0xfe = 16382', b(0x7f, 0xfe), 16382, 2],
    ['3 bytes: 0x20 0x10 0x00 = 4096', b(0x20, 0x10, 0x00), 4096, 3],
    ['4 bytes: KVS style 0x10 0x00 0x00 0x2a = 42', b(0x10, 0x00, 0x00, 0x2a), 42, 4],
    ['5 bytes: 0x09 0x00 0x00 0x00 0x00 = 2^32 (beyond 32-bit arithmetic)', b(0x09, 0x00, 0x00, 0x00, 0x00), 2 ** 32, 5],
    ['6 bytes: 0x04 0x00 0x00 0x00 0x01 0x00 = 256', b(0x04, 0x00, 0x00, 0x00, 0x01, 0x00), 256, 6],
    ['7 bytes: 0x02 0 0 0 0 0 0x05 = 5', b(0x02, 0, 0, 0, 0, 0, 0x05), 5, 7],
    ['8 bytes: KVS producer SimpleBlock size 0x01 0 0 0 0 0 0x08 0x9c = 2204', b(0x01, 0, 0, 0, 0, 0, 0x08, 0x9c), 2204, 8],
    ['8 bytes: 2^53 - 1 is the largest accepted', b(0x01, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), Number.MAX_SAFE_INTEGER, 8],
    ['trailing bytes are ignored', b(0x82, 0xff, 0xff), 2, 1],
  ];
  it.each(known)('%s', (_name, bytes, value, length) => {
    expect(size(bytes)).toEqual({ value, length, unknown: false });
  });

  const unknown: [string, Uint8Array][] = [
    ['1 byte FF', b(0xff)],
    ['2 bytes 7F FF', b(0x7f, 0xff)],
    ['3 bytes 3F FF FF', b(0x3f, 0xff, 0xff)],
    ['4 bytes 1F FF FF FF', b(0x1f, 0xff, 0xff, 0xff)],
    ['5 bytes 0F FF…', b(0x0f, 0xff, 0xff, 0xff, 0xff)],
    ['6 bytes 07 FF…', b(0x07, 0xff, 0xff, 0xff, 0xff, 0xff)],
    ['7 bytes 03 FF…', b(0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
    ['8 bytes 01 FF FF FF FF FF FF FF (KVS Segment)', b(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
  ];
  it.each(unknown)('unknown size: %s', (_name, bytes) => {
    expect(size(bytes)).toEqual({ value: 0, length: bytes.length, unknown: true });
  });

  it.each([
    ['empty', b()],
    ['2-byte vint with 1 byte', b(0x40)],
    ['8-byte vint with 7 bytes', b(0x01, 0, 0, 0, 0, 0, 0)],
  ])('needs more bytes: %s → null', (_name, bytes) => {
    expect(size(bytes)).toBeNull();
  });

  it('respects the end argument', () => {
    expect(readElementSize(b(0x40, 0x01), 0, 1, 0)).toBeNull();
    expect(readElementSize(b(0x00, 0x40, 0x01), 1, 3, 0)).toEqual({ value: 1, length: 2, unknown: false });
  });

  it('rejects a first byte of 0x00 (no length marker) with the absolute offset', () => {
    const e = errorOf(() => size(b(0x00, 0x81)));
    expect(e.code).toBe('INVALID');
    expect(e.offset).toBe(100);
  });

  it('rejects sizes above 2^53 - 1 as TOO_LARGE', () => {
    const e = errorOf(() => size(b(0x01, 0x20, 0, 0, 0, 0, 0, 0)));
    expect(e.code).toBe('TOO_LARGE');
    // The 8-byte all-ones minus one is a known size, just far too large.
    expect(errorOf(() => size(b(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe))).code).toBe('TOO_LARGE');
  });
});

describe('readElementId', () => {
  const ids: [string, Uint8Array, number, number][] = [
    ['1-byte SimpleBlock A3', b(0xa3), 0xa3, 1],
    ['1-byte ChapterDisplay 80 (all-zero value, allowed by Matroska)', b(0x80), 0x80, 1],
    ['2-byte TagName 45 A3', b(0x45, 0xa3), 0x45a3, 2],
    ['3-byte TimestampScale 2A D7 B1', b(0x2a, 0xd7, 0xb1), 0x2ad7b1, 3],
    ['4-byte EBML 1A 45 DF A3 stays positive', b(0x1a, 0x45, 0xdf, 0xa3), 0x1a45dfa3, 4],
    ['4-byte Cluster 1F 43 B6 75', b(0x1f, 0x43, 0xb6, 0x75), 0x1f43b675, 4],
  ];
  it.each(ids)('%s', (_name, bytes, id, length) => {
    expect(readElementId(bytes, 0, bytes.length, 0)).toEqual({ id, length });
  });

  it('returns null while an ID is incomplete', () => {
    expect(readElementId(b(0x1a, 0x45, 0xdf), 0, 3, 0)).toBeNull();
    expect(readElementId(b(), 0, 0, 0)).toBeNull();
  });

  it.each([
    ['0x00', b(0x00)],
    ['a 5-byte ID (0x08…)', b(0x08, 1, 2, 3, 4)],
    ['an 8-byte ID (0x01…)', b(0x01, 1, 2, 3, 4, 5, 6, 7)],
    ['reserved all-ones 1-byte FF', b(0xff)],
    ['reserved all-ones 2-byte 7F FF', b(0x7f, 0xff)],
    ['reserved all-ones 4-byte 1F FF FF FF', b(0x1f, 0xff, 0xff, 0xff)],
  ])('rejects %s', (_name, bytes) => {
    const e = errorOf(() => readElementId(bytes, 0, bytes.length, 7));
    expect(e.code).toBe('INVALID');
    expect(e.offset).toBe(7);
  });
});

describe('readVintValue', () => {
  it('keeps the all-ones pattern as a plain number (block track numbers)', () => {
    expect(readVintValue(b(0xff), 0, 1, 0, 'track')).toEqual({ value: 127, length: 1 });
    expect(readVintValue(b(0x81), 0, 1, 0, 'track')).toEqual({ value: 1, length: 1 });
    expect(readVintValue(b(0x40, 0x02), 0, 2, 0, 'track')).toEqual({ value: 2, length: 2 });
  });
});

describe('readSignedVint (EBML lacing deltas)', () => {
  it.each([
    ['1 byte 0xBF = 0', b(0xbf), 0],
    ['1 byte 0x80 = -63', b(0x80), -63],
    ['1 byte 0xFE = +63', b(0xfe), 63],
    ['2 bytes 0x5F 0xFF = 0', b(0x5f, 0xff), 0],
    ['2 bytes 0x40 0x00 = -8191', b(0x40, 0x00), -8191],
    ['2 bytes 0x60 0x00 = +1', b(0x60, 0x00), 1],
  ])('%s', (_name, bytes, value) => {
    expect(readSignedVint(bytes, 0, bytes.length, 0, 'delta')).toEqual({ value, length: bytes.length });
  });

  it('rejects the reserved all-ones pattern', () => {
    expect(errorOf(() => readSignedVint(b(0xff), 0, 1, 0, 'delta')).code).toBe('INVALID');
  });
});
