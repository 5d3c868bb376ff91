import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../store/database.js';
import { KmsKeyError } from '../errors/kms-error.js';
import { KEY_BYTES, unwrapKey, wrapKey } from './envelope.js';

export type KmsKeyState = 'Enabled' | 'Disabled';

export type KmsKey = {
  id: string;
  arn: string;
  alias: string | null;
  description: string;
  state: KmsKeyState;
  createdMs: number;
  currentVersion: number;
  rotatedMs: number | null;
};

/** The key streams use when CreateStream names none, as in KVS (its DescribeStream KmsKeyId is this alias's ARN). */
export const DEFAULT_KEY_ALIAS = 'alias/aws/kinesisvideo';

type KeyRow = { id: string; arn: string; alias: string | null; description: string; state: KmsKeyState; created_ms: number; current_version: number; rotated_ms: number | null };

const toKey = (r: KeyRow): KmsKey => ({
  id: r.id,
  arn: r.arn,
  alias: r.alias,
  description: r.description,
  state: r.state,
  createdMs: r.created_ms,
  currentVersion: r.current_version,
  rotatedMs: r.rotated_ms,
});

const materialAad = (keyId: string, version: number): string => `openkvs:kms-key-material:${keyId}:${version}`;

/**
 * Named KMS-like keys in SQLite. Each key has numbered key-material versions (32 random bytes each, wrapped under
 * the master key); rotation adds a version. Rows are few and every change goes through here, so they are kept in
 * memory and the state checked per fragment costs no query.
 */
export class KeyRing {
  readonly #db: Db;
  readonly #master: Buffer;
  readonly #arnPrefix: string;
  readonly #now: () => number;
  readonly #keys = new Map<string, KmsKey>();
  readonly #material = new Map<string, Buffer>();

  constructor(db: Db, master: Buffer, opts: { region: string; accountId: string; now: () => number }) {
    this.#db = db;
    this.#master = master;
    this.#arnPrefix = `arn:aws:kms:${opts.region}:${opts.accountId}:`;
    this.#now = opts.now;
    for (const r of db.prepare('SELECT * FROM kms_keys').all() as KeyRow[]) {
      this.#keys.set(r.id, toKey(r));
    }
    if (this.find(DEFAULT_KEY_ALIAS) === undefined) {
      this.#insert(DEFAULT_KEY_ALIAS, 'Default key that protects Kinesis Video Streams data when no other key is given');
    }
  }

  get defaultKey(): KmsKey {
    const k = this.find(DEFAULT_KEY_ALIAS);
    if (k === undefined) {
      throw new Error('the default KMS key is missing');
    }
    return k;
  }

  list(): KmsKey[] {
    return [...this.#keys.values()].sort((a, b) => a.createdMs - b.createdMs || (a.id < b.id ? -1 : 1));
  }

  get(id: string): KmsKey | undefined {
    return this.#keys.get(id);
  }

  /** By key id, key ARN, alias name or alias ARN — the four forms KMS (and KVS's KmsKeyId) accept. */
  find(ref: string): KmsKey | undefined {
    const local = ref.startsWith(this.#arnPrefix) ? ref.slice(this.#arnPrefix.length) : ref.startsWith('arn:') ? null : ref;
    if (local === null) {
      return undefined;
    }
    if (local.startsWith('alias/')) {
      return [...this.#keys.values()].find((k) => k.alias === local);
    }
    return this.#keys.get(local.startsWith('key/') ? local.slice('key/'.length) : local);
  }

  aliasArn(alias: string): string {
    return this.#arnPrefix + alias;
  }

  create(alias: string | null, description: string): KmsKey {
    return this.#insert(alias, description);
  }

  setState(id: string, state: KmsKeyState): KmsKey {
    this.#db.prepare('UPDATE kms_keys SET state = ? WHERE id = ?').run(state, id);
    return this.#update(id, { state });
  }

  /**
   * Add a key-material version and, in the same transaction, let `rewrap` move everything wrapped under older
   * versions to it; nothing changes if rewrap throws.
   */
  rotate(id: string, rewrap: (newMaterial: Buffer, version: number) => void): KmsKey {
    const key = this.#keys.get(id);
    if (key === undefined) {
      throw new Error(`no KMS key ${id}`);
    }
    const version = key.currentVersion + 1;
    const material = randomBytes(KEY_BYTES);
    const now = this.#now();
    this.#db.transaction(() => {
      this.#db.prepare('INSERT INTO kms_key_versions (key_id, version, wrapped, created_ms) VALUES (?, ?, ?, ?)').run(id, version, wrapKey(this.#master, material, materialAad(id, version)), now);
      this.#db.prepare('UPDATE kms_keys SET current_version = ?, rotated_ms = ? WHERE id = ?').run(version, now, id);
      rewrap(material, version);
    })();
    this.#material.set(`${id}:${version}`, material);
    return this.#update(id, { currentVersion: version, rotatedMs: now });
  }

  delete(id: string): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM kms_key_versions WHERE key_id = ?').run(id);
      this.#db.prepare('DELETE FROM kms_keys WHERE id = ?').run(id);
    })();
    this.#keys.delete(id);
    for (const k of [...this.#material.keys()]) {
      if (k.startsWith(`${id}:`)) {
        this.#material.delete(k);
      }
    }
  }

  /** One version's key material; KMS_KEY_VALIDATION_ERROR when this server's master key did not wrap it. */
  material(id: string, version: number): Buffer {
    const cacheKey = `${id}:${version}`;
    const cached = this.#material.get(cacheKey);
    if (cached !== undefined) {
      return cached;
    }
    const row = this.#db.prepare('SELECT wrapped FROM kms_key_versions WHERE key_id = ? AND version = ?').get(id, version) as { wrapped: Buffer } | undefined;
    if (row === undefined) {
      throw new KmsKeyError('KMS_KEY_NOT_FOUND', `Version ${version} of KMS key ${id} does not exist.`);
    }
    let material: Buffer;
    try {
      material = unwrapKey(this.#master, row.wrapped, materialAad(id, version));
    } catch {
      throw new KmsKeyError('KMS_KEY_VALIDATION_ERROR', `The material of KMS key ${id} cannot be unwrapped with this server's master key (another master key wrapped it).`);
    }
    this.#material.set(cacheKey, material);
    return material;
  }

  #insert(alias: string | null, description: string): KmsKey {
    const id = randomUUID();
    const now = this.#now();
    const material = randomBytes(KEY_BYTES);
    const row: KeyRow = { id, arn: `${this.#arnPrefix}key/${id}`, alias, description, state: 'Enabled', created_ms: now, current_version: 1, rotated_ms: null };
    this.#db.transaction(() => {
      this.#db
        .prepare('INSERT INTO kms_keys (id, arn, alias, description, state, created_ms, current_version, rotated_ms) VALUES (@id, @arn, @alias, @description, @state, @created_ms, @current_version, @rotated_ms)')
        .run(row);
      this.#db.prepare('INSERT INTO kms_key_versions (key_id, version, wrapped, created_ms) VALUES (?, 1, ?, ?)').run(id, wrapKey(this.#master, material, materialAad(id, 1)), now);
    })();
    this.#material.set(`${id}:1`, material);
    const key = toKey(row);
    this.#keys.set(id, key);
    return key;
  }

  #update(id: string, change: Partial<KmsKey>): KmsKey {
    const key = this.#keys.get(id);
    if (key === undefined) {
      throw new Error(`no KMS key ${id}`);
    }
    const next = { ...key, ...change };
    this.#keys.set(id, next);
    return next;
  }
}
