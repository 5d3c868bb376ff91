import { invalid, tooLarge } from '../errors.js';

// Boundaries and sizes of the images ffmpeg writes back to back on one pipe: JPEG (mjpeg), PNG and binary PGM
// thumbnails. Each *Length function answers null while the buffer does not yet hold the whole image.

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_CHUNK_OVERHEAD = 12;
/** Largest thumbnail side accepted (the consumers ask for ≤ 160 px wide). */
export const MAX_PGM_SIDE = 8192;

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const u32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;

/** Length of the JPEG or PNG at the start of `b`; null if incomplete. */
export function encodedImageLength(b: Uint8Array): number | null {
  if (b.length < 8) {
    return null;
  }
  if (b[0] === 0xff && b[1] === 0xd8) {
    return jpegLength(b);
  }
  if (PNG_SIGNATURE.every((v, i) => b[i] === v)) {
    return pngLength(b);
  }
  throw invalid(0, 'expected a JPEG or PNG image');
}

function jpegLength(b: Uint8Array): number | null {
  // marker segments (their payloads may hold any byte) up to the start of scan, then entropy-coded data, where
  // 0xFF is always followed by 0x00 (stuffing) or a restart marker, until EOI
  let i = 2;
  for (;;) {
    if (i + 4 > b.length) {
      return null;
    }
    if (b[i] !== 0xff) {
      throw invalid(i, 'JPEG marker expected');
    }
    const marker = b[i + 1]!;
    if (marker === 0xd9) {
      return i + 2;
    }
    const length = u16(b, i + 2);
    i += 2 + length;
    if (marker === 0xda) {
      break;
    }
  }
  for (; i + 1 < b.length; i++) {
    if (b[i] === 0xff) {
      const next = b[i + 1]!;
      if (next === 0xd9) {
        return i + 2;
      }
      if (next !== 0x00 && !(next >= 0xd0 && next <= 0xd7) && next !== 0xff) {
        // another scan (progressive JPEG) or table: skip its segment and keep scanning
        if (i + 4 > b.length) {
          return null;
        }
        i += 1 + u16(b, i + 2);
      }
    }
  }
  return null;
}

function pngLength(b: Uint8Array): number | null {
  let i = PNG_SIGNATURE.length;
  for (;;) {
    if (i + PNG_CHUNK_OVERHEAD > b.length) {
      return null;
    }
    const length = u32(b, i);
    const type = String.fromCharCode(b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!);
    i += PNG_CHUNK_OVERHEAD + length;
    if (type === 'IEND') {
      return i <= b.length ? i : null;
    }
  }
}

type PgmHeader = { width: number; height: number; dataStart: number };

function pgmHeader(b: Uint8Array): PgmHeader | null {
  if (b.length < 2) {
    return null;
  }
  if (b[0] !== 0x50 || b[1] !== 0x35) {
    throw invalid(0, 'expected a binary PGM (P5)');
  }
  const fields: number[] = [];
  let i = 2;
  while (fields.length < 3) {
    while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) {
      i++;
    }
    let v = 0;
    const start = i;
    while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39) {
      v = v * 10 + (b[i]! - 0x30);
      i++;
    }
    if (i >= b.length) {
      return null;
    }
    if (i === start) {
      throw invalid(i, 'PGM header number expected');
    }
    fields.push(v);
  }
  const [width, height, maxval] = fields as [number, number, number];
  if (maxval < 1 || maxval > 255) {
    throw invalid(i, 'only 8-bit PGM thumbnails are expected');
  }
  if (width > MAX_PGM_SIDE || height > MAX_PGM_SIDE) {
    throw tooLarge(0, `PGM of ${width}x${height} is over ${MAX_PGM_SIDE} px`);
  }
  // exactly one whitespace byte separates the header from the pixels
  return { width, height, dataStart: i + 1 };
}

/** Length of the binary PGM at the start of `b`; null if incomplete. */
export function pgmLength(b: Uint8Array): number | null {
  const h = pgmHeader(b);
  if (h === null) {
    return null;
  }
  const end = h.dataStart + h.width * h.height;
  return end <= b.length ? end : null;
}

/** A complete binary PGM as 8-bit luma. */
export function parsePgm(b: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const h = pgmHeader(b);
  if (h === null || h.dataStart + h.width * h.height > b.length) {
    throw invalid(0, 'truncated PGM');
  }
  return { width: h.width, height: h.height, data: b.subarray(h.dataStart, h.dataStart + h.width * h.height) };
}

/** Width and height from a PNG's IHDR or a JPEG's start-of-frame; 0x0 when neither is found. */
export function imageSize(b: Uint8Array): { width: number; height: number } {
  if (b.length >= 24 && b[0] === 0x89) {
    return { width: u32(b, 16), height: u32(b, 20) };
  }
  let i = 2;
  while (i + 9 < b.length && b[i] === 0xff) {
    const marker = b[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { width: u16(b, i + 7), height: u16(b, i + 5) };
    }
    i += 2 + u16(b, i + 2);
  }
  return { width: 0, height: 0 };
}
