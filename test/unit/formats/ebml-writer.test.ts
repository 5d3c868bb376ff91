import { describe, expect, it } from 'vitest';
import {
  UNKNOWN_SIZE,
  concatBytes,
  encodeBinary,
  encodeElement,
  encodeFloat,
  encodeId,
  encodeMaster,
  encodeString,
  encodeUint,
  encodeUnknownSizeMasterStart,
  encodeVintSize,
} from '../../../src/formats/ebml/ebml-writer.js';
import { EbmlId } from '../../../src/formats/ebml/ids.js';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('encodeVintSize', () => {
  const cases: { name: string; size: number; length?: number; enc: Uint8Array }[] = [
    { name: 'zero', size: 0, enc: bytes(0x80) },
    { name: '1-byte max (126; 127 is reserved)', size: 126, enc: bytes(0xfe) },
    { name: '127 needs 2 bytes', size: 127, enc: bytes(0x40, 0x7f) },
    { name: '2-byte max', size: 16382, enc: bytes(0x7f, 0xfe) },
    { name: '16383 needs 3 bytes', size: 16383, enc: bytes(0x20, 0x3f, 0xff) },
    { name: '3-byte max', size: 2 ** 21 - 2, enc: bytes(0x3f, 0xff, 0xfe) },
    { name: '4-byte', size: 2 ** 21 - 1, enc: bytes(0x10, 0x1f, 0xff, 0xff) },
    { name: '5-byte, above 32 bits', size: 2 ** 32, enc: bytes(0x09, 0x00, 0x00, 0x00, 0x00) },
    {
      name: '8-byte, largest safe integer',
      size: Number.MAX_SAFE_INTEGER,
      enc: bytes(0x01, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    },
    // KVS writes fixed-width sizes: 4-byte `10 00 00 xx` and 8-byte `01 00 .. xx`.
    { name: 'forced 4 bytes', size: 0x21, length: 4, enc: bytes(0x10, 0x00, 0x00, 0x21) },
    { name: 'forced 8 bytes', size: 5, length: 8, enc: bytes(0x01, 0, 0, 0, 0, 0, 0, 0x05) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(encodeVintSize(c.size, c.length)).toEqual(c.enc);
    });
  }

  it('rejects sizes that do not fit', () => {
    expect(() => encodeVintSize(-1)).toThrow(RangeError);
    expect(() => encodeVintSize(1.5)).toThrow(RangeError);
    expect(() => encodeVintSize(2 ** 53)).toThrow(RangeError);
    expect(() => encodeVintSize(127, 1)).toThrow(RangeError);
    expect(() => encodeVintSize(1, 9)).toThrow(RangeError);
  });

  it('has the 8-byte unknown-size marker', () => {
    expect(UNKNOWN_SIZE).toEqual(bytes(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
  });
});

describe('encodeId', () => {
  const cases: { name: string; id: number; enc: Uint8Array }[] = [
    { name: '1-byte SimpleBlock', id: EbmlId.SimpleBlock, enc: bytes(0xa3) },
    { name: '2-byte DocType', id: EbmlId.DocType, enc: bytes(0x42, 0x82) },
    { name: '3-byte TimecodeScale', id: EbmlId.TimecodeScale, enc: bytes(0x2a, 0xd7, 0xb1) },
    { name: '4-byte EBML', id: EbmlId.EBML, enc: bytes(0x1a, 0x45, 0xdf, 0xa3) },
    { name: '4-byte Segment', id: EbmlId.Segment, enc: bytes(0x18, 0x53, 0x80, 0x67) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(encodeId(c.id)).toEqual(c.enc);
    });
  }

  it('rejects IDs whose marker bit does not match their length', () => {
    expect(() => encodeId(0x80)).toThrow(RangeError); // 1-byte all-zero value is reserved
    expect(() => encodeId(0x0100)).toThrow(RangeError); // 2 bytes, but byte 0 lacks the 0x40 marker
    expect(() => encodeId(0x8000)).toThrow(RangeError); // 2 bytes with a 1-byte marker
    expect(() => encodeId(0x2000_0000)).toThrow(RangeError); // would need 5 bytes
  });
});

describe('element encoders', () => {
  const cases: { name: string; enc: () => Uint8Array; want: Uint8Array }[] = [
    {
      name: 'uint 0 is one zero byte',
      enc: () => encodeUint(EbmlId.TrackNumber, 0),
      want: bytes(/* id */ 0xd7, /* size */ 0x81, /* value */ 0x00),
    },
    {
      name: 'uint 1_000_000 (TimecodeScale) in 3 bytes',
      enc: () => encodeUint(EbmlId.TimecodeScale, 1_000_000),
      want: bytes(0x2a, 0xd7, 0xb1, 0x83, 0x0f, 0x42, 0x40),
    },
    {
      name: 'uint epoch milliseconds above 32 bits',
      enc: () => encodeUint(EbmlId.Timecode, 1_703_120_790_149),
      want: bytes(0xe7, 0x86, 0x01, 0x8c, 0x89, 0xe8, 0xe2, 0x85),
    },
    {
      name: 'uint max 64-bit bigint',
      enc: () => encodeUint(EbmlId.TrackUID, 0xffff_ffff_ffff_ffffn),
      want: bytes(0x73, 0xc5, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    },
    {
      name: 'float 48000 as 8-byte IEEE 754',
      enc: () => encodeFloat(EbmlId.SamplingFrequency, 48000),
      want: bytes(0xb5, 0x88, 0x40, 0xe7, 0x70, 0x00, 0x00, 0x00, 0x00, 0x00),
    },
    {
      name: 'float 44100 as 4-byte IEEE 754',
      enc: () => encodeFloat(EbmlId.SamplingFrequency, 44100, 4),
      want: bytes(0xb5, 0x84, 0x47, 0x2c, 0x44, 0x00),
    },
    {
      name: 'string without terminator',
      enc: () => encodeString(EbmlId.DocType, 'matroska'),
      want: bytes(0x42, 0x82, 0x88, ...'matroska'.split('').map((c) => c.charCodeAt(0))),
    },
    {
      name: 'UTF-8 string',
      enc: () => encodeString(EbmlId.Name, 'é'),
      want: bytes(0x53, 0x6e, 0x82, 0xc3, 0xa9),
    },
    {
      name: 'binary',
      enc: () => encodeBinary(EbmlId.CodecPrivate, bytes(0x11, 0x90)),
      want: bytes(0x63, 0xa2, 0x82, 0x11, 0x90),
    },
    {
      name: 'empty binary',
      enc: () => encodeBinary(EbmlId.CodecPrivate, new Uint8Array(0)),
      want: bytes(0x63, 0xa2, 0x80),
    },
    {
      name: 'master of two children',
      enc: () => encodeMaster(EbmlId.Video, [encodeUint(EbmlId.PixelWidth, 640), encodeUint(EbmlId.PixelHeight, 360)]),
      want: bytes(
        /* Video */ 0xe0, /* size 8 */ 0x88,
        /* PixelWidth */ 0xb0, 0x82, 0x02, 0x80,
        /* PixelHeight */ 0xba, 0x82, 0x01, 0x68,
      ),
    },
    {
      name: 'unknown-size Segment start',
      enc: () => encodeUnknownSizeMasterStart(EbmlId.Segment),
      want: bytes(0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(c.enc()).toEqual(c.want);
    });
  }

  it('uses a 2-byte size once the payload reaches 127 bytes', () => {
    const enc = encodeElement(EbmlId.CodecPrivate, new Uint8Array(127));
    expect(enc.subarray(0, 4)).toEqual(bytes(0x63, 0xa2, 0x40, 0x7f));
    expect(enc.length).toBe(4 + 127);
  });

  it('rejects negative and oversized unsigned integers', () => {
    expect(() => encodeUint(EbmlId.Timecode, -1)).toThrow(RangeError);
    expect(() => encodeUint(EbmlId.Timecode, 1n << 64n)).toThrow(RangeError);
  });

  it('concatenates into a standalone buffer', () => {
    const big = new Uint8Array(16);
    const joined = concatBytes([big.subarray(2, 4), bytes(9)]);
    expect(joined).toEqual(bytes(0, 0, 9));
    expect(joined.buffer.byteLength).toBe(3);
  });
});
