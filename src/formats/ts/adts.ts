// ADTS framing (ISO/IEC 13818-7 §6.2 / 14496-3 §1.A.2): MPEG-TS carries AAC as a self-describing stream,
// so each raw access unit gets a 7-byte header repeating the configuration a decoder would otherwise
// have read once from the AudioSpecificConfig. The reader goes the other way, for an encoder's ADTS output.

import type { AacConfig } from '../codec/aac-config.js';
import { SAMPLING_FREQUENCIES } from '../codec/aac-config.js';
import { invalid } from '../errors.js';

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

/** A 7-byte header with protection_absent 0 is followed by a 16-bit CRC. */
const ADTS_CRC_BYTES = 2;

/**
 * Raw AAC access units out of an ADTS byte stream that arrives in arbitrary pieces (an encoder's stdout). Only
 * single-block frames are split, which is what encoders write; the caller gives each its own timestamp.
 */
export class AdtsReader {
  #pending = new Uint8Array(0);
  /** Bytes taken so far, for error offsets. */
  #offset = 0;

  /** The access units completed by `bytes`; a ParseError when the stream is not ADTS. */
  push(bytes: Uint8Array): Uint8Array[] {
    // a plain view: slice() on a Node Buffer would return views into the pipe's chunks, not copies
    let buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    if (this.#pending.length > 0) {
      buf = new Uint8Array(this.#pending.length + bytes.length);
      buf.set(this.#pending);
      buf.set(bytes, this.#pending.length);
    }
    const out: Uint8Array[] = [];
    let at = 0;
    while (buf.length - at >= ADTS_HEADER_BYTES) {
      if (buf[at] !== 0xff || ((buf[at + 1] ?? 0) & 0xf6) !== 0xf0) {
        throw invalid(this.#offset + at, 'no ADTS sync word');
      }
      const protectionAbsent = ((buf[at + 1] ?? 0) & 0x01) === 1;
      const length = (((buf[at + 3] ?? 0) & 0x03) << 11) | ((buf[at + 4] ?? 0) << 3) | ((buf[at + 5] ?? 0) >> 5);
      const blocks = ((buf[at + 6] ?? 0) & 0x03) + 1;
      const header = ADTS_HEADER_BYTES + (protectionAbsent ? 0 : ADTS_CRC_BYTES);
      if (length <= header) {
        throw invalid(this.#offset + at, `ADTS frame_length ${length} is not past its header`);
      }
      if (blocks !== 1) {
        throw invalid(this.#offset + at, `ADTS frame with ${blocks} raw data blocks`);
      }
      if (buf.length - at < length) {
        break;
      }
      out.push(buf.slice(at + header, at + length));
      at += length;
    }
    this.#offset += at;
    this.#pending = buf.slice(at);
    return out;
  }

  /** Bytes of an unfinished frame at the end of what was pushed. */
  get pendingBytes(): number {
    return this.#pending.length;
  }
}
