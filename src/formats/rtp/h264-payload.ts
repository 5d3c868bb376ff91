// The three RTP payload structures of RFC 6184 packetization-mode 1 (non-interleaved, §6.3): a single NAL
// unit, STAP-A (§5.7.1) and FU-A (§5.8). STAP-B, MTAP and FU-B belong to the interleaved mode, which
// WebRTC never negotiates, so they are rejected rather than half-supported.

import { ByteReader } from '../bits/byte-reader.js';
import { invalid } from '../errors.js';
import { H264NalType } from './h264-nal.js';

/** Payload header types 24..31 are the payload format's own; 1..23 are NAL units sent as they are. */
export const H264PayloadType = { STAP_A: 24, STAP_B: 25, MTAP16: 26, MTAP24: 27, FU_A: 28, FU_B: 29 } as const;

/** FU header bits (RFC 6184 §5.8). */
export const FuFlag = { START: 0x80, END: 0x40, RESERVED: 0x20 } as const;

export type H264Payload =
  | { kind: 'nal'; nal: Uint8Array }
  | { kind: 'stap-a'; nals: Uint8Array[] }
  | {
      kind: 'fu-a';
      start: boolean;
      end: boolean;
      /** The reconstructed NAL header: F and NRI of the FU indicator, the type of the FU header. */
      nalHeader: number;
      fragment: Uint8Array;
    };

/**
 * What one RTP payload holds, as views into it. Throws a ParseError (offsets within the payload) for an
 * empty payload, a set F bit, a type this mode does not carry, STAP-A sizes that do not tile the payload,
 * or an FU-A without data or with both S and E set (§5.8 forbids it).
 */
export function parseH264Payload(payload: Uint8Array): H264Payload {
  const r = new ByteReader(payload);
  const header = r.readU8('H.264 payload header');
  if ((header & 0x80) !== 0) {
    throw invalid(0, 'H.264 payload header has the forbidden_zero_bit set');
  }
  const type = header & 0x1f;
  if (type >= 1 && type <= 23) {
    return { kind: 'nal', nal: payload };
  }
  if (type === H264PayloadType.STAP_A) {
    const nals: Uint8Array[] = [];
    while (r.remaining > 0) {
      const size = r.readUintBE(2, 'STAP-A NAL unit size');
      if (size === 0) {
        throw invalid(r.offset - 2, 'STAP-A has an empty NAL unit');
      }
      const at = r.offset;
      const nal = r.readBytes(size, 'STAP-A NAL unit');
      checkCarried(nal[0] ?? 0, at, 'STAP-A');
      nals.push(nal);
    }
    if (nals.length === 0) {
      throw invalid(0, 'STAP-A has no NAL units');
    }
    return { kind: 'stap-a', nals };
  }
  if (type === H264PayloadType.FU_A) {
    const fu = r.readU8('FU-A header');
    const start = (fu & FuFlag.START) !== 0;
    const end = (fu & FuFlag.END) !== 0;
    if (start && end) {
      throw invalid(1, 'FU-A has both the start and the end bit set');
    }
    if (r.remaining === 0) {
      throw invalid(2, 'FU-A carries no data');
    }
    const nalHeader = (header & 0xe0) | (fu & 0x1f);
    checkCarried(nalHeader, 1, 'FU-A');
    return { kind: 'fu-a', start, end, nalHeader, fragment: r.readBytes(r.remaining) };
  }
  throw invalid(0, `H.264 payload type ${type} is not used in packetization-mode 1`);
}

/** Aggregates and fragments carry real NAL units only: no payload structures nested in them (§5.7, §5.8). */
function checkCarried(nalHeader: number, at: number, where: string): void {
  const type = nalHeader & 0x1f;
  if ((nalHeader & 0x80) !== 0 || type === 0 || type >= H264PayloadType.STAP_A) {
    throw invalid(at, `${where} carries a NAL unit with header byte 0x${nalHeader.toString(16)}`);
  }
}

/**
 * Whether an RTP payload begins a key frame: it carries an SPS or an IDR slice (alone or in a STAP-A) or starts
 * an FU-A of an IDR slice. A relay switching between senders resumes at such a packet, so the receiver's decoder
 * never gets a picture predicted from another sender's. Malformed payloads are not key frames.
 */
export function beginsH264KeyFrame(payload: Uint8Array): boolean {
  let p: H264Payload;
  try {
    p = parseH264Payload(payload);
  } catch {
    return false;
  }
  const keyNal = (header: number): boolean => {
    const type = header & 0x1f;
    return type === H264NalType.SPS || type === H264NalType.IDR;
  };
  switch (p.kind) {
    case 'nal':
      return keyNal(p.nal[0] ?? 0);
    case 'stap-a':
      return p.nals.some((n) => keyNal(n[0] ?? 0));
    case 'fu-a':
      return p.start && keyNal(p.nalHeader);
  }
}
