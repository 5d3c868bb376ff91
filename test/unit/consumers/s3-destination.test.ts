import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3Destination, type S3Settings } from '../../../src/consumers/destinations/s3-destination.js';
import { makeFrame } from './make-frame.js';

type Received = { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer };

let server: Server;
let s3: S3Settings;
const received: Received[] = [];
let statuses: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.statusCode = statuses.length > 1 ? statuses.shift()! : statuses[0]!;
      res.end(res.statusCode === 200 ? '' : `<Error><Code>Status${res.statusCode}</Code></Error>`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s3 = { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'eu-west-3', accessKeyId: 'AKIDTEST', secretAccessKey: 'secret/key+test' };
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  received.length = 0;
  statuses = [200];
});

const FN = '91343852333181432392682062607743920146264883612';

/** Checks a request's SigV4 signature the way an S3 server does: from what arrived on the wire. */
async function verifySignature(r: Received, creds: S3Settings): Promise<void> {
  const auth = r.headers['authorization'] ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  expect(m, auth).not.toBeNull();
  const [, akid, day, region, signedHeaders] = m!;
  expect([akid, region]).toEqual([creds.accessKeyId, creds.region]);
  const amzDate = r.headers['x-amz-date'] as string;
  expect(amzDate.slice(0, 8)).toBe(day);
  const headers: Record<string, string> = {};
  for (const name of signedHeaders!.split(';')) {
    headers[name] = String(r.headers[name]);
  }
  const signer = new SignatureV4({ service: 's3', region: creds.region, credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }, sha256: Sha256, uriEscapePath: false });
  const when = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  const url = new URL(r.url, 'http://x');
  const again = await signer.sign({ method: r.method, protocol: 'http:', hostname: headers['host']!.split(':')[0]!, path: url.pathname, query: {}, headers, body: r.body }, { signingDate: when });
  expect(again.headers['authorization']).toBe(auth);
}

describe('S3Destination', () => {
  it.each([
    ['prefix, JPEG, producer time', 'bucket', 'images/day', 'PRODUCER_TIMESTAMP', 'JPEG', `/bucket/images/day/cam1/2025/11/27/21/1764280001500-${FN}.jpg`, 'image/jpeg'],
    ['no prefix, PNG, server time', 'b2', '', 'SERVER_TIMESTAMP', 'PNG', `/b2/cam1/2025/11/27/21/1764280001620-${FN}.png`, 'image/png'],
    ['prefix slashes trimmed', 'bucket', '/p/', 'PRODUCER_TIMESTAMP', 'JPEG', `/bucket/p/cam1/2025/11/27/21/1764280001500-${FN}.jpg`, 'image/jpeg'],
    ['key characters URI-encoded per segment', 'bucket', 'a b+c', 'PRODUCER_TIMESTAMP', 'JPEG', `/bucket/a%20b%2Bc/cam1/2025/11/27/21/1764280001500-${FN}.jpg`, 'image/jpeg'],
  ] as const)('%s: one signed path-style PutObject', async (_name, bucket, prefix, selector, format, path, type) => {
    const d = new S3Destination(s3, bucket, prefix, selector);
    expect(d.type).toBe('DESTINATION');
    const frame = makeFrame({ format });
    expect(await d.deliver(frame)).toEqual([]);
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect([r.method, r.url]).toEqual(['PUT', path]);
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['content-length']).toBe(String(frame.image.length));
    expect(r.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(frame.image).digest('hex'));
    expect(new Uint8Array(r.body)).toEqual(frame.image);
    await verifySignature(r, s3);
    expect(d.locate(frame)).toBe(`s3://${bucket}/${decodeURIComponent(path.slice(bucket.length + 2))}`);
  });

  it('an endpoint with a trailing slash', async () => {
    await new S3Destination({ ...s3, endpoint: `${s3.endpoint}/` }, 'bucket', '', 'PRODUCER_TIMESTAMP').deliver(makeFrame());
    expect(received[0]!.url).toBe(`/bucket/cam1/2025/11/27/21/1764280001500-${FN}.jpg`);
    await verifySignature(received[0]!, s3);
  });

  it('a 5xx is retried with a fresh signature; success on the second attempt', async () => {
    statuses = [503, 200];
    expect(await new S3Destination(s3, 'bucket', '', 'PRODUCER_TIMESTAMP').deliver(makeFrame())).toEqual([]);
    expect(received).toHaveLength(2);
    await verifySignature(received[1]!, s3);
  });

  it('a 4xx is not retried; the error carries the status and S3’s answer', async () => {
    statuses = [403];
    await expect(new S3Destination(s3, 'bucket', '', 'PRODUCER_TIMESTAMP').deliver(makeFrame())).rejects.toThrow('S3 PutObject 403: <Error><Code>Status403</Code></Error>');
    expect(received).toHaveLength(1);
  });

  it('5xx every time: three attempts, then the last error', async () => {
    statuses = [500];
    await expect(new S3Destination(s3, 'bucket', '', 'PRODUCER_TIMESTAMP').deliver(makeFrame())).rejects.toThrow(/^S3 PutObject 500/);
    expect(received).toHaveLength(3);
  });
});
