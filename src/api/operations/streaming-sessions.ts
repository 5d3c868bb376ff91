import type { FragmentReader } from '../../core/fragment-reader.js';
import type { StreamRecord } from '../../core/stream-record.js';
import type { StreamRegistry } from '../../core/stream-registry.js';
import { KvsError, invalidArgument, notFound } from '../../errors/codes.js';
import type { TrackInfo } from '../../media/track.js';
import { playTrackList, playTracks } from '../../playback/codecs.js';
import type { Packager } from '../../playback/playback-service.js';
import type { SessionClaims, SessionTokens } from '../../playback/session-token.js';
import type { FragmentRecord } from '../../store/fragment-store.js';
import type { Clock } from '../../util/clock.js';
import type { Input } from '../input.js';
import type { OperationTable } from '../operation.js';
import { streamRef } from './stream-ref.js';

export type StreamingSessionDeps = {
  registry: StreamRegistry;
  reader: FragmentReader;
  tokens: SessionTokens;
  clock: Clock;
  packager: Packager;
};

const MODES = ['LIVE', 'LIVE_REPLAY', 'ON_DEMAND'] as const;
const SELECTOR_TYPES = ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const;
const CONTAINERS = ['FRAGMENTED_MP4', 'MPEG_TS'] as const;
const DISCONTINUITY = ['ALWAYS', 'NEVER', 'ON_DISCONTINUITY'] as const;
const ALWAYS_NEVER = ['ALWAYS', 'NEVER'] as const;
const DAY_MS = 24 * 3600 * 1000;
/** LIVE needs a fragment this recent (KVS: "no fragments within the last 30 seconds" → ResourceNotFoundException). */
const LIVE_RECENT_MS = 30_000;
const EXPIRES = { min: 300, max: 43_200, default: 300 } as const;

/** GetHLSStreamingSessionURL and GetDASHStreamingSessionURL: validate, check there is something playable, sign a session. */
export function streamingSessionOperations(deps: StreamingSessionDeps): OperationTable {
  return {
    '/getHLSStreamingSessionURL': (input, ctx) => {
      const claims = sessionClaims(deps, input, 'hls');
      return { HLSStreamingSessionURL: `${ctx.baseUrl}/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=${encodeURIComponent(deps.tokens.issue(claims))}` };
    },
    '/getDASHStreamingSessionURL': (input, ctx) => {
      const claims = sessionClaims(deps, input, 'dash');
      return { DASHStreamingSessionURL: `${ctx.baseUrl}/dash/v1/getDASHManifest.mpd?SessionToken=${encodeURIComponent(deps.tokens.issue(claims))}` };
    },
  };
}

function sessionClaims(deps: StreamingSessionDeps, input: Input, protocol: 'hls' | 'dash'): Omit<SessionClaims, 'id'> {
  const hls = protocol === 'hls';
  const ref = streamRef(input);
  const mode = input.enumOf('PlaybackMode', MODES) ?? 'LIVE';
  const selector = input.obj(hls ? 'HLSFragmentSelector' : 'DASHFragmentSelector');
  const selectorName = hls ? 'HLSFragmentSelector' : 'DASHFragmentSelector';
  const type = selector?.enumOf('FragmentSelectorType', SELECTOR_TYPES) ?? 'SERVER_TIMESTAMP';
  const range = selector?.obj('TimestampRange');
  const startMs = range?.timestamp('StartTimestamp');
  const endMs = range?.timestamp('EndTimestamp');
  const container = hls ? (input.enumOf('ContainerFormat', CONTAINERS) ?? 'FRAGMENTED_MP4') : 'FRAGMENTED_MP4';
  const discontinuity = (hls ? input.enumOf('DiscontinuityMode', DISCONTINUITY) : undefined) ?? (type === 'SERVER_TIMESTAMP' ? 'ALWAYS' : 'NEVER');
  const displayTimestamp = input.enumOf('DisplayFragmentTimestamp', ALWAYS_NEVER) === 'ALWAYS';
  const displayNumber = !hls && input.enumOf('DisplayFragmentNumber', ALWAYS_NEVER) === 'ALWAYS';
  const expires = input.int('Expires', { min: EXPIRES.min, max: EXPIRES.max }) ?? EXPIRES.default;
  const maxResults = input.int(hls ? 'MaxMediaPlaylistFragmentResults' : 'MaxManifestFragmentResults', { min: 1, max: 5000 }) ?? (mode === 'ON_DEMAND' ? 1000 : 5);

  if (mode === 'LIVE' && range !== undefined) {
    throw invalidArgument(`${selectorName}.TimestampRange must not be set when PlaybackMode is LIVE.`);
  }
  if (mode !== 'LIVE') {
    if (range === undefined || startMs === undefined) {
      throw invalidArgument(`${selectorName} with a TimestampRange.StartTimestamp is required when PlaybackMode is ${mode}.`);
    }
    if (mode === 'ON_DEMAND' && endMs === undefined) {
      throw invalidArgument(`${selectorName}.TimestampRange.EndTimestamp is required when PlaybackMode is ON_DEMAND.`);
    }
    if (endMs !== undefined && (endMs <= startMs || endMs - startMs > DAY_MS)) {
      throw invalidArgument(`${selectorName}.TimestampRange.EndTimestamp must be later than StartTimestamp and within 24 hours of it.`);
    }
  }

  const stream = deps.registry.resolve(ref);
  if (stream.retentionHours === 0) {
    throw new KvsError('NoDataRetentionException', `Stream ${stream.name} keeps no data (DataRetentionInHours is 0), so it cannot be played over ${hls ? 'HLS' : 'DASH'}.`);
  }
  const kind = type === 'SERVER_TIMESTAMP' ? 'server' : 'producer';
  const now = deps.clock.now();
  const probe = firstPlayable(deps, stream, mode, kind, startMs, endMs, now);
  checkPlayable(deps, probe);
  return {
    protocol,
    streamId: stream.id,
    streamArn: stream.arn,
    mode,
    kind,
    ...(startMs !== undefined ? { startMs } : {}),
    ...(endMs !== undefined ? { endMs } : {}),
    container,
    discontinuity,
    displayTimestamp,
    displayNumber,
    maxResults,
    issuedMs: now,
    // Expiry is judged on the real clock, like request signatures.
    expiresMs: Date.now() + expires * 1000,
  };
}

/** The fragment whose tracks decide whether the session can play; ResourceNotFoundException when there is none. */
function firstPlayable(
  deps: StreamingSessionDeps,
  stream: StreamRecord,
  mode: (typeof MODES)[number],
  kind: 'server' | 'producer',
  startMs: number | undefined,
  endMs: number | undefined,
  now: number,
): FragmentRecord {
  if (mode === 'LIVE') {
    const [newest] = deps.reader.list(stream, { newestFirst: true, limit: 1 });
    if (newest === undefined || newest.serverTimestampMs < now - LIVE_RECENT_MS) {
      throw notFound(`Stream ${stream.name} has no fragments from the last ${LIVE_RECENT_MS / 1000} seconds to play live.`);
    }
    return newest;
  }
  const [first] = deps.reader.list(stream, { timestampKind: kind, fromMs: startMs, toMs: endMs, limit: 1 });
  if (first === undefined) {
    throw notFound(`Stream ${stream.name} has no fragments in the requested timestamp range.`);
  }
  return first;
}

function checkPlayable(deps: StreamingSessionDeps, f: FragmentRecord): void {
  const tracks: TrackInfo[] = playTrackList(playTracks(deps.reader.trackInfoOf(f)));
  // Building the init segment parses the codec private data: the cheapest complete check that it is usable.
  deps.packager.init(tracks);
}
