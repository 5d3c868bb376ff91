// The HEVCDecoderConfigurationRecord (hvcC, ISO/IEC 14496-15 §8.3.3.1) that Matroska keeps as the
// CodecPrivate of V_MPEGH/ISO/HEVC: the NAL length size of the samples and the VPS/SPS/PPS.

import { ByteReader } from '../bits/byte-reader.js';
import { invalid, tooLarge } from '../errors.js';

export type HevcConfig = {
  /** Bytes of the big-endian length in front of each NAL unit of a sample: 1, 2 or 4. */
  lengthSize: number;
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
};

/** Real records are at most a few kilobytes (SEI arrays included). */
export const MAX_HEVC_CONFIG_BYTES = 64 * 1024;
/** NAL units over all arrays; the spec allows 16 VPS, 16 SPS and 64 PPS ids, plus a few SEI. */
export const MAX_HEVC_CONFIG_NALUS = 128;

const NalType = { VPS: 32, SPS: 33, PPS: 34 } as const;
/** configurationVersion through avgFrameRate: the fields before the byte holding lengthSizeMinusOne. */
const BYTES_BEFORE_LENGTH_SIZE = 21;

/** Throws a ParseError (offsets within `bytes`) for a truncated or inconsistent record, or one missing a VPS, SPS or PPS. */
export function parseHevcConfig(bytes: Uint8Array): HevcConfig {
  if (bytes.length > MAX_HEVC_CONFIG_BYTES) {
    throw tooLarge(0, `hvcC of ${bytes.length} bytes is over ${MAX_HEVC_CONFIG_BYTES}`);
  }
  const r = new ByteReader(bytes);
  const version = r.readU8('hvcC configurationVersion');
  if (version !== 1) {
    throw invalid(0, `hvcC configurationVersion is ${version}, not 1`);
  }
  r.skip(BYTES_BEFORE_LENGTH_SIZE - 1, 'hvcC profile, level and format fields');
  const lengthSize = (r.readU8('hvcC lengthSizeMinusOne') & 0x03) + 1;
  if (lengthSize === 3) {
    throw invalid(r.offset - 1, 'hvcC NAL length size 3 is not allowed');
  }
  const config: HevcConfig = { lengthSize, vps: [], sps: [], pps: [] };
  const arrays = r.readU8('hvcC numOfArrays');
  let total = 0;
  for (let a = 0; a < arrays; a++) {
    const type = r.readU8('hvcC NAL_unit_type') & 0x3f;
    const count = r.readUintBE(2, 'hvcC numNalus');
    total += count;
    if (total > MAX_HEVC_CONFIG_NALUS) {
      throw tooLarge(r.offset - 2, `hvcC lists more than ${MAX_HEVC_CONFIG_NALUS} NAL units`);
    }
    for (let i = 0; i < count; i++) {
      const at = r.offset;
      const nal = r.readBytes(r.readUintBE(2, 'hvcC nalUnitLength'), 'hvcC NAL unit');
      if (nal.length < 2 || (((nal[0] ?? 0) >> 1) & 0x3f) !== type) {
        throw invalid(at, `hvcC NAL unit ${i} of the type ${type} array does not have that type`);
      }
      const list = type === NalType.VPS ? config.vps : type === NalType.SPS ? config.sps : type === NalType.PPS ? config.pps : undefined;
      // Other arrays (SEI) describe the stream but are not needed to decode it.
      list?.push(nal);
    }
  }
  if (config.vps.length === 0 || config.sps.length === 0 || config.pps.length === 0) {
    throw invalid(r.offset, `hvcC has ${config.vps.length} VPS, ${config.sps.length} SPS and ${config.pps.length} PPS; a decoder needs at least one of each`);
  }
  return config;
}
