import { ListStreamsCommand } from '@aws-sdk/client-kinesis-video';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest, signedPost } from '../helpers/signed-fetch.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.stop();
});

const createBody = (name: string): string => JSON.stringify({ StreamName: name });
const streamNames = async (): Promise<string[]> => {
  const kv = controlClient(server.url);
  const out = await kv.send(new ListStreamsCommand({}));
  kv.destroy();
  return (out.StreamInfoList ?? []).map((s) => s.StreamName!);
};

async function expect403(res: Response, errorType: string, message?: RegExp): Promise<void> {
  expect(res.status).toBe(403);
  expect(res.headers.get('x-amzn-errortype')).toBe(errorType);
  const body = (await res.json()) as { __type: string; message: string };
  expect(body.__type).toBe(errorType);
  if (message) {
    expect(body.message).toMatch(message);
  }
}

describe('SigV4 enforcement', () => {
  it('accepts a correctly signed request (control)', async () => {
    const res = await signedPost(`${server.url}/createStream`, createBody('signed-ok'));
    expect(res.status).toBe(200);
    expect(await streamNames()).toContain('signed-ok');
  });

  it('refuses an unsigned request with MissingAuthenticationTokenException and changes nothing', async () => {
    const res = await fetch(`${server.url}/createStream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: createBody('unsigned') });
    await expect403(res, 'MissingAuthenticationTokenException');
    expect(await streamNames()).not.toContain('unsigned');
  });

  it('refuses a wrong secret with InvalidSignatureException', async () => {
    await expect403(await signedPost(`${server.url}/createStream`, createBody('wrong-secret'), { secret: 'not-the-secret-at-all-000' }), 'InvalidSignatureException', /does not match/);
    expect(await streamNames()).not.toContain('wrong-secret');
  });

  it('refuses an unknown access key with UnrecognizedClientException', async () => {
    await expect403(await signedPost(`${server.url}/createStream`, createBody('unknown-key'), { accessKeyId: 'AKIDNOBODY0000000000' }), 'UnrecognizedClientException');
    expect(await streamNames()).not.toContain('unknown-key');
  });

  it('refuses a tampered body (signed with the SDK-style x-amz-content-sha256)', async () => {
    const s = await signRequest(`${server.url}/createStream`, createBody('original'));
    const res = await fetch(`${server.url}/createStream`, { method: 'POST', headers: s.headers, body: createBody('tampered') });
    await expect403(res, 'InvalidSignatureException');
    expect(await streamNames()).not.toContain('tampered');
  });

  it('refuses a tampered body signed CLI-style (no x-amz-content-sha256, body hashed by the server)', async () => {
    const s = await signRequest(`${server.url}/createStream`, createBody('cli-original'), { applyChecksum: false, region: 'eu-west-1' });
    expect(Object.keys(s.headers)).not.toContain('x-amz-content-sha256');
    const ok = await fetch(`${server.url}/createStream`, { method: 'POST', headers: s.headers, body: s.body });
    expect(ok.status).toBe(200);
    const bad = await fetch(`${server.url}/createStream`, { method: 'POST', headers: s.headers, body: createBody('cli-tampered') });
    await expect403(bad, 'InvalidSignatureException');
    expect(await streamNames()).toContain('cli-original');
    expect(await streamNames()).not.toContain('cli-tampered');
  });

  it.each([
    ['20 minutes old', -20 * 60_000, /Signature expired/],
    ['20 minutes in the future', 20 * 60_000, /Signature not yet current/],
  ])('refuses a request signed %s', async (_label, offset, message) => {
    const res = await signedPost(`${server.url}/createStream`, createBody('skewed'), { signingDate: new Date(Date.now() + offset) });
    await expect403(res, 'InvalidSignatureException', message);
    expect(await streamNames()).not.toContain('skewed');
  });

  it('accepts 10 minutes of skew (inside the 15-minute window)', async () => {
    const res = await signedPost(`${server.url}/createStream`, createBody('skew-ok'), { signingDate: new Date(Date.now() - 10 * 60_000) });
    expect(res.status).toBe(200);
  });

  it('refuses a malformed Authorization header and a wrong service scope', async () => {
    const res = await fetch(`${server.url}/createStream`, { method: 'POST', headers: { authorization: 'AWS4-HMAC-SHA256 garbage', 'x-amz-date': '20260101T000000Z' }, body: createBody('malformed') });
    await expect403(res, 'IncompleteSignatureException');
    await expect403(await signedPost(`${server.url}/createStream`, createBody('wrong-service'), { service: 's3' }), 'InvalidSignatureException');
    expect(await streamNames()).not.toContain('malformed');
  });

  it('accepts any region in the credential scope', async () => {
    const res = await signedPost(`${server.url}/createStream`, createBody('ap-region'), { region: 'ap-southeast-2' });
    expect(res.status).toBe(200);
  });

  it('the SDK with a wrong secret gets InvalidSignatureException', async () => {
    const kv = controlClient(server.url, 'definitely-wrong-secret-0000');
    const err = await kv.send(new ListStreamsCommand({})).catch((e: unknown) => e);
    kv.destroy();
    expect((err as Error).name).toBe('InvalidSignatureException');
  });
});
