import type { TrackInfo } from '../media/track.js';
import type { SessionClaims } from './session-token.js';
import type { SessionWindow } from './session-window.js';

/** The tracks a session plays: track 1's kind decides; audio rides along as its own rendition (fMP4) or muxed (TS). */
export type PlayTracks = { video?: TrackInfo; audio?: TrackInfo };

export type MasterInput = {
  token: string;
  claims: SessionClaims;
  tracks: PlayTracks;
  codecs: string[];
  /** Peak bits per second, estimated from the fragments in view. */
  bandwidth: number;
};

const q = (token: string): string => `SessionToken=${encodeURIComponent(token)}`;

/** The master playlist: one variant (KVS has no renditions), audio as an EXT-X-MEDIA group when packaged apart. */
export function masterPlaylist(m: MasterInput): string {
  const ts = m.claims.container === 'MPEG_TS';
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${ts ? 3 : 7}`, '#EXT-X-INDEPENDENT-SEGMENTS'];
  const main = m.tracks.video ?? m.tracks.audio;
  if (main === undefined) {
    throw new Error('masterPlaylist: no track to play');
  }
  const separateAudio = !ts && m.tracks.video !== undefined && m.tracks.audio !== undefined;
  if (separateAudio && m.tracks.audio !== undefined) {
    lines.push(
      `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",AUTOSELECT=YES,DEFAULT=YES,URI="getHLSMediaPlaylist.m3u8?${q(m.token)}&TrackNumber=${m.tracks.audio.number}"`,
    );
  }
  const attrs = [`BANDWIDTH=${Math.max(1, Math.round(m.bandwidth))}`, `CODECS="${m.codecs.join(',')}"`];
  const v = m.tracks.video;
  if (v?.width !== undefined && v.height !== undefined) {
    attrs.push(`RESOLUTION=${v.width}x${v.height}`);
  }
  if (separateAudio) {
    attrs.push('AUDIO="audio"');
  }
  lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, `getHLSMediaPlaylist.m3u8?${q(m.token)}&TrackNumber=${main.number}`);
  return lines.join('\n') + '\n';
}

/**
 * A media playlist over the session's window. fMP4: per track, with an EXT-X-MAP at the start, after each
 * discontinuity and wherever the track info (codec private data) changes. TS: one muxed segment per fragment.
 */
export function mediaPlaylist(token: string, claims: SessionClaims, trackNumber: number, w: SessionWindow): string {
  const ts = claims.container === 'MPEG_TS';
  const maxMs = Math.max(1, ...w.entries.map((e) => e.fragment.durationMs));
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${ts ? 3 : 7}`,
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(maxMs / 1000))}`,
    `#EXT-X-MEDIA-SEQUENCE:${w.entries[0]?.seq ?? 0}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${w.discontinuitySequence}`,
  ];
  if (claims.mode === 'ON_DEMAND') {
    lines.push('#EXT-X-PLAYLIST-TYPE:VOD');
  }
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  let mapOf: number | undefined;
  for (const { discontinuity, fragment: f } of w.entries) {
    if (discontinuity) {
      lines.push('#EXT-X-DISCONTINUITY');
    }
    if (!ts && (discontinuity || mapOf !== f.trackInfoId)) {
      lines.push(`#EXT-X-MAP:URI="getMP4InitFragment.mp4?${q(token)}&TrackNumber=${trackNumber}&TrackInfoId=${f.trackInfoId}"`);
      mapOf = f.trackInfoId;
    }
    if (claims.displayTimestamp) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(claims.kind === 'server' ? f.serverTimestampMs : f.producerTimestampMs).toISOString()}`);
    }
    lines.push(`#EXTINF:${(f.durationMs / 1000).toFixed(3)},`);
    lines.push(
      ts
        ? `getTSFragment.ts?FragmentNumber=${f.fragmentNumber}&${q(token)}`
        : `getMP4MediaFragment.mp4?FragmentNumber=${f.fragmentNumber}&${q(token)}&TrackNumber=${trackNumber}`,
    );
  }
  if (w.ended) {
    lines.push('#EXT-X-ENDLIST');
  }
  return lines.join('\n') + '\n';
}
