import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BODY_READ_TIMEOUT_MS, MAX_JSON_BODY_BYTES, readBody } from '../../../src/api/read-body.js';
import { KvsError } from '../../../src/errors/codes.js';

const request = (headers: Record<string, string> = {}): PassThrough & IncomingMessage => Object.assign(new PassThrough(), { headers }) as unknown as PassThrough & IncomingMessage;

describe('readBody', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns the body once it has all arrived', async () => {
    const req = request();
    const body = readBody(req);
    req.write('{"a":');
    req.end('1}');
    expect((await body).toString()).toBe('{"a":1}');
  });

  it('refuses a body over the limit, declared or sent', async () => {
    await expect(readBody(request({ 'content-length': String(MAX_JSON_BODY_BYTES + 1) }))).rejects.toMatchObject({ errorName: 'RequestEntityTooLargeException' });
    const req = request();
    const body = readBody(req, 4);
    req.end('12345');
    await expect(body).rejects.toMatchObject({ errorName: 'RequestEntityTooLargeException' });
  });

  it('gives up on a body still incomplete after BODY_READ_TIMEOUT_MS, and destroys the request', async () => {
    vi.useFakeTimers();
    const req = request();
    const body = readBody(req);
    const outcome = body.then(
      () => null,
      (e: unknown) => e,
    );
    req.write('{"trickled":');
    await vi.advanceTimersByTimeAsync(BODY_READ_TIMEOUT_MS - 1);
    req.write('1');
    await vi.advanceTimersByTimeAsync(1);
    const err = await outcome;
    expect(err).toBeInstanceOf(KvsError);
    expect((err as KvsError).errorName).toBe('InvalidArgumentException');
    expect(req.destroyed).toBe(true);
  });
});
