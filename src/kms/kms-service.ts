import type { Db } from '../store/database.js';
import { KvsError, invalidArgument, notFound } from '../errors/codes.js';
import { KmsKeyError } from '../errors/kms-error.js';
import { DEFAULT_KEY_ALIAS, KeyRing, type KmsKey } from './key-ring.js';
import { StreamKeys } from './stream-keys.js';

export type KmsOptions = {
  master: Buffer;
  region: string;
  accountId: string;
  encrypt: boolean;
  kmsKeyRefOf: (streamId: number) => string | null | undefined;
  /** KmsKeyId values CreateStream stored, for the streams that still exist (a key they name cannot be deleted). */
  kmsKeyRefsInUse: () => (string | null)[];
  now: () => number;
};

/** Alias names as KMS allows them; `alias/aws/` is reserved for the default key, as in KMS. */
const ALIAS = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

/** The admin side of encryption at rest (the /openkvs/*Key operations) over the key ring and the stream data keys. */
export class KmsService {
  readonly ring: KeyRing;
  /** What the fragment store seals and opens fragments with. */
  readonly cipher: StreamKeys;
  readonly #opts: KmsOptions;

  constructor(db: Db, opts: KmsOptions) {
    this.#opts = opts;
    this.ring = new KeyRing(db, opts.master, { region: opts.region, accountId: opts.accountId, now: opts.now });
    this.cipher = new StreamKeys(db, this.ring, { encrypt: opts.encrypt, kmsKeyRefOf: opts.kmsKeyRefOf, now: opts.now });
  }

  /** Why this master key cannot open the key ring (another master key wrapped it), or null when it can. */
  checkMasterKey(): string | null {
    const key = this.ring.defaultKey;
    try {
      this.ring.material(key.id, key.currentVersion);
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  create(alias: string | undefined, description: string | undefined): KmsKey {
    if (alias !== undefined) {
      if (!ALIAS.test(alias) || alias.startsWith('alias/aws/')) {
        throw invalidArgument(`Alias ${alias} must match alias/[a-zA-Z0-9/_-]+ and not start with alias/aws/ (reserved).`);
      }
      if (this.ring.find(alias) !== undefined) {
        throw new KvsError('ResourceInUseException', `Alias ${alias} already names a key.`);
      }
    }
    return this.ring.create(alias ?? null, description ?? '');
  }

  list(): KmsKey[] {
    return this.ring.list();
  }

  describe(ref: string): KmsKey {
    const key = this.ring.find(ref);
    if (key === undefined) {
      throw notFound(`KMS key ${ref} does not exist.`);
    }
    return key;
  }

  setEnabled(ref: string, enabled: boolean): KmsKey {
    return this.ring.setState(this.describe(ref).id, enabled ? 'Enabled' : 'Disabled');
  }

  /** New key material; every data key under the key is re-wrapped with it. Media is not touched. */
  rotate(ref: string): { key: KmsKey; dataKeysRewrapped: number } {
    const key = this.describe(ref);
    if (key.state !== 'Enabled') {
      throw new KmsKeyError('KMS_KEY_DISABLED', `KMS key ${key.arn} is disabled; enable it to rotate it.`);
    }
    let n = 0;
    const rotated = this.ring.rotate(key.id, (material, version) => {
      n = this.cipher.rewrap(key.id, material, version);
    });
    return { key: rotated, dataKeysRewrapped: n };
  }

  /**
   * Deleting key material makes everything under it unreadable for good, so only a disabled key that no existing
   * stream names or holds a data key under may go; the default key never does.
   */
  delete(ref: string): void {
    const key = this.describe(ref);
    if (key.alias === DEFAULT_KEY_ALIAS) {
      throw invalidArgument(`The default key ${DEFAULT_KEY_ALIAS} cannot be deleted.`);
    }
    if (key.state !== 'Disabled') {
      throw invalidArgument(`KMS key ${key.arn} is enabled; disable it before deleting it.`);
    }
    const names = new Set([key.id, key.arn, ...(key.alias === null ? [] : [key.alias, this.ring.aliasArn(key.alias)])]);
    const named = this.#opts.kmsKeyRefsInUse().filter((r) => r !== null && names.has(r)).length;
    const holding = this.cipher.streamsUsing(key.id);
    if (named > 0 || holding > 0) {
      throw new KvsError('ResourceInUseException', `KMS key ${key.arn} protects ${Math.max(named, holding)} existing stream(s); delete them first.`);
    }
    this.cipher.forgetKeysOf(key.id);
    this.ring.delete(key.id);
  }
}
