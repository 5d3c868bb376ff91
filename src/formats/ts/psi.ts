// Program Specific Information for a single-program transport stream (ISO/IEC 13818-1 §2.4.4): the PAT
// names the one program and its PMT PID; the PMT lists the elementary streams and the PCR PID.
// Sections come back complete with their CRC; packets.ts adds the pointer field and packetizes them.

import { crc32Mpeg2 } from './crc32-mpeg2.js';

/** stream_type values of the codecs this muxer carries. */
export const StreamType = {
  /** ISO/IEC 14496-10 (H.264) in Annex-B byte stream form. */
  H264: 0x1b,
  /** ISO/IEC 23008-2 (H.265) in Annex-B byte stream form. */
  H265: 0x24,
  /** ISO/IEC 13818-7 AAC with ADTS framing. */
  AAC_ADTS: 0x0f,
} as const;

export type PmtStream = { pid: number; streamType: number };

export const PAT_PID = 0x0000;
/** No PCR: the PCR_PID value for a program without one. */
export const NO_PCR_PID = 0x1fff;

const TABLE_ID_PAT = 0x00;
const TABLE_ID_PMT = 0x02;
/** The one program, and the transport stream it belongs to (any value works for a standalone stream). */
const PROGRAM_NUMBER = 1;
const TRANSPORT_STREAM_ID = 1;
/** A section's length field counts at most 1021 bytes after itself (§2.4.4.3). */
const MAX_SECTION_LENGTH = 1021;
/** Bytes from section_length's end to the first table entry: id, version/current flag, section numbers. */
const SYNTAX_HEADER_BYTES = 5;
const CRC_BYTES = 4;

export function patSection(pmtPid: number): Uint8Array {
  const body = [PROGRAM_NUMBER >> 8, PROGRAM_NUMBER & 0xff, 0xe0 | (pmtPid >> 8), pmtPid & 0xff];
  return section(TABLE_ID_PAT, TRANSPORT_STREAM_ID, body);
}

export function pmtSection(pcrPid: number, streams: readonly PmtStream[]): Uint8Array {
  // reserved bits set, then PCR_PID; reserved bits set, then program_info_length 0 (no descriptors).
  const body = [0xe0 | (pcrPid >> 8), pcrPid & 0xff, 0xf0, 0x00];
  for (const s of streams) {
    body.push(s.streamType, 0xe0 | (s.pid >> 8), s.pid & 0xff, 0xf0, 0x00);
  }
  return section(TABLE_ID_PMT, PROGRAM_NUMBER, body);
}

function section(tableId: number, tableIdExtension: number, body: number[]): Uint8Array {
  const length = SYNTAX_HEADER_BYTES + body.length + CRC_BYTES;
  if (length > MAX_SECTION_LENGTH) {
    throw new RangeError(`PSI section of ${length} bytes is over the ${MAX_SECTION_LENGTH}-byte limit`);
  }
  const bytes = [
    tableId,
    // section_syntax_indicator 1, '0', reserved '11', then the 12-bit section_length.
    0xb0 | (length >> 8),
    length & 0xff,
    tableIdExtension >> 8,
    tableIdExtension & 0xff,
    // reserved '11', version_number 0, current_next_indicator 1.
    0xc1,
    0x00, // section_number
    0x00, // last_section_number
    ...body,
  ];
  const out = new Uint8Array(bytes.length + CRC_BYTES);
  out.set(bytes);
  const crc = crc32Mpeg2(out.subarray(0, bytes.length));
  new DataView(out.buffer).setUint32(bytes.length, crc);
  return out;
}
