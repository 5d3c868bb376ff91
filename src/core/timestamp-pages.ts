import type { FragmentRecord } from '../store/fragment-store.js';
import type { FragmentReader } from './fragment-reader.js';
import type { StreamRecord } from './stream-record.js';

export type TimestampKind = 'server' | 'producer';
export type TimestampRange = { kind: TimestampKind; fromMs: number; toMs: number };
/** Where the previous page stopped: the last fragment returned, and its producer timestamp when ordering by it. */
export type PageCursor = { fragmentNumber: string; producerMs?: number };

// Order of results. KVS promises none for ListFragments ("in no specific order, even across pages"); openkvs
// returns them sorted by the selector's timestamp so that pages concatenate into a timeline (ListFragments pages,
// HLS/DASH playlists, clips):
//  - SERVER_TIMESTAMP: fragment-number order. Fragment numbers are issued from the server clock and strictly
//    increase, so this is server-timestamp order (ingestion order if the clock ever stepped back).
//  - PRODUCER_TIMESTAMP: producer timestamp, ties by fragment number. Producer time can go backwards between
//    PutMedia sessions, so here fragment numbers are not monotonic across the list.
// Both are the store's own index orders, so a page costs one bounded index read.

/** The next `limit` fragments of the range after the cursor, in the range's timestamp order. */
export function timestampPage(reader: FragmentReader, stream: StreamRecord, range: TimestampRange, cursor: PageCursor | undefined, limit: number): FragmentRecord[] {
  return range.kind === 'server'
    ? reader.list(stream, { timestampKind: 'server', fromMs: range.fromMs, toMs: range.toMs, afterFragmentNumber: cursor?.fragmentNumber, limit })
    : producerPage(reader, stream, range, cursor, limit);
}

export function cursorAt(kind: TimestampKind, f: FragmentRecord): PageCursor {
  return kind === 'producer' ? { fragmentNumber: f.fragmentNumber, producerMs: f.producerTimestampMs } : { fragmentNumber: f.fragmentNumber };
}

/**
 * The next page in (producer timestamp, fragment number) order after the cursor. The index can only start at a
 * timestamp, so fragments sharing the cursor's timestamp that were already returned form a prefix to skip; the
 * read grows until it reaches past them (it stays bounded by that prefix plus one page).
 */
function producerPage(reader: FragmentReader, stream: StreamRecord, range: TimestampRange, cursor: PageCursor | undefined, limit: number): FragmentRecord[] {
  if (cursor?.producerMs === undefined) {
    return reader.list(stream, { timestampKind: 'producer', fromMs: range.fromMs, toMs: range.toMs, limit });
  }
  const at = cursor.producerMs;
  const after = (f: FragmentRecord): boolean => f.producerTimestampMs > at || compareNumbers(f.fragmentNumber, cursor.fragmentNumber) > 0;
  for (let want = limit; ; ) {
    const rows = reader.list(stream, { timestampKind: 'producer', fromMs: Math.max(range.fromMs, at), toMs: range.toMs, limit: want });
    const kept = rows.filter(after);
    if (kept.length >= limit || rows.length < want) {
      return kept.slice(0, limit);
    }
    want = rows.length - kept.length + limit;
  }
}

/** Decimal fragment numbers compared by value (widths may differ). */
export function compareNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
