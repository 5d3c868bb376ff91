import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, ackErrorAction, backoffDelayMs, httpErrorRetryable } from '../../../src/sdk/retry.js';

const opts = { baseDelayMs: 100, maxDelayMs: 1000 };

describe('backoffDelayMs (exponential, full jitter)', () => {
  it.each([
    // attempt, random, expected
    [1, 0, 0],
    [1, 0.5, 50],
    [1, 0.999999, 99],
    [2, 0.5, 100],
    [3, 0.5, 200],
    [4, 0.999999, 799],
    [5, 0.5, 500], // ceiling capped at maxDelayMs
    [30, 0.999999, 999],
    [1000, 0.5, 500], // no overflow for absurd attempts
  ])('attempt %i with random %f → %i ms', (attempt, r, expected) => {
    expect(backoffDelayMs(attempt, opts, () => r)).toBe(expected);
  });

  it('stays within [0, min(max, base·2^(n-1))) for every attempt and random draw', () => {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
      for (const r of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999999]) {
        const d = backoffDelayMs(attempt, opts, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
    }
  });

  it('clamps a random source outside [0, 1)', () => {
    expect(backoffDelayMs(1, opts, () => -3)).toBe(0);
    expect(backoffDelayMs(1, opts, () => 7)).toBe(100);
  });

  it('defaults to Math.random within the ceiling', () => {
    for (let i = 0; i < 100; i++) {
      expect(backoffDelayMs(3, DEFAULT_RETRY)).toBeLessThan(DEFAULT_RETRY.baseDelayMs * 4);
    }
  });
});

describe('ackErrorAction', () => {
  it.each([
    [4000, 'reconnect'],
    [4001, 'fatal'],
    [4002, 'skip'],
    [4003, 'reconnect'],
    [4004, 'skip'],
    [4005, 'fatal'],
    [4006, 'fatal'],
    [4007, 'skip'],
    [4008, 'fatal'],
    [4009, 'fatal'],
    [4013, 'resend'],
    [4500, 'fatal'],
    [4506, 'fatal'],
    [4507, 'fatal'],
    [5000, 'reconnect'],
    [5001, 'resend'],
    [9999, 'fatal'],
  ])('ErrorId %i → %s', (id, action) => {
    expect(ackErrorAction(id)).toBe(action);
  });
});

describe('httpErrorRetryable', () => {
  it.each<[number, string | undefined, boolean]>([
    [400, 'ClientLimitExceededException', true],
    [400, 'ConnectionLimitExceededException', true],
    [400, 'InvalidArgumentException', false],
    [403, 'InvalidSignatureException', false],
    [401, 'NotAuthorizedException', false],
    [404, 'ResourceNotFoundException', false],
    [429, undefined, true],
    [500, 'InternalFailure', true],
    [502, undefined, true],
    [503, undefined, true],
  ])('%i %s → %s', (status, type, retryable) => {
    expect(httpErrorRetryable(status, type)).toBe(retryable);
  });
});
