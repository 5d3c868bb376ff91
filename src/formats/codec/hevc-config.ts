// The HEVCDecoderConfigurationRecord (hvcC, ISO/IEC 14496-15 §8.3.3.1): what Matroska keeps as the
// CodecPrivate of V_MPEGH/ISO/HEVC and MP4 as the hvcC box. fMP4 packaging needs the general profile,
// tier and level for the codec string, MPEG-TS packaging the NAL length size and the VPS/SPS/PPS.

import { invalid, tooLarge } from '../errors.js';
import { openRecord, readLengthSize } from './config-record.js';

export type HevcConfig = {
  /** general_profile_space: 0, or 1-3 for the A/B/C prefixes of the codec string. */
  profileSpace: number;
  /** general_tier_flag: 0 Main tier, 1 High tier. */
  tierFlag: number;
  /** general_profile_idc: 1 Main, 2 Main 10, … */
  profileIdc: number;
  /** general_profile_compatibility_flags as read (flag 0 is the most significant bit). */
  profileCompatibilityFlags: number;
  /** The 6 bytes of general constraint indicator flags (progressive, interlaced, … ). */
  constraintIndicatorFlags: Uint8Array;
  /** general_level_idc: 30 × the level (93 for 3.1). */
  levelIdc: number;
  /** Bytes of the big-endian length in front of each NAL unit of a sample: 1, 2 or 4. */
  lengthSize: number;
  /** The parameter set arrays' NAL units (views into the parsed bytes); SEI arrays are left out. */
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
};

/** Real records are at most a few kilobytes (SEI arrays included). */
export const MAX_HEVC_CONFIG_BYTES = 64 * 1024;
/** NAL units over all arrays; the spec allows 16 VPS, 16 SPS and 64 PPS ids, plus a few SEI. */
export const MAX_HEVC_CONFIG_NALUS = 128;

const NalType = { VPS: 32, SPS: 33, PPS: 34 } as const;
/** min_spatial_segmentation through avgFrameRate: the fields between general_level_idc and lengthSizeMinusOne. */
const PICTURE_FORMAT_BYTES = 8;

/**
 * Throws a ParseError (offsets within `bytes`) for a record over the caps, truncated or inconsistent, or
 * one missing a VPS, SPS or PPS.
 */
export function parseHevcConfig(bytes: Uint8Array): HevcConfig {
  const r = openRecord(bytes, 'hvcC', MAX_HEVC_CONFIG_BYTES);
  const profile = r.readU8('hvcC general profile space, tier and idc');
  const profileCompatibilityFlags = r.readUintBE(4, 'hvcC general_profile_compatibility_flags');
  const constraintIndicatorFlags = r.readBytes(6, 'hvcC general_constraint_indicator_flags');
  const levelIdc = r.readU8('hvcC general_level_idc');
  r.skip(PICTURE_FORMAT_BYTES, 'hvcC picture format fields');
  const lengthSize = readLengthSize(r, 'hvcC');
  const config: HevcConfig = {
    profileSpace: profile >> 6,
    tierFlag: (profile >> 5) & 1,
    profileIdc: profile & 0x1f,
    profileCompatibilityFlags,
    constraintIndicatorFlags,
    levelIdc,
    lengthSize,
    vps: [],
    sps: [],
    pps: [],
  };
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
      // Two bytes: the HEVC NAL unit header, whose type must be the array's.
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
