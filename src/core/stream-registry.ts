import type { StreamCapacity } from '../conf/config.js';
import { KvsError, invalidArgument, notFound } from '../errors/codes.js';
import type { Db } from '../store/database.js';
import type { Clock } from '../util/clock.js';
import { randomAlnum } from '../util/ids.js';
import { rowToRecord, type StorageTier, type StreamRecord, type StreamRef, type StreamRow } from './stream-record.js';

export const MAX_TAGS_PER_RESOURCE = 50;
/** UpdateDataRetention: "the maximum value is 87600 (ten years)". */
export const MAX_RETENTION_HOURS = 87_600;

export type CreateStreamInput = {
  name: string;
  deviceName?: string | undefined;
  mediaType?: string | undefined;
  kmsKeyId?: string | undefined;
  retentionHours: number;
  tags: Record<string, string>;
  storageTier: StorageTier;
  capacity: StreamCapacity;
};

export type StreamRegistryOptions = { region: string; accountId: string; clock: Clock };

type StreamListener = (stream: StreamRecord) => void;

/** Owns stream metadata and tags: every rule of the KVS control plane that is not request-shape validation. */
export class StreamRegistry {
  readonly #db: Db;
  readonly #opts: StreamRegistryOptions;
  readonly #onDeleted: StreamListener[] = [];
  readonly #onChanged: StreamListener[] = [];

  readonly #byIdStmt: ReturnType<Db['prepare']>;
  readonly #cache = new Map<number, StreamRecord>();

  constructor(db: Db, opts: StreamRegistryOptions) {
    this.#db = db;
    this.#opts = opts;
    this.#byIdStmt = db.prepare('SELECT * FROM streams WHERE id = ?');
  }

  /** Called after a stream is deleted (ingest sessions and readers close, fragments are dropped). */
  onDeleted(listener: StreamListener): void {
    this.#onDeleted.push(listener);
  }

  /** Called after a stream's metadata changed (retention, capacity, …). */
  onChanged(listener: StreamListener): void {
    this.#onChanged.push(listener);
  }

  create(input: CreateStreamInput): StreamRecord {
    if (Object.keys(input.tags).length > MAX_TAGS_PER_RESOURCE) {
      throw new KvsError('TagsPerResourceExceededLimitException', `A stream can have at most ${MAX_TAGS_PER_RESOURCE} tags.`);
    }
    if (input.retentionHours > MAX_RETENTION_HOURS) {
      throw invalidArgument(`DataRetentionInHours must be at most ${MAX_RETENTION_HOURS}.`);
    }
    const now = this.#opts.clock.now();
    const arn = `arn:aws:kinesisvideo:${this.#opts.region}:${this.#opts.accountId}:stream/${input.name}/${now}`;
    return this.#db.transaction(() => {
      const existing = this.#db.prepare('SELECT 1 FROM streams WHERE name = ?').get(input.name);
      if (existing !== undefined) {
        throw new KvsError('ResourceInUseException', `The stream ${input.name} already exists.`);
      }
      this.#db
        .prepare(
          `INSERT INTO streams (name, arn, device_name, media_type, kms_key_id, version, status, creation_time_ms,
             retention_hours, storage_tier, capacity_json)
           VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?)`,
        )
        .run(
          input.name,
          arn,
          input.deviceName ?? null,
          input.mediaType ?? null,
          input.kmsKeyId ?? null,
          newVersion(),
          now,
          input.retentionHours,
          input.storageTier,
          JSON.stringify(input.capacity),
        );
      this.#putTags(arn, input.tags);
      return this.#byArn(arn);
    })();
  }

  /** Resolve StreamName/StreamARN to a stream, or throw the KVS error a client expects. */
  resolve(ref: StreamRef): StreamRecord {
    if (ref.name === undefined && ref.arn === undefined) {
      throw invalidArgument('You must specify either the StreamName or the StreamARN.');
    }
    const byName = ref.name !== undefined ? this.#findByName(ref.name) : undefined;
    const byArn = ref.arn !== undefined ? this.#findByArn(ref.arn) : undefined;
    if (ref.name !== undefined && ref.arn !== undefined && byName?.arn !== byArn?.arn) {
      throw invalidArgument('StreamName and StreamARN do not identify the same stream.');
    }
    const found = byName ?? byArn;
    if (found === undefined) {
      throw notFound(`The requested stream ${ref.name ?? ref.arn} is not found or not active.`);
    }
    return found;
  }

  /** Lookup for hot paths (PutMedia); undefined instead of an error. */
  find(ref: StreamRef): StreamRecord | undefined {
    if (ref.arn !== undefined) {
      return this.#findByArn(ref.arn);
    }
    return ref.name !== undefined ? this.#findByName(ref.name) : undefined;
  }

  /** Cached: ingest asks for its stream on every fragment; changes and deletion evict the entry. */
  byId(id: number): StreamRecord | undefined {
    const cached = this.#cache.get(id);
    if (cached !== undefined) {
      return cached;
    }
    const row = this.#byIdStmt.get(id) as StreamRow | undefined;
    if (row === undefined) {
      return undefined;
    }
    const rec = rowToRecord(row);
    this.#cache.set(id, rec);
    return rec;
  }

  list(opts: { maxResults: number; afterName?: string | undefined; prefix?: string | undefined }): { streams: StreamRecord[]; more: boolean } {
    const rows = this.#db
      .prepare(
        `SELECT * FROM streams WHERE name > ? AND (? IS NULL OR substr(name, 1, length(?)) = ?)
         ORDER BY name LIMIT ?`,
      )
      .all(opts.afterName ?? '', opts.prefix ?? null, opts.prefix ?? null, opts.prefix ?? null, opts.maxResults + 1) as StreamRow[];
    const more = rows.length > opts.maxResults;
    return { streams: rows.slice(0, opts.maxResults).map(rowToRecord), more };
  }

  all(): StreamRecord[] {
    return (this.#db.prepare('SELECT * FROM streams ORDER BY id').all() as StreamRow[]).map(rowToRecord);
  }

  delete(arn: string, currentVersion: string | undefined): void {
    const stream = this.#findByArn(arn);
    if (stream === undefined) {
      throw notFound(`The requested stream ${arn} is not found or not active.`);
    }
    checkVersion(stream, currentVersion);
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM streams WHERE id = ?').run(stream.id);
      this.#db.prepare('DELETE FROM tags WHERE resource_arn = ?').run(stream.arn);
    })();
    this.#cache.delete(stream.id);
    for (const l of this.#onDeleted) {
      l(stream);
    }
  }

  update(ref: StreamRef, currentVersion: string, changes: { deviceName?: string | undefined; mediaType?: string | undefined }): void {
    this.#mutate(ref, currentVersion, (s) => ({
      device_name: changes.deviceName ?? s.deviceName,
      media_type: changes.mediaType ?? s.mediaType,
    }));
  }

  updateRetention(ref: StreamRef, currentVersion: string, operation: 'INCREASE_DATA_RETENTION' | 'DECREASE_DATA_RETENTION', hours: number): void {
    this.#mutate(ref, currentVersion, (s) => {
      const next = operation === 'INCREASE_DATA_RETENTION' ? s.retentionHours + hours : s.retentionHours - hours;
      if (next < 0) {
        throw invalidArgument(`Cannot decrease the data retention of ${s.retentionHours} hours by ${hours} hours.`);
      }
      if (next > MAX_RETENTION_HOURS) {
        throw invalidArgument(`Data retention cannot exceed ${MAX_RETENTION_HOURS} hours.`);
      }
      return { retention_hours: next };
    });
  }

  updateStorageTier(ref: StreamRef, currentVersion: string, tier: StorageTier): void {
    this.#mutate(ref, currentVersion, () => ({ storage_tier: tier }));
  }

  /** Image generation / notification configurations: stored as given; null removes them. Not versioned, as in KVS. */
  setConfiguration(ref: StreamRef, column: 'image_generation_json' | 'notification_json', value: unknown): void {
    const stream = this.resolve(ref);
    if (value !== null && stream.retentionHours === 0) {
      throw new KvsError('NoDataRetentionException', 'The stream must have data retention enabled (DataRetentionInHours > 0).');
    }
    this.#db.prepare(`UPDATE streams SET ${column} = ? WHERE id = ?`).run(value === null ? null : JSON.stringify(value), stream.id);
    this.#changed(stream.id);
  }

  setCapacity(ref: StreamRef, currentVersion: string | undefined, capacity: StreamCapacity, changeTimes: number[]): void {
    const stream = this.resolve(ref);
    checkVersion(stream, currentVersion);
    this.#db
      .prepare('UPDATE streams SET capacity_json = ?, capacity_changes_json = ?, version = ? WHERE id = ?')
      .run(JSON.stringify(capacity), JSON.stringify(changeTimes), newVersion(), stream.id);
    this.#changed(stream.id);
  }

  // ---- tags ----

  tags(arn: string): Record<string, string> {
    const rows = this.#db.prepare('SELECT key, value FROM tags WHERE resource_arn = ? ORDER BY key').all(arn) as { key: string; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  addTags(arn: string, tags: Record<string, string>): void {
    this.#db.transaction(() => {
      const current = this.tags(arn);
      const merged = { ...current, ...tags };
      if (Object.keys(merged).length > MAX_TAGS_PER_RESOURCE) {
        throw new KvsError('TagsPerResourceExceededLimitException', `A resource can have at most ${MAX_TAGS_PER_RESOURCE} tags.`);
      }
      this.#putTags(arn, tags);
    })();
  }

  removeTags(arn: string, keys: string[]): void {
    const del = this.#db.prepare('DELETE FROM tags WHERE resource_arn = ? AND key = ?');
    this.#db.transaction(() => {
      for (const k of keys) {
        del.run(arn, k);
      }
    })();
  }

  // ---- internals ----

  #putTags(arn: string, tags: Record<string, string>): void {
    const put = this.#db.prepare('INSERT INTO tags (resource_arn, key, value) VALUES (?, ?, ?) ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value');
    for (const [k, v] of Object.entries(tags)) {
      put.run(arn, k, v);
    }
  }

  #mutate(ref: StreamRef, currentVersion: string, change: (s: StreamRecord) => Record<string, unknown>): void {
    this.#db.transaction(() => {
      const stream = this.resolve(ref);
      checkVersion(stream, currentVersion);
      const cols = change(stream);
      const sets = Object.keys(cols).map((c) => `${c} = ?`);
      this.#db.prepare(`UPDATE streams SET ${sets.join(', ')}, version = ? WHERE id = ?`).run(...Object.values(cols), newVersion(), stream.id);
    })();
    const after = this.find(ref);
    if (after !== undefined) {
      this.#emitChanged(after);
    }
  }

  #changed(id: number): void {
    const row = this.#db.prepare('SELECT * FROM streams WHERE id = ?').get(id) as StreamRow | undefined;
    if (row !== undefined) {
      this.#emitChanged(rowToRecord(row));
    }
  }

  #emitChanged(stream: StreamRecord): void {
    this.#cache.delete(stream.id);
    for (const l of this.#onChanged) {
      l(stream);
    }
  }

  #findByName(name: string): StreamRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM streams WHERE name = ?').get(name) as StreamRow | undefined;
    return row === undefined ? undefined : rowToRecord(row);
  }

  #findByArn(arn: string): StreamRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM streams WHERE arn = ?').get(arn) as StreamRow | undefined;
    return row === undefined ? undefined : rowToRecord(row);
  }

  #byArn(arn: string): StreamRecord {
    const s = this.#findByArn(arn);
    if (s === undefined) {
      throw new Error(`stream ${arn} vanished inside its own transaction`);
    }
    return s;
  }
}

function checkVersion(stream: StreamRecord, currentVersion: string | undefined): void {
  if (currentVersion !== undefined && currentVersion !== stream.version) {
    throw new KvsError('VersionMismatchException', `The stream version ${currentVersion} does not match the latest version ${stream.version}.`);
  }
}

const newVersion = (): string => randomAlnum(20);
