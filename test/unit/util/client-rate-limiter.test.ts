import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ClientKeys, isProxyEntry } from '../../../src/util/client-key.js';
import { AUTH_FAILURE_BURST, AUTH_FAILURES_PER_SECOND, ClientRateLimiter } from '../../../src/util/client-rate-limiter.js';
import { ManualClock } from '../../../src/util/clock.js';

describe('ClientRateLimiter', () => {
  it('gives each client its own burst, then the rate', () => {
    const clock = new ManualClock(0);
    const limiter = new ClientRateLimiter(2, 3, clock);
    expect([1, 2, 3, 4].map(() => limiter.tryTake('a'))).toEqual([true, true, true, false]);
    expect(limiter.tryTake('b')).toBe(true);
    clock.advance(500);
    expect(limiter.tryTake('a')).toBe(true);
    expect(limiter.tryTake('a')).toBe(false);
  });

  it('forgets clients once their bucket would be full again, and never holds more than its cap', () => {
    const clock = new ManualClock(0);
    const limiter = new ClientRateLimiter(10, 10, clock, 100);
    for (let i = 0; i < 50; i++) {
      limiter.tryTake(`c${i}`);
    }
    expect(limiter.size).toBe(50);
    clock.advance(1000); // 10 tokens at 10/s: every bucket has refilled
    limiter.tryTake('late');
    expect(limiter.size).toBe(1);
    for (let i = 0; i < 500; i++) {
      limiter.tryTake(`d${i}`);
    }
    expect(limiter.size).toBe(100);
  });

  it('keeps a client that is still being limited when it is not the oldest', () => {
    const clock = new ManualClock(0);
    const limiter = new ClientRateLimiter(1, 1, clock, 2);
    limiter.tryTake('a');
    limiter.tryTake('b');
    limiter.tryTake('a'); // a is now the most recent; b goes first when room is needed
    limiter.tryTake('c');
    expect(limiter.tryTake('a')).toBe(false);
  });
});

describe('ClientRateLimiter: failed authentications per address', () => {
  it('refuses every client of an address once it has failed AUTH_FAILURE_BURST times, until the allowance refills', () => {
    const clock = new ManualClock(0);
    const limiter = new ClientRateLimiter(1000, 1000, clock);
    for (let i = 0; i < AUTH_FAILURE_BURST; i++) {
      expect(limiter.tryTake(`key:FAKE${i}`, 'ip:198.51.100.1')).toBe(true);
      limiter.authenticationFailed('ip:198.51.100.1');
    }
    expect(limiter.tryTake('key:REAL', 'ip:198.51.100.1')).toBe(false);
    expect(limiter.tryTake('ip:198.51.100.1')).toBe(false);
    expect(limiter.tryTake('key:REAL', 'ip:198.51.100.2')).toBe(true);
    clock.advance(1000 / AUTH_FAILURES_PER_SECOND);
    expect(limiter.tryTake('key:REAL', 'ip:198.51.100.1')).toBe(true);
  });

  it('does not count requests that authenticated', () => {
    const clock = new ManualClock(0);
    const limiter = new ClientRateLimiter(1000, 1000, clock);
    for (let i = 0; i < AUTH_FAILURE_BURST * 3; i++) {
      expect(limiter.tryTake('key:REAL', 'ip:198.51.100.1')).toBe(true);
    }
  });
});

const req = (headers: Record<string, string>, url = '/', remoteAddress = '203.0.113.7'): IncomingMessage =>
  ({ headers, url, socket: { remoteAddress } }) as unknown as IncomingMessage;

const keys = new ClientKeys();

describe('ClientKeys.client', () => {
  it('is the access key id of a header-signed request', () => {
    const auth = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261207/us-east-1/kinesisvideo/aws4_request, SignedHeaders=host, Signature=' + 'a'.repeat(64);
    expect(keys.client(req({ authorization: auth }))).toBe('key:AKIDEXAMPLE');
  });

  it('is the access key id of a presigned URL', () => {
    expect(keys.client(req({}, '/signaling/master?X-Amz-Credential=AKIDPRESIGNED%2F20261207%2Fus-east-1%2Fkinesisvideo%2Faws4_request&X-Amz-Signature=00'))).toBe('key:AKIDPRESIGNED');
  });

  it('falls back to the address for anything else, including key ids that could not be real', () => {
    expect(keys.client(req({}))).toBe('ip:203.0.113.7');
    expect(keys.client(req({ authorization: 'AWS4-HMAC-SHA256 Credential=../../x/y' }))).toBe('ip:203.0.113.7');
    expect(keys.client(req({}, '/hls/v1/x?X-Amz-Credential=%00evil%2Fx'))).toBe('ip:203.0.113.7');
  });
});

describe('ClientKeys.address behind trusted proxies', () => {
  const proxied = new ClientKeys(['10.0.0.2', '10.1.0.0/16', 'fd00::/8']);
  it.each([
    ['a trusted proxy: the address it appended', '10.0.0.2', '198.51.100.9', 'ip:198.51.100.9'],
    ['a chain of trusted proxies: the nearest untrusted hop', '10.0.0.2', '198.51.100.9, 10.1.2.3', 'ip:198.51.100.9'],
    ['a spoofed left part is not believed past the first untrusted hop', '10.0.0.2', '1.1.1.1, 198.51.100.9', 'ip:198.51.100.9'],
    ['an IPv4-mapped peer on a dual-stack socket', '::ffff:10.0.0.2', '198.51.100.9', 'ip:198.51.100.9'],
    ['an IPv6 proxy subnet', 'fd00::1', '2001:db8::7', 'ip:2001:db8::7'],
    ['an untrusted peer: its header is ignored', '203.0.113.7', '198.51.100.9', 'ip:203.0.113.7'],
    ['a trusted proxy without the header: the proxy', '10.0.0.2', undefined, 'ip:10.0.0.2'],
    ['garbage where an address is due: the proxy', '10.0.0.2', 'not-an-address', 'ip:10.0.0.2'],
    ['only trusted hops: the left-most', '10.0.0.2', '10.1.0.5, 10.1.0.6', 'ip:10.1.0.5'],
  ])('%s', (_what, peer, xff, expected) => {
    expect(proxied.address(req(xff === undefined ? {} : { 'x-forwarded-for': xff }, '/', peer))).toBe(expected);
  });

  it('without trusted proxies ignores X-Forwarded-For entirely', () => {
    expect(keys.address(req({ 'x-forwarded-for': '198.51.100.9' }, '/', '127.0.0.1'))).toBe('ip:127.0.0.1');
  });

  it.each([
    ['10.0.0.1', true],
    ['10.0.0.0/8', true],
    ['fd00::/8', true],
    ['::1', true],
    ['10.0.0.0/33', false],
    ['fd00::/129', false],
    ['10.0.0', false],
    ['example.com', false],
    ['10.0.0.0/8/1', false],
  ])('accepts %s as a trustedProxies entry: %s', (entry, ok) => {
    expect(isProxyEntry(entry)).toBe(ok);
  });
});
