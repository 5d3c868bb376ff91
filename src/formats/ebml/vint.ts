// EBML variable-size integers (RFC 8794 §4). Every decoder takes the buffer, the read position, the end of
// the readable range and the absolute stream offset of `pos` (for error messages), and returns `null` when
// the vint is cut off by `end`: a streaming caller then waits for more bytes instead of failing.

import { invalid, tooLarge } from '../errors.js';

/**
 * Byte length of a vint given its first byte: the position of the first set bit (0x80 → 1 … 0x01 → 8).
 * 0 for a first byte of 0x00, whose marker would lie beyond the 8 bytes EBML allows.
 */
export function vintLength(first: number): number {
  if (first >= 0x80) {
    return 1;
  }
  if (first >= 0x40) {
    return 2;
  }
  if (first >= 0x20) {
    return 3;
  }
  if (first >= 0x10) {
    return 4;
  }
  if (first >= 0x08) {
    return 5;
  }
  if (first >= 0x04) {
    return 6;
  }
  if (first >= 0x02) {
    return 7;
  }
  return first === 0x01 ? 8 : 0;
}

export type ElementId = { id: number; length: number };

/** An element data size. `unknown` is set for the all-ones pattern of any length; `value` is then meaningless. */
export type ElementSize = { value: number; length: number; unknown: boolean };

/** A plain vint value (block track numbers, the first EBML lace size). */
export type VintValue = { value: number; length: number };

/** The largest ID length Matroska uses (EBMLMaxIDLength is 4 for both matroska and webm doc types). */
const MAX_ID_LENGTH = 4;

/**
 * Reads an element ID, keeping its length-marker bits (that is how ids.ts spells them).
 * Throws for a first byte without a marker in its first 4 bits and for the reserved all-ones IDs.
 */
export function readElementId(bytes: Uint8Array, pos: number, end: number, offset: number): ElementId | null {
  if (pos >= end) {
    return null;
  }
  const first = bytes[pos] ?? 0;
  const length = vintLength(first);
  if (length === 0 || length > MAX_ID_LENGTH) {
    throw invalid(offset, `expected an element ID, found byte 0x${hex2(first)} (IDs are 1 to 4 bytes long)`);
  }
  if (pos + length > end) {
    return null;
  }
  const marker = 0x80 >> (length - 1);
  let id = first;
  let allOnes = (first & (marker - 1)) === marker - 1;
  for (let i = 1; i < length; i++) {
    const b = bytes[pos + i] ?? 0;
    // Multiplication keeps 4-byte IDs positive (bit shifts would make 0x1a45dfa3-style IDs signed).
    id = id * 256 + b;
    allOnes &&= b === 0xff;
  }
  if (allOnes) {
    throw invalid(offset, `element ID 0x${id.toString(16)} is reserved (all value bits set)`);
  }
  return { id, length };
}

/**
 * Reads an element data size, dropping the marker bit. The all-ones pattern means "unknown size" at every
 * length (`FF`, `7F FF`, …, `01 FF FF FF FF FF FF FF`).
 */
export function readElementSize(bytes: Uint8Array, pos: number, end: number, offset: number): ElementSize | null {
  const raw = readRaw(bytes, pos, end, offset, 'element size');
  if (raw === null) {
    return null;
  }
  if (raw.allOnes) {
    return { value: 0, length: raw.length, unknown: true };
  }
  if (raw.value > Number.MAX_SAFE_INTEGER) {
    throw tooLarge(offset, 'element size exceeds 2^53 - 1 bytes');
  }
  return { value: raw.value, length: raw.length, unknown: false };
}

/** Reads an unsigned vint whose all-ones pattern has no special meaning (block track numbers). */
export function readVintValue(bytes: Uint8Array, pos: number, end: number, offset: number, what: string): VintValue | null {
  const raw = readRaw(bytes, pos, end, offset, what);
  if (raw === null) {
    return null;
  }
  if (raw.value > Number.MAX_SAFE_INTEGER) {
    throw tooLarge(offset, `${what} exceeds 2^53 - 1`);
  }
  return { value: raw.value, length: raw.length };
}

/**
 * Reads a signed vint as used by EBML lacing (RFC 9559 §10.3.3): the unsigned value minus 2^(7n-1) - 1,
 * so a 1-byte vint covers -63..+63. The all-ones pattern is reserved there.
 */
export function readSignedVint(bytes: Uint8Array, pos: number, end: number, offset: number, what: string): VintValue | null {
  const raw = readRaw(bytes, pos, end, offset, what);
  if (raw === null) {
    return null;
  }
  if (raw.allOnes) {
    throw invalid(offset, `${what}: the all-ones signed vint is reserved`);
  }
  return { value: raw.value - (2 ** (7 * raw.length - 1) - 1), length: raw.length };
}

type RawVint = { value: number; length: number; allOnes: boolean };

function readRaw(bytes: Uint8Array, pos: number, end: number, offset: number, what: string): RawVint | null {
  if (pos >= end) {
    return null;
  }
  const first = bytes[pos] ?? 0;
  const length = vintLength(first);
  if (length === 0) {
    throw invalid(offset, `${what}: a vint cannot start with 0x00 (its length marker would lie beyond 8 bytes)`);
  }
  if (pos + length > end) {
    return null;
  }
  const mask = (0x80 >> (length - 1)) - 1;
  let value = first & mask;
  let allOnes = value === mask;
  for (let i = 1; i < length; i++) {
    const b = bytes[pos + i] ?? 0;
    // Floating-point arithmetic: 8-byte vints carry 56 bits. Values above 2^53 lose precision, but they stay
    // above Number.MAX_SAFE_INTEGER, which is all the callers check for.
    value = value * 256 + b;
    allOnes &&= b === 0xff;
  }
  return { value, length, allOnes };
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}
