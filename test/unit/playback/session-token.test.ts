import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KvsError } from '../../../src/errors/codes.js';
import { SessionTokens, type SessionClaims } from '../../../src/playback/session-token.js';

const claims: Omit<SessionClaims, 'id'> = {
  protocol: 'hls',
  streamId: 1,
  streamArn: 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam1/1',
  mode: 'ON_DEMAND',
  kind: 'server',
  container: 'FRAGMENTED_MP4',
  discontinuity: 'ALWAYS',
  displayTimestamp: false,
  displayNumber: false,
  maxResults: 1000,
  issuedMs: 1_000_000,
  expiresMs: 1_300_000,
};

const refusal = (f: () => unknown): KvsError => {
  try {
    f();
  } catch (err) {
    return err as KvsError;
  }
  throw new Error('accepted');
};

describe('SessionTokens', () => {
  const tokens = new SessionTokens(randomBytes(32));
  const token = tokens.issue(claims);
  const [body, mac] = token.split('.') as [string, string];

  it('holds until expiresMs and not a millisecond longer', () => {
    expect(tokens.verify(token, 1_299_999).streamId).toBe(1);
    expect(refusal(() => tokens.verify(token, 1_300_000)).message).toMatch(/expired/);
  });

  it.each([
    ['a MAC of another length (compared without throwing)', `${body}.${mac}AA`],
    ['a MAC of the same length, one character changed', `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`],
    ['an extended expiry under the old MAC', `${Buffer.from(JSON.stringify({ v: 1, ...claims, expiresMs: 9e15 })).toString('base64url')}.${mac}`],
    ['another key\'s token', new SessionTokens(randomBytes(32)).issue(claims)],
    ['no MAC', body],
    ['a MAC alone', `.${mac}`],
  ])('refuses %s as NotAuthorizedException', (_label, bad) => {
    const err = refusal(() => tokens.verify(bad, 1_000_001));
    expect(err).toBeInstanceOf(KvsError);
    expect(err.errorName).toBe('NotAuthorizedException');
  });
});
