import type { TrackInfo } from '../media/track.js';
import type { SessionClaims } from './session-token.js';
import type { SessionWindow } from './session-window.js';

export type DashInput = {
  token: string;
  claims: SessionClaims;
  window: SessionWindow;
  tracks: { track: TrackInfo; codec: string }[];
  bandwidth: number;
  nowMs: number;
};

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
const seconds = (ms: number): string => `PT${(Math.max(0, ms) / 1000).toFixed(3)}S`;

/**
 * The MPD of a session: one period, one adaptation set per track, each segment listed explicitly (SegmentList +
 * SegmentTimeline in milliseconds on the producer clock) because fragment numbers are not a $Number$ sequence.
 * ON_DEMAND is static; LIVE and LIVE_REPLAY are dynamic with the producer clock as the availability timeline.
 * One init segment per track (the newest track info in view): a codec change mid-session is not represented.
 */
export function dashManifest(d: DashInput): string {
  const { claims, window: w } = d;
  const live = claims.mode !== 'ON_DEMAND' && !w.ended;
  const first = w.entries[0]?.fragment;
  const last = w.entries.at(-1)?.fragment;
  const startMs = first?.producerTimestampMs ?? 0;
  const totalMs = last === undefined || first === undefined ? 0 : last.producerTimestampMs + last.durationMs - first.producerTimestampMs;
  const maxMs = Math.max(1000, ...w.entries.map((e) => e.fragment.durationMs));
  const q = `SessionToken=${encodeURIComponent(d.token)}`;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const mpd = [
    'xmlns="urn:mpeg:dash:schema:mpd:2011"',
    'xmlns:kvs="https://kinesisvideo.amazonaws.com/dash"',
    'profiles="urn:mpeg:dash:profile:isoff-live:2011"',
    `minBufferTime="${seconds(maxMs)}"`,
  ];
  if (live) {
    mpd.push(
      'type="dynamic"',
      'availabilityStartTime="1970-01-01T00:00:00Z"',
      `publishTime="${new Date(d.nowMs).toISOString()}"`,
      'minimumUpdatePeriod="PT1S"',
      `timeShiftBufferDepth="${seconds(Math.max(totalMs, maxMs * 2))}"`,
      `suggestedPresentationDelay="${seconds(maxMs * 2)}"`,
    );
  } else {
    mpd.push('type="static"', `mediaPresentationDuration="${seconds(totalMs)}"`);
  }
  out.push(`<MPD ${mpd.join(' ')}>`, '  <Period id="0" start="PT0S">');
  for (const [i, { track, codec }] of d.tracks.entries()) {
    const video = track.kind === 'video';
    out.push(`    <AdaptationSet id="${i + 1}" contentType="${video ? 'video' : 'audio'}" mimeType="${video ? 'video' : 'audio'}/mp4" segmentAlignment="true" startWithSAP="1">`);
    const rep = [`id="${track.number}"`, `codecs="${xml(codec)}"`, `bandwidth="${Math.max(1, Math.round(d.bandwidth))}"`];
    if (video && track.width !== undefined && track.height !== undefined) {
      rep.push(`width="${track.width}"`, `height="${track.height}"`);
    }
    if (!video && track.sampleRate !== undefined) {
      rep.push(`audioSamplingRate="${track.sampleRate}"`);
    }
    out.push(`      <Representation ${rep.join(' ')}>`);
    // Static sessions start at 0; live ones keep producer time, which availabilityStartTime (epoch) makes wall time.
    out.push(`        <SegmentList timescale="1000" startNumber="${w.entries[0]?.seq ?? 0}" presentationTimeOffset="${live ? 0 : Math.round(startMs)}">`);
    if (last !== undefined) {
      out.push(`          <Initialization sourceURL="${xml(`getMP4InitFragment.mp4?${q}&TrackNumber=${track.number}&TrackInfoId=${last.trackInfoId}`)}"/>`);
    }
    out.push('          <SegmentTimeline>');
    for (const { fragment: f } of w.entries) {
      const extra = [
        claims.displayTimestamp ? ` kvs:ts="${((claims.kind === 'server' ? f.serverTimestampMs : f.producerTimestampMs) / 1000).toFixed(3)}"` : '',
        claims.displayNumber ? ` kvs:fn="${f.fragmentNumber}"` : '',
      ].join('');
      out.push(`            <S t="${Math.round(f.producerTimestampMs)}" d="${Math.max(1, Math.round(f.durationMs))}"${extra}/>`);
    }
    out.push('          </SegmentTimeline>');
    for (const { fragment: f } of w.entries) {
      out.push(`          <SegmentURL media="${xml(`getMP4MediaFragment.mp4?FragmentNumber=${f.fragmentNumber}&${q}&TrackNumber=${track.number}`)}"/>`);
    }
    out.push('        </SegmentList>', '      </Representation>', '    </AdaptationSet>');
  }
  out.push('  </Period>', '</MPD>');
  return out.join('\n') + '\n';
}
