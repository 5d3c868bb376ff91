import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoFor, hmacPure, presignUrl, sha256Pure, signRequest, toHex } from '../../src/console/assets/sigv4.js';
import { prng } from '../helpers/prng.js';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';

// The console signs in the browser with its own SigV4 code (WebCrypto, or plain JS on insecure origins). These run
// that code in Node against node:crypto and the AWS SDK's signer; the browser tests run it in Chromium.

const bytesOf = (n: number, seed: number): Uint8Array => {
  const next = prng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
};

describe('console SigV4: the plain-JS digests', () => {
  it('sha256Pure equals node:crypto on every length around the block boundaries and on 1 MiB', () => {
    const lengths = [...Array.from({ length: 140 }, (_, i) => i), 1000, 4095, 4096, 4097, 1 << 20];
    for (const n of lengths) {
      const data = bytesOf(n, n + 1);
      expect(toHex(sha256Pure(data)), `length ${n}`).toBe(createHash('sha256').update(data).digest('hex'));
    }
    expect(toHex(sha256Pure('héllo ✓'))).toBe(createHash('sha256').update('héllo ✓', 'utf8').digest('hex'));
  });

  it('hmacPure equals node:crypto for short, block-sized and longer-than-a-block keys', () => {
    for (const keyLength of [0, 1, 20, 63, 64, 65, 200]) {
      const key = bytesOf(keyLength, 7 + keyLength);
      const data = bytesOf(300, 11);
      expect(toHex(hmacPure(key, data)), `key ${keyLength}`).toBe(createHmac('sha256', key).update(data).digest('hex'));
    }
  });
});

describe('console SigV4: signRequest', () => {
  const date = new Date('2026-11-27T10:15:30.123Z');
  const body = '{"StreamName":"cam-1","MaxResults":5}';

  async function sdkSignature(url: string, region: string): Promise<Record<string, string>> {
    const u = new URL(url);
    const signer = new SignatureV4({ credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, region, service: 'kinesisvideo', sha256: Sha256, applyChecksum: true });
    const signed = await signer.sign(
      { method: 'POST', protocol: u.protocol, hostname: u.hostname, port: Number(u.port), path: u.pathname, query: Object.fromEntries(u.searchParams), headers: { host: u.host, 'content-type': 'application/json' }, body },
      { signingDate: date },
    );
    return signed.headers as Record<string, string>;
  }

  for (const kind of ['subtle', 'js'] as const) {
    it(`produces the AWS SDK's Authorization header (${kind} digests)`, async () => {
      const digests = kind === 'js' ? cryptoFor(null) : cryptoFor();
      expect(digests.kind).toBe(kind);
      for (const url of ['http://127.0.0.1:8080/listStreams', 'http://192.168.1.20:8080/getHLSStreamingSessionURL', 'http://kvs.lan/a%20b/c?b=2&a=x%20y']) {
        const ours = await signRequest({
          method: 'POST',
          url,
          headers: { 'Content-Type': 'application/json' },
          body,
          credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET },
          region: 'us-west-2',
          service: 'kinesisvideo',
          date,
          crypto: digests,
        });
        const sdk = await sdkSignature(url, 'us-west-2');
        expect(ours['authorization'], url).toBe(sdk['authorization']);
        expect(ours['x-amz-date']).toBe(sdk['x-amz-date']);
        expect(ours['x-amz-content-sha256']).toBe(sdk['x-amz-content-sha256']);
        // browsers set Host themselves and refuse scripts that try
        expect(ours['host']).toBeUndefined();
      }
    });
  }
});

describe('console SigV4 against the server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  async function call(secret: string, digests = cryptoFor()): Promise<Response> {
    const url = `${server.url}/listStreams`;
    const text = '{"MaxResults":1}';
    const headers = await signRequest({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      body: text,
      credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: secret },
      region: 'eu-central-1',
      service: 'kinesisvideo',
      crypto: digests,
    });
    return fetch(url, { method: 'POST', headers, body: text });
  }

  it('is accepted with the right secret, with either digest implementation', async () => {
    expect((await call(TEST_SECRET)).status).toBe(200);
    expect((await call(TEST_SECRET, cryptoFor(null))).status).toBe(200);
  });

  it('is refused with InvalidSignatureException for a wrong secret', async () => {
    const res = await call('not-the-secret');
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
  });
});

describe('console SigV4: presignUrl (the signaling WebSocket URL)', () => {
  it('reproduces the KVS WebRTC SDK signer test vector (kvs-api.md §5.2), with WebCrypto and with the plain-JS digests', async () => {
    const want =
      'wss://kvs.awsamazon.com/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA4F7WJQR7FMMWMNXI%2F20191201%2Fus-west-2%2Fkinesisvideo%2Faws4_request' +
      '&X-Amz-Date=20191201T000000Z&X-Amz-Expires=299&X-Amz-Security-Token=FakeSessionToken&X-Amz-SignedHeaders=host&X-Amz-TestParam=test-param-value' +
      '&X-Amz-Signature=fc268038be276315822b4f73eafd28ee3a5632a2a35fdb0a88db9a42b13d6c92';
    for (const digests of [cryptoFor(), cryptoFor(null)]) {
      const url = await presignUrl({
        url: 'wss://kvs.awsamazon.com?X-Amz-TestParam=test-param-value',
        credentials: { accessKeyId: 'AKIA4F7WJQR7FMMWMNXI', secretAccessKey: 'FakeSecretKey', sessionToken: 'FakeSessionToken' },
        region: 'us-west-2',
        service: 'kinesisvideo',
        date: new Date('2019-12-01T00:00:00Z'),
        crypto: digests,
      });
      expect(url, digests.kind).toBe(want);
    }
  });
});
