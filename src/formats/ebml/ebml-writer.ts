// EBML element encoders (RFC 8794). Every function returns a fresh Uint8Array that the caller owns.

/**
 * The 8-byte unknown-size marker. KVS GetMedia and live producers open the Segment with it because the
 * total length is not known when the header is sent.
 */
export const UNKNOWN_SIZE: Uint8Array = Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

const textEncoder = new TextEncoder();

/**
 * Encodes an element data size as a vint, using the shortest length unless `length` forces a wider one
 * (KVS writes some sizes as fixed 4- or 8-byte vints so they can be patched in place).
 */
export function encodeVintSize(size: number, length?: number): Uint8Array {
  // An 8-byte vint carries up to 2^56 - 2, more than any safe integer, so safe integers always fit.
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`EBML size ${size} is not encodable as a vint`);
  }
  let minLength = 1;
  // 2^(7n) - 1 is the reserved all-ones value of an n-byte vint, so the usable maximum is 2^(7n) - 2.
  while (size > 2 ** (7 * minLength) - 2) {
    minLength++;
  }
  const len = length ?? minLength;
  if (!Number.isInteger(len) || len < minLength || len > 8) {
    throw new RangeError(`EBML size ${size} does not fit a ${len}-byte vint`);
  }
  const out = new Uint8Array(len);
  let rest = size;
  for (let i = len - 1; i >= 0; i--) {
    // Division instead of bit shifts: sizes may exceed 32 bits.
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  out[0] = (out[0] ?? 0) | (0x80 >> (len - 1));
  return out;
}

/** Encodes an element ID that is given with its length-marker bits, as in ids.ts. */
export function encodeId(id: number): Uint8Array {
  if (!Number.isInteger(id) || id < 0x81 || id > 0x1ffffffe) {
    throw new RangeError(`0x${id.toString(16)} is not a valid EBML element ID`);
  }
  const len = id <= 0xff ? 1 : id <= 0xffff ? 2 : id <= 0xffffff ? 3 : 4;
  const marker = 0x80 >> (len - 1);
  const first = Math.floor(id / 2 ** (8 * (len - 1)));
  // The first byte must carry exactly the marker bit of its own length (0x80 for 1 byte, 0x40 for 2, ...).
  if ((first & ~(marker - 1) & 0xff) !== marker) {
    throw new RangeError(`0x${id.toString(16)} has a length marker that does not match its byte length`);
  }
  const out = new Uint8Array(len);
  let rest = id;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) {
    total += p.length;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** An element with the given payload: ID + minimal size vint + payload. */
export function encodeElement(id: number, payload: Uint8Array): Uint8Array {
  return concatBytes([encodeId(id), encodeVintSize(payload.length), payload]);
}

/** Unsigned integer element in the fewest bytes (zero is written as one 0x00 byte). */
export function encodeUint(id: number, value: number | bigint): Uint8Array {
  let v = BigInt(value);
  if (v < 0n || v > 0xffffffffffffffffn) {
    throw new RangeError(`${value} is not a 64-bit unsigned integer`);
  }
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  return encodeElement(id, Uint8Array.from(bytes));
}

/** Float element, 8 bytes by default (Matroska readers accept 4 or 8; 8 keeps 44.1 kHz-style rates exact). */
export function encodeFloat(id: number, value: number, size: 4 | 8 = 8): Uint8Array {
  const payload = new Uint8Array(size);
  const view = new DataView(payload.buffer);
  if (size === 4) {
    view.setFloat32(0, value);
  } else {
    view.setFloat64(0, value);
  }
  return encodeElement(id, payload);
}

/** String or UTF-8 element, without a terminating NUL. */
export function encodeString(id: number, value: string): Uint8Array {
  return encodeElement(id, textEncoder.encode(value));
}

export function encodeBinary(id: number, data: Uint8Array): Uint8Array {
  return encodeElement(id, data);
}

/** Master element of known size holding the already-encoded children. */
export function encodeMaster(id: number, children: readonly Uint8Array[]): Uint8Array {
  return encodeElement(id, concatBytes(children));
}

/**
 * Only the ID and the 8-byte unknown size of a master element; its children follow in the stream
 * and it ends where its parent ends or where an element that cannot be its child starts.
 */
export function encodeUnknownSizeMasterStart(id: number): Uint8Array {
  return concatBytes([encodeId(id), UNKNOWN_SIZE]);
}
