// The MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) that Matroska keeps as the CodecPrivate of
// A_AAC: enough of it to write ADTS headers (object type, sampling frequency index, channel configuration).

import { invalid, tooLarge } from '../errors.js';

export type AacConfig = {
  /** audioObjectType of the core coder: 2 for AAC-LC (the SBR/PS extension types 5 and 29 are unwrapped). */
  objectType: number;
  /** Index into SAMPLING_FREQUENCIES of the core coder's rate, or 15 when the rate is given explicitly. */
  samplingIndex: number;
  /** The core coder's rate in Hz. */
  sampleRate: number;
  /** 1..7 from the standard layouts; 0 means a program config element defines the channels. */
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

export function parseAudioSpecificConfig(bytes: Uint8Array): AacConfig {
  if (bytes.length > MAX_AAC_CONFIG_BYTES) {
    throw tooLarge(0, `AudioSpecificConfig of ${bytes.length} bytes is over ${MAX_AAC_CONFIG_BYTES}`);
  }
  const bits = new BitCursor(bytes);
  let objectType = readObjectType(bits);
  const { index: samplingIndex, rate: sampleRate } = readRate(bits);
  const channelConfig = bits.read(4, 'channelConfiguration');
  if (SBR_TYPES.has(objectType)) {
    // The first rate is the core's; the extension (SBR output) rate comes next, then the core object type.
    readRate(bits);
    objectType = readObjectType(bits);
  }
  if (objectType === 0) {
    throw invalid(0, 'AudioSpecificConfig has audioObjectType 0 (null)');
  }
  if (samplingIndex !== EXPLICIT_RATE_INDEX && samplingIndex >= SAMPLING_FREQUENCIES.length) {
    throw invalid(0, `AudioSpecificConfig has reserved sampling frequency index ${samplingIndex}`);
  }
  if (sampleRate === 0) {
    throw invalid(0, 'AudioSpecificConfig has a sampling frequency of 0');
  }
  return { objectType, samplingIndex, sampleRate, channelConfig };
}

function readObjectType(bits: BitCursor): number {
  const t = bits.read(5, 'audioObjectType');
  return t === ESCAPE_OBJECT_TYPE ? 32 + bits.read(6, 'audioObjectTypeExt') : t;
}

function readRate(bits: BitCursor): { index: number; rate: number } {
  const index = bits.read(4, 'samplingFrequencyIndex');
  if (index === EXPLICIT_RATE_INDEX) {
    return { index, rate: bits.read(24, 'samplingFrequency') };
  }
  return { index, rate: SAMPLING_FREQUENCIES[index] ?? 0 };
}

/** MSB-first bit reads with the bounds check of ByteReader, for the few sub-byte fields of the config. */
class BitCursor {
  readonly bytes: Uint8Array;
  #bit = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
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
