// Info and Tracks: the parts of a Matroska header that describe how to read the clusters.

import { invalid } from '../errors.js';
import { EbmlId, TrackType } from '../ebml/ids.js';
import { elementName } from './mkv-schema.js';
import { forEachChild, openElement, readUint, validateElement } from './mkv-elements.js';
import type { TrackInfo, TrackKind } from './mkv-types.js';
import type { ByteReader } from '../bits/byte-reader.js';

/** Matroska's default TimestampScale: 1 ms per timecode unit. */
export const DEFAULT_TIMECODE_SCALE_NS = 1_000_000;

export type SegmentInfo = { timecodeScaleNs: number };

/** Parses a complete Info element (header included). */
export function parseInfo(bytes: Uint8Array, baseOffset = 0): SegmentInfo {
  const r = openElement(bytes, EbmlId.Info, baseOffset);
  let timecodeScaleNs = DEFAULT_TIMECODE_SCALE_NS;
  forEachChild(r, EbmlId.Info, (id, data, start) => {
    validateElement(id, data, start, 2);
    if (id === EbmlId.TimecodeScale) {
      timecodeScaleNs = readUint(data, id);
      // Zero would make every timestamp 0 and break the mapping of timecodes to time.
      if (timecodeScaleNs === 0) {
        throw invalid(start, 'TimestampScale must not be 0');
      }
    }
  });
  return { timecodeScaleNs };
}

/**
 * Parses a complete Tracks element (header included). Track numbers must be non-zero and unique, and
 * every track needs a CodecID: blocks are matched to tracks by number, and readers pick a packager by codec.
 */
export function parseTracks(bytes: Uint8Array, baseOffset = 0, known: readonly TrackInfo[] = []): TrackInfo[] {
  const r = openElement(bytes, EbmlId.Tracks, baseOffset);
  const tracks: TrackInfo[] = [];
  const numbers = new Set(known.map((t) => t.number));
  forEachChild(r, EbmlId.Tracks, (id, data, start) => {
    if (id !== EbmlId.TrackEntry) {
      validateElement(id, data, start, 2);
      return;
    }
    const track = parseTrackEntry(data, start);
    if (numbers.has(track.number)) {
      throw invalid(start, `TrackNumber ${track.number} is used by two TrackEntry elements`);
    }
    numbers.add(track.number);
    tracks.push(track);
  });
  return tracks;
}

function parseTrackEntry(r: ByteReader, entryStart: number): TrackInfo {
  let number: number | undefined;
  let uid: bigint | undefined;
  let type: number | undefined;
  let codecId: string | undefined;
  let codecPrivate: Uint8Array | undefined;
  let name: string | undefined;
  let language: string | undefined;
  let languageBcp47: string | undefined;
  let defaultDurationNs: number | undefined;
  let width: number | undefined;
  let height: number | undefined;
  let sampleRate: number | undefined;
  let channels: number | undefined;
  let hasAudio = false;

  forEachChild(r, EbmlId.TrackEntry, (id, data, start) => {
    switch (id) {
      case EbmlId.TrackNumber:
        number = readUint(data, id);
        if (number === 0) {
          throw invalid(start, 'TrackNumber must not be 0');
        }
        break;
      case EbmlId.TrackUID:
        uid = data.readBigUintBE(data.remaining, elementName(id));
        break;
      case EbmlId.TrackType:
        type = readUint(data, id);
        break;
      case EbmlId.CodecID:
        codecId = data.readString(data.remaining, 'CodecID');
        break;
      case EbmlId.CodecPrivate:
        // A copy: the header object outlives the buffer the element was parsed from.
        codecPrivate = data.readBytes(data.remaining, 'CodecPrivate').slice();
        break;
      case EbmlId.Name:
        name = data.readString(data.remaining, 'Name');
        break;
      case EbmlId.Language:
        language = data.readString(data.remaining, 'Language');
        break;
      case 0x22b59d: // LanguageBCP47, which overrides Language when present (RFC 9559 §5.1.4.1.20)
        languageBcp47 = data.readString(data.remaining, 'LanguageBCP47');
        break;
      case EbmlId.DefaultDuration:
        defaultDurationNs = readUint(data, id);
        break;
      case EbmlId.Video:
        forEachChild(data, id, (vid, vdata, vstart) => {
          validateElement(vid, vdata, vstart, 4);
          if (vid === EbmlId.PixelWidth) {
            width = readUint(vdata, vid);
          } else if (vid === EbmlId.PixelHeight) {
            height = readUint(vdata, vid);
          }
        });
        break;
      case EbmlId.Audio:
        hasAudio = true;
        forEachChild(data, id, (aid, adata, astart) => {
          validateElement(aid, adata, astart, 4);
          if (aid === EbmlId.SamplingFrequency) {
            sampleRate = adata.readFloat(adata.remaining, 'SamplingFrequency');
          } else if (aid === EbmlId.Channels) {
            channels = readUint(adata, aid);
          }
        });
        break;
      default:
        validateElement(id, data, start, 3);
        break;
    }
  });

  if (number === undefined) {
    throw invalid(entryStart, 'TrackEntry has no TrackNumber');
  }
  if (codecId === undefined) {
    throw invalid(entryStart, `TrackEntry ${number} has no CodecID`);
  }
  const track: TrackInfo = { number, kind: trackKind(type), codecId };
  if (uid !== undefined) {
    track.uid = uid;
  }
  if (codecPrivate !== undefined) {
    track.codecPrivate = codecPrivate;
  }
  if (name !== undefined) {
    track.name = name;
  }
  const lang = languageBcp47 ?? language;
  if (lang !== undefined) {
    track.language = lang;
  }
  if (defaultDurationNs !== undefined) {
    track.defaultDurationNs = defaultDurationNs;
  }
  if (width !== undefined) {
    track.width = width;
  }
  if (height !== undefined) {
    track.height = height;
  }
  if (hasAudio) {
    // Matroska defaults: 8000 Hz, 1 channel.
    track.sampleRate = sampleRate ?? 8000;
    track.channels = channels ?? 1;
  }
  return track;
}

function trackKind(type: number | undefined): TrackKind {
  switch (type) {
    case TrackType.VIDEO:
      return 'video';
    case TrackType.AUDIO:
      return 'audio';
    case TrackType.SUBTITLE:
      return 'subtitle';
    default:
      return 'other';
  }
}
