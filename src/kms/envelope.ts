import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// AES-256-GCM, the one cipher of encryption at rest: key material under the master key, data keys under key
// material, fragments under data keys. Every use binds what the bytes are for as additional authenticated data,
// so a blob moved to another row (another key, stream or fragment) fails authentication instead of decrypting.

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

/** A wrapped key: nonce ‖ ciphertext ‖ tag, one BLOB. */
export function wrapKey(kek: Uint8Array, key: Uint8Array, aad: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', kek, nonce);
  c.setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(key), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

/** The key inside a wrapKey blob; throws if kek or aad differ from the wrapping ones or the blob was altered. */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array, aad: string): Buffer {
  if (wrapped.length !== NONCE_BYTES + KEY_BYTES + TAG_BYTES) {
    throw new Error(`a wrapped key is ${NONCE_BYTES + KEY_BYTES + TAG_BYTES} bytes, not ${wrapped.length}`);
  }
  const d = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, NONCE_BYTES));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(wrapped.subarray(NONCE_BYTES + KEY_BYTES));
  return Buffer.concat([d.update(wrapped.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES)), d.final()]);
}

export type SealedBytes = { bytes: Buffer; nonce: Buffer; tag: Buffer };

/**
 * Encrypt parts as one message. GCM is a counter mode: the ciphertext is exactly as long as the plaintext, so
 * offsets and sizes in the fragment index stay plaintext sizes; nonce and tag go into the index row.
 */
export function sealBytes(key: Uint8Array, parts: readonly Uint8Array[], aad: string): SealedBytes {
  const nonce = randomBytes(NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad));
  const out = parts.map((p) => c.update(p));
  out.push(c.final());
  return { bytes: joined(out), nonce, tag: c.getAuthTag() };
}

/** The plaintext of sealBytes output; throws on a wrong key, nonce, tag or aad, or altered bytes. */
export function openBytes(key: Uint8Array, sealed: { bytes: Uint8Array; nonce: Uint8Array; tag: Uint8Array }, aad: string): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, sealed.nonce);
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(sealed.tag);
  return joined([d.update(sealed.bytes), d.final()]);
}

/** One buffer without a copy when only one piece has bytes (GCM's final() adds none): fragments are megabytes. */
function joined(pieces: Buffer[]): Buffer {
  const full = pieces.filter((b) => b.length > 0);
  return full.length === 1 && full[0] !== undefined ? full[0] : Buffer.concat(full);
}
