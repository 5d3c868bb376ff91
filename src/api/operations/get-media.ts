import type { FragmentReader } from '../../core/fragment-reader.js';
import type { ReadLimits } from '../../core/read-limits.js';
import type { StreamRecord } from '../../core/stream-record.js';
import type { StreamRegistry } from '../../core/stream-registry.js';
import { invalidArgument } from '../../errors/codes.js';
import { KmsKeyError } from '../../errors/kms-error.js';
import { errorChunk, kvsChunkParts, leadingFragmentTags, trailingFragmentTags } from '../../formats/mkv/kvs-fragment-tags.js';
import type { FragmentRecord } from '../../store/fragment-store.js';
import type { FragmentFeed } from '../../stream/fragment-feed.js';
import type { Clock } from '../../util/clock.js';
import { Pacer } from '../../util/pacer.js';
import type { Input } from '../input.js';
import { MediaResponse, type OperationTable } from '../operation.js';
import { STREAM_NAME_RULE } from './stream-ref.js';

export type GetMediaDeps = {
  registry: StreamRegistry;
  reader: FragmentReader;
  feed: FragmentFeed;
  limits: ReadLimits;
  clock: Clock;
  /** Told about every fragment sent (src/metrics: GetMedia.OutgoingBytes, MillisBehindNow). */
  meter?: GetMediaMeter;
};

export type GetMediaMeter = { sent(stream: StreamRecord, bytes: number, millisBehindNow: number): void };

/** GetMedia's ARN pattern hard-codes the `aws` partition (kvs-api.md §1.7). */
const MEDIA_ARN_RULE = { min: 1, max: 1024, pattern: /^arn:aws:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+\/[a-zA-Z0-9_.-]+\/[0-9]+$/ } as const;
const FRAGMENT_NUMBER_RULE = { min: 1, max: 128, pattern: /^[0-9]+$/ } as const;
const TOKEN_RULE = { min: 1, max: 128, pattern: /^[a-zA-Z0-9_.-]+$/ } as const;
const SELECTORS = ['FRAGMENT_NUMBER', 'SERVER_TIMESTAMP', 'PRODUCER_TIMESTAMP', 'NOW', 'EARLIEST', 'CONTINUATION_TOKEN'] as const;
/** Fragments fetched from the index per step while catching up: bounded memory whatever the backlog. */
const PAGE = 16;
/** How far a reader catching up reads ahead of what it sends (bounded: fragments can be up to 50 MB). */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;
/** Announced fragments a caught-up reader may hold before it falls back to reading the index. */
const LIVE_QUEUE_MAX = 64;
/** While caught up, re-check the index this often in case a notification was missed. */
const LIVE_POLL_MS = 1000;
/** Fragments whose encoded KVS Tags are kept for the next reader: live readers of one stream all want the same few. */
const LEADING_TAGS_KEPT = 64;
/** GetMedia error id for "requested fragment not found" (model documentation). */
const FRAGMENT_NOT_FOUND = 4000;

type Start = { after: string | undefined; latest?: boolean; timestamp?: { kind: 'server' | 'producer'; ms: number } };

/**
 * GetMedia: a long-lived stream of chunks in fragment-number order — first the backlog from the start selector,
 * read from the store a page at a time, then live fragments as they become readable. The feed only wakes the
 * reader; bytes are always read from the store, so a slow consumer costs disk reads, never producer memory.
 */
export function getMediaOperations(deps: GetMediaDeps): OperationTable {
  const leadingTags = new Map<string, Uint8Array>();
  const leadingFor = (f: FragmentRecord): Uint8Array => {
    const key = `${f.streamId}:${f.fragmentNumber}`;
    let tags = leadingTags.get(key);
    if (tags === undefined) {
      tags = leadingFragmentTags(f);
      leadingTags.set(key, tags);
      if (leadingTags.size > LEADING_TAGS_KEPT) {
        leadingTags.delete(leadingTags.keys().next().value!);
      }
    }
    return tags;
  };
  return {
    '/getMedia': (input) => {
      const name = input.str('StreamName', STREAM_NAME_RULE);
      const arn = input.str('StreamARN', MEDIA_ARN_RULE);
      const selector = input.obj('StartSelector', { required: true });
      const start = parseSelector(selector);
      const stream = deps.registry.resolve({ name, arn });
      const release = deps.limits.open(stream);
      return new MediaResponse('video/webm', (signal) => chunks(deps, leadingFor, stream, start, signal, release));
    },
  };
}

function parseSelector(sel: Input): Start {
  const type = sel.enumOf('StartSelectorType', SELECTORS, { required: true });
  const afterFragment = sel.str('AfterFragmentNumber', FRAGMENT_NUMBER_RULE);
  const token = sel.str('ContinuationToken', TOKEN_RULE);
  const ts = sel.timestamp('StartTimestamp');
  switch (type) {
    case 'FRAGMENT_NUMBER':
      if (afterFragment === undefined) {
        throw invalidArgument('StartSelector.AfterFragmentNumber is required for FRAGMENT_NUMBER.');
      }
      return { after: afterFragment };
    case 'CONTINUATION_TOKEN':
      if (token === undefined) {
        throw invalidArgument('StartSelector.ContinuationToken is required for CONTINUATION_TOKEN.');
      }
      if (!/^[0-9]+$/.test(token)) {
        throw invalidArgument('StartSelector.ContinuationToken is not a continuation token this server issued.');
      }
      // Tokens are the number of the last fragment delivered: resume right after it.
      return { after: token };
    case 'SERVER_TIMESTAMP':
    case 'PRODUCER_TIMESTAMP':
      if (ts === undefined) {
        throw invalidArgument(`StartSelector.StartTimestamp is required for ${type}.`);
      }
      return { after: undefined, timestamp: { kind: type === 'SERVER_TIMESTAMP' ? 'server' : 'producer', ms: ts } };
    case 'NOW':
      return { after: undefined, latest: true };
    case 'EARLIEST':
      return { after: undefined };
  }
}

async function* chunks(deps: GetMediaDeps, leadingFor: (f: FragmentRecord) => Uint8Array, stream: StreamRecord, start: Start, signal: AbortSignal, release: () => void): AsyncGenerator<Uint8Array[]> {
  let wake: (() => void) | null = null;
  // Fragments announced by the feed while this reader is caught up. The store commits a stream's fragments in
  // number order and the feed announces them in commit order, so a caught-up reader can take them from here
  // without asking the index; on overflow it falls back to the index.
  let announced: FragmentRecord[] = [];
  let overflowed = false;
  const unsubscribe = deps.feed.subscribe(stream.id, (f) => {
    if (announced.length >= LIVE_QUEUE_MAX) {
      overflowed = true;
      announced = [];
    } else if (!overflowed) {
      announced.push(f);
    }
    wake?.();
  });
  const onAbort = (): void => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    let cursor = firstCursor(deps, stream, start);
    let caughtUp = false;
    const pace = new Pacer();
    while (!signal.aborted) {
      const current = deps.registry.byId(stream.id);
      if (current === undefined) {
        return; // stream deleted: the response ends
      }
      let page: FragmentRecord[];
      if (caughtUp && !overflowed) {
        page = announced.filter((f) => cursor === undefined || f.fragmentNumber > cursor);
        announced = [];
      } else {
        overflowed = false;
        announced = [];
        page = deps.reader.list(current, { afterFragmentNumber: cursor, limit: PAGE });
        caughtUp = page.length < PAGE;
      }
      if (page.length === 0) {
        const polled = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), LIVE_POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        wake = null;
        if (polled) {
          caughtUp = false; // nothing announced for a while: check the index, in case an announcement was missed
        }
        continue;
      }
      for (let i = 0; i < page.length; i++) {
        const f = page[i];
        if (signal.aborted || f === undefined) {
          return;
        }
        if (i === 0) {
          // Read ahead (up to READ_AHEAD_BYTES): the page comes off disk in a few large reads while chunks go out.
          let ahead = 0;
          deps.reader.prefetch(
            current,
            page.filter((p) => (ahead += p.size) <= READ_AHEAD_BYTES || p === f),
          );
        }
        let parts: Uint8Array[];
        try {
          parts = await chunk(deps, leadingFor, current, f);
        } catch (err) {
          if (err instanceof KmsKeyError) {
            // The 200 is out: the key problem goes as an error chunk (AWS_KINESISVIDEO_ERROR_ID 4500–4506) and
            // the response ends, as every later fragment would fail the same way (docs/encryption.md).
            yield [errorChunk(f.fragmentNumber, err.problem, err.errorId)];
            return;
          }
          throw err;
        }
        const size = parts.reduce((n, p) => n + p.length, 0);
        await pace.before(size, current.capacity.readBytesPerSecond, signal);
        // counted as handed to the response: a reader that goes away never resumes this generator after its yield
        deps.meter?.sent(current, size, deps.clock.now() - f.serverTimestampMs);
        yield parts;
        cursor = f.fragmentNumber;
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    unsubscribe();
    release();
  }
}

/** The fragment number to continue after, for the start selector (undefined = from the oldest). */
function firstCursor(deps: GetMediaDeps, stream: StreamRecord, start: Start): string | undefined {
  if (start.after !== undefined) {
    return start.after;
  }
  if (start.latest === true) {
    // NOW: "start with the latest chunk on the stream", then everything after it.
    const [latest] = deps.reader.list(stream, { newestFirst: true, limit: 1 });
    return latest === undefined ? undefined : justBefore(latest.fragmentNumber);
  }
  if (start.timestamp !== undefined) {
    // The fragment containing the time: the newest one that started at or before it — unless it ended before the
    // time (a gap), then the first one after. Fragments that overlap in time (a backlog uploaded at once) resolve
    // to the latest start, which is the one a clock would be "in".
    const { kind, ms } = start.timestamp;
    const [at] = deps.reader.list(stream, { timestampKind: kind, toMs: ms, newestFirst: true, limit: 1 });
    if (at === undefined) {
      return undefined;
    }
    const atMs = kind === 'server' ? at.serverTimestampMs : at.producerTimestampMs;
    return atMs + Math.max(at.durationMs, 1) > ms ? justBefore(at.fragmentNumber) : at.fragmentNumber;
  }
  return undefined;
}

/** A cursor just below a fragment number (same width), so that fragment is the first one delivered. */
function justBefore(fragmentNumber: string): string | undefined {
  const n = BigInt(fragmentNumber);
  return n === 0n ? undefined : (n - 1n).toString().padStart(fragmentNumber.length, '0');
}

async function chunk(deps: GetMediaDeps, leadingFor: (f: FragmentRecord) => Uint8Array, stream: StreamRecord, f: FragmentRecord): Promise<Uint8Array[]> {
  const bytes = await deps.reader.bytes(stream, f);
  const info = deps.reader.trackInfo(f.trackInfoId);
  if (bytes === undefined || info === undefined) {
    // expired or deleted between listing and reading
    return [errorChunk(f.fragmentNumber, 'FRAGMENT_NOT_FOUND', FRAGMENT_NOT_FOUND)];
  }
  const parts = kvsChunkParts(info.header, bytes, f.tagsSize, f, leadingFor(f));
  parts.push(trailingFragmentTags(deps.clock.now() - f.serverTimestampMs, f.fragmentNumber));
  return parts;
}
