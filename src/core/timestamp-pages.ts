import type { FragmentRecord } from '../store/fragment-store.js';
import type { FragmentReader } from './fragment-reader.js';
import type { StreamRecord } from './stream-record.js';

export type TimestampKind = 'server' | 'producer';
export type TimestampRange = { kind: TimestampKind; fromMs: number; toMs: number };
/** Where the previous page stopped: the last fragment returned, and its timestamp (of the range's kind). */
export type PageCursor = { fragmentNumber: string; atMs?: number };

// Order of results. KVS promises none for ListFragments ("in no specific order, even across pages"); openkvs
// returns them sorted by the selector's timestamp so that pages concatenate into a timeline (ListFragments pages,
// HLS/DASH playlists, clips):
// by (timestamp, fragment number). Fragment numbers are issued from the server clock, so for SERVER_TIMESTAMP this is
// also fragment-number order unless the server clock stepped back; producer time can go backwards between PutMedia
// sessions, so for PRODUCER_TIMESTAMP fragment numbers are not monotonic across the list. Both are the store's own
// index orders, so a page costs one bounded index read.

/** The next `limit` fragments of the range after the cursor, in the range's timestamp order. */
export function timestampPage(reader: FragmentReader, stream: StreamRecord, range: TimestampRange, cursor: PageCursor | undefined, limit: number): FragmentRecord[] {
  const { kind } = range;
  if (cursor === undefined) {
    return reader.list(stream, { timestampKind: kind, fromMs: range.fromMs, toMs: range.toMs, limit });
  }
  if (cursor.atMs === undefined) {
    return reader.list(stream, { timestampKind: kind, fromMs: range.fromMs, toMs: range.toMs, afterFragmentNumber: cursor.fragmentNumber, limit });
  }
  // The index can only start at a timestamp, so fragments sharing the cursor's timestamp that were already returned
  // form a prefix to skip; the read grows until it reaches past them (bounded by that prefix plus one page).
  const at = cursor.atMs;
  const tsOf = (f: FragmentRecord): number => (kind === 'producer' ? f.producerTimestampMs : f.serverTimestampMs);
  const after = (f: FragmentRecord): boolean => tsOf(f) > at || compareNumbers(f.fragmentNumber, cursor.fragmentNumber) > 0;
  for (let want = limit; ; ) {
    const rows = reader.list(stream, { timestampKind: kind, fromMs: Math.max(range.fromMs, at), toMs: range.toMs, limit: want });
    const kept = rows.filter(after);
    if (kept.length >= limit || rows.length < want) {
      return kept.slice(0, limit);
    }
    want = rows.length - kept.length + limit;
  }
}

export function cursorAt(kind: TimestampKind, f: FragmentRecord): PageCursor {
  return { fragmentNumber: f.fragmentNumber, atMs: kind === 'producer' ? f.producerTimestampMs : f.serverTimestampMs };
}

/** Decimal fragment numbers compared by value (widths may differ). */
export function compareNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
