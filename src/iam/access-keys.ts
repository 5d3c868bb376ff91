import { randomBytes } from 'node:crypto';
import type { Credentials } from '../auth/credentials.js';
import { KvsError, invalidArgument, notFound } from '../errors/codes.js';
import type { Db } from '../store/database.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { compileStatement, parsePolicyDocument, type CompiledStatement } from './policy-document.js';
import { isSealed, type SecretBox } from './secret-box.js';

// Access keys besides the root credentials, each with named IAM-style policies. Secrets must stay readable:
// SigV4 is an HMAC, so the server needs the secret itself, not a hash; they are sealed under the master key
// (secret-box.ts), so the database alone does not give them away.

export type AccessKeyStatus = 'Active' | 'Inactive';
export type KeyPolicy = { name: string; document: string };
export type AccessKeyRecord = {
  accessKeyId: string;
  status: AccessKeyStatus;
  description: string;
  createdMs: number;
  lastUsedMs: number | null;
  policies: KeyPolicy[];
};

export const MAX_POLICIES_PER_KEY = 10;
export const MAX_ACCESS_KEYS = 10_000;
export const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
export const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
/** last-used is a hint for operators, not an audit log: written at most this often per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

type KeyRow = { access_key_id: string; secret_access_key: string; status: AccessKeyStatus; description: string; created_ms: number; last_used_ms: number | null };

export class AccessKeyStore {
  readonly #db: Db;
  readonly #clock: Clock;
  /** Compiled statements per key, dropped on any change to the key. */
  readonly #compiled = new Map<string, CompiledStatement[]>();

  readonly #box: SecretBox;
  readonly #log: Logger;

  constructor(db: Db, clock: Clock, box: SecretBox, log: Logger) {
    this.#db = db;
    this.#clock = clock;
    this.#box = box;
    this.#log = log;
    this.#sealClearSecrets();
  }

  create(input: { description: string; policies: KeyPolicy[] }): { record: AccessKeyRecord; secretAccessKey: string } {
    checkPolicies(input.policies);
    const count = (this.#db.prepare('SELECT COUNT(*) AS n FROM access_keys').get() as { n: number }).n;
    if (count >= MAX_ACCESS_KEYS) {
      throw new KvsError('ClientLimitExceededException', `This server already has ${MAX_ACCESS_KEYS} access keys; delete unused ones first.`);
    }
    const accessKeyId = 'OKVK' + randomId(16);
    const secretAccessKey = randomBytes(30).toString('base64').replace(/[+/=]/g, 'x');
    this.#db.transaction(() => {
      this.#db
        .prepare('INSERT INTO access_keys (access_key_id, secret_access_key, status, description, created_ms) VALUES (?, ?, ?, ?, ?)')
        .run(accessKeyId, this.#box.seal(accessKeyId, secretAccessKey), 'Active', input.description, this.#clock.now());
      for (const p of input.policies) {
        this.#insertPolicy(accessKeyId, p);
      }
    })();
    return { record: this.#resolve(accessKeyId), secretAccessKey };
  }

  list(): AccessKeyRecord[] {
    const rows = this.#db.prepare('SELECT * FROM access_keys ORDER BY created_ms, access_key_id').all() as KeyRow[];
    return rows.map((r) => this.#record(r));
  }

  find(accessKeyId: string): AccessKeyRecord | undefined {
    const row = this.#row(accessKeyId);
    return row === undefined ? undefined : this.#record(row);
  }

  /** The credentials SigV4 checks against: Active keys only, so a disabled key is an unknown one. */
  credentialsOf(accessKeyId: string): Credentials | undefined {
    const row = this.#row(accessKeyId);
    if (row === undefined || row.status !== 'Active') {
      return undefined;
    }
    if (row.last_used_ms === null || this.#clock.now() - row.last_used_ms >= LAST_USED_RESOLUTION_MS) {
      this.#db.prepare('UPDATE access_keys SET last_used_ms = ? WHERE access_key_id = ?').run(this.#clock.now(), accessKeyId);
    }
    let secretAccessKey: string;
    try {
      secretAccessKey = this.#box.open(accessKeyId, row.secret_access_key);
    } catch (err) {
      // Sealed under another master key: the key cannot sign anything here, so it is an unknown one.
      this.#log.error('an access key secret does not open with this master key; the key is refused', { accessKeyId, err: String(err) });
      return undefined;
    }
    return { accessKeyId, secretAccessKey };
  }

  setStatus(accessKeyId: string, status: AccessKeyStatus): AccessKeyRecord {
    this.#resolve(accessKeyId);
    this.#db.prepare('UPDATE access_keys SET status = ? WHERE access_key_id = ?').run(status, accessKeyId);
    return this.#resolve(accessKeyId);
  }

  /** A new key with the same description and policies; the old one is made Inactive (re-enable it if a device still needs it). */
  rotate(accessKeyId: string): { record: AccessKeyRecord; secretAccessKey: string; previous: AccessKeyRecord } {
    const old = this.#resolve(accessKeyId);
    return this.#db.transaction(() => {
      const created = this.create({ description: old.description, policies: old.policies });
      const previous = this.setStatus(accessKeyId, 'Inactive');
      return { ...created, previous };
    })();
  }

  delete(accessKeyId: string): void {
    this.#resolve(accessKeyId);
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM access_key_policies WHERE access_key_id = ?').run(accessKeyId);
      this.#db.prepare('DELETE FROM access_keys WHERE access_key_id = ?').run(accessKeyId);
    })();
    this.#compiled.delete(accessKeyId);
  }

  putPolicy(accessKeyId: string, policy: KeyPolicy): AccessKeyRecord {
    const key = this.#resolve(accessKeyId);
    const others = key.policies.filter((p) => p.name !== policy.name);
    checkPolicies([...others, policy]);
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM access_key_policies WHERE access_key_id = ? AND policy_name = ?').run(accessKeyId, policy.name);
      this.#insertPolicy(accessKeyId, policy);
    })();
    this.#compiled.delete(accessKeyId);
    return this.#resolve(accessKeyId);
  }

  deletePolicy(accessKeyId: string, policyName: string): AccessKeyRecord {
    const key = this.#resolve(accessKeyId);
    if (!key.policies.some((p) => p.name === policyName)) {
      throw notFound(`Access key ${accessKeyId} has no policy named ${policyName}.`);
    }
    this.#db.prepare('DELETE FROM access_key_policies WHERE access_key_id = ? AND policy_name = ?').run(accessKeyId, policyName);
    this.#compiled.delete(accessKeyId);
    return this.#resolve(accessKeyId);
  }

  /** Every statement of the key's policies, compiled once; empty (deny everything) for an unknown key. */
  statementsOf(accessKeyId: string): readonly CompiledStatement[] {
    let compiled = this.#compiled.get(accessKeyId);
    if (compiled === undefined) {
      const docs = this.#db.prepare('SELECT document_json FROM access_key_policies WHERE access_key_id = ?').all(accessKeyId) as { document_json: string }[];
      compiled = docs.flatMap((d) => parsePolicyDocument(d.document_json).map(compileStatement));
      this.#compiled.set(accessKeyId, compiled);
    }
    return compiled;
  }

  #insertPolicy(accessKeyId: string, p: KeyPolicy): void {
    this.#db.prepare('INSERT INTO access_key_policies (access_key_id, policy_name, document_json) VALUES (?, ?, ?)').run(accessKeyId, p.name, p.document);
  }

  /** Keys created before secrets were sealed: sealed once, at startup, in one transaction. */
  #sealClearSecrets(): void {
    const rows = this.#db.prepare('SELECT access_key_id, secret_access_key FROM access_keys').all() as Pick<KeyRow, 'access_key_id' | 'secret_access_key'>[];
    const clear = rows.filter((r) => !isSealed(r.secret_access_key));
    if (clear.length === 0) {
      return;
    }
    const update = this.#db.prepare('UPDATE access_keys SET secret_access_key = ? WHERE access_key_id = ?');
    // secure_delete zeroes the cells the clear values leave behind, and the checkpoint empties the WAL that may
    // still hold pages written with them: afterwards no file of the database has a clear secret.
    const secureDelete: unknown = this.#db.pragma('secure_delete', { simple: true });
    this.#db.pragma('secure_delete = ON');
    try {
      this.#db.transaction(() => {
        for (const r of clear) {
          update.run(this.#box.seal(r.access_key_id, r.secret_access_key), r.access_key_id);
        }
      })();
    } finally {
      this.#db.pragma(`secure_delete = ${Number(secureDelete) === 1 ? 'ON' : 'OFF'}`);
    }
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    this.#log.info('sealed the secrets of access keys stored in the clear', { keys: clear.length });
  }

  #row(accessKeyId: string): KeyRow | undefined {
    return this.#db.prepare('SELECT * FROM access_keys WHERE access_key_id = ?').get(accessKeyId) as KeyRow | undefined;
  }

  #resolve(accessKeyId: string): AccessKeyRecord {
    const row = this.#row(accessKeyId);
    if (row === undefined) {
      throw notFound(`Access key ${accessKeyId} does not exist.`);
    }
    return this.#record(row);
  }

  #record(row: KeyRow): AccessKeyRecord {
    const policies = this.#db.prepare('SELECT policy_name, document_json FROM access_key_policies WHERE access_key_id = ? ORDER BY policy_name').all(row.access_key_id) as {
      policy_name: string;
      document_json: string;
    }[];
    return {
      accessKeyId: row.access_key_id,
      status: row.status,
      description: row.description,
      createdMs: row.created_ms,
      lastUsedMs: row.last_used_ms,
      policies: policies.map((p) => ({ name: p.policy_name, document: p.document_json })),
    };
  }
}

function checkPolicies(policies: readonly KeyPolicy[]): void {
  if (policies.length > MAX_POLICIES_PER_KEY) {
    throw invalidArgument(`An access key holds at most ${MAX_POLICIES_PER_KEY} policies.`);
  }
  const names = new Set<string>();
  for (const p of policies) {
    if (!POLICY_NAME.test(p.name)) {
      throw invalidArgument(`Policy name ${JSON.stringify(p.name)} must be 1-128 characters of [A-Za-z0-9_+=,.@-].`);
    }
    if (names.has(p.name)) {
      throw invalidArgument(`Two policies are named ${p.name}.`);
    }
    names.add(p.name);
    parsePolicyDocument(p.document);
  }
}

function randomId(length: number): string {
  let out = '';
  for (const b of randomBytes(length)) {
    out += ID_ALPHABET[b % ID_ALPHABET.length];
  }
  return out;
}
