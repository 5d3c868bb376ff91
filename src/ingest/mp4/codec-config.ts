// Maps an MP4 sample entry to the Matroska codec ID and CodecPrivate that describe the same stream.
import { aacChannelCount, parseAudioSpecificConfig } from '../../formats/codec/aac-config.js';
import { invalid } from '../../formats/errors.js';
import type { TrackKind } from '../../media/track.js';

export type CodecConfig = {
  kind: TrackKind;
  codecId: string;
  codecPrivate?: Uint8Array;
  /** Channel count taken from the codec configuration, which is authoritative over the sample entry's. */
  channels?: number;
};

/** The parts of an mp4box box that locate it inside the buffer mp4box parsed. */
export type LocatedBox = { type: string; start?: number; hdr_size?: number; size: number };

/** Raw bytes of a box's payload (without its header), read from the buffer mp4box parsed. */
export type PayloadReader = (box: LocatedBox) => Uint8Array;

/** The fields of mp4box's sample entries and child boxes this module reads. */
export type SampleEntryLike = {
  type: string;
  avcC?: LocatedBox;
  hvcC?: LocatedBox;
  esds?: { esd?: EsDescriptorLike };
  dOps?: DOpsLike;
};
type EsDescriptorLike = { findDescriptor(tag: number): DescriptorLike | undefined };
type DescriptorLike = { oti?: number; data?: Uint8Array; findDescriptor(tag: number): DescriptorLike | undefined };
export type DOpsLike = {
  Version: number;
  OutputChannelCount: number;
  PreSkip: number;
  InputSampleRate: number;
  OutputGain: number;
  ChannelMappingFamily: number;
  StreamCount?: number;
  CoupledCount?: number;
  ChannelMapping?: number[];
};

// ISO/IEC 14496-1 descriptor tags and the MPEG-4 objectTypeIndication values that mean AAC.
const DECODER_CONFIG_DESCR_TAG = 0x04;
const DECODER_SPECIFIC_INFO_TAG = 0x05;
const AAC_OBJECT_TYPES: ReadonlySet<number> = new Set([
  0x40, // MPEG-4 Audio
  0x66, // MPEG-2 AAC Main
  0x67, // MPEG-2 AAC LC
  0x68, // MPEG-2 AAC SSR
]);

/**
 * The Matroska view of a sample entry, or undefined for codecs openkvs does not carry (their tracks are
 * dropped). `offset` is only used to place errors.
 */
export function codecConfigFor(entry: SampleEntryLike, payload: PayloadReader, offset: number): CodecConfig | undefined {
  switch (entry.type) {
    case 'avc1':
    case 'avc3': {
      if (entry.avcC === undefined) {
        throw invalid(offset, `${entry.type} sample entry has no avcC`);
      }
      return { kind: 'video', codecId: 'V_MPEG4/ISO/AVC', codecPrivate: payload(entry.avcC) };
    }
    case 'hvc1':
    case 'hev1': {
      if (entry.hvcC === undefined) {
        throw invalid(offset, `${entry.type} sample entry has no hvcC`);
      }
      return { kind: 'video', codecId: 'V_MPEGH/ISO/HEVC', codecPrivate: payload(entry.hvcC) };
    }
    case 'mp4a': {
      const config = entry.esds?.esd?.findDescriptor(DECODER_CONFIG_DESCR_TAG);
      if (config?.oti === undefined || !AAC_OBJECT_TYPES.has(config.oti)) {
        return undefined;
      }
      const asc = config.findDescriptor(DECODER_SPECIFIC_INFO_TAG)?.data;
      if (asc === undefined || asc.length < 2) {
        throw invalid(offset, 'AAC sample entry has no AudioSpecificConfig');
      }
      const channels = ascChannelCount(asc);
      return { kind: 'audio', codecId: 'A_AAC', codecPrivate: new Uint8Array(asc), ...(channels ? { channels } : {}) };
    }
    case 'Opus': {
      if (entry.dOps === undefined) {
        return { kind: 'audio', codecId: 'A_OPUS' };
      }
      return { kind: 'audio', codecId: 'A_OPUS', codecPrivate: opusHeadFromDOps(entry.dOps), channels: entry.dOps.OutputChannelCount };
    }
    default:
      return undefined;
  }
}

/**
 * The channel configuration of an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1), or 0 when the
 * configuration is carried in a program_config_element instead.
 */
export function ascChannelCount(asc: Uint8Array): number {
  try {
    return aacChannelCount(parseAudioSpecificConfig(asc)) ?? 0;
  } catch {
    return 0;
  }
}

/**
 * Matroska's A_OPUS CodecPrivate is the Ogg "OpusHead" packet (RFC 7845 5.1): the same fields as the
 * MP4 dOps box, but little-endian, with a magic signature and version 1.
 */
export function opusHeadFromDOps(d: DOpsLike): Uint8Array {
  const mapping = d.ChannelMappingFamily !== 0;
  const out = new Uint8Array(19 + (mapping ? 2 + d.OutputChannelCount : 0));
  const view = new DataView(out.buffer);
  out.set([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64], 0); // "OpusHead"
  out[8] = 1;
  out[9] = d.OutputChannelCount;
  view.setUint16(10, d.PreSkip, true);
  view.setUint32(12, d.InputSampleRate, true);
  view.setInt16(16, d.OutputGain, true);
  out[18] = d.ChannelMappingFamily;
  if (mapping) {
    out[19] = d.StreamCount ?? 0;
    out[20] = d.CoupledCount ?? 0;
    for (let i = 0; i < d.OutputChannelCount; i++) {
      out[21 + i] = d.ChannelMapping?.[i] ?? 0;
    }
  }
  return out;
}
