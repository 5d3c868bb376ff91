// The AVCDecoderConfigurationRecord (avcC, ISO/IEC 14496-15 §5.3.3.1) that Matroska keeps as the
// CodecPrivate of V_MPEG4/ISO/AVC: the NAL length size of the samples and the SPS/PPS a decoder needs.

import { ByteReader } from '../bits/byte-reader.js';
import { invalid, tooLarge } from '../errors.js';

export type AvcConfig = {
  /** Bytes of the big-endian length in front of each NAL unit of a sample: 1, 2 or 4. */
  lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
};

/** Real records are a few dozen bytes; anything this large is not a decoder configuration. */
export const MAX_AVC_CONFIG_BYTES = 64 * 1024;

const NalType = { SPS: 7, PPS: 8 } as const;

/** Throws a ParseError (offsets within `bytes`) for a truncated or inconsistent record, or one without an SPS and a PPS. */
export function parseAvcConfig(bytes: Uint8Array): AvcConfig {
  if (bytes.length > MAX_AVC_CONFIG_BYTES) {
    throw tooLarge(0, `avcC of ${bytes.length} bytes is over ${MAX_AVC_CONFIG_BYTES}`);
  }
  const r = new ByteReader(bytes);
  const version = r.readU8('avcC configurationVersion');
  if (version !== 1) {
    throw invalid(0, `avcC configurationVersion is ${version}, not 1`);
  }
  r.skip(3, 'avcC profile, compatibility and level');
  const lengthSize = (r.readU8('avcC lengthSizeMinusOne') & 0x03) + 1;
  if (lengthSize === 3) {
    throw invalid(4, 'avcC NAL length size 3 is reserved');
  }
  const sps = readNalList(r, r.readU8('avcC numOfSequenceParameterSets') & 0x1f, NalType.SPS, 'SPS');
  const pps = readNalList(r, r.readU8('avcC numOfPictureParameterSets'), NalType.PPS, 'PPS');
  if (sps.length === 0 || pps.length === 0) {
    throw invalid(r.offset, `avcC has ${sps.length} SPS and ${pps.length} PPS; a decoder needs at least one of each`);
  }
  // Bytes after the PPS list (the High-profile chroma/bit-depth extension) are not needed to decode.
  return { lengthSize, sps, pps };
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
