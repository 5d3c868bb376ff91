// The AVCDecoderConfigurationRecord (avcC, ISO/IEC 14496-15 §5.3.3.1): what Matroska keeps as the
// CodecPrivate of V_MPEG4/ISO/AVC and MP4 as the avcC box. fMP4 packaging needs its profile and level
// for the codec string, MPEG-TS packaging the NAL length size and the SPS/PPS to put in front of keyframes.

import type { ByteReader } from '../bits/byte-reader.js';
import { invalid } from '../errors.js';
import { openRecord, readLengthSize } from './config-record.js';

export type AvcConfig = {
  /** AVCProfileIndication: profile_idc of the SPS (66 Baseline, 77 Main, 100 High, …). */
  profileIndication: number;
  /** profile_compatibility: the constraint_set flags byte of the SPS. */
  profileCompatibility: number;
  /** AVCLevelIndication: level_idc of the SPS (30 for 3.0, 31 for 3.1, …). */
  levelIndication: number;
  /** Bytes of the big-endian length in front of each NAL unit of a sample: 1, 2 or 4. */
  lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
};

/** Real records are a few dozen bytes; anything this large is not a decoder configuration. */
export const MAX_AVC_CONFIG_BYTES = 64 * 1024;

const NalType = { SPS: 7, PPS: 8 } as const;

/**
 * Throws a ParseError (offsets within `bytes`) for a record over the cap, truncated or inconsistent, or
 * one without an SPS and a PPS: a sample entry or CodecPrivate without them leaves nothing decodable.
 */
export function parseAvcConfig(bytes: Uint8Array): AvcConfig {
  const r = openRecord(bytes, 'avcC', MAX_AVC_CONFIG_BYTES);
  const profileIndication = r.readU8('avcC AVCProfileIndication');
  const profileCompatibility = r.readU8('avcC profile_compatibility');
  const levelIndication = r.readU8('avcC AVCLevelIndication');
  const lengthSize = readLengthSize(r, 'avcC');
  const spsCount = r.readU8('avcC numOfSequenceParameterSets') & 0x1f;
  if (spsCount === 0) {
    throw invalid(r.offset - 1, 'avcC has 0 SPS; a decoder needs at least one');
  }
  const sps = readNalList(r, spsCount, NalType.SPS, 'SPS');
  const pps = readNalList(r, r.readU8('avcC numOfPictureParameterSets'), NalType.PPS, 'PPS');
  if (pps.length === 0) {
    throw invalid(r.offset - 1, `avcC has ${sps.length} SPS and 0 PPS; a decoder needs at least one of each`);
  }
  // Bytes after the PPS list (the High-profile chroma/bit-depth extension) are not needed to decode; the
  // fMP4 packager copies the record byte for byte, so they are not lost.
  return { profileIndication, profileCompatibility, levelIndication, lengthSize, sps, pps };
}

function readNalList(r: ByteReader, count: number, type: number, name: string): Uint8Array[] {
  const list: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const nal = r.readBytes(r.readUintBE(2, `avcC ${name} length`), `avcC ${name}`);
    if (nal.length === 0 || ((nal[0] ?? 0) & 0x1f) !== type) {
      throw invalid(at, `avcC ${name} ${i} is not a NAL unit of type ${type}`);
    }
    list.push(nal);
  }
  return list;
}
