import type { FragmentReader } from '../../core/fragment-reader.js';
import type { StreamRegistry } from '../../core/stream-registry.js';
import { invalidArgument, notFound } from '../../errors/codes.js';
import { KmsKeyError } from '../../errors/kms-error.js';
import { errorChunk, kvsChunkParts } from '../../formats/mkv/kvs-fragment-tags.js';
import type { Input } from '../input.js';
import { MediaResponse, epochSeconds, type OperationTable } from '../operation.js';
import { streamRef } from './stream-ref.js';
import { cursorAt, timestampPage, type PageCursor, type TimestampKind, type TimestampRange } from '../../core/timestamp-pages.js';

export type ArchivedMediaDeps = {
  registry: StreamRegistry;
  reader: FragmentReader;
};

const FRAGMENT_NUMBER_RULE = { min: 1, max: 128, pattern: /^[0-9]+$/ } as const;
const NEXT_TOKEN_RULE = { min: 1, max: 4096, pattern: /^[a-zA-Z0-9+/]+={0,2}$/ } as const;
const SELECTOR_TYPES = ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const;
/** The model gives no default page size; without MaxResults a caller gets the largest page it could ask for. */
const MAX_RESULTS = 1000;
/** GetMedia's error id for "requested fragment not found" (model documentation), reused for a fragment lost mid-response. */
const FRAGMENT_NOT_FOUND = 4000;

type Kind = TimestampKind;
type Range = TimestampRange;
type Cursor = PageCursor;
/** What a NextToken carries: the query it belongs to, so a token cannot be replayed against another stream or range. */
type Token = { arn: string; range: Range; cursor: Cursor };

/**
 * ListFragments and GetMediaForFragmentList: the archive read through FragmentReader, so retention (or the rolling
 * buffer of a retention-0 stream) applies exactly as it does for GetMedia.
 */
export function archivedMediaOperations(deps: ArchivedMediaDeps): OperationTable {
  return {
    '/listFragments': (input) => {
      const ref = streamRef(input);
      const max = input.int('MaxResults', { min: 1, max: MAX_RESULTS }) ?? MAX_RESULTS;
      const tokenText = input.str('NextToken', NEXT_TOKEN_RULE);
      const selected = selectorRange(input);
      const stream = deps.registry.resolve(ref);
      let range: Range;
      let cursor: Cursor | undefined;
      if (tokenText !== undefined) {
        const token = decodeToken(tokenText);
        if (token.arn !== stream.arn || (selected !== undefined && !sameRange(selected, token.range))) {
          throw invalidArgument('NextToken does not belong to this stream and FragmentSelector.');
        }
        range = token.range;
        cursor = token.cursor;
      } else if (selected !== undefined) {
        range = selected;
      } else {
        throw invalidArgument('FragmentSelector is required when NextToken is not given.');
      }

      const page = timestampPage(deps.reader, stream, range, cursor, max + 1);
      const shown = page.slice(0, max);
      const last = shown.at(-1);
      const more = page.length > max && last !== undefined;
      return {
        Fragments: shown.map((f) => ({
          FragmentNumber: f.fragmentNumber,
          FragmentSizeInBytes: f.size,
          ProducerTimestamp: epochSeconds(Math.round(f.producerTimestampMs)),
          ServerTimestamp: epochSeconds(Math.round(f.serverTimestampMs)),
          FragmentLengthInMilliseconds: Math.round(f.durationMs),
        })),
        NextToken: more ? encodeToken({ arn: stream.arn, range, cursor: cursorAt(range.kind, last) }) : undefined,
      };
    },

    '/getMediaForFragmentList': (input) => {
      const ref = streamRef(input);
      const numbers = input.strList('Fragments', { required: true, minItems: 1, maxItems: 1000, item: FRAGMENT_NUMBER_RULE }) ?? [];
      const stream = deps.registry.resolve(ref);
      // Every fragment must exist before the 200 goes out: afterwards the only way to report a problem is in-band.
      for (const n of numbers) {
        if (deps.reader.get(stream, n) === undefined) {
          throw notFound(`Fragment ${n} is not found in stream ${stream.name} (unknown or past the retention period).`);
        }
      }
      return new MediaResponse('video/webm', (signal) => fragmentChunks(deps, stream.id, numbers, signal));
    },
  };
}

function selectorRange(input: Input): Range | undefined {
  const selector = input.obj('FragmentSelector');
  if (selector === undefined) {
    return undefined;
  }
  const type = selector.enumOf('FragmentSelectorType', SELECTOR_TYPES, { required: true });
  const range = selector.obj('TimestampRange', { required: true });
  const fromMs = range.timestamp('StartTimestamp', { required: true });
  const toMs = range.timestamp('EndTimestamp', { required: true });
  if (fromMs === undefined || toMs === undefined) {
    throw invalidArgument('FragmentSelector.TimestampRange needs StartTimestamp and EndTimestamp.');
  }
  if (fromMs > toMs) {
    throw invalidArgument('FragmentSelector.TimestampRange.StartTimestamp must not be after EndTimestamp.');
  }
  return { kind: type === 'SERVER_TIMESTAMP' ? 'server' : 'producer', fromMs, toMs };
}

const sameRange = (a: Range, b: Range): boolean => a.kind === b.kind && a.fromMs === b.fromMs && a.toMs === b.toMs;

// NextToken = base64 of a small JSON document. It is not signed: a forged token can only select fragments of the
// stream it names, which the caller may list anyway.

function encodeToken(t: Token): string {
  const doc = { a: t.arn, k: t.range.kind === 'server' ? 'S' : 'P', f: t.range.fromMs, t: t.range.toMs, n: t.cursor.fragmentNumber, p: t.cursor.atMs };
  return Buffer.from(JSON.stringify(doc), 'utf8').toString('base64');
}

function decodeToken(text: string): Token {
  const bad = (): Error => invalidArgument('NextToken is not a token this server issued.');
  const bytes = Buffer.from(text, 'base64');
  // Node's base64 decoder skips junk silently; only a canonical encoding is one of ours.
  if (bytes.toString('base64') !== text) {
    throw bad();
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof doc !== 'object' || doc === null) {
    throw bad();
  }
  const { a, k, f, t, n, p } = doc as Record<string, unknown>;
  const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (typeof a !== 'string' || (k !== 'S' && k !== 'P') || !isMs(f) || !isMs(t) || typeof n !== 'string' || !FRAGMENT_NUMBER_RULE.pattern.test(n)) {
    throw bad();
  }
  if (p !== undefined && !isMs(p)) {
    throw bad();
  }
  const kind: Kind = k === 'S' ? 'server' : 'producer';
  return { arn: a, range: { kind, fromMs: f, toMs: t }, cursor: isMs(p) ? { fragmentNumber: n, atMs: p } : { fragmentNumber: n } };
}

/**
 * One self-contained MKV chunk per requested fragment, in request order, read one fragment at a time. Unlike GetMedia
 * there are no trailing MILLIS_BEHIND_NOW / CONTINUATION_TOKEN tags: those describe a live position, and the KVS
 * parser library's examples fail on real GetMediaForFragmentList output for lack of them (parser-library issue #42).
 * A fragment that expired or was deleted after the request was checked becomes an error chunk; the rest still follow.
 */
async function* fragmentChunks(deps: ArchivedMediaDeps, streamId: number, numbers: readonly string[], signal: AbortSignal): AsyncGenerator<Uint8Array> {
  for (const n of numbers) {
    if (signal.aborted) {
      return;
    }
    // Re-read the stream each time: a retention decrease or a deletion during a long response takes effect at once.
    const stream = deps.registry.byId(streamId);
    const f = stream === undefined ? undefined : deps.reader.get(stream, n);
    let bytes: Uint8Array | undefined;
    try {
      bytes = stream === undefined || f === undefined ? undefined : await deps.reader.bytes(stream, f);
    } catch (err) {
      if (err instanceof KmsKeyError) {
        // as GetMedia: the key problem as an error chunk, then the end (every other fragment shares the key)
        yield errorChunk(n, err.problem, err.errorId);
        return;
      }
      throw err;
    }
    const info = f === undefined ? undefined : deps.reader.trackInfo(f.trackInfoId);
    if (f === undefined || bytes === undefined || info === undefined) {
      yield errorChunk(n, 'FRAGMENT_NOT_FOUND', FRAGMENT_NOT_FOUND);
      continue;
    }
    // Parts go out separately: a fragment can be tens of MB and concatenating would copy it once more.
    for (const part of kvsChunkParts(info.header, bytes, f.tagsSize, f)) {
      if (part.length > 0) {
        yield part;
      }
    }
  }
}
