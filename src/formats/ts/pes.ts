// PES packets (ISO/IEC 13818-1 §2.4.3.6): the header that carries an access unit's PTS and DTS.

import { TIMESTAMP_MODULUS } from './clock.js';

/** stream_id of the first video and the first audio elementary stream. */
export const PesStreamId = {
  VIDEO: 0xe0,
  AUDIO: 0xc0,
} as const;

/** PES_packet_length is 16 bits; 0 (unbounded) is allowed for video only. */
const MAX_PES_PACKET_LENGTH = 0xffff;
/** Bytes after PES_packet_length up to the optional fields: two flag bytes and PES_header_data_length. */
const FLAG_BYTES = 3;
const TIMESTAMP_BYTES = 5;
const START_CODE_BYTES = 6;
/** The 4-bit prefix in front of a PTS alone, a PTS followed by a DTS, and the DTS (§2.4.3.7). */
const PREFIX_PTS_ONLY = 0b0010;
const PREFIX_PTS_WITH_DTS = 0b0011;
const PREFIX_DTS = 0b0001;

export type PesFields = {
  streamId: number;
  /** 90 kHz ticks, 0 .. 2^33 - 1. */
  pts: number;
  /** Written only when it differs from the PTS (the standard forbids a DTS equal to the PTS). */
  dts?: number;
  /** Set when the payload starts with an access unit (video with an AUD, audio with an ADTS header). */
  dataAligned?: boolean;
};

/** The whole PES packet: header followed by `payload`. */
export function pesPacket(fields: PesFields, payload: Uint8Array): Uint8Array {
  const withDts = fields.dts !== undefined && fields.dts !== fields.pts;
  const optional = withDts ? 2 * TIMESTAMP_BYTES : TIMESTAMP_BYTES;
  const headerLength = START_CODE_BYTES + FLAG_BYTES + optional;
  const out = new Uint8Array(headerLength + payload.length);
  out[0] = 0x00;
  out[1] = 0x00;
  out[2] = 0x01;
  out[3] = fields.streamId;
  const packetLength = FLAG_BYTES + optional + payload.length;
  if (packetLength <= MAX_PES_PACKET_LENGTH) {
    out[4] = packetLength >> 8;
    out[5] = packetLength & 0xff;
  } else if (fields.streamId < PesStreamId.VIDEO) {
    throw new RangeError(`PES packet of ${packetLength} bytes for stream 0x${fields.streamId.toString(16)}: only video may exceed ${MAX_PES_PACKET_LENGTH}`);
  }
  // '10', not scrambled, no priority, data_alignment_indicator, not copyrighted, copy.
  out[6] = 0x80 | (fields.dataAligned === true ? 0x04 : 0);
  out[7] = withDts ? 0xc0 : 0x80;
  out[8] = optional;
  writeTimestamp(out, 9, withDts ? PREFIX_PTS_WITH_DTS : PREFIX_PTS_ONLY, fields.pts);
  if (withDts) {
    writeTimestamp(out, 9 + TIMESTAMP_BYTES, PREFIX_DTS, fields.dts ?? 0);
  }
  out.set(payload, headerLength);
  return out;
}

/** A 33-bit timestamp in the 5-byte form with marker bits: prefix, 3 bits, marker, 15 bits, marker, 15 bits, marker. */
export function writeTimestamp(out: Uint8Array, at: number, prefix: number, ticks: number): void {
  if (!Number.isInteger(ticks) || ticks < 0 || ticks >= TIMESTAMP_MODULUS) {
    throw new RangeError(`timestamp ${ticks} is not a 33-bit tick count`);
  }
  // Bitwise operators are 32-bit, so the top 3 bits come off by division.
  const high = Math.floor(ticks / 2 ** 30);
  const low = ticks % 2 ** 30;
  out[at] = (prefix << 4) | (high << 1) | 1;
  out[at + 1] = (low >>> 22) & 0xff;
  out[at + 2] = (((low >>> 15) & 0x7f) << 1) | 1;
  out[at + 3] = (low >>> 7) & 0xff;
  out[at + 4] = ((low & 0x7f) << 1) | 1;
}

/** Reads back a timestamp written by writeTimestamp (the prefix is not checked). */
export function readTimestamp(bytes: Uint8Array, at: number): number {
  const b = (i: number): number => bytes[at + i] ?? 0;
  const high = (b(0) >> 1) & 0x07;
  const low = (b(1) << 22) | ((b(2) >> 1) << 15) | (b(3) << 7) | (b(4) >> 1);
  return high * 2 ** 30 + low;
}
