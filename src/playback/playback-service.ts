import type { FragmentReader } from '../core/fragment-reader.js';
import type { StreamRecord } from '../core/stream-record.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { KvsError, notFound } from '../errors/codes.js';
import type { TrackInfo } from '../media/track.js';
import { fragmentSamples, type TrackRun } from '../packaging/fragment-samples.js';
import type { FragmentRecord, StoredTrackInfo } from '../store/fragment-store.js';
import type { Clock } from '../util/clock.js';
import { playTrackList, playTracks } from './codecs.js';
import { dashManifest } from './dash-manifest.js';
import { masterPlaylist, mediaPlaylist } from './hls-playlists.js';
import { MediaCache } from '../util/media-cache.js';
import type { SessionClaims, SessionTokens } from './session-token.js';
import { SessionWindows, type SessionWindow } from './session-window.js';

/** The container writers, behind one seam (src/playback/packager.ts binds the real ones). */
export type Packager = {
  init(tracks: TrackInfo[]): Uint8Array;
  /** `emptyAtMs`: where an empty segment starts when the runs hold no sample. */
  media(runs: TrackRun[], sequence: number, emptyAtMs?: number): Uint8Array;
  ts(runs: TrackRun[]): Uint8Array;
  codec(track: TrackInfo): string;
};

export type PlaybackDeps = {
  registry: StreamRegistry;
  reader: FragmentReader;
  tokens: SessionTokens;
  clock: Clock;
  packager: Packager;
};

/** Packaged bytes kept for the next player: enough for a few hundred 1–2 s segments of several live streams. */
export const MEDIA_CACHE_BYTES = 64 * 1024 * 1024;

type Session = { token: string; claims: SessionClaims; stream: StreamRecord };

/**
 * Everything behind a streaming-session URL: playlists and manifests computed from the index on each request,
 * segments packaged from stored fragments on demand (and cached). Only the token authenticates these requests.
 */
export class PlaybackService {
  readonly #d: PlaybackDeps;
  readonly #windows: SessionWindows;
  readonly #cache = new MediaCache(MEDIA_CACHE_BYTES);

  constructor(deps: PlaybackDeps) {
    this.#d = deps;
    this.#windows = new SessionWindows(deps.reader);
  }

  master(token: string | undefined): string {
    const s = this.#session(token);
    const w = this.#window(s);
    const info = this.#d.reader.trackInfoOf(w.entries.at(-1)?.fragment ?? this.#newest(s));
    const tracks = playTracks(info);
    return masterPlaylist({ token: s.token, claims: s.claims, tracks, codecs: playTrackList(tracks).map((t) => this.#d.packager.codec(t)), bandwidth: bandwidth(w) });
  }

  media(token: string | undefined, trackNumber: number | undefined): string {
    const s = this.#session(token);
    const w = this.#window(s);
    const track = trackNumber ?? 1;
    return mediaPlaylist(s.token, s.claims, track, w);
  }

  dash(token: string | undefined): string {
    const s = this.#session(token);
    const w = this.#window(s);
    const info = this.#d.reader.trackInfoOf(w.entries.at(-1)?.fragment ?? this.#newest(s));
    const tracks = playTrackList(playTracks(info));
    return dashManifest({
      token: s.token,
      claims: s.claims,
      window: w,
      tracks: tracks.map((t) => ({ track: t, codec: this.#d.packager.codec(t) })),
      bandwidth: bandwidth(w),
      nowMs: this.#d.clock.now(),
    });
  }

  async init(token: string | undefined, trackNumber: number | undefined, trackInfoId: number | undefined): Promise<Uint8Array> {
    const s = this.#session(token);
    const id = trackInfoId ?? this.#newest(s).trackInfoId;
    const info = this.#d.reader.trackInfo(id);
    if (info === undefined || info.streamId !== s.stream.id) {
      throw notFound('No such track info in this stream.');
    }
    const track = this.#playTrack(s, info, trackNumber);
    return this.#cache.get(`i:${id}:${track.number}`, () => Promise.resolve(this.#d.packager.init([track])));
  }

  async fragment(token: string | undefined, fragmentNumber: string | undefined, trackNumber: number | undefined): Promise<Uint8Array> {
    const s = this.#session(token);
    const f = this.#fragment(s, fragmentNumber);
    const info = this.#d.reader.trackInfoOf(f);
    const track = this.#playTrack(s, info, trackNumber);
    // Packaged segments are cached plaintext: a disabled key must stop them too (docs/encryption.md).
    this.#d.reader.assertReadable(s.stream);
    return this.#cache.get(`m:${f.streamId}:${f.fragmentNumber}:${track.number}`, async () => {
      const runs = (await this.#runs(s, f, info)).filter((r) => r.track.number === track.number);
      // mfhd sequence numbers only need to increase: the fragment's start second does, and fits 32 bits for decades.
      // A fragment without samples of this track is listed in its playlist too: an empty segment at its start.
      return this.#d.packager.media(runs.length > 0 ? runs : [{ track, samples: [] }], Math.floor(f.producerTimestampMs / 1000) >>> 0, f.producerTimestampMs);
    });
  }

  async tsFragment(token: string | undefined, fragmentNumber: string | undefined): Promise<Uint8Array> {
    const s = this.#session(token);
    const f = this.#fragment(s, fragmentNumber);
    const info = this.#d.reader.trackInfoOf(f);
    const numbers = new Set(playTrackList(playTracks(info)).map((t) => t.number));
    this.#d.reader.assertReadable(s.stream);
    return this.#cache.get(`t:${f.streamId}:${f.fragmentNumber}`, async () => this.#d.packager.ts((await this.#runs(s, f, info)).filter((r) => numbers.has(r.track.number))));
  }

  #session(token: string | undefined): Session {
    const claims = this.#d.tokens.verify(token, Date.now());
    const stream = this.#d.registry.byId(claims.streamId);
    if (stream === undefined || stream.arn !== claims.streamArn) {
      throw notFound('The stream of this streaming session no longer exists.');
    }
    return { token: token ?? '', claims, stream };
  }

  #window(s: Session): SessionWindow {
    return this.#windows.window(s.claims, s.stream, this.#d.clock.now());
  }

  #newest(s: Session): FragmentRecord {
    const [f] = this.#d.reader.list(s.stream, { newestFirst: true, limit: 1 });
    if (f === undefined) {
      throw notFound(`Stream ${s.stream.name} has no fragments to play.`);
    }
    return f;
  }

  #fragment(s: Session, fragmentNumber: string | undefined): FragmentRecord {
    if (fragmentNumber === undefined || !/^[0-9]{1,128}$/.test(fragmentNumber)) {
      throw new KvsError('InvalidArgumentException', 'FragmentNumber is missing or malformed.');
    }
    const f = this.#d.reader.get(s.stream, fragmentNumber);
    const { claims } = s;
    const at = f === undefined ? 0 : claims.kind === 'server' ? f.serverTimestampMs : f.producerTimestampMs;
    if (f === undefined || (claims.mode !== 'LIVE' && (at < (claims.startMs ?? 0) || at > (claims.endMs ?? Number.MAX_SAFE_INTEGER)))) {
      throw notFound(`Fragment ${fragmentNumber} is not part of this streaming session (or has expired).`);
    }
    return f;
  }

  #playTrack(s: Session, info: StoredTrackInfo, trackNumber: number | undefined): TrackInfo {
    const find = (i: StoredTrackInfo): TrackInfo | undefined => {
      const tracks = playTrackList(playTracks(i));
      return trackNumber === undefined ? tracks[0] : tracks.find((t) => t.number === trackNumber);
    };
    // A track the stream gained later (a WebRTC recording's audio, declared from its first frame on) is in the
    // playlists of the fragments before it too: there it is described as it is now, and its segments are empty.
    const track = find(info) ?? (trackNumber === undefined ? undefined : find(this.#d.reader.trackInfoOf(this.#newest(s))));
    if (track === undefined) {
      throw notFound(`Track ${trackNumber} is not playable in this stream.`);
    }
    return track;
  }

  async #runs(s: Session, f: FragmentRecord, info: StoredTrackInfo): Promise<TrackRun[]> {
    const bytes = await this.#d.reader.bytes(s.stream, f);
    if (bytes === undefined) {
      throw notFound(`Fragment ${f.fragmentNumber} has expired.`);
    }
    try {
      return fragmentSamples(info, bytes, f.tagsSize, f);
    } catch (err) {
      throw new KvsError('InvalidMediaFrameException', `Fragment ${f.fragmentNumber} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** Peak bits per second over the fragments in view (HLS BANDWIDTH, DASH bandwidth). */
function bandwidth(w: SessionWindow): number {
  let peak = 0;
  for (const { fragment: f } of w.entries) {
    if (f.durationMs > 0) {
      peak = Math.max(peak, (f.size * 8 * 1000) / f.durationMs);
    }
  }
  return peak > 0 ? peak : 1_000_000;
}
