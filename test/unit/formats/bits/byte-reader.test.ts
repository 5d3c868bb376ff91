import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../helpers/parse-error.js';
import { ByteReader } from '../../../../src/formats/bits/byte-reader.js';

const b = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);


describe('ByteReader', () => {
  it('reads big-endian integers of 0..8 bytes', () => {
    const r = new ByteReader(b(0x12, 0x34, 0x00, 0x00, 0x01, 0x8c, 0x89, 0x5d, 0x6a, 0x85));
    expect(r.readUintBE(0)).toBe(0);
    expect(r.readUintBE(2)).toBe(0x1234);
    // An epoch-millisecond cluster timecode as the KVS producer writes it (8 bytes).
    const r8 = new ByteReader(b(0x00, 0x00, 0x01, 0x8c, 0x89, 0x5d, 0x6a, 0x85));
    expect(r8.readUintBE(8)).toBe(0x018c895d6a85);
    expect(r.remaining).toBe(8);
  });

  it('rejects unsigned integers longer than 8 bytes and values above 2^53 - 1', () => {
    expect(errorOf(() => new ByteReader(new Uint8Array(9)).readUintBE(9)).code).toBe('INVALID');
    expect(errorOf(() => new ByteReader(b(0x00, 0x20, 0, 0, 0, 0, 0, 0)).readUintBE(8)).code).toBe('TOO_LARGE');
    expect(new ByteReader(b(0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)).readUintBE(8)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('reads full 64-bit UIDs as bigint', () => {
    expect(new ByteReader(b(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)).readBigUintBE(8)).toBe(2n ** 64n - 1n);
  });

  it('reads signed integers in two’s complement', () => {
    expect(new ByteReader(b(0xff, 0xfe)).readIntBE(2)).toBe(-2);
    expect(new ByteReader(b(0x80)).readIntBE(1)).toBe(-128);
    expect(new ByteReader(b(0x7f)).readIntBE(1)).toBe(127);
    expect(new ByteReader(b()).readIntBE(0)).toBe(0);
    expect(new ByteReader(b(0xff, 0xbd)).readI16BE()).toBe(-67);
  });

  it('reads floats of 0, 4 and 8 bytes and rejects other sizes', () => {
    expect(new ByteReader(b()).readFloat(0)).toBe(0);
    expect(new ByteReader(b(0x47, 0x3b, 0x80, 0x00)).readFloat(4)).toBe(48000);
    expect(new ByteReader(b(0x40, 0xe7, 0x70, 0x00, 0x00, 0x00, 0x00, 0x00)).readFloat(8)).toBe(48000);
    expect(errorOf(() => new ByteReader(new Uint8Array(3)).readFloat(3)).code).toBe('INVALID');
    expect(errorOf(() => new ByteReader(new Uint8Array(10)).readFloat(10)).code).toBe('INVALID');
  });

  it('reads strings leniently and stops at NUL padding', () => {
    expect(new ByteReader(b(0x77, 0x65, 0x62, 0x6d, 0, 0)).readString(6)).toBe('webm');
    expect(new ByteReader(b(0x61, 0xff, 0x62)).readString(3)).toBe('a\ufffdb');
  });

  it('reads vints and IDs', () => {
    const r = new ByteReader(b(0x1f, 0x43, 0xb6, 0x75, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81));
    expect(r.readId()).toBe(0x1f43b675);
    expect(r.readSize()).toEqual({ value: 0, length: 8, unknown: true });
    expect(r.readVint()).toBe(1);
    expect(r.remaining).toBe(0);
  });

  it('returns views, not copies, for readBytes and sub', () => {
    const bytes = b(1, 2, 3, 4);
    const r = new ByteReader(bytes);
    r.skip(1);
    const view = r.readBytes(2);
    expect(view.buffer).toBe(bytes.buffer);
    expect([...view]).toEqual([2, 3]);
    const sub = new ByteReader(bytes).sub(2, 'x');
    expect(sub.end).toBe(2);
  });

  it('checks every read against its range and reports the absolute offset', () => {
    const r = new ByteReader(b(0, 1, 2, 3, 4, 5), 1000, 2, 4);
    expect(r.offset).toBe(1002);
    expect(r.readU8()).toBe(2);
    const e = errorOf(() => r.readUintBE(2));
    expect(e.code).toBe('INVALID');
    expect(e.offset).toBe(1003);
    expect(errorOf(() => r.skip(5)).code).toBe('INVALID');
    expect(errorOf(() => new ByteReader(b(0x40)).readVint()).code).toBe('INVALID');
    expect(errorOf(() => new ByteReader(b(0x1a, 0x45)).readId()).code).toBe('INVALID');
    expect(errorOf(() => new ByteReader(b(0x00)).readSize()).code).toBe('INVALID');
    expect(errorOf(() => new ByteReader(b()).readU8()).code).toBe('INVALID');
  });

  it('ParseError carries name, code, offset', () => {
    const e = errorOf(() => new ByteReader(b(), 42).readU8('the flags'));
    expect(e.name).toBe('ParseError');
    expect(e.offset).toBe(42);
    expect(e.message).toContain('the flags');
    expect(e).toBeInstanceOf(Error);
  });
});
