import { KvsError, notFound } from '../errors/codes.js';
import type { Db } from '../store/database.js';
import type { Clock } from '../util/clock.js';
import { randomAlnum } from '../util/ids.js';

export type ChannelType = 'SINGLE_MASTER' | 'FULL_MESH';

export type ChannelRecord = {
  id: number;
  name: string;
  arn: string;
  type: ChannelType;
  version: string;
  creationTimeMs: number;
  messageTtlSeconds: number;
  /** UpdateMediaStorageConfiguration: the stream WebRTC sessions on this channel are recorded into. */
  storage: { status: 'ENABLED' | 'DISABLED'; streamArn: string | null };
  /** openkvs relay mode: viewers connect to the server's peer, which receives the master once. */
  relay: boolean;
};

type Row = {
  id: number;
  name: string;
  arn: string;
  type: string;
  version: string;
  creation_time_ms: number;
  message_ttl_seconds: number;
  storage_status: string;
  storage_stream_arn: string | null;
  relay: number;
};

export type ChannelRef = { name?: string | undefined; arn?: string | undefined };

export const DEFAULT_MESSAGE_TTL_SECONDS = 60;
/** Channels per server (KVS: 10 000 per account and region). */
export const MAX_CHANNELS = 10_000;

const toRecord = (r: Row): ChannelRecord => ({
  id: r.id,
  name: r.name,
  arn: r.arn,
  type: r.type === 'FULL_MESH' ? 'FULL_MESH' : 'SINGLE_MASTER',
  version: r.version,
  creationTimeMs: r.creation_time_ms,
  messageTtlSeconds: r.message_ttl_seconds,
  storage: { status: r.storage_status === 'ENABLED' ? 'ENABLED' : 'DISABLED', streamArn: r.storage_stream_arn },
  relay: r.relay === 1,
});

const newVersion = (): string => randomAlnum(20);

/** Signaling channels in SQLite: the control-plane half of KVS WebRTC. */
export class ChannelRegistry {
  readonly #db: Db;
  readonly #region: string;
  readonly #accountId: string;
  readonly #clock: Clock;
  readonly #onDeleted: ((c: ChannelRecord) => void)[] = [];
  readonly #onChanged: ((c: ChannelRecord) => void)[] = [];

  constructor(db: Db, opts: { region: string; accountId: string; clock: Clock }) {
    this.#db = db;
    this.#region = opts.region;
    this.#accountId = opts.accountId;
    this.#clock = opts.clock;
  }

  onDeleted(l: (c: ChannelRecord) => void): void {
    this.#onDeleted.push(l);
  }

  onChanged(l: (c: ChannelRecord) => void): void {
    this.#onChanged.push(l);
  }

  create(input: { name: string; type: ChannelType; messageTtlSeconds: number }): ChannelRecord {
    if (this.findByName(input.name) !== undefined) {
      throw new KvsError('ResourceInUseException', `The signaling channel ${input.name} already exists.`);
    }
    const count = (this.#db.prepare('SELECT COUNT(*) AS n FROM signaling_channels').get() as { n: number }).n;
    if (count >= MAX_CHANNELS) {
      throw new KvsError('AccountChannelLimitExceededException', `At most ${MAX_CHANNELS} signaling channels can exist.`);
    }
    const now = this.#clock.now();
    const arn = `arn:aws:kinesisvideo:${this.#region}:${this.#accountId}:channel/${input.name}/${now}`;
    this.#db
      .prepare('INSERT INTO signaling_channels (name, arn, type, version, creation_time_ms, message_ttl_seconds) VALUES (?, ?, ?, ?, ?, ?)')
      .run(input.name, arn, input.type, newVersion(), now, input.messageTtlSeconds);
    return this.findByName(input.name)!;
  }

  /** The channel a name and/or ARN names (they must agree when both are given). */
  resolve(ref: ChannelRef): ChannelRecord {
    if (ref.name === undefined && ref.arn === undefined) {
      throw new KvsError('InvalidArgumentException', 'Either ChannelName or ChannelARN must be specified.');
    }
    const byArn = ref.arn !== undefined ? this.find(ref.arn) : undefined;
    const byName = ref.name !== undefined ? this.findByName(ref.name) : undefined;
    const c = ref.arn !== undefined ? byArn : byName;
    if (c === undefined || (ref.name !== undefined && ref.arn !== undefined && byArn?.id !== byName?.id)) {
      throw notFound(`The signaling channel ${ref.arn ?? ref.name ?? ''} does not exist.`);
    }
    return c;
  }

  find(arn: string): ChannelRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM signaling_channels WHERE arn = ?').get(arn) as Row | undefined;
    return r === undefined ? undefined : toRecord(r);
  }

  byId(id: number): ChannelRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM signaling_channels WHERE id = ?').get(id) as Row | undefined;
    return r === undefined ? undefined : toRecord(r);
  }

  list(q: { maxResults: number; afterName?: string | undefined; prefix?: string | undefined }): { channels: ChannelRecord[]; more: boolean } {
    const rows = this.#db
      .prepare('SELECT * FROM signaling_channels WHERE name > ? AND (? IS NULL OR substr(name, 1, length(?)) = ?) ORDER BY name LIMIT ?')
      .all(q.afterName ?? '', q.prefix ?? null, q.prefix ?? null, q.prefix ?? null, q.maxResults + 1) as Row[];
    return { channels: rows.slice(0, q.maxResults).map(toRecord), more: rows.length > q.maxResults };
  }

  update(arn: string, currentVersion: string, change: { messageTtlSeconds?: number | undefined }): void {
    const c = this.#existing(arn, currentVersion);
    this.#db
      .prepare('UPDATE signaling_channels SET message_ttl_seconds = ?, version = ? WHERE id = ?')
      .run(change.messageTtlSeconds ?? c.messageTtlSeconds, newVersion(), c.id);
    this.#changed(c.id);
  }

  setStorage(arn: string, storage: ChannelRecord['storage']): void {
    const c = this.#existing(arn, undefined);
    this.#db.prepare('UPDATE signaling_channels SET storage_status = ?, storage_stream_arn = ? WHERE id = ?').run(storage.status, storage.streamArn, c.id);
    this.#changed(c.id);
  }

  setRelay(arn: string, relay: boolean): void {
    const c = this.#existing(arn, undefined);
    this.#db.prepare('UPDATE signaling_channels SET relay = ? WHERE id = ?').run(relay ? 1 : 0, c.id);
    this.#changed(c.id);
  }

  /** Channels whose media storage maps to this stream (at most one in KVS). */
  mappedTo(streamArn: string): ChannelRecord[] {
    return (this.#db.prepare("SELECT * FROM signaling_channels WHERE storage_stream_arn = ? AND storage_status = 'ENABLED'").all(streamArn) as Row[]).map(toRecord);
  }

  delete(arn: string, currentVersion: string | undefined): void {
    const c = this.#existing(arn, currentVersion);
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM signaling_channels WHERE id = ?').run(c.id);
      this.#db.prepare('DELETE FROM tags WHERE resource_arn = ?').run(c.arn);
    })();
    for (const l of this.#onDeleted) {
      l(c);
    }
  }

  #existing(arn: string, currentVersion: string | undefined): ChannelRecord {
    const c = this.find(arn);
    if (c === undefined) {
      throw notFound(`The signaling channel ${arn} does not exist.`);
    }
    if (currentVersion !== undefined && currentVersion !== c.version) {
      throw new KvsError('VersionMismatchException', `The channel version ${currentVersion} does not match the latest version ${c.version}.`);
    }
    return c;
  }

  findByName(name: string): ChannelRecord | undefined {
    const r = this.#db.prepare('SELECT * FROM signaling_channels WHERE name = ?').get(name) as Row | undefined;
    return r === undefined ? undefined : toRecord(r);
  }

  #changed(id: number): void {
    const c = this.byId(id);
    if (c !== undefined) {
      for (const l of this.#onChanged) {
        l(c);
      }
    }
  }
}
