// ISO BMFF (ISO/IEC 14496-12) box framing: top-level box headers and bounds-checked walks of child boxes.
import { invalid } from '../../formats/errors.js';

export type BoxHeader = {
  type: string;
  /** Absolute offset of the box's first byte. */
  start: number;
  headerSize: number;
  /** Total size including the header, or undefined when the box extends to the end of the stream (size 0). */
  size: number | undefined;
};

/** A 64-bit largesize header needs 16 bytes; a compact one 8. */
export const MAX_BOX_HEADER_SIZE = 16;

/**
 * Reads a box header from `bytes` (which starts at absolute offset `start`). Returns undefined when more
 * bytes are needed to tell.
 */
export function readBoxHeader(bytes: Uint8Array, start: number): BoxHeader | undefined {
  if (bytes.length < 8) {
    return undefined;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size32 = view.getUint32(0);
  const type = fourcc(bytes, 4);
  if (size32 === 1) {
    if (bytes.length < 16) {
      return undefined;
    }
    const large = view.getBigUint64(8);
    if (large > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw invalid(start, `box '${printable(type)}' has a 64-bit size beyond 2^53`);
    }
    const size = Number(large);
    if (size < 16) {
      throw invalid(start, `box '${printable(type)}' has largesize ${size}, smaller than its header`);
    }
    return { type, start, headerSize: 16, size };
  }
  if (size32 === 0) {
    return { type, start, headerSize: 8, size: undefined };
  }
  if (size32 < 8) {
    throw invalid(start, `box '${printable(type)}' has size ${size32}, smaller than its header`);
  }
  return { type, start, headerSize: 8, size: size32 };
}

export function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
}

/** Top-level box types are plain ASCII in every real file; anything else means we are not reading MP4. */
export function isAsciiFourcc(type: string): boolean {
  return /^[\x20-\x7e]{4}$/.test(type);
}

function printable(type: string): string {
  return isAsciiFourcc(type) ? type : [...type].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
}

/** Bounds-checked big-endian reads over one box payload; errors carry absolute stream offsets. */
export class BoxCursor {
  private readonly view: DataView;
  pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    /** Absolute stream offset of bytes[0]. */
    readonly base: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw invalid(this.base + this.pos, `box payload ends ${n - this.remaining} byte(s) early`);
    }
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw invalid(this.base + this.pos, '64-bit field beyond 2^53');
    }
    this.pos += 8;
    return Number(v);
  }

  /** Version (8 bits) and flags (24 bits) of a FullBox. */
  fullBoxHeader(): { version: number; flags: number } {
    const v = this.u32();
    return { version: v >>> 24, flags: v & 0xffffff };
  }
}

export type ChildBox = {
  type: string;
  /** Absolute offset of the child's first byte. */
  start: number;
  /** Absolute offset of the child's payload (after its header). */
  payloadStart: number;
  payload: Uint8Array;
};

/** The child boxes of a container payload. Children must tile the payload exactly. */
export function childBoxes(payload: Uint8Array, payloadStart: number): ChildBox[] {
  const out: ChildBox[] = [];
  let pos = 0;
  while (pos < payload.length) {
    const start = payloadStart + pos;
    const header = readBoxHeader(payload.subarray(pos, pos + MAX_BOX_HEADER_SIZE), start);
    if (header === undefined) {
      throw invalid(start, 'child box header is cut off by the end of its parent');
    }
    // size 0 ("to the end") is only meaningful at the top level; inside a container it means the rest of it.
    const size = header.size ?? payload.length - pos;
    if (pos + size > payload.length) {
      throw invalid(start, `child box '${header.type}' (${size} bytes) overruns its parent`);
    }
    out.push({
      type: header.type,
      start,
      payloadStart: start + header.headerSize,
      payload: payload.subarray(pos + header.headerSize, pos + size),
    });
    pos += size;
  }
  return out;
}
