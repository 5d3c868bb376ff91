import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SEALED_PREFIX, SecretBox, isSealed } from '../../../src/iam/secret-box.js';

const secret = 'wJalrXUtnFEMIxK7MDENGxbPxRfiCYEXAMPLEKEYxx';

describe('SecretBox (access-key secrets at rest)', () => {
  const box = new SecretBox(randomBytes(32));

  it('seals a secret so that its text is not in the stored value, and opens it again', () => {
    const stored = box.seal('OKVKABCDEFGHIJKLMNOP', secret);
    expect(stored.startsWith(SEALED_PREFIX)).toBe(true);
    expect(stored).not.toContain(secret);
    expect(isSealed(stored)).toBe(true);
    expect(box.open('OKVKABCDEFGHIJKLMNOP', stored)).toBe(secret);
  });

  it('seals the same secret differently each time (a fresh nonce)', () => {
    expect(box.seal('OKVKABCDEFGHIJKLMNOP', secret)).not.toBe(box.seal('OKVKABCDEFGHIJKLMNOP', secret));
  });

  it.each([
    ['another key id (a row copied over another key)', (s: string) => box.open('OKVKZZZZZZZZZZZZZZZZ', s)],
    ['another master key', (s: string) => new SecretBox(randomBytes(32)).open('OKVKABCDEFGHIJKLMNOP', s)],
    ['a flipped byte', (s: string) => box.open('OKVKABCDEFGHIJKLMNOP', s.slice(0, -4) + (s.at(-4) === 'A' ? 'B' : 'A') + s.slice(-3))],
    ['a truncated value', () => box.open('OKVKABCDEFGHIJKLMNOP', `${SEALED_PREFIX}AAAA`)],
  ])('refuses to open with %s', (_what, open) => {
    const stored = box.seal('OKVKABCDEFGHIJKLMNOP', secret);
    expect(() => open(stored)).toThrow();
  });

  it('passes a clear secret from before sealing through unchanged', () => {
    expect(isSealed(secret)).toBe(false);
    expect(box.open('OKVKABCDEFGHIJKLMNOP', secret)).toBe(secret);
  });
});
