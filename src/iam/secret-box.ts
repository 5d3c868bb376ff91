import { createHmac } from 'node:crypto';
import { NONCE_BYTES, TAG_BYTES, openBytes, sealBytes } from '../kms/envelope.js';

// Access-key secrets must stay readable (SigV4 is an HMAC over them), so they cannot be hashed; at rest they are
// sealed under a key derived from the master key, so a copy of the database alone (a backup, a stolen file) does
// not hand out working credentials. AAD = the key id: a sealed secret moved to another key's row does not open.

/** Marks a sealed value in the secret column; a value without it is a clear secret from before sealing. */
export const SEALED_PREFIX = 'sealed:v1:';
const DERIVATION_LABEL = 'openkvs access-key secrets v1';

export class SecretBox {
  readonly #key: Buffer;

  constructor(masterKey: Uint8Array) {
    // Its own key, not the master key itself: the master key only ever wraps key material elsewhere.
    this.#key = createHmac('sha256', masterKey).update(DERIVATION_LABEL).digest();
  }

  seal(accessKeyId: string, secret: string): string {
    const s = sealBytes(this.#key, [Buffer.from(secret, 'utf8')], aadOf(accessKeyId));
    return SEALED_PREFIX + Buffer.concat([s.nonce, s.tag, s.bytes]).toString('base64');
  }

  /** The secret of a stored value (clear values pass through); throws when this master key did not seal it. */
  open(accessKeyId: string, stored: string): string {
    if (!isSealed(stored)) {
      return stored;
    }
    const raw = Buffer.from(stored.slice(SEALED_PREFIX.length), 'base64');
    if (raw.length <= NONCE_BYTES + TAG_BYTES) {
      throw new Error(`the sealed secret of ${accessKeyId} is too short`);
    }
    const sealed = { nonce: raw.subarray(0, NONCE_BYTES), tag: raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES), bytes: raw.subarray(NONCE_BYTES + TAG_BYTES) };
    return openBytes(this.#key, sealed, aadOf(accessKeyId)).toString('utf8');
  }
}

export const isSealed = (stored: string): boolean => stored.startsWith(SEALED_PREFIX);

const aadOf = (accessKeyId: string): string => `access-key-secret:${accessKeyId}`;
