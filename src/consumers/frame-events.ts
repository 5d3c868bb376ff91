import { invalidArgument } from '../errors/codes.js';
import type { Db } from '../store/database.js';
import type { Frame, HookEvent } from './frame.js';

export type StoredEvent = {
  id: number;
  hookName: string;
  label: string;
  confidence: number | null;
  box: HookEvent['box'] | null;
  data: unknown;
  fragmentNumber: string;
  producerTimestampMs: number;
  serverTimestampMs: number;
};

export type EventQuery = {
  kind: 'producer' | 'server';
  fromMs: number;
  toMs: number;
  label?: string;
  limit: number;
  nextToken?: string;
};

type Row = {
  id: number;
  hook_name: string;
  label: string;
  confidence: number | null;
  box_json: string | null;
  data_json: string | null;
  fragment_number: string;
  producer_ts_ms: number;
  server_ts_ms: number;
};

/** Hook results on a stream's timeline: stored at their frame's timestamps, read by time range, expired with retention. */
export class FrameEvents {
  readonly #db: Db;
  readonly #insert;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT INTO frame_events (stream_id, hook_name, label, confidence, box_json, data_json, fragment_number, producer_ts_ms, server_ts_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  add(streamId: number, hookName: string, frame: Frame, events: readonly HookEvent[]): void {
    if (events.length === 0) {
      return;
    }
    this.#db.transaction(() => {
      for (const e of events) {
        this.#insert.run(
          streamId,
          hookName,
          e.label,
          e.confidence ?? null,
          e.box === undefined ? null : JSON.stringify(e.box),
          e.data === undefined ? null : JSON.stringify(e.data),
          frame.fragmentNumber,
          frame.producerTimestamp,
          frame.serverTimestamp,
        );
      }
    })();
  }

  /** Oldest first, keyset-paged on (timestamp, id) so pages stay cheap however many events a stream holds. */
  list(streamId: number, q: EventQuery): { events: StoredEvent[]; nextToken?: string } {
    const col = q.kind === 'producer' ? 'producer_ts_ms' : 'server_ts_ms';
    const after = q.nextToken === undefined ? undefined : decodeToken(q.nextToken);
    const where = [`stream_id = @streamId`, `${col} >= @fromMs`, `${col} < @toMs`];
    if (after !== undefined) {
      where.push(`(${col} > @afterTs OR (${col} = @afterTs AND id > @afterId))`);
    }
    if (q.label !== undefined) {
      where.push('label = @label');
    }
    const rows = this.#db
      .prepare(`SELECT * FROM frame_events WHERE ${where.join(' AND ')} ORDER BY ${col}, id LIMIT @limit`)
      .all({ streamId, fromMs: q.fromMs, toMs: q.toMs, label: q.label, limit: q.limit + 1, afterTs: after?.ts, afterId: after?.id }) as Row[];
    const page = rows.slice(0, q.limit).map(toEvent);
    const last = page.at(-1);
    return rows.length > q.limit && last !== undefined
      ? { events: page, nextToken: encodeToken(q.kind === 'producer' ? last.producerTimestampMs : last.serverTimestampMs, last.id) }
      : { events: page };
  }

  expire(streamId: number, cutoffServerMs: number): number {
    return this.#db.prepare('DELETE FROM frame_events WHERE stream_id = ? AND server_ts_ms < ?').run(streamId, cutoffServerMs).changes;
  }

  drop(streamId: number): void {
    this.#db.prepare('DELETE FROM frame_events WHERE stream_id = ?').run(streamId);
  }
}

function toEvent(r: Row): StoredEvent {
  return {
    id: r.id,
    hookName: r.hook_name,
    label: r.label,
    confidence: r.confidence,
    box: r.box_json === null ? null : (JSON.parse(r.box_json) as HookEvent['box']),
    data: r.data_json === null ? null : (JSON.parse(r.data_json) as unknown),
    fragmentNumber: r.fragment_number,
    producerTimestampMs: r.producer_ts_ms,
    serverTimestampMs: r.server_ts_ms,
  };
}

function encodeToken(ts: number, id: number): string {
  return Buffer.from(JSON.stringify([ts, id])).toString('base64url');
}

function decodeToken(token: string): { ts: number; id: number } {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && Number.isSafeInteger(v[1])) {
      return { ts: v[0] as number, id: v[1] as number };
    }
  } catch {
    // fall through
  }
  throw invalidArgument('NextToken is not one this API returned.');
}
