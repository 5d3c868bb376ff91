import type { FragmentReader } from '../../core/fragment-reader.js';
import type { StreamRecord } from '../../core/stream-record.js';
import type { StreamRegistry } from '../../core/stream-registry.js';
import { timestampPage, cursorAt, type TimestampRange } from '../../core/timestamp-pages.js';
import { KvsError, invalidArgument, notFound } from '../../errors/codes.js';
import { fragmentSamples, shiftRuns } from '../../packaging/fragment-samples.js';
import { playTrackList, playTracks } from '../../playback/codecs.js';
import type { Packager } from '../../playback/playback-service.js';
import type { FragmentRecord } from '../../store/fragment-store.js';
import { MediaResponse, type OperationTable } from '../operation.js';
import { streamRef } from './stream-ref.js';

export type GetClipDeps = { registry: StreamRegistry; reader: FragmentReader; packager: Packager };

const SELECTOR_TYPES = ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const;
const DAY_MS = 24 * 3600 * 1000;
/** KVS: "The output will contain the first 100 MB or the first 200 fragments from the specified start timestamp." */
const MAX_CLIP_FRAGMENTS = 200;
const MAX_CLIP_BYTES = 100 * 1024 * 1024;

/**
 * GetClip: a fragmented MP4 (one init for every playable track, then one moof+mdat per fragment) of the fragments
 * that start inside the range. Fragments are read and packaged one at a time while the response streams.
 */
export function getClipOperations(deps: GetClipDeps): OperationTable {
  return {
    '/getClip': async (input) => {
      const ref = streamRef(input);
      const selector = input.obj('ClipFragmentSelector', { required: true });
      const type = selector?.enumOf('FragmentSelectorType', SELECTOR_TYPES, { required: true });
      const range = selector?.obj('TimestampRange', { required: true });
      const fromMs = range?.timestamp('StartTimestamp', { required: true });
      const toMs = range?.timestamp('EndTimestamp', { required: true });
      if (fromMs === undefined || toMs === undefined) {
        throw invalidArgument('ClipFragmentSelector.TimestampRange needs StartTimestamp and EndTimestamp.');
      }
      if (toMs <= fromMs || toMs - fromMs > DAY_MS) {
        throw invalidArgument('ClipFragmentSelector.TimestampRange.EndTimestamp must be later than StartTimestamp and within 24 hours of it.');
      }
      const stream = deps.registry.resolve(ref);
      if (stream.retentionHours === 0) {
        throw new KvsError('NoDataRetentionException', `Stream ${stream.name} keeps no data (DataRetentionInHours is 0).`);
      }
      const clipRange: TimestampRange = { kind: type === 'PRODUCER_TIMESTAMP' ? 'producer' : 'server', fromMs, toMs };
      const fragments = clipFragments(deps, stream, clipRange);
      const first = fragments[0];
      if (first === undefined) {
        throw notFound(`Stream ${stream.name} has no fragments that start in the requested range.`);
      }
      const info = deps.reader.trackInfoOf(first);
      const tracks = playTrackList(playTracks(info));
      const init = deps.packager.init(tracks);
      const numbers = new Set(tracks.map((t) => t.number));
      // Read before the 200: a key problem (docs/encryption.md) is then a KVS-shaped error, not a cut-off clip.
      await deps.reader.bytes(stream, first);
      return new MediaResponse('video/mp4', (signal) =>
        (async function* () {
          yield init;
          let baseMs: number | undefined;
          for (const [i, f] of fragments.entries()) {
            if (signal.aborted) {
              return;
            }
            const bytes = await deps.reader.bytes(stream, f);
            if (bytes === undefined) {
              return; // expired while the clip was being sent: the clip ends early
            }
            const runs = fragmentSamples(info, bytes, f.tagsSize, f).filter((r) => numbers.has(r.track.number));
            // A clip is a file of its own: its timeline starts at 0, not at the producer's epoch time. Decode time
            // 0 is the earliest first decode time (with B-frames, a frame before the first picture).
            baseMs ??= Math.min(...runs.map((r) => r.samples[0]?.dtsMs ?? Infinity));
            yield deps.packager.media(shiftRuns(runs, Number.isFinite(baseMs) ? -baseMs : 0), i + 1);
          }
        })(),
      );
    },
  };
}

/** The fragments of the clip: from the start of the range, one track info (codec change ends it), within the KVS caps. */
function clipFragments(deps: GetClipDeps, stream: StreamRecord, range: TimestampRange): FragmentRecord[] {
  const out: FragmentRecord[] = [];
  let bytes = 0;
  let cursor;
  for (;;) {
    const page = timestampPage(deps.reader, stream, range, cursor, MAX_CLIP_FRAGMENTS);
    for (const f of page) {
      if (out.length >= MAX_CLIP_FRAGMENTS || bytes + f.size > MAX_CLIP_BYTES || (out[0] !== undefined && f.trackInfoId !== out[0].trackInfoId)) {
        return out;
      }
      out.push(f);
      bytes += f.size;
    }
    const last = page.at(-1);
    if (page.length < MAX_CLIP_FRAGMENTS || last === undefined) {
      return out;
    }
    cursor = cursorAt(range.kind, last);
  }
}
