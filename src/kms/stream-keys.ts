import { randomBytes } from 'node:crypto';
import type { Db } from '../store/database.js';
import type { FragmentCipher, FragmentSealing } from '../store/fragment-cipher.js';
import { KmsKeyError } from '../errors/kms-error.js';
import { KEY_BYTES, openBytes, sealBytes, unwrapKey, wrapKey } from './envelope.js';
import type { KeyRing, KmsKey } from './key-ring.js';

export type StreamKeysOptions = {
  /** false: new fragments are stored as they come; fragments sealed before still open. */
  encrypt: boolean;
  /** The stream's KmsKeyId as CreateStream stored it (null: the default key); undefined when the stream is gone. */
  kmsKeyRefOf: (streamId: number) => string | null | undefined;
  now: () => number;
};

type DataKeyRow = { id: number; stream_id: number; kms_key_id: string; key_version: number; wrapped: Buffer };
type DataKey = { id: number; streamId: number; kmsKeyId: string; key: Buffer };

const dataKeyAad = (streamId: number, kmsKeyId: string): string => `openkvs:data-key:${streamId}:${kmsKeyId}`;
/** Binds a fragment's ciphertext to its place: bytes copied under another fragment or stream fail to open. */
const fragmentAad = (streamId: number, fragmentNumber: string): string => `openkvs:fragment:${streamId}:${fragmentNumber}`;

/**
 * Envelope encryption of fragments: one 32-byte data key per stream, made when its first fragment is sealed and
 * stored wrapped under a key-material version of the stream's KMS key. Each use checks the KMS key's state, so
 * disabling a key stops writes and reads at once; unwrapped data keys stay cached (they do not change on rotation).
 */
export class StreamKeys implements FragmentCipher {
  readonly #db: Db;
  readonly #ring: KeyRing;
  readonly #opts: StreamKeysOptions;
  readonly #byId = new Map<number, DataKey>();
  readonly #byStream = new Map<number, number>();
  /** Per stream: the KMS key its data key is under, or null while it has none (its fragments are plaintext). */
  readonly #kmsKeyOfStream = new Map<number, string | null>();

  constructor(db: Db, ring: KeyRing, opts: StreamKeysOptions) {
    this.#db = db;
    this.#ring = ring;
    this.#opts = opts;
  }

  seal(streamId: number, fragmentNumber: string, parts: readonly Uint8Array[]): ({ bytes: Uint8Array } & FragmentSealing) | null {
    if (!this.#opts.encrypt) {
      return null;
    }
    const dk = this.#streamKey(streamId);
    this.#usable(dk.kmsKeyId);
    const sealed = sealBytes(dk.key, parts, fragmentAad(streamId, fragmentNumber));
    return { bytes: sealed.bytes, dataKeyId: dk.id, nonce: sealed.nonce, tag: sealed.tag };
  }

  open(streamId: number, fragmentNumber: string, sealing: FragmentSealing, bytes: Uint8Array): Uint8Array {
    const dk = this.#dataKey(sealing.dataKeyId);
    if (dk === undefined || dk.streamId !== streamId) {
      throw new KmsKeyError('KMS_KEY_NOT_FOUND', `The data key of fragment ${fragmentNumber} does not exist.`);
    }
    this.#usable(dk.kmsKeyId);
    try {
      return openBytes(dk.key, { bytes, nonce: sealing.nonce, tag: sealing.tag }, fragmentAad(streamId, fragmentNumber));
    } catch {
      throw new Error(`fragment ${fragmentNumber} of stream ${streamId} failed authentication: its stored bytes were altered`);
    }
  }

  /**
   * Throws the KmsKeyError a read of the stream would meet, also for bytes already in a memory cache: a disabled
   * key stops every read of its streams. A stream with no data key (plaintext fragments only) always passes.
   */
  assertReadable(streamId: number): void {
    let kmsKeyId = this.#kmsKeyOfStream.get(streamId);
    if (kmsKeyId === undefined) {
      const row = this.#db.prepare('SELECT kms_key_id FROM data_keys WHERE stream_id = ? ORDER BY id DESC LIMIT 1').get(streamId) as { kms_key_id: string } | undefined;
      kmsKeyId = row?.kms_key_id ?? null;
      this.#kmsKeyOfStream.set(streamId, kmsKeyId);
    }
    if (kmsKeyId !== null) {
      this.#usable(kmsKeyId);
    }
  }

  /** Wrap every data key under a KMS key with a new material version (inside KeyRing.rotate's transaction). */
  rewrap(kmsKeyId: string, material: Buffer, version: number): number {
    const rows = this.#db.prepare('SELECT * FROM data_keys WHERE kms_key_id = ?').all(kmsKeyId) as DataKeyRow[];
    const update = this.#db.prepare('UPDATE data_keys SET wrapped = ?, key_version = ? WHERE id = ?');
    for (const r of rows) {
      const key = unwrapKey(this.#ring.material(r.kms_key_id, r.key_version), r.wrapped, dataKeyAad(r.stream_id, r.kms_key_id));
      update.run(wrapKey(material, key, dataKeyAad(r.stream_id, r.kms_key_id)), version, r.id);
    }
    return rows.length;
  }

  /** Data keys that existing streams hold under this KMS key. */
  streamsUsing(kmsKeyId: string): number {
    return (
      this.#db.prepare('SELECT COUNT(DISTINCT d.stream_id) AS n FROM data_keys d JOIN streams s ON s.id = d.stream_id WHERE d.kms_key_id = ?').get(kmsKeyId) as { n: number }
    ).n;
  }

  /** Data keys of deleted streams: nothing can read with them any more. */
  forgetKeysOf(kmsKeyId: string): void {
    this.#db.prepare('DELETE FROM data_keys WHERE kms_key_id = ?').run(kmsKeyId);
    for (const [id, dk] of this.#byId) {
      if (dk.kmsKeyId === kmsKeyId) {
        this.#byId.delete(id);
        this.#byStream.delete(dk.streamId);
        this.#kmsKeyOfStream.delete(dk.streamId);
      }
    }
  }

  #usable(kmsKeyId: string): KmsKey {
    const key = this.#ring.get(kmsKeyId);
    if (key === undefined) {
      throw new KmsKeyError('KMS_KEY_NOT_FOUND', `KMS key ${kmsKeyId} does not exist.`);
    }
    if (key.state !== 'Enabled') {
      throw new KmsKeyError('KMS_KEY_DISABLED', `KMS key ${key.arn} is disabled.`);
    }
    return key;
  }

  #streamKey(streamId: number): DataKey {
    const known = this.#byStream.get(streamId);
    const cached = known === undefined ? undefined : this.#byId.get(known);
    if (cached !== undefined) {
      return cached;
    }
    const row = this.#db.prepare('SELECT * FROM data_keys WHERE stream_id = ? ORDER BY id DESC LIMIT 1').get(streamId) as DataKeyRow | undefined;
    if (row !== undefined) {
      return this.#unwrap(row);
    }
    const ref = this.#opts.kmsKeyRefOf(streamId);
    if (ref === undefined) {
      throw new KmsKeyError('KMS_KEY_NOT_FOUND', `Stream ${streamId} does not exist, so it has no KMS key.`);
    }
    const kms = ref === null ? this.#ring.defaultKey : this.#ring.find(ref);
    if (kms === undefined) {
      throw new KmsKeyError('KMS_KEY_NOT_FOUND', `KMS key ${ref} does not exist.`);
    }
    this.#usable(kms.id);
    const key = randomBytes(KEY_BYTES);
    const wrapped = wrapKey(this.#ring.material(kms.id, kms.currentVersion), key, dataKeyAad(streamId, kms.id));
    const id = Number(
      this.#db.prepare('INSERT INTO data_keys (stream_id, kms_key_id, key_version, wrapped, created_ms) VALUES (?, ?, ?, ?, ?)').run(streamId, kms.id, kms.currentVersion, wrapped, this.#opts.now())
        .lastInsertRowid,
    );
    return this.#cache({ id, streamId, kmsKeyId: kms.id, key });
  }

  #dataKey(id: number): DataKey | undefined {
    const cached = this.#byId.get(id);
    if (cached !== undefined) {
      return cached;
    }
    const row = this.#db.prepare('SELECT * FROM data_keys WHERE id = ?').get(id) as DataKeyRow | undefined;
    return row === undefined ? undefined : this.#unwrap(row);
  }

  #unwrap(row: DataKeyRow): DataKey {
    if (this.#ring.get(row.kms_key_id) === undefined) {
      throw new KmsKeyError('KMS_KEY_NOT_FOUND', `KMS key ${row.kms_key_id} does not exist.`);
    }
    let key: Buffer;
    try {
      key = unwrapKey(this.#ring.material(row.kms_key_id, row.key_version), row.wrapped, dataKeyAad(row.stream_id, row.kms_key_id));
    } catch (err) {
      if (err instanceof KmsKeyError) {
        throw err;
      }
      throw new KmsKeyError('KMS_KEY_VALIDATION_ERROR', `The data key of stream ${row.stream_id} cannot be unwrapped with KMS key ${row.kms_key_id}.`);
    }
    return this.#cache({ id: row.id, streamId: row.stream_id, kmsKeyId: row.kms_key_id, key });
  }

  #cache(dk: DataKey): DataKey {
    this.#byId.set(dk.id, dk);
    this.#byStream.set(dk.streamId, dk.id);
    this.#kmsKeyOfStream.set(dk.streamId, dk.kmsKeyId);
    return dk;
  }
}
