import type { Db } from '../store/database.js';

export type Checkpoint = { fragmentNumber: string; producerTimestampMs: number; serverTimestampMs: number };

/** Each stream consumer's last handled frame, in SQLite: where it starts again after a restart. */
export class CheckpointStore {
  readonly #get;
  readonly #put;
  readonly #drop;

  constructor(db: Db) {
    this.#get = db.prepare('SELECT fragment_number, producer_ts_ms, server_ts_ms FROM frame_checkpoints WHERE stream_id = ?');
    this.#put = db.prepare(
      `INSERT INTO frame_checkpoints (stream_id, fragment_number, producer_ts_ms, server_ts_ms, updated_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET fragment_number = excluded.fragment_number, producer_ts_ms = excluded.producer_ts_ms,
         server_ts_ms = excluded.server_ts_ms, updated_ms = excluded.updated_ms`,
    );
    this.#drop = db.prepare('DELETE FROM frame_checkpoints WHERE stream_id = ?');
  }

  get(streamId: number): Checkpoint | undefined {
    const row = this.#get.get(streamId) as { fragment_number: string; producer_ts_ms: number; server_ts_ms: number } | undefined;
    return row === undefined ? undefined : { fragmentNumber: row.fragment_number, producerTimestampMs: row.producer_ts_ms, serverTimestampMs: row.server_ts_ms };
  }

  save(streamId: number, c: Checkpoint, nowMs: number): void {
    this.#put.run(streamId, c.fragmentNumber, c.producerTimestampMs, c.serverTimestampMs, nowMs);
  }

  drop(streamId: number): void {
    this.#drop.run(streamId);
  }
}
