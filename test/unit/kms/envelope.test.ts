import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openBytes, sealBytes, unwrapKey, wrapKey } from '../../../src/kms/envelope.js';

describe('envelope', () => {
  const kek = randomBytes(32);
  const key = randomBytes(32);

  it('wraps a key into 60 bytes that unwrap only with the same kek and context', () => {
    const wrapped = wrapKey(kek, key, 'ctx:1');
    expect(wrapped.length).toBe(12 + 32 + 16);
    expect(unwrapKey(kek, wrapped, 'ctx:1').equals(key)).toBe(true);
    expect(() => unwrapKey(randomBytes(32), wrapped, 'ctx:1')).toThrow();
    expect(() => unwrapKey(kek, wrapped, 'ctx:2')).toThrow();
    const flipped = Buffer.from(wrapped);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    expect(() => unwrapKey(kek, flipped, 'ctx:1')).toThrow();
  });

  it('seals parts as one message as long as the plaintext, and opens it back', () => {
    const parts = [Buffer.from('tags'), randomBytes(1000)];
    const sealed = sealBytes(key, parts, 'fragment:1:100');
    expect(sealed.bytes.length).toBe(1004);
    expect(sealed.bytes.subarray(0, 4).equals(Buffer.from('tags'))).toBe(false);
    expect(openBytes(key, sealed, 'fragment:1:100').equals(Buffer.concat(parts))).toBe(true);
  });

  it('refuses ciphertext moved to another fragment or altered', () => {
    const a = sealBytes(key, [Buffer.from('fragment A bytes')], 'fragment:1:100');
    expect(() => openBytes(key, a, 'fragment:1:101')).toThrow();
    const altered = { ...a, bytes: Buffer.from(a.bytes) };
    altered.bytes[0] = (altered.bytes[0] ?? 0) ^ 0xff;
    expect(() => openBytes(key, altered, 'fragment:1:100')).toThrow();
  });

  it('uses a fresh nonce per seal: equal plaintexts give different ciphertexts', () => {
    const p = [Buffer.alloc(64, 7)];
    const a = sealBytes(key, p, 'x');
    const b = sealBytes(key, p, 'x');
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.bytes.equals(b.bytes)).toBe(false);
  });
});
