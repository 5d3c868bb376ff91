// The esds box an mp4a sample entry carries its AudioSpecificConfig in. mp4box only parses esds, so the
// fMP4 packager has it built here.

import { concatBytes } from '../ebml/ebml-writer.js';

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
    concatBytes([
      Uint8Array.of(OTI_MPEG4_AUDIO, (STREAM_TYPE_AUDIO << 2) | 0x01, 0, 0, 0),
      new Uint8Array(8), // maxBitrate, avgBitrate
      decoderSpecificInfo,
    ]),
  );
  const slConfig = descriptor(SL_CONFIG_DESCR_TAG, Uint8Array.of(0x02));
  return descriptor(ES_DESCR_TAG, concatBytes([Uint8Array.of((esId >> 8) & 0xff, esId & 0xff, 0), decoderConfig, slConfig]));
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
  return concatBytes([Uint8Array.of(tag, ...sizeBytes), body]);
}
