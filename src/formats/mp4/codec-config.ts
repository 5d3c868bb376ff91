// Decoder configuration records as Matroska carries them in CodecPrivate and MP4 in its sample entries:
// AVCDecoderConfigurationRecord (avcC), HEVCDecoderConfigurationRecord (hvcC), AudioSpecificConfig (ASC).
// Parsing is bounds-checked and strict only where a wrong value would make the packaged stream
// undecodable; RFC 6381 codec strings and the esds descriptor for AAC are built from the parsed records.

import { ByteReader } from '../bits/byte-reader.js';
import { invalid } from '../errors.js';

export type AvcConfig = {
  profileIndication: number;
  profileCompatibility: number;
  levelIndication: number;
  /** Bytes of the length field in front of every NAL unit of a sample. */
  nalLengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
};

export type HevcConfig = {
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  /** general_profile_compatibility_flags as read (flag 0 is the most significant bit). */
  profileCompatibilityFlags: number;
  /** The 6 bytes of general constraint indicator flags (progressive, interlaced, … ). */
  constraintIndicatorFlags: Uint8Array;
  levelIdc: number;
  nalLengthSize: number;
  arrays: { nalUnitType: number; nalus: Uint8Array[] }[];
};

export type AudioSpecificConfig = {
  /** audioObjectType: 2 = AAC-LC, 5 = SBR (HE-AAC), 29 = PS (HE-AAC v2), … */
  objectType: number;
  samplingFrequency: number;
  /** 1-6 channels, 7 = 7.1 (8 channels), 0 = given by a program_config_element. */
  channelConfiguration: number;
};

/** ISO/IEC 14496-15 5.3.3.1. The High-profile extension after the PPS list is left as it is. */
export function parseAvcC(bytes: Uint8Array): AvcConfig {
  const r = new ByteReader(bytes);
  const version = r.readU8('avcC configurationVersion');
  if (version !== 1) {
    throw invalid(0, `avcC configurationVersion is ${version}, expected 1`);
  }
  const profileIndication = r.readU8('avcC AVCProfileIndication');
  const profileCompatibility = r.readU8('avcC profile_compatibility');
  const levelIndication = r.readU8('avcC AVCLevelIndication');
  const nalLengthSize = nalLengthSizeOf(r, 'avcC');
  const spsCount = r.readU8('avcC numOfSequenceParameterSets') & 0x1f;
  if (spsCount === 0) {
    // avc1 sample entries must carry the parameter sets; without an SPS nothing can be decoded.
    throw invalid(r.offset - 1, 'avcC has no sequence parameter set');
  }
  const sps = parameterSets(r, spsCount, 'avcC SPS');
  const pps = parameterSets(r, r.readU8('avcC numOfPictureParameterSets'), 'avcC PPS');
  return { profileIndication, profileCompatibility, levelIndication, nalLengthSize, sps, pps };
}

/** ISO/IEC 14496-15 8.3.3.1. */
export function parseHvcC(bytes: Uint8Array): HevcConfig {
  const r = new ByteReader(bytes);
  const version = r.readU8('hvcC configurationVersion');
  if (version !== 1) {
    throw invalid(0, `hvcC configurationVersion is ${version}, expected 1`);
  }
  const b1 = r.readU8('hvcC general profile');
  const profileCompatibilityFlags = r.readUintBE(4, 'hvcC general_profile_compatibility_flags');
  const constraintIndicatorFlags = new Uint8Array(r.readBytes(6, 'hvcC general_constraint_indicator_flags'));
  const levelIdc = r.readU8('hvcC general_level_idc');
  // min_spatial_segmentation, parallelismType, chroma format, bit depths, avgFrameRate: not needed here.
  r.skip(8, 'hvcC picture format fields');
  const nalLengthSize = nalLengthSizeOf(r, 'hvcC');
  const arrayCount = r.readU8('hvcC numOfArrays');
  const arrays: HevcConfig['arrays'] = [];
  for (let i = 0; i < arrayCount; i++) {
    const nalUnitType = r.readU8('hvcC array NAL unit type') & 0x3f;
    const count = r.readUintBE(2, 'hvcC numNalus');
    arrays.push({ nalUnitType, nalus: parameterSets(r, count, 'hvcC NAL unit') });
  }
  return {
    profileSpace: b1 >> 6,
    tierFlag: (b1 >> 5) & 1,
    profileIdc: b1 & 0x1f,
    profileCompatibilityFlags,
    constraintIndicatorFlags,
    levelIdc,
    nalLengthSize,
    arrays,
  };
}

const AAC_SAMPLING_FREQUENCIES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** ISO/IEC 14496-3 1.6.2.1, up to the channel configuration (all a packager needs). */
export function parseAudioSpecificConfig(bytes: Uint8Array): AudioSpecificConfig {
  const r = new BitReader(bytes, 'AudioSpecificConfig');
  let objectType = r.read(5);
  if (objectType === 31) {
    objectType = 32 + r.read(6);
  }
  if (objectType === 0) {
    throw invalid(0, 'AudioSpecificConfig audioObjectType is 0 (null object)');
  }
  const frequencyIndex = r.read(4);
  let samplingFrequency: number;
  if (frequencyIndex === 0xf) {
    samplingFrequency = r.read(24);
  } else {
    const known = AAC_SAMPLING_FREQUENCIES[frequencyIndex];
    if (known === undefined) {
      throw invalid(0, `AudioSpecificConfig samplingFrequencyIndex ${frequencyIndex} is reserved`);
    }
    samplingFrequency = known;
  }
  if (samplingFrequency === 0) {
    throw invalid(0, 'AudioSpecificConfig sampling frequency is 0');
  }
  const channelConfiguration = r.read(4);
  return { objectType, samplingFrequency, channelConfiguration };
}

/** The channel count a channel configuration stands for, or undefined when a PCE defines it. */
export function aacChannelCount(asc: AudioSpecificConfig): number | undefined {
  const c = asc.channelConfiguration;
  if (c >= 1 && c <= 6) {
    return c;
  }
  return c === 7 ? 8 : undefined;
}

/** RFC 6381 / ISO/IEC 14496-15 Annex E: avc1.PPCCLL. */
export function avcCodecString(c: AvcConfig): string {
  return `avc1.${hex2(c.profileIndication)}${hex2(c.profileCompatibility)}${hex2(c.levelIndication)}`;
}

/**
 * ISO/IEC 14496-15 Annex E.3: hvc1.[A-C]<profile>.<compatibility flags, bit-reversed, hex>.<L|H><level>
 * then the constraint bytes in hex, trailing zero bytes left out. Main 4.1 is hvc1.1.6.L123.B0.
 */
export function hevcCodecString(c: HevcConfig): string {
  const space = ['', 'A', 'B', 'C'][c.profileSpace] ?? '';
  let reversed = 0;
  for (let i = 0; i < 32; i++) {
    if ((c.profileCompatibilityFlags >>> i) & 1) {
      reversed |= 1 << (31 - i);
    }
  }
  const constraints = [...c.constraintIndicatorFlags];
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) {
    constraints.pop();
  }
  const parts = [
    'hvc1',
    `${space}${c.profileIdc}`,
    (reversed >>> 0).toString(16).toUpperCase(),
    `${c.tierFlag ? 'H' : 'L'}${c.levelIdc}`,
    ...constraints.map((b) => b.toString(16).toUpperCase()),
  ];
  return parts.join('.');
}

/** RFC 6381 for MPEG-4 audio: mp4a.40.<audioObjectType>. */
export function aacCodecString(asc: AudioSpecificConfig): string {
  return `mp4a.40.${asc.objectType}`;
}

// ISO/IEC 14496-1 7.2.6: descriptor tags, and the objectTypeIndication / streamType an AAC esds carries.
const ES_DESCR_TAG = 0x03;
const DECODER_CONFIG_DESCR_TAG = 0x04;
const DECODER_SPECIFIC_INFO_TAG = 0x05;
const SL_CONFIG_DESCR_TAG = 0x06;
const OTI_MPEG4_AUDIO = 0x40;
const STREAM_TYPE_AUDIO = 0x05;

/**
 * The payload of an esds box for AAC (ISO/IEC 14496-14 5.6): an ES_Descriptor holding a
 * DecoderConfigDescriptor with the AudioSpecificConfig, and the MP4 SLConfigDescriptor (predefined 2).
 * Buffer size and bitrates are 0: they are unknown and optional.
 */
export function aacEsDescriptor(esId: number, asc: Uint8Array): Uint8Array {
  const decoderSpecificInfo = descriptor(DECODER_SPECIFIC_INFO_TAG, asc);
  const decoderConfig = descriptor(
    DECODER_CONFIG_DESCR_TAG,
    concat([
      Uint8Array.of(OTI_MPEG4_AUDIO, (STREAM_TYPE_AUDIO << 2) | 0x01, 0, 0, 0),
      new Uint8Array(8), // maxBitrate, avgBitrate
      decoderSpecificInfo,
    ]),
  );
  const slConfig = descriptor(SL_CONFIG_DESCR_TAG, Uint8Array.of(0x02));
  return descriptor(ES_DESCR_TAG, concat([Uint8Array.of((esId >> 8) & 0xff, esId & 0xff, 0), decoderConfig, slConfig]));
}

function descriptor(tag: number, body: Uint8Array): Uint8Array {
  // sizeOfInstance: 7 bits per byte, most significant first, the top bit saying another byte follows.
  const sizeBytes: number[] = [];
  let n = body.length;
  do {
    sizeBytes.unshift(n & 0x7f);
    n >>>= 7;
  } while (n > 0);
  if (sizeBytes.length > 4) {
    throw new RangeError(`descriptor of ${body.length} bytes is too large`);
  }
  for (let i = 0; i < sizeBytes.length - 1; i++) {
    sizeBytes[i] = sizeBytes[i]! | 0x80;
  }
  return concat([Uint8Array.of(tag, ...sizeBytes), body]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function nalLengthSizeOf(r: ByteReader, what: string): number {
  const size = (r.readU8(`${what} lengthSizeMinusOne`) & 0x03) + 1;
  if (size === 3) {
    throw invalid(r.offset - 1, `${what} lengthSizeMinusOne is 2, which ISO/IEC 14496-15 does not allow`);
  }
  return size;
}

function parameterSets(r: ByteReader, count: number, what: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const length = r.readUintBE(2, `${what} length`);
    if (length === 0) {
      throw invalid(r.offset - 2, `${what} ${i} is empty`);
    }
    out.push(r.readBytes(length, what));
  }
  return out;
}

function hex2(v: number): string {
  return v.toString(16).toUpperCase().padStart(2, '0');
}

/** MSB-first bit reader that fails with a ParseError instead of reading past the end. */
class BitReader {
  private bit = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  read(n: number): number {
    if (this.bit + n > this.bytes.length * 8) {
      throw invalid(this.bit >> 3, `${this.what} is cut off: ${n} more bits needed, ${this.bytes.length * 8 - this.bit} left`);
    }
    let v = 0;
    for (let i = 0; i < n; i++, this.bit++) {
      v = v * 2 + (((this.bytes[this.bit >> 3] ?? 0) >> (7 - (this.bit & 7))) & 1);
    }
    return v;
  }
}
