import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KmsKeyError } from '../../../src/errors/kms-error.js';
import { KmsService } from '../../../src/kms/kms-service.js';
import { DEFAULT_KEY_ALIAS } from '../../../src/kms/key-ring.js';
import { openDatabase, type Db } from '../../../src/store/database.js';

const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(() => {
  dbs.splice(0).forEach((d) => d.close());
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A KMS over a fresh database; streams 1 and 2 use the KmsKeyId given in refs (null: the default key). */
function kmsOver(dir: string, master: Buffer, refs: Map<number, string | null>, encrypt = true): KmsService {
  const db = openDatabase(dir);
  dbs.push(db);
  return new KmsService(db, {
    master,
    region: 'us-east-1',
    accountId: '000000000000',
    encrypt,
    kmsKeyRefOf: (id) => refs.get(id),
    kmsKeyRefsInUse: () => [...refs.values()],
    now: () => 1_700_000_000_000,
  });
}

function setup(refs = new Map<number, string | null>([[1, null]])): { kms: KmsService; dir: string; master: Buffer; refs: Map<number, string | null> } {
  const dir = mkdtempSync(join(tmpdir(), 'openkvs-kms-'));
  dirs.push(dir);
  const master = randomBytes(32);
  return { kms: kmsOver(dir, master, refs), dir, master, refs };
}

const problemOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof KmsKeyError ? `${err.problem} ${err.errorId} ${err.errorName}` : `other: ${String(err)}`;
  }
};

const bytes = Buffer.from('a fragment: producer tags then the cluster');

describe('key ring', () => {
  it('has the default key aws/kinesisvideo from the start, found by id, key ARN, alias and alias ARN', () => {
    const { kms } = setup();
    const [k] = kms.list();
    expect(kms.list()).toHaveLength(1);
    expect(k?.alias).toBe(DEFAULT_KEY_ALIAS);
    expect(k?.arn).toBe(`arn:aws:kms:us-east-1:000000000000:key/${k?.id}`);
    expect(k?.state).toBe('Enabled');
    for (const ref of [k?.id ?? '', k?.arn ?? '', DEFAULT_KEY_ALIAS, 'arn:aws:kms:us-east-1:000000000000:alias/aws/kinesisvideo']) {
      expect(kms.describe(ref).id).toBe(k?.id);
    }
    expect(() => kms.describe('arn:aws:kms:eu-west-1:111111111111:alias/aws/kinesisvideo')).toThrow(/does not exist/);
  });

  it('creates named keys; aliases are unique and alias/aws/ is reserved', () => {
    const { kms } = setup();
    const k = kms.create('alias/cams', 'camera footage');
    expect(kms.describe('alias/cams').id).toBe(k.id);
    expect(() => kms.create('alias/cams', '')).toThrow(/already names a key/);
    expect(() => kms.create('alias/aws/mine', '')).toThrow(/reserved/);
    expect(() => kms.create('cams', '')).toThrow(/must match/);
    expect(kms.create(undefined, '').alias).toBeNull();
  });

  it('seals with a per-stream data key and opens only for the same stream and fragment', () => {
    const { kms } = setup(new Map([[1, null], [2, null]]));
    const a = kms.cipher.seal(1, '100', [bytes]);
    const b = kms.cipher.seal(2, '100', [bytes]);
    expect(a?.dataKeyId).not.toBe(b?.dataKeyId);
    expect(a && Buffer.from(kms.cipher.open(1, '100', a, a.bytes)).equals(bytes)).toBe(true);
    expect(a && problemOf(() => kms.cipher.open(1, '101', a, a.bytes))).toMatch(/^other: .*failed authentication/);
    expect(a && problemOf(() => kms.cipher.open(2, '100', a, a.bytes))).toMatch(/^KMS_KEY_NOT_FOUND/);
  });

  it('stores nothing sealed with encryption off', () => {
    const dir = mkdtempSync(join(tmpdir(), 'openkvs-kms-'));
    dirs.push(dir);
    expect(kmsOver(dir, randomBytes(32), new Map([[1, null]]), false).cipher.seal(1, '1', [bytes])).toBeNull();
  });

  it('a disabled key fails seal and open with 4501 until enabled again', () => {
    const { kms } = setup();
    const a = kms.cipher.seal(1, '1', [bytes]);
    kms.setEnabled(DEFAULT_KEY_ALIAS, false);
    expect(problemOf(() => kms.cipher.seal(1, '2', [bytes]))).toBe('KMS_KEY_DISABLED 4501 KMSDisabledException');
    expect(a && problemOf(() => kms.cipher.open(1, '1', a, a.bytes))).toBe('KMS_KEY_DISABLED 4501 KMSDisabledException');
    kms.setEnabled(DEFAULT_KEY_ALIAS, true);
    expect(a && Buffer.from(kms.cipher.open(1, '1', a, a.bytes)).equals(bytes)).toBe(true);
  });

  it('assertReadable passes a stream with no data key (plaintext only) and stops one whose key is disabled', () => {
    const { kms } = setup(new Map([[1, null], [2, null]]));
    kms.cipher.seal(1, '1', [bytes]);
    kms.setEnabled(DEFAULT_KEY_ALIAS, false);
    expect(problemOf(() => kms.cipher.assertReadable(1))).toBe('KMS_KEY_DISABLED 4501 KMSDisabledException');
    expect(problemOf(() => kms.cipher.assertReadable(2))).toBeUndefined();
    kms.setEnabled(DEFAULT_KEY_ALIAS, true);
    expect(problemOf(() => kms.cipher.assertReadable(1))).toBeUndefined();
  });

  it('a KmsKeyId no key answers to is 4506 at the first seal, and works once the alias exists', () => {
    const { kms } = setup(new Map([[1, 'alias/later']]));
    expect(problemOf(() => kms.cipher.seal(1, '1', [bytes]))).toBe('KMS_KEY_NOT_FOUND 4506 KMSNotFoundException');
    kms.create('alias/later', '');
    expect(kms.cipher.seal(1, '1', [bytes])).not.toBeNull();
  });

  it('rotation re-wraps every data key under the new version; sealed fragments still open after a restart', () => {
    const { kms, dir, master, refs } = setup(new Map([[1, null], [2, 'alias/other']]));
    kms.create('alias/other', '');
    const a = kms.cipher.seal(1, '1', [bytes]);
    const b = kms.cipher.seal(2, '1', [bytes]);
    const before = (dbs[0]?.prepare('SELECT id, key_version, wrapped FROM data_keys ORDER BY id').all() ?? []) as { id: number; key_version: number; wrapped: Buffer }[];
    const r = kms.rotate(DEFAULT_KEY_ALIAS);
    expect(r.dataKeysRewrapped).toBe(1);
    expect(r.key.currentVersion).toBe(2);
    const after = (dbs[0]?.prepare('SELECT id, key_version, wrapped FROM data_keys ORDER BY id').all() ?? []) as typeof before;
    expect(after[0]?.key_version).toBe(2);
    expect(after[0]?.wrapped.equals(before[0]?.wrapped ?? Buffer.alloc(0))).toBe(false);
    expect(after[1]).toEqual(before[1]); // the other key's data key is untouched
    dbs.splice(0).forEach((d) => d.close());
    const reopened = kmsOver(dir, master, refs);
    expect(a && Buffer.from(reopened.cipher.open(1, '1', a, a.bytes)).equals(bytes)).toBe(true);
    expect(b && Buffer.from(reopened.cipher.open(2, '1', b, b.bytes)).equals(bytes)).toBe(true);
    expect(reopened.describe(DEFAULT_KEY_ALIAS).currentVersion).toBe(2);
  });

  it('another master key cannot open the ring: 4502, and the check says so', () => {
    const { kms, dir, refs } = setup();
    const a = kms.cipher.seal(1, '1', [bytes]);
    dbs.splice(0).forEach((d) => d.close());
    const wrong = kmsOver(dir, randomBytes(32), refs);
    expect(wrong.checkMasterKey()).toMatch(/cannot be unwrapped/);
    expect(a && problemOf(() => wrong.cipher.open(1, '1', a, a.bytes))).toBe('KMS_KEY_VALIDATION_ERROR 4502 KMSInvalidStateException');
    expect(problemOf(() => wrong.cipher.seal(1, '2', [bytes]))).toBe('KMS_KEY_VALIDATION_ERROR 4502 KMSInvalidStateException');
    expect(() => wrong.rotate(DEFAULT_KEY_ALIAS)).toThrow(KmsKeyError);
    expect(wrong.describe(DEFAULT_KEY_ALIAS).currentVersion).toBe(1);
  });

  it('deletes only a disabled, unused, non-default key', () => {
    const { kms, refs } = setup(new Map([[1, null]]));
    const k = kms.create('alias/gone', '');
    expect(() => kms.delete(DEFAULT_KEY_ALIAS)).toThrow(/cannot be deleted/);
    expect(() => kms.delete(k.id)).toThrow(/disable it/);
    kms.setEnabled(k.id, false);
    refs.set(2, k.arn);
    expect(() => kms.delete('alias/gone')).toThrow(/protects 1 existing stream/);
    refs.delete(2);
    kms.delete('alias/gone');
    expect(() => kms.describe(k.id)).toThrow(/does not exist/);
    expect(kms.list()).toHaveLength(1);
  });
});
