// What avcC and hvcC (ISO/IEC 14496-15 §5.3.3.1, §8.3.3.1) share: a size cap checked before any read,
// configurationVersion 1, and the lengthSizeMinusOne byte.

import { ByteReader } from '../bits/byte-reader.js';
import { invalid, tooLarge } from '../errors.js';

export type RecordName = 'avcC' | 'hvcC';

/** A reader positioned after configurationVersion, once the record is under `maxBytes` and of version 1. */
export function openRecord(bytes: Uint8Array, record: RecordName, maxBytes: number): ByteReader {
  if (bytes.length > maxBytes) {
    throw tooLarge(0, `${record} of ${bytes.length} bytes is over ${maxBytes}`);
  }
  const r = new ByteReader(bytes);
  const version = r.readU8(`${record} configurationVersion`);
  if (version !== 1) {
    throw invalid(0, `${record} configurationVersion is ${version}, not 1`);
  }
  return r;
}

/** Reads the lengthSizeMinusOne byte and returns the NAL length size in bytes: 1, 2 or 4 (3 is not allowed). */
export function readLengthSize(r: ByteReader, record: RecordName): number {
  const lengthSize = (r.readU8(`${record} lengthSizeMinusOne`) & 0x03) + 1;
  if (lengthSize === 3) {
    throw invalid(r.offset - 1, `${record} NAL length size 3 is not allowed`);
  }
  return lengthSize;
}
