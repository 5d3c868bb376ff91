// H.264 access units as encoders hand them out (Annex-B byte streams with start codes, or AVCC with length
// prefixes) turned into what Matroska's V_MPEG4/ISO/AVC stores: length-prefixed NAL units, plus the
// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3) as CodecPrivate.

export const NalType = { IDR: 5, SEI: 6, SPS: 7, PPS: 8, AUD: 9 } as const;

export const nalType = (nal: Uint8Array): number => (nal[0] ?? 0) & 0x1f;

/**
 * The NAL units of an Annex-B access unit (views into `au`). Start codes are 00 00 01 or 00 00 00 01; zero bytes
 * before a start code (the 4-byte form, trailing_zero_8bits) are not part of the preceding NAL unit.
 */
export function splitAnnexB(au: Uint8Array): Uint8Array[] {
  const starts: { code: number; data: number }[] = [];
  for (let i = 0; i + 2 < au.length; i++) {
    if (au[i + 2]! > 1) {
      // No start code can begin at i, i+1 or i+2 unless one of the next bytes is 0 or 1.
      i += 2;
      continue;
    }
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      starts.push({ code: i, data: i + 3 });
      i += 2;
    }
  }
  const first = starts[0];
  if (first === undefined) {
    throw new Error('not an Annex-B access unit: no start code');
  }
  for (let i = 0; i < first.code; i++) {
    if (au[i] !== 0) {
      throw new Error(`not an Annex-B access unit: ${first.code} bytes before the first start code`);
    }
  }
  const nals: Uint8Array[] = [];
  for (let k = 0; k < starts.length; k++) {
    let end = starts[k + 1]?.code ?? au.length;
    const begin = starts[k]!.data;
    while (end > begin && au[end - 1] === 0) {
      end--;
    }
    if (end > begin) {
      nals.push(au.subarray(begin, end));
    }
  }
  return nals;
}

/** The NAL units of a length-prefixed access unit, or null when the lengths do not tile it exactly. */
export function splitAvcc(au: Uint8Array, lengthSize = 4): Uint8Array[] | null {
  const nals: Uint8Array[] = [];
  let pos = 0;
  while (pos < au.length) {
    if (pos + lengthSize > au.length) {
      return null;
    }
    let len = 0;
    for (let i = 0; i < lengthSize; i++) {
      len = len * 256 + au[pos + i]!;
    }
    pos += lengthSize;
    if (len === 0 || pos + len > au.length) {
      return null;
    }
    const nal = au.subarray(pos, pos + len);
    // forbidden_zero_bit must be 0 and type 0 is unspecified: either means this is not AVCC after all.
    if ((nal[0]! & 0x80) !== 0 || nalType(nal) === 0) {
      return null;
    }
    nals.push(nal);
    pos += len;
  }
  return nals.length > 0 ? nals : null;
}

/**
 * NAL units of an access unit in either form. AVCC is tried first: a 4-byte length of 1 or of 256–511 begins
 * like a start code, while Annex-B data practically never tiles exactly as lengths with valid NAL headers.
 */
export function splitAccessUnit(au: Uint8Array, format: 'auto' | 'annexb' | 'avcc' = 'auto', lengthSize = 4): Uint8Array[] {
  if (format !== 'annexb') {
    const avcc = splitAvcc(au, lengthSize);
    if (avcc !== null) {
      return avcc;
    }
    if (format === 'avcc') {
      throw new Error(`not an AVCC access unit with ${lengthSize}-byte lengths`);
    }
  }
  return splitAnnexB(au);
}

/** NAL units with big-endian length prefixes of `lengthSize` bytes (the avcC's lengthSizeMinusOne + 1). */
export function toLengthPrefixed(nals: readonly Uint8Array[], lengthSize = 4): Uint8Array {
  let total = 0;
  for (const n of nals) {
    if (lengthSize < 4 && n.length >= 2 ** (8 * lengthSize)) {
      throw new RangeError(`a ${n.length}-byte NAL unit does not fit a ${lengthSize}-byte length`);
    }
    total += lengthSize + n.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const n of nals) {
    let len = n.length;
    for (let i = lengthSize - 1; i >= 0; i--) {
      out[at + i] = len & 0xff;
      len = Math.floor(len / 256);
    }
    out.set(n, at + lengthSize);
    at += lengthSize + n.length;
  }
  return out;
}

/** Annex-B (or AVCC) access unit → AVCC with 4-byte lengths. */
export function annexBToAvcc(au: Uint8Array): Uint8Array {
  return toLengthPrefixed(splitAnnexB(au));
}

export type SpsInfo = {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  chromaFormatIdc: number;
  bitDepthLumaMinus8: number;
  bitDepthChromaMinus8: number;
};

/** Profiles whose SPS carries chroma_format_idc and bit depths (H.264 §7.3.2.1.1). */
const HIGH_SPS_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);
/** Profiles for which 14496-15 puts chroma format and bit depths into the avcC. */
const AVCC_EXTENSION_PROFILES = new Set([100, 110, 122, 144]);

/** The head of an SPS NAL unit: enough for the avcC. */
export function parseSps(sps: Uint8Array): SpsInfo {
  if (nalType(sps) !== NalType.SPS || sps.length < 4) {
    throw new Error('not an SPS NAL unit');
  }
  const profileIdc = sps[1]!;
  const info: SpsInfo = { profileIdc, constraintFlags: sps[2]!, levelIdc: sps[3]!, chromaFormatIdc: 1, bitDepthLumaMinus8: 0, bitDepthChromaMinus8: 0 };
  if (!HIGH_SPS_PROFILES.has(profileIdc)) {
    return info;
  }
  const r = new BitReader(unescapeRbsp(sps.subarray(4)));
  r.ue(); // seq_parameter_set_id
  info.chromaFormatIdc = r.ue();
  if (info.chromaFormatIdc === 3) {
    r.bit(); // separate_colour_plane_flag
  }
  info.bitDepthLumaMinus8 = r.ue();
  info.bitDepthChromaMinus8 = r.ue();
  return info;
}

/** AVCDecoderConfigurationRecord with 4-byte NAL lengths. */
export function buildAvcDecoderConfig(spsList: readonly Uint8Array[], ppsList: readonly Uint8Array[]): Uint8Array {
  const sps0 = spsList[0];
  if (sps0 === undefined || ppsList.length === 0) {
    throw new Error('an avcC needs at least one SPS and one PPS');
  }
  if (spsList.length > 31 || ppsList.length > 255) {
    throw new RangeError('too many parameter sets for an avcC');
  }
  const info = parseSps(sps0);
  const parts: number[] = [1, info.profileIdc, info.constraintFlags, info.levelIdc, 0xfc | 3, 0xe0 | spsList.length];
  const pushSet = (nal: Uint8Array): void => {
    if (nal.length > 0xffff) {
      throw new RangeError('parameter set longer than 65535 bytes');
    }
    parts.push(nal.length >> 8, nal.length & 0xff, ...nal);
  };
  spsList.forEach(pushSet);
  parts.push(ppsList.length);
  ppsList.forEach(pushSet);
  if (AVCC_EXTENSION_PROFILES.has(info.profileIdc)) {
    parts.push(0xfc | info.chromaFormatIdc, 0xf8 | info.bitDepthLumaMinus8, 0xf8 | info.bitDepthChromaMinus8, 0);
  }
  return Uint8Array.from(parts);
}

/** lengthSizeMinusOne + 1 of an avcC. */
export function avcConfigLengthSize(avcC: Uint8Array): number {
  if (avcC.length < 7 || avcC[0] !== 1) {
    throw new Error('not an AVCDecoderConfigurationRecord');
  }
  return (avcC[4]! & 0x03) + 1;
}

/** Drops emulation_prevention_three_byte (00 00 03 → 00 00). */
export function unescapeRbsp(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  let n = 0;
  let zeros = 0;
  for (const b of data) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

class BitReader {
  #pos = 0;
  constructor(private readonly data: Uint8Array) {}

  bit(): number {
    const byte = this.data[this.#pos >> 3];
    if (byte === undefined) {
      throw new Error('SPS ends early');
    }
    const v = (byte >> (7 - (this.#pos & 7))) & 1;
    this.#pos++;
    return v;
  }

  /** Exp-Golomb ue(v). */
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) {
      if (++zeros > 31) {
        throw new Error('invalid Exp-Golomb code in SPS');
      }
    }
    let v = 0;
    for (let i = 0; i < zeros; i++) {
      v = v * 2 + this.bit();
    }
    return 2 ** zeros - 1 + v;
  }
}
