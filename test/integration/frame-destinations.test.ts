import { CreateStreamCommand, UpdateImageGenerationConfigurationCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvsHttp } from '../../src/cli/kvs-http.js';
import { S3Destination } from '../../src/consumers/destinations/s3-destination.js';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, controlClient, startTestServer, type TestServer } from '../helpers/server.js';

// Image destinations other than a directory: an S3-compatible bucket (s3rver stores objects but does not check
// signatures, so a capturing endpoint re-signs one request to check the SigV4 PUT), and a bucket that is missing.

const T0 = 1_750_000_000;
let s3dir: string;
let s3: S3rver;
let s3Url: string;
let server: TestServer;
let kv: KinesisVideoClient;
let api: KvsHttp;

beforeAll(async () => {
  s3dir = mkdtempSync(join(tmpdir(), 'openkvs-s3-'));
  s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{ name: 'frames', configs: [] }] });
  const { port } = await s3.run();
  s3Url = `http://127.0.0.1:${port}`;
  // s3rver's built-in account
  server = await startTestServer({ putMediaCallsPerSecond: 1000, s3Endpoint: s3Url, s3AccessKeyId: 'S3RVER', s3SecretAccessKey: 'S3RVER' });
  kv = controlClient(server.url);
  api = new KvsHttp({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } });
});

afterAll(async () => {
  kv.destroy();
  await server.stop();
  await s3.close();
  rmSync(s3dir, { recursive: true, force: true });
});

async function enable(name: string, uri: string): Promise<void> {
  await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 1 }));
  await kv.send(
    new UpdateImageGenerationConfigurationCommand({
      StreamName: name,
      ImageGenerationConfiguration: { Status: 'ENABLED', ImageSelectorType: 'SERVER_TIMESTAMP', DestinationConfig: { Uri: uri, DestinationRegion: 'us-east-1' }, SamplingInterval: 1000, Format: 'PNG', HeightPixels: 90 },
    }),
  );
  const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: T0.toFixed(3) });
  expect(res.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);
}

type Status = { FramesDelivered: number; Destination: { Delivered: number; Errors: number; LastError: string | null } };

async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) {
      return v;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function listKeys(prefix: string): Promise<string[]> {
  const res = await fetch(`${s3Url}/frames?list-type=2&prefix=${encodeURIComponent(prefix)}`);
  const xml = await res.text();
  return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!).sort();
}

describe('S3 PutObject signing', () => {
  it('sends a path-style PUT whose SigV4 signature (service s3, payload hash) verifies', async () => {
    const seen: { method: string; url: string; headers: Record<string, string>; body: Buffer }[] = [];
    const capture = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) });
        res.end();
      });
    });
    await new Promise<void>((r) => capture.listen(0, '127.0.0.1', r));
    const port = (capture.address() as AddressInfo).port;
    const creds = { accessKeyId: 'AKIDCAPTURE', secretAccessKey: 'capture-secret' };
    const dest = new S3Destination({ endpoint: `http://127.0.0.1:${port}`, region: 'eu-west-1', ...creds }, 'bucket', 'pre/fix', 'PRODUCER_TIMESTAMP');
    const image = new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]);
    await dest.deliver({ streamName: 'cam 1', streamArn: 'arn', fragmentNumber: '42', producerTimestamp: T0 * 1000, serverTimestamp: T0 * 1000, format: 'JPEG', image, width: 1, height: 1, luma: { width: 0, height: 0, data: new Uint8Array() } });
    await new Promise<void>((r) => capture.close(() => r()));
    const req = seen[0]!;
    expect(req.method).toBe('PUT');
    expect(decodeURIComponent(req.url)).toBe('/bucket/pre/fix/cam 1/2025/06/15/15/1750000000000-42.jpg');
    expect(req.body.equals(Buffer.from(image))).toBe(true);
    expect(req.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(image).digest('hex'));
    const auth = req.headers['authorization']!;
    expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDCAPTURE\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-content-sha256[^,]*x-amz-date/);
    // an independent signer over what arrived, at the request's own time, must agree
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)![1]!.split(';');
    const signer = new SignatureV4({ service: 's3', region: 'eu-west-1', credentials: creds, sha256: Sha256, uriEscapePath: false });
    const x = req.headers['x-amz-date']!;
    const when = new Date(`${x.slice(0, 4)}-${x.slice(4, 6)}-${x.slice(6, 8)}T${x.slice(9, 11)}:${x.slice(11, 13)}:${x.slice(13, 15)}Z`);
    const again = await signer.sign(
      { method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', port, path: req.url, query: {}, headers: Object.fromEntries(signedHeaders.map((h) => [h, req.headers[h]!])), body: req.body },
      { signingDate: when },
    );
    expect(again.headers['authorization']).toBe(auth);
  });
});

describe('image destinations', () => {
  it('puts one PNG per interval into an S3-compatible bucket under <prefix>/<stream>/<YYYY>/<MM>/<DD>/<HH>/', async () => {
    await enable('s3cam', 's3://frames/site-a/cams');
    const s = await waitFor(() => api.call<Status>('/openkvs/describeFrameConsumer', { StreamName: 's3cam' }), (v) => v.Destination.Delivered >= 5);
    expect(s.Destination).toMatchObject({ Delivered: 5, Errors: 0 });
    const keys = await listKeys('site-a/cams/s3cam/');
    expect(keys).toHaveLength(5);
    for (const k of keys) {
      expect(k).toMatch(/^site-a\/cams\/s3cam\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{13}-\d+\.png$/);
    }
    const object = new Uint8Array(await (await fetch(`${s3Url}/frames/${keys[0]}`)).arrayBuffer());
    expect([...object.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // SERVER_TIMESTAMP names the objects: they are after the stream was created, not at the producer's 2025 times
    expect(Number(keys[0]!.split('/').at(-1)!.split('-')[0])).toBeGreaterThan(T0 * 1000 + 1e9);
  });

  it('reports a bucket it cannot reach as destination errors while the consumer keeps running', async () => {
    await enable('s3missing', 's3://no-such-bucket/x');
    const s = await waitFor(() => api.call<Status & { Status: string }>('/openkvs/describeFrameConsumer', { StreamName: 's3missing' }), (v) => v.Destination.Errors >= 5);
    expect(s.Status).toBe('RUNNING');
    expect(s.Destination.Delivered).toBe(0);
    expect(s.Destination.LastError).toMatch(/S3 PutObject 404/);
    expect(readdirSync(join(s3dir)).sort()).toEqual(['frames']);
  });
});
