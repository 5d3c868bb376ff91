// H.264 NAL units between their three framings: bare units (what RTP carries), the Annex-B byte stream
// (encoders, raw .h264 files, ffmpeg) and 4-byte length prefixes (AVCC: what Matroska and MP4 store).

import { invalid } from '../errors.js';

/** nal_unit_type values (H.264 Table 7-1) that packetizing and depacketizing care about. */
export const H264NalType = { NON_IDR: 1, IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9 } as const;

export const h264NalType = (nal: Uint8Array): number => (nal[0] ?? 0) & 0x1f;

/** Types 1..5 are coded slices; the parameter sets of a picture must come before the first of them. */
export const isVclNal = (nal: Uint8Array): boolean => {
  const t = h264NalType(nal);
  return t >= 1 && t <= 5;
};

const START_CODE = Uint8Array.of(0, 0, 0, 1);

/**
 * The NAL units of an Annex-B access unit, as views. Start codes are 00 00 01 or 00 00 00 01; zero bytes in
 * front of a start code are trailing_zero_8bits, not part of the unit before. Empty units are dropped.
 * Throws a ParseError when the bytes do not begin with a start code (after leading zeros).
 */
export function splitAnnexB(bytes: Uint8Array): Uint8Array[] {
  const starts: { code: number; data: number }[] = [];
  for (let i = 0; i + 2 < bytes.length; i++) {
    if ((bytes[i + 2] ?? 0) > 1) {
      // Neither i, i+1 nor i+2 can begin 00 00 01 when the third byte is above 1.
      i += 2;
    } else if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      starts.push({ code: i, data: i + 3 });
      i += 2;
    }
  }
  const first = starts[0];
  const leading = first === undefined ? bytes.length : first.code;
  for (let i = 0; i < leading; i++) {
    if (bytes[i] !== 0) {
      throw invalid(i, 'Annex-B data does not begin with a start code');
    }
  }
  const nals: Uint8Array[] = [];
  for (let k = 0; k < starts.length; k++) {
    const begin = starts[k]?.data ?? 0;
    let end = starts[k + 1]?.code ?? bytes.length;
    while (end > begin && bytes[end - 1] === 0) {
      end--;
    }
    if (end > begin) {
      nals.push(bytes.subarray(begin, end));
    }
  }
  return nals;
}

/** Each unit behind a 4-byte start code (the form every decoder accepts at any position). */
export function joinAnnexB(nals: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(nals.reduce((n, u) => n + START_CODE.length + u.length, 0));
  let at = 0;
  for (const u of nals) {
    out.set(START_CODE, at);
    out.set(u, at + START_CODE.length);
    at += START_CODE.length + u.length;
  }
  return out;
}

/** Each unit behind a 4-byte big-endian length: an MKV/MP4 sample for an avcC with lengthSizeMinusOne = 3. */
export function joinAvcc(nals: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(nals.reduce((n, u) => n + 4 + u.length, 0));
  const v = new DataView(out.buffer);
  let at = 0;
  for (const u of nals) {
    v.setUint32(at, u.length);
    out.set(u, at + 4);
    at += 4 + u.length;
  }
  return out;
}
