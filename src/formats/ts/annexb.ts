// Length-prefixed NAL units (how MP4 and Matroska store H.264/H.265 samples) to the Annex-B byte stream
// that MPEG-TS carries. A TS segment must decode on its own and a player may join at any keyframe, so
// each keyframe gets the parameter sets of the codec configuration in front of it; every access unit
// starts with an access unit delimiter, which the TS carriage of H.264/H.265 requires.

import { ByteReader } from '../bits/byte-reader.js';

export type NalCodec = 'h264' | 'h265';

export type AnnexBOptions = {
  codec: NalCodec;
  /** Bytes of the length in front of each NAL unit (lengthSizeMinusOne + 1 of avcC/hvcC). */
  lengthSize: number;
  keyframe: boolean;
  /** Inserted in this order after the delimiter of a keyframe (VPS, SPS, PPS). */
  parameterSets: readonly Uint8Array[];
};

const START_CODE = Uint8Array.of(0x00, 0x00, 0x00, 0x01);

/** nal_unit_type 9 (H.264 AUD), primary_pic_type 7 "any slice type", then the RBSP stop bit. */
const H264_AUD = Uint8Array.of(0x09, 0xf0);
/** nal_unit_type 35 (HEVC AUD) in layer 0 with TemporalId 0, pic_type 2 "any slice type", stop bit. */
const H265_AUD = Uint8Array.of(0x46, 0x01, 0x50);

const AUD_TYPE: Record<NalCodec, number> = { h264: 9, h265: 35 };

export function nalType(codec: NalCodec, nal: Uint8Array): number {
  const first = nal[0] ?? 0;
  return codec === 'h264' ? first & 0x1f : (first >> 1) & 0x3f;
}

/**
 * The NAL units of one length-prefixed sample, as views. Throws a ParseError (offsets within the sample)
 * when a length field or a NAL unit runs past the end. Zero-length units are dropped.
 */
export function splitNalUnits(sample: Uint8Array, lengthSize: number): Uint8Array[] {
  if (lengthSize !== 1 && lengthSize !== 2 && lengthSize !== 4) {
    throw new RangeError(`NAL length size ${lengthSize} is not 1, 2 or 4`);
  }
  const r = new ByteReader(sample);
  const nals: Uint8Array[] = [];
  while (r.remaining > 0) {
    const nal = r.readBytes(r.readUintBE(lengthSize, 'NAL unit length'), 'NAL unit');
    if (nal.length > 0) {
      nals.push(nal);
    }
  }
  return nals;
}

/** One access unit in Annex-B form: delimiter, parameter sets (keyframes only), then the sample's own units. */
export function toAnnexB(sample: Uint8Array, opts: AnnexBOptions): Uint8Array {
  // The sample's own delimiters are dropped: the one written here must be the only one, and first.
  const audType = AUD_TYPE[opts.codec];
  const own = splitNalUnits(sample, opts.lengthSize).filter((n) => nalType(opts.codec, n) !== audType);
  const units = [opts.codec === 'h264' ? H264_AUD : H265_AUD, ...(opts.keyframe ? opts.parameterSets : []), ...own];
  const out = new Uint8Array(units.reduce((n, u) => n + START_CODE.length + u.length, 0));
  let at = 0;
  for (const u of units) {
    out.set(START_CODE, at);
    out.set(u, at + START_CODE.length);
    at += START_CODE.length + u.length;
  }
  return out;
}
