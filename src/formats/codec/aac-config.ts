// The MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): what Matroska keeps as the CodecPrivate of
// A_AAC and MP4 inside the esds descriptor. Read up to the channel configuration, plus the explicit
// SBR/PS header that follows it: fMP4 packaging needs the signalled object type (the codec string) and
// the channels, MPEG-TS packaging the core coder's type, rate index and channels (the ADTS header).

import { invalid, tooLarge } from '../errors.js';

export type AacConfig = {
  /** audioObjectType as signalled first: 2 AAC-LC, 5 SBR (HE-AAC), 29 PS (HE-AAC v2), … — what mp4a.40.N names. */
  audioObjectType: number;
  /** The core coder's audioObjectType: audioObjectType with explicit SBR/PS unwrapped (2 under HE-AAC). */
  coreObjectType: number;
  /** Index into SAMPLING_FREQUENCIES of the core coder's rate, or 15 when the rate is given explicitly. */
  samplingIndex: number;
  /** The core coder's rate in Hz. */
  sampleRate: number;
  /** 1-6 channels, 7 = 7.1 (8 channels); 0 means a program config element defines the channels. */
  channelConfig: number;
};

/** sampling_frequency_index 0..12. */
export const SAMPLING_FREQUENCIES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350] as const;

/** The fields read here fit in a few bytes; the GASpecificConfig and extensions after them can be longer. */
export const MAX_AAC_CONFIG_BYTES = 1024;

const EXPLICIT_RATE_INDEX = 15;
const ESCAPE_OBJECT_TYPE = 31;
/** Explicit hierarchical signalling of SBR (HE-AAC) and SBR+PS (HE-AAC v2): the core type follows. */
const SBR_TYPES: ReadonlySet<number> = new Set([5, 29]);

/** Throws a ParseError (offsets within `bytes`) for a config over the cap, cut off, or with a null type or rate. */
export function parseAudioSpecificConfig(bytes: Uint8Array): AacConfig {
  if (bytes.length > MAX_AAC_CONFIG_BYTES) {
    throw tooLarge(0, `AudioSpecificConfig of ${bytes.length} bytes is over ${MAX_AAC_CONFIG_BYTES}`);
  }
  const bits = new BitCursor(bytes);
  const audioObjectType = readObjectType(bits);
  const { index: samplingIndex, rate: sampleRate } = readRate(bits);
  const channelConfig = bits.read(4, 'channelConfiguration');
  let coreObjectType = audioObjectType;
  if (SBR_TYPES.has(audioObjectType)) {
    // The first rate is the core's; the extension (SBR output) rate comes next, then the core object type.
    readRate(bits);
    coreObjectType = readObjectType(bits);
  }
  return { audioObjectType, coreObjectType, samplingIndex, sampleRate, channelConfig };
}

/** The channel count a channel configuration stands for, or undefined when a program config element defines it. */
export function aacChannelCount(config: AacConfig): number | undefined {
  const c = config.channelConfig;
  if (c >= 1 && c <= 6) {
    return c;
  }
  return c === 7 ? 8 : undefined;
}

function readObjectType(bits: BitCursor): number {
  const at = bits.byteOffset;
  const t = bits.read(5, 'audioObjectType');
  const type = t === ESCAPE_OBJECT_TYPE ? 32 + bits.read(6, 'audioObjectTypeExt') : t;
  if (type === 0) {
    throw invalid(at, 'AudioSpecificConfig has audioObjectType 0 (null)');
  }
  return type;
}

function readRate(bits: BitCursor): { index: number; rate: number } {
  const at = bits.byteOffset;
  const index = bits.read(4, 'samplingFrequencyIndex');
  if (index === EXPLICIT_RATE_INDEX) {
    const rate = bits.read(24, 'samplingFrequency');
    if (rate === 0) {
      throw invalid(at, 'AudioSpecificConfig has a sampling frequency of 0');
    }
    return { index, rate };
  }
  const rate = SAMPLING_FREQUENCIES[index];
  if (rate === undefined) {
    throw invalid(at, `AudioSpecificConfig has reserved sampling frequency index ${index}`);
  }
  return { index, rate };
}

/** MSB-first bit reads with the bounds check of ByteReader, for the sub-byte fields of the config. */
class BitCursor {
  readonly bytes: Uint8Array;
  #bit = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The byte holding the next bit, for error offsets. */
  get byteOffset(): number {
    return this.#bit >> 3;
  }

  read(n: number, what: string): number {
    if (this.#bit + n > this.bytes.length * 8) {
      throw invalid(this.#bit >> 3, `AudioSpecificConfig ${what} is cut off after ${this.bytes.length} bytes`);
    }
    let v = 0;
    for (let i = 0; i < n; i++, this.#bit++) {
      v = v * 2 + (((this.bytes[this.#bit >> 3] ?? 0) >> (7 - (this.#bit & 7))) & 1);
    }
    return v;
  }
}

/**
 * The two-byte AudioSpecificConfig of a plain AAC stream (no SBR/PS, no extension): what an encoder that was told
 * the rate and channels produces, e.g. openkvs's own recordings. The rate must be one of SAMPLING_FREQUENCIES
 * and the object type below the 5-bit escape, so the short form always fits.
 */
export function writeAudioSpecificConfig(audioObjectType: number, sampleRate: number, channels: number): Uint8Array {
  const samplingIndex = SAMPLING_FREQUENCIES.findIndex((f) => f === sampleRate);
  if (audioObjectType < 1 || audioObjectType >= ESCAPE_OBJECT_TYPE || samplingIndex < 0 || channels < 1 || channels > 7) {
    throw new RangeError(`no short AudioSpecificConfig for object type ${audioObjectType}, ${sampleRate} Hz, ${channels} channels`);
  }
  // audioObjectType (5) | samplingFrequencyIndex (4) | channelConfiguration (4) | GASpecificConfig: three 0 flags
  const bits = (audioObjectType << 11) | (samplingIndex << 7) | (channels << 3);
  return new Uint8Array([bits >> 8, bits & 0xff]);
}
