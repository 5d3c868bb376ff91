import type { FragmentReader } from '../core/fragment-reader.js';
import type { StreamRecord } from '../core/stream-record.js';
import { compareNumbers, cursorAt, timestampPage, type PageCursor, type TimestampRange } from '../core/timestamp-pages.js';
import type { FragmentRecord } from '../store/fragment-store.js';
import type { SessionClaims } from './session-token.js';

/** One playlist entry: a fragment with its media sequence number and whether a discontinuity precedes it. */
export type WindowEntry = { seq: number; discontinuity: boolean; fragment: FragmentRecord };

export type SessionWindow = {
  entries: WindowEntry[];
  /** EXT-X-DISCONTINUITY-SEQUENCE: discontinuities that slid out of the window before its first entry. */
  discontinuitySequence: number;
  /** No more fragments will be added (ON_DEMAND; LIVE_REPLAY past its end). */
  ended: boolean;
};

/** A gap or overlap larger than this between fragments is a discontinuity (KVS ON_DISCONTINUITY: 50 ms). */
const DISCONTINUITY_MS = 50;
/** Index page size while catching a live or replay session up. */
const PAGE = 1000;
/** Live sessions whose sequence state is kept; the oldest unused is forgotten first (it restarts at 0 if used again). */
const MAX_LIVE_SESSIONS = 10_000;

type LiveState = { nextSeq: number; cursor: PageCursor | undefined; last: FragmentRecord | undefined; entries: WindowEntry[]; discontinuitySequence: number };

/**
 * Which fragments a session's playlist shows, and their media sequence numbers. ON_DEMAND is a pure function of
 * the claims. LIVE and LIVE_REPLAY are sliding windows whose sequence numbers must stay fixed across playlist
 * reloads, so each session keeps a small state (its window and a cursor) and each reload reads only the index
 * entries added since — never the whole stream.
 */
export class SessionWindows {
  readonly #reader: FragmentReader;
  readonly #live = new Map<string, LiveState>();

  constructor(reader: FragmentReader) {
    this.#reader = reader;
  }

  window(claims: SessionClaims, stream: StreamRecord, nowMs: number): SessionWindow {
    return claims.mode === 'ON_DEMAND' ? this.#onDemand(claims, stream) : this.#sliding(claims, stream, nowMs);
  }

  #onDemand(claims: SessionClaims, stream: StreamRecord): SessionWindow {
    const range: TimestampRange = { kind: claims.kind, fromMs: claims.startMs ?? 0, toMs: claims.endMs ?? Number.MAX_SAFE_INTEGER };
    const list = dedupe(claims, timestampPage(this.#reader, stream, range, undefined, claims.maxResults));
    const entries: WindowEntry[] = [];
    let prev: FragmentRecord | undefined;
    for (const f of list) {
      entries.push({ seq: entries.length, discontinuity: isDiscontinuity(claims, prev, f), fragment: f });
      prev = f;
    }
    return { entries, discontinuitySequence: 0, ended: true };
  }

  #sliding(claims: SessionClaims, stream: StreamRecord, nowMs: number): SessionWindow {
    let state = this.#live.get(claims.id);
    if (state === undefined) {
      state = { nextSeq: 0, cursor: undefined, last: undefined, entries: [], discontinuitySequence: 0 };
    } else {
      this.#live.delete(claims.id); // re-inserted below: Map order = least recently used first
    }
    this.#live.set(claims.id, state);
    if (this.#live.size > MAX_LIVE_SESSIONS) {
      this.#live.delete(this.#live.keys().next().value!);
    }

    let fresh: FragmentRecord[];
    let ended = false;
    if (claims.mode === 'LIVE') {
      fresh = state.cursor === undefined ? this.#newest(stream, claims.maxResults) : this.#after(stream, state, claims.maxResults);
    } else {
      // LIVE_REPLAY plays the past at real-time pace: a fragment appears once the session clock reaches it.
      const clockMs = (claims.startMs ?? 0) + (nowMs - claims.issuedMs);
      const toMs = Math.min(clockMs, claims.endMs ?? Number.MAX_SAFE_INTEGER);
      const range: TimestampRange = { kind: claims.kind, fromMs: claims.startMs ?? 0, toMs };
      fresh = dedupe(claims, timestampPage(this.#reader, stream, range, state.cursor, PAGE));
      if (fresh.length === PAGE) {
        fresh = fresh.slice(-claims.maxResults); // far behind (a long pause): skip to the newest part
      }
      ended = claims.endMs !== undefined && clockMs >= claims.endMs && fresh.length < PAGE;
    }
    for (const f of fresh) {
      state.entries.push({ seq: state.nextSeq++, discontinuity: isDiscontinuity(claims, state.last, f), fragment: f });
      state.last = f;
      state.cursor = cursorAt(claims.kind, f);
    }
    while (state.entries.length > claims.maxResults) {
      const gone = state.entries.shift();
      if (gone?.discontinuity === true) {
        state.discontinuitySequence++;
      }
    }
    return { entries: [...state.entries], discontinuitySequence: state.discontinuitySequence, ended };
  }

  /** LIVE's first playlist: the newest fragments. */
  #newest(stream: StreamRecord, n: number): FragmentRecord[] {
    return this.#reader.list(stream, { newestFirst: true, limit: n }).reverse();
  }

  /** LIVE reloads: what was committed since the last one (in fragment-number order, which is commit order). */
  #after(stream: StreamRecord, state: LiveState, n: number): FragmentRecord[] {
    const page = this.#reader.list(stream, { afterFragmentNumber: state.cursor?.fragmentNumber, limit: PAGE });
    return page.length === PAGE ? this.#newest(stream, n).filter((f) => compareNumbers(f.fragmentNumber, state.cursor?.fragmentNumber ?? '0') > 0) : page;
  }
}

/** PRODUCER_TIMESTAMP sessions show one fragment per producer start time: the one with the largest number (KVS). */
function dedupe(claims: SessionClaims, list: FragmentRecord[]): FragmentRecord[] {
  if (claims.kind !== 'producer') {
    return list;
  }
  const out: FragmentRecord[] = [];
  for (const f of list) {
    const prev = out.at(-1);
    if (prev !== undefined && prev.producerTimestampMs === f.producerTimestampMs) {
      if (compareNumbers(f.fragmentNumber, prev.fragmentNumber) > 0) {
        out[out.length - 1] = f;
      }
      continue;
    }
    out.push(f);
  }
  return out;
}

function isDiscontinuity(claims: SessionClaims, prev: FragmentRecord | undefined, f: FragmentRecord): boolean {
  switch (claims.discontinuity) {
    case 'ALWAYS':
      return true;
    case 'NEVER':
      return false;
    case 'ON_DISCONTINUITY':
      // Judged on the producer clock: that is the media timeline the segments carry.
      return prev !== undefined && Math.abs(f.producerTimestampMs - (prev.producerTimestampMs + prev.durationMs)) > DISCONTINUITY_MS;
  }
}
