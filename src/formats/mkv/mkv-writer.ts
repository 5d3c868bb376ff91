// Matroska muxing of the pieces openkvs stores and serves: the stream header, clusters and level-1 tags.
// Type-only imports of the shared media model are erased at compile time, so formats stays dependency-free.
import type { SimpleTag } from '../../media/parse-events.js';
import type { TrackInfo, TrackKind, TrackSet } from '../../media/track.js';
import {
  concatBytes,
  encodeBinary,
  encodeFloat,
  encodeId,
  encodeMaster,
  encodeString,
  encodeUint,
  encodeUnknownSizeMasterStart,
  encodeVintSize,
} from '../ebml/ebml-writer.js';
import { EbmlId, TrackType } from '../ebml/ids.js';

export type MkvHeaderOptions = { muxingApp?: string; writingApp?: string; title?: string };

export type MkvWriteBlock = {
  track: number;
  /** Absolute block timecode in TimecodeScale units. */
  timecode: number;
  keyframe: boolean;
  data: Uint8Array;
};

const DEFAULT_APP = 'openkvs';

// Matroska TrackType 0x21 "metadata": the closest fit for tracks that are neither audio, video nor subtitles.
const METADATA_TRACK_TYPE = 0x21;

const TRACK_TYPE_BY_KIND: Record<TrackKind, number> = {
  video: TrackType.VIDEO,
  audio: TrackType.AUDIO,
  subtitle: TrackType.SUBTITLE,
  other: METADATA_TRACK_TYPE,
};

/** The EBML header of a Matroska document (DocType matroska, version 4, readable by version-2 readers). */
export function writeEbmlHeader(): Uint8Array {
  return encodeMaster(EbmlId.EBML, [
    encodeUint(EbmlId.EBMLVersion, 1),
    encodeUint(EbmlId.EBMLReadVersion, 1),
    encodeUint(EbmlId.EBMLMaxIDLength, 4),
    encodeUint(EbmlId.EBMLMaxSizeLength, 8),
    encodeString(EbmlId.DocType, 'matroska'),
    encodeUint(EbmlId.DocTypeVersion, 4),
    encodeUint(EbmlId.DocTypeReadVersion, 2),
  ]);
}

/**
 * EBML header + Segment of unknown size + Info + Tracks. Clusters (and Tags) can be appended directly,
 * which is how a stored fragment becomes a playable file: header bytes followed by cluster bytes.
 */
export function writeMkvHeader(set: TrackSet, opts: MkvHeaderOptions = {}): Uint8Array {
  const ebmlHeader = writeEbmlHeader();
  const infoChildren = [
    encodeUint(EbmlId.TimecodeScale, set.timecodeScaleNs),
    encodeString(EbmlId.MuxingApp, opts.muxingApp ?? DEFAULT_APP),
    encodeString(EbmlId.WritingApp, opts.writingApp ?? DEFAULT_APP),
  ];
  if (opts.title !== undefined) {
    infoChildren.push(encodeString(EbmlId.Title, opts.title));
  }
  return concatBytes([
    ebmlHeader,
    encodeUnknownSizeMasterStart(EbmlId.Segment),
    encodeMaster(EbmlId.Info, infoChildren),
    encodeMaster(EbmlId.Tracks, set.tracks.map(encodeTrackEntry)),
  ]);
}

function encodeTrackEntry(track: TrackInfo): Uint8Array {
  if (!Number.isInteger(track.number) || track.number < 1) {
    throw new RangeError(`track number ${track.number} is not a positive integer`);
  }
  const children = [
    encodeUint(EbmlId.TrackNumber, track.number),
    // TrackUID must be non-zero and unique; the track number is both when no UID was received.
    encodeUint(EbmlId.TrackUID, track.uid ?? track.number),
    encodeUint(EbmlId.TrackType, TRACK_TYPE_BY_KIND[track.kind]),
    encodeString(EbmlId.CodecID, track.codecId),
  ];
  if (track.codecPrivate !== undefined) {
    children.push(encodeBinary(EbmlId.CodecPrivate, track.codecPrivate));
  }
  if (track.name !== undefined) {
    children.push(encodeString(EbmlId.Name, track.name));
  }
  if (track.language !== undefined) {
    children.push(encodeString(EbmlId.Language, track.language));
  }
  if (track.defaultDurationNs !== undefined) {
    children.push(encodeUint(EbmlId.DefaultDuration, Math.round(track.defaultDurationNs)));
  }
  if (track.width !== undefined && track.height !== undefined) {
    children.push(
      encodeMaster(EbmlId.Video, [encodeUint(EbmlId.PixelWidth, track.width), encodeUint(EbmlId.PixelHeight, track.height)]),
    );
  }
  if (track.sampleRate !== undefined || track.channels !== undefined) {
    const audio: Uint8Array[] = [];
    if (track.sampleRate !== undefined) {
      audio.push(encodeFloat(EbmlId.SamplingFrequency, track.sampleRate, 8));
    }
    if (track.channels !== undefined) {
      audio.push(encodeUint(EbmlId.Channels, track.channels));
    }
    children.push(encodeMaster(EbmlId.Audio, audio));
  }
  return encodeMaster(EbmlId.TrackEntry, children);
}

/**
 * A known-size Cluster with one SimpleBlock per block, in the given order. Block timecodes are stored
 * relative to the cluster as int16, so every block must lie within [timecode - 32768, timecode + 32767].
 */
export function writeCluster(timecode: number, blocks: readonly MkvWriteBlock[]): Uint8Array {
  if (!Number.isSafeInteger(timecode) || timecode < 0) {
    throw new RangeError(`cluster timecode ${timecode} is not a non-negative integer`);
  }
  const children: Uint8Array[] = [encodeUint(EbmlId.Timecode, timecode)];
  for (const block of blocks) {
    children.push(encodeSimpleBlock(timecode, block));
  }
  return encodeMaster(EbmlId.Cluster, children);
}

function encodeSimpleBlock(clusterTimecode: number, block: MkvWriteBlock): Uint8Array {
  const relative = block.timecode - clusterTimecode;
  if (!Number.isInteger(relative) || relative < -0x8000 || relative > 0x7fff) {
    throw new RangeError(
      `block timecode ${block.timecode} is not an int16 offset from cluster timecode ${clusterTimecode}`,
    );
  }
  if (!Number.isInteger(block.track) || block.track < 1) {
    throw new RangeError(`block track number ${block.track} is not a positive integer`);
  }
  const trackNumber = encodeVintSize(block.track);
  const header = new Uint8Array(trackNumber.length + 3);
  header.set(trackNumber, 0);
  const view = new DataView(header.buffer);
  view.setInt16(trackNumber.length, relative);
  // Flags: bit 0x80 = keyframe; lacing bits stay 00 because every block holds exactly one frame.
  header[trackNumber.length + 2] = block.keyframe ? 0x80 : 0x00;
  const payload = concatBytes([header, block.data]);
  return concatBytes([encodeId(EbmlId.SimpleBlock), encodeVintSize(payload.length), payload]);
}

/**
 * A level-1 Tags element with one Tag. Targets is written only when a TargetTypeValue is given:
 * KVS's own fragment tags carry no Targets, which readers take as TargetTypeValue 50 (the whole segment).
 */
export function writeTags(tags: readonly SimpleTag[], opts: { targetTypeValue?: number } = {}): Uint8Array {
  const tagChildren: Uint8Array[] = [];
  if (opts.targetTypeValue !== undefined) {
    tagChildren.push(encodeMaster(EbmlId.Targets, [encodeUint(EbmlId.TargetTypeValue, opts.targetTypeValue)]));
  }
  for (const tag of tags) {
    tagChildren.push(
      encodeMaster(EbmlId.SimpleTag, [encodeString(EbmlId.TagName, tag.name), encodeString(EbmlId.TagString, tag.value)]),
    );
  }
  return encodeMaster(EbmlId.Tags, [encodeMaster(EbmlId.Tag, tagChildren)]);
}
