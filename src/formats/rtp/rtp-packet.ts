// RTP packets (RFC 3550 §5.1). WebRTC hands us whole datagrams, and a peer on the network can send anything,
// so parsing checks every length against the datagram before reading and throws a ParseError instead.

import { ByteReader } from '../bits/byte-reader.js';
import { invalid, tooLarge } from '../errors.js';

/** A UDP datagram (and an RFC 4571 framed packet) cannot be larger; anything above is not one RTP packet. */
export const MAX_RTP_PACKET_BYTES = 65_535;

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_BYTES = 12;

/** The header extension as it was on the wire: profile-defined, so kept as bytes (a multiple of 4 long). */
export type RtpHeaderExtension = {
  /** 16-bit "defined by profile" field: 0xBEDE for RFC 8285 one-byte elements, 0x100x for two-byte ones. */
  profile: number;
  data: Uint8Array;
};

export type RtpPacket = {
  marker: boolean;
  /** 0..127 */
  payloadType: number;
  /** 0..65535 */
  sequenceNumber: number;
  /** 0..2^32-1, in the payload format's clock (90 kHz for video). */
  timestamp: number;
  /** 0..2^32-1 */
  ssrc: number;
  /** At most 15. */
  csrcs: number[];
  extension?: RtpHeaderExtension;
  /** Without the padding. A view into the parsed datagram, not a copy. */
  payload: Uint8Array;
  /** Padding bytes after the payload, the final count byte included; 0 for none. Kept so re-serializing is exact. */
  padding: number;
};

/** Parses one RTP datagram. Offsets in the ParseError are within `bytes`. */
export function parseRtpPacket(bytes: Uint8Array): RtpPacket {
  if (bytes.length > MAX_RTP_PACKET_BYTES) {
    throw tooLarge(0, `RTP packet of ${bytes.length} bytes is over ${MAX_RTP_PACKET_BYTES}`);
  }
  if (bytes.length < RTP_FIXED_HEADER_BYTES) {
    throw invalid(0, `RTP header is cut off: ${bytes.length} of ${RTP_FIXED_HEADER_BYTES} bytes`);
  }
  const r = new ByteReader(bytes);
  const b0 = r.readU8();
  const version = b0 >> 6;
  if (version !== RTP_VERSION) {
    throw invalid(0, `RTP version is ${version}, not ${RTP_VERSION}`);
  }
  const b1 = r.readU8();
  const sequenceNumber = r.readUintBE(2, 'RTP sequence number');
  const timestamp = r.readUintBE(4, 'RTP timestamp');
  const ssrc = r.readUintBE(4, 'RTP SSRC');
  const csrcs: number[] = [];
  for (let i = 0; i < (b0 & 0x0f); i++) {
    csrcs.push(r.readUintBE(4, `RTP CSRC ${i} of ${b0 & 0x0f}`));
  }
  let extension: RtpHeaderExtension | undefined;
  if ((b0 & 0x10) !== 0) {
    const profile = r.readUintBE(2, 'RTP header extension profile');
    const words = r.readUintBE(2, 'RTP header extension length');
    extension = { profile, data: r.readBytes(words * 4, 'RTP header extension') };
  }
  let end = bytes.length;
  let padding = 0;
  if ((b0 & 0x20) !== 0) {
    // The count includes itself, so 0 is malformed; it may not reach back into the header.
    padding = bytes[end - 1] ?? 0;
    if (padding === 0 || padding > end - r.pos) {
      throw invalid(end - 1, `RTP padding of ${padding} bytes does not fit the ${end - r.pos} bytes after the header`);
    }
    end -= padding;
  }
  const packet: RtpPacket = {
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequenceNumber,
    timestamp,
    ssrc,
    csrcs,
    payload: bytes.subarray(r.pos, end),
    padding,
  };
  if (extension !== undefined) {
    packet.extension = extension;
  }
  return packet;
}

/** Throws a RangeError for fields out of range: those are caller bugs, not bad input. */
export function serializeRtpPacket(p: RtpPacket): Uint8Array {
  checkField('payloadType', p.payloadType, 0x7f);
  checkField('sequenceNumber', p.sequenceNumber, 0xffff);
  checkField('timestamp', p.timestamp, 0xffff_ffff);
  checkField('ssrc', p.ssrc, 0xffff_ffff);
  checkField('padding', p.padding, 0xff);
  if (p.csrcs.length > 15) {
    throw new RangeError(`RTP carries at most 15 CSRCs, got ${p.csrcs.length}`);
  }
  p.csrcs.forEach((c, i) => checkField(`csrcs[${i}]`, c, 0xffff_ffff));
  const ext = p.extension;
  if (ext !== undefined) {
    checkField('extension.profile', ext.profile, 0xffff);
    if (ext.data.length % 4 !== 0 || ext.data.length / 4 > 0xffff) {
      throw new RangeError(`RTP header extension data must be a multiple of 4 bytes up to 262140, got ${ext.data.length}`);
    }
  }
  const headerBytes = RTP_FIXED_HEADER_BYTES + 4 * p.csrcs.length + (ext === undefined ? 0 : 4 + ext.data.length);
  const total = headerBytes + p.payload.length + p.padding;
  if (total > MAX_RTP_PACKET_BYTES) {
    throw new RangeError(`RTP packet of ${total} bytes is over ${MAX_RTP_PACKET_BYTES}`);
  }
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out[0] = (RTP_VERSION << 6) | (p.padding > 0 ? 0x20 : 0) | (ext !== undefined ? 0x10 : 0) | p.csrcs.length;
  out[1] = (p.marker ? 0x80 : 0) | p.payloadType;
  v.setUint16(2, p.sequenceNumber);
  v.setUint32(4, p.timestamp);
  v.setUint32(8, p.ssrc);
  let at = RTP_FIXED_HEADER_BYTES;
  for (const c of p.csrcs) {
    v.setUint32(at, c);
    at += 4;
  }
  if (ext !== undefined) {
    v.setUint16(at, ext.profile);
    v.setUint16(at + 2, ext.data.length / 4);
    out.set(ext.data, at + 4);
    at += 4 + ext.data.length;
  }
  out.set(p.payload, at);
  if (p.padding > 0) {
    out[total - 1] = p.padding;
  }
  return out;
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`RTP ${name} must be an integer in 0..${max}, got ${value}`);
  }
}
