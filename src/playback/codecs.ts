import { KvsError } from '../errors/codes.js';
import type { TrackInfo, TrackSet } from '../media/track.js';
import type { PlayTracks } from './hls-playlists.js';

const VIDEO = new Set(['V_MPEG4/ISO/AVC', 'V_MPEGH/ISO/HEVC', 'V_MPEG/ISO/HEVC']);
const isAac = (t: TrackInfo): boolean => t.codecId === 'A_AAC' || t.codecId.startsWith('A_AAC/');

/**
 * What HLS, DASH and GetClip can play of a stream (kvs-api.md §4.0): track 1 — the lowest-numbered track — must be
 * H.264 or H.265 video, optionally followed by AAC audio, or be AAC audio alone. Other tracks are left out.
 * Throws the KVS errors for anything else.
 */
export function playTracks(set: TrackSet): PlayTracks {
  const sorted = [...set.tracks].sort((a, b) => a.number - b.number);
  const first = sorted[0];
  if (first === undefined) {
    throw new KvsError('UnsupportedStreamMediaTypeException', 'The stream has no tracks.');
  }
  if (VIDEO.has(first.codecId)) {
    const audio = sorted.find((t) => t.kind === 'audio' && isAac(t));
    return withCpd({ video: first, ...(audio !== undefined ? { audio } : {}) });
  }
  if (isAac(first)) {
    return withCpd({ audio: first });
  }
  throw new KvsError(
    'UnsupportedStreamMediaTypeException',
    `Track ${first.number} has codec ${first.codecId}; HLS, DASH and clips need H.264 (V_MPEG4/ISO/AVC) or H.265 (V_MPEGH/ISO/HEVC) video, or AAC audio.`,
  );
}

function withCpd(p: PlayTracks): PlayTracks {
  for (const t of [p.video, p.audio]) {
    if (t !== undefined && (t.codecPrivate === undefined || t.codecPrivate.length === 0)) {
      throw new KvsError('MissingCodecPrivateDataException', `Track ${t.number} (${t.codecId}) has no codec private data.`);
    }
  }
  return p;
}

export const playTrackList = (p: PlayTracks): TrackInfo[] => [p.video, p.audio].filter((t): t is TrackInfo => t !== undefined);
