// A bounds-checked big-endian cursor over a Uint8Array. Every read checks the remaining range first and
// throws a ParseError carrying the absolute stream offset, so parsers built on it never read past an
// element and never see `undefined` from an out-of-range index.

import { invalid, tooLarge } from '../errors.js';
import { readElementId, readElementSize, readVintValue, type ElementSize } from '../ebml/vint.js';

// Lenient on purpose: Matroska strings written by odd muxers are not always valid UTF-8, and a bad title
// must not reject a whole stream.
const utf8 = new TextDecoder('utf-8');

export class ByteReader {
  readonly bytes: Uint8Array;
  /** Index into `bytes` of the next byte to read. */
  pos: number;
  /** Index into `bytes` one past the last readable byte. */
  readonly end: number;
  /** Absolute stream offset of `bytes[0]`, used in error messages. */
  readonly baseOffset: number;
  private viewCache: DataView | undefined;

  constructor(bytes: Uint8Array, baseOffset = 0, start = 0, end = bytes.length) {
    if (start < 0 || end > bytes.length || start > end) {
      throw new RangeError(`ByteReader range ${start}..${end} outside a buffer of ${bytes.length} bytes`);
    }
    this.bytes = bytes;
    this.baseOffset = baseOffset;
    this.pos = start;
    this.end = end;
  }

  /** Absolute stream offset of the next byte. */
  get offset(): number {
    return this.baseOffset + this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Absolute stream offset of an index into `bytes`. */
  offsetOf(index: number): number {
    return this.baseOffset + index;
  }

  /** A reader limited to the next `length` bytes, sharing the buffer; this reader is not advanced. */
  sub(length: number, what: string): ByteReader {
    this.need(length, what);
    return new ByteReader(this.bytes, this.baseOffset, this.pos, this.pos + length);
  }

  skip(n: number, what = 'data'): void {
    this.need(n, what);
    this.pos += n;
  }

  readU8(what = 'a byte'): number {
    this.need(1, what);
    return this.bytes[this.pos++] ?? 0;
  }

  readI16BE(what = 'a 16-bit integer'): number {
    this.need(2, what);
    const v = this.view().getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  /** Unsigned big-endian integer of 0..8 bytes (0 bytes reads as 0, as EBML specifies). */
  readUintBE(n: number, what = 'an unsigned integer'): number {
    if (n > 8) {
      throw invalid(this.offset, `${what}: unsigned integers are at most 8 bytes, found ${n}`);
    }
    this.need(n, what);
    let v = 0;
    for (let i = 0; i < n; i++) {
      v = v * 256 + (this.bytes[this.pos + i] ?? 0);
    }
    if (v > Number.MAX_SAFE_INTEGER) {
      throw tooLarge(this.offset, `${what} exceeds 2^53 - 1`);
    }
    this.pos += n;
    return v;
  }

  /** Unsigned big-endian integer of 0..8 bytes as a bigint (UIDs use all 64 bits). */
  readBigUintBE(n: number, what = 'an unsigned integer'): bigint {
    if (n > 8) {
      throw invalid(this.offset, `${what}: unsigned integers are at most 8 bytes, found ${n}`);
    }
    this.need(n, what);
    let v = 0n;
    for (let i = 0; i < n; i++) {
      v = (v << 8n) | BigInt(this.bytes[this.pos + i] ?? 0);
    }
    this.pos += n;
    return v;
  }

  /** Signed (two's complement) big-endian integer of 0..8 bytes. */
  readIntBE(n: number, what = 'a signed integer'): number {
    if (n > 8) {
      throw invalid(this.offset, `${what}: signed integers are at most 8 bytes, found ${n}`);
    }
    this.need(n, what);
    let v = 0n;
    for (let i = 0; i < n; i++) {
      v = (v << 8n) | BigInt(this.bytes[this.pos + i] ?? 0);
    }
    if (n > 0) {
      v = BigInt.asIntN(8 * n, v);
    }
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw tooLarge(this.offset, `${what} is outside ±(2^53 - 1)`);
    }
    this.pos += n;
    return Number(v);
  }

  /** IEEE 754 float of 0, 4 or 8 bytes (0 bytes reads as 0.0). */
  readFloat(n: number, what = 'a float'): number {
    if (n !== 0 && n !== 4 && n !== 8) {
      throw invalid(this.offset, `${what}: floats are 0, 4 or 8 bytes, found ${n}`);
    }
    this.need(n, what);
    const v = n === 0 ? 0 : n === 4 ? this.view().getFloat32(this.pos) : this.view().getFloat64(this.pos);
    this.pos += n;
    return v;
  }

  /** A view (not a copy) of the next `n` bytes. */
  readBytes(n: number, what = 'binary data'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** An EBML string: decoded leniently as UTF-8, cut at the first NUL (EBML allows NUL padding). */
  readString(n: number, what = 'a string'): string {
    const raw = this.readBytes(n, what);
    const nul = raw.indexOf(0);
    return utf8.decode(nul < 0 ? raw : raw.subarray(0, nul));
  }

  /** A plain unsigned vint (block track numbers). */
  readVint(what = 'a vint'): number {
    const v = readVintValue(this.bytes, this.pos, this.end, this.offset, what);
    if (v === null) {
      throw this.truncated(what);
    }
    this.pos += v.length;
    return v.value;
  }

  /** An element ID with its marker bits. */
  readId(what = 'an element ID'): number {
    const v = readElementId(this.bytes, this.pos, this.end, this.offset);
    if (v === null) {
      throw this.truncated(what);
    }
    this.pos += v.length;
    return v.id;
  }

  /** An element data size (may be unknown). */
  readSize(what = 'an element size'): ElementSize {
    const v = readElementSize(this.bytes, this.pos, this.end, this.offset);
    if (v === null) {
      throw this.truncated(what);
    }
    this.pos += v.length;
    return v;
  }

  private need(n: number, what: string): void {
    if (!Number.isInteger(n) || n < 0 || n > this.end - this.pos) {
      throw invalid(this.offset, `expected ${n} bytes of ${what}, only ${this.end - this.pos} left`);
    }
  }

  private truncated(what: string): Error {
    return invalid(this.offset, `${what} is cut off: only ${this.end - this.pos} bytes left`);
  }

  private view(): DataView {
    this.viewCache ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.viewCache;
  }
}
