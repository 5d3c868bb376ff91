// ADTS framing (ISO/IEC 13818-7 §6.2 / 14496-3 §1.A.2): MPEG-TS carries AAC as a self-describing stream,
// so each raw access unit gets a 7-byte header repeating the configuration a decoder would otherwise
// have read once from the AudioSpecificConfig.

import type { AacConfig } from '../codec/aac-config.js';
import { SAMPLING_FREQUENCIES } from '../codec/aac-config.js';

export const ADTS_HEADER_BYTES = 7;
/** frame_length is 13 bits and counts the header. */
export const MAX_ADTS_FRAME_BYTES = 0x1fff;

/** ADTS's 2-bit profile is audioObjectType - 1, so only Main, LC, SSR and LTP fit. */
const MAX_ADTS_OBJECT_TYPE = 4;
/** channel_configuration is 3 bits. */
const MAX_ADTS_CHANNEL_CONFIG = 7;

export type AdtsParams = { profile: number; samplingIndex: number; channelConfig: number };

/**
 * The ADTS fields for `config`, or a reason it cannot be written as ADTS: an object type beyond LTP, a
 * rate outside the index table, or channels defined by a program config element (channelConfig 0).
 */
export function adtsParams(config: AacConfig): AdtsParams | { unsupported: string } {
  if (config.coreObjectType < 1 || config.coreObjectType > MAX_ADTS_OBJECT_TYPE) {
    return { unsupported: `AAC object type ${config.coreObjectType} has no ADTS profile` };
  }
  let samplingIndex = config.samplingIndex;
  if (samplingIndex >= SAMPLING_FREQUENCIES.length) {
    // An explicitly coded rate that happens to be in the table still has an index.
    samplingIndex = SAMPLING_FREQUENCIES.findIndex((f) => f === config.sampleRate);
    if (samplingIndex < 0) {
      return { unsupported: `AAC sampling rate ${config.sampleRate} Hz has no ADTS sampling frequency index` };
    }
  }
  if (config.channelConfig < 1 || config.channelConfig > MAX_ADTS_CHANNEL_CONFIG) {
    return { unsupported: `AAC channel configuration ${config.channelConfig} cannot be signalled in ADTS` };
  }
  return { profile: config.coreObjectType - 1, samplingIndex, channelConfig: config.channelConfig };
}

/** A raw AAC access unit behind its ADTS header (MPEG-4, no CRC, one raw data block, VBR fullness). */
export function adtsFrame(params: AdtsParams, raw: Uint8Array): Uint8Array {
  const length = ADTS_HEADER_BYTES + raw.length;
  if (length > MAX_ADTS_FRAME_BYTES) {
    throw new RangeError(`AAC frame of ${raw.length} bytes does not fit in an ADTS frame (${MAX_ADTS_FRAME_BYTES - ADTS_HEADER_BYTES} at most)`);
  }
  const out = new Uint8Array(length);
  out[0] = 0xff;
  // syncword low bits, ID 0 (MPEG-4), layer 00, protection_absent 1.
  out[1] = 0xf1;
  out[2] = (params.profile << 6) | (params.samplingIndex << 2) | (params.channelConfig >> 2);
  out[3] = ((params.channelConfig & 0x03) << 6) | (length >> 11);
  out[4] = (length >> 3) & 0xff;
  // frame_length's low 3 bits, then adts_buffer_fullness 0x7FF (variable bit rate) over two bytes.
  out[5] = ((length & 0x07) << 5) | 0x1f;
  out[6] = 0xfc;
  out.set(raw, ADTS_HEADER_BYTES);
  return out;
}
