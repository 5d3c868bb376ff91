import { CreateStreamCommand, DescribeStreamCommand, ResourceNotFoundException } from '@aws-sdk/client-kinesis-video';
import { GetHLSStreamingSessionURLCommand } from '@aws-sdk/client-kinesis-video-archived-media';
import { GetMediaCommand, KinesisVideoMediaClient } from '@aws-sdk/client-kinesis-video-media';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/util/logger.js';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { openSignaling } from '../helpers/signaling-ws.js';
import { signedPost } from '../helpers/signed-fetch.js';
import { until } from '../helpers/until.js';
import { archivedClient, controlClient, startTestServer, TEST_ACCESS_KEY, TEST_SECRET, type TestServer } from '../helpers/server.js';

type Line = Record<string, unknown>;

const lines: string[] = [];
const parsed = (): Line[] => lines.map((l) => JSON.parse(l) as Line);
const requestLines = (path: string): Line[] => parsed().filter((o) => o['msg'] === 'request' && o['path'] === path);
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({}, { logger: createLogger('debug', (l) => lines.push(l)) });
});
afterAll(async () => {
  await server?.stop();
});

describe('access log', () => {
  it('writes one line per request with the id of its x-amzn-RequestId header, the caller and the bytes', async () => {
    const kv = controlClient(server.url);
    const out = await kv.send(new CreateStreamCommand({ StreamName: 'log-a', DataRetentionInHours: 1 }));
    const err = await kv.send(new DescribeStreamCommand({ StreamName: 'log-missing' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);

    const [created] = requestLines('/createStream');
    expect(created).toMatchObject({ level: 'info', component: 'openkvs.http', method: 'POST', status: 200, requestId: out.$metadata.requestId, accessKeyId: TEST_ACCESS_KEY });
    expect(created!['ms']).toEqual(expect.any(Number));
    expect(created!['bytesIn']).toBeGreaterThan(0);
    expect(created!['bytesOut']).toBeGreaterThan(0);
    const [missing] = requestLines('/describeStream');
    expect(missing).toMatchObject({ level: 'info', status: 404, requestId: (err as ResourceNotFoundException).$metadata.requestId });
    expect(parsed().filter((o) => o['requestId'] === out.$metadata.requestId && o['msg'] === 'request')).toHaveLength(1);
  });

  it('stamps component lines logged while a request is handled with its id', async () => {
    const res = await putMedia(server.url, new TextEncoder().encode('this is not matroska at all'.repeat(10)), { streamName: 'log-a' });
    const requestId = res.headers['x-amzn-requestid'];
    expect(typeof requestId).toBe('string');
    const rejected = parsed().find((o) => o['msg'] === 'putMedia() | rejected media');
    expect(rejected).toMatchObject({ requestId });
    expect(rejected!['component']).not.toBe('openkvs.http');
    // the request line comes after it, once the acks are done
    expect(requestLines('/putMedia').filter((o) => o['requestId'] === requestId)).toHaveLength(1);
  });

  it('keeps successful media requests at debug, leaves the query string (and its credentials) out', async () => {
    const ok = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'log-a', timecodeType: 'RELATIVE' });
    expect(ok.acks.filter((a) => a.EventType === 'PERSISTED').length).toBeGreaterThan(0);
    const session = await archivedClient(server.url).send(new GetHLSStreamingSessionURLCommand({ StreamName: 'log-a', PlaybackMode: 'LIVE' }));
    const url = session.HLSStreamingSessionURL!;
    const token = new URL(url).searchParams.get('SessionToken')!;
    expect((await fetch(url)).status).toBe(200);
    const bad = new URL(url);
    bad.pathname = bad.pathname.replace('getHLSMasterPlaylist.m3u8', 'getMP4MediaFragment.mp4');
    bad.searchParams.set('FragmentNumber', '1');
    expect((await fetch(bad)).status).toBeGreaterThanOrEqual(400);

    const putLines = requestLines('/putMedia').filter((o) => o['status'] === 200 && o['requestId'] === ok.headers['x-amzn-requestid']);
    expect(putLines).toMatchObject([{ level: 'debug' }]);
    expect(putLines[0]!['bytesIn']).toBeGreaterThan(fixture('mkv/h264-5s-1s-gop.mkv').length);
    expect(requestLines('/hls/v1/getHLSMasterPlaylist.m3u8')).toMatchObject([{ level: 'debug', method: 'GET', status: 200 }]);
    const [failed] = requestLines('/hls/v1/getMP4MediaFragment.mp4');
    expect(failed!['level']).toBe('info');

    const everything = lines.join('\n');
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(TEST_SECRET);
    expect(everything).not.toMatch(/Signature=[0-9a-f]{64}/);
  });

  it('logs a live GetMedia the client left as aborted, once, with the bytes it was sent', async () => {
    const media = new KinesisVideoMediaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, maxAttempts: 1 });
    try {
      const out = await media.send(new GetMediaCommand({ StreamName: 'log-a', StartSelector: { StartSelectorType: 'EARLIEST' } }));
      const payload = out.Payload as unknown as Readable;
      await new Promise((resolve) => payload.once('data', resolve));
      payload.destroy();
      const line = await until('the GetMedia request line', () => requestLines('/getMedia').find((o) => o['requestId'] === out.$metadata.requestId));
      expect(line).toMatchObject({ level: 'info', status: 200, aborted: true, accessKeyId: TEST_ACCESS_KEY });
      expect(line['bytesOut']).toBeGreaterThan(0);
    } finally {
      media.destroy();
    }
  });

  it('logs requests without a signature without an access key id', async () => {
    expect((await fetch(new URL('/nothing-here?X-Amz-Signature=abc', server.url))).status).toBe(404);
    const [line] = requestLines('/nothing-here');
    expect(line).toMatchObject({ level: 'info', method: 'GET', status: 404 });
    expect(line).not.toHaveProperty('aborted');
    expect(line).not.toHaveProperty('accessKeyId');
  });

  it('writes one line per signaling WebSocket upgrade, accepted (101) or refused (the KVS error name)', async () => {
    const created = await signedPost(`${server.url}/createSignalingChannel`, JSON.stringify({ ChannelName: 'log-ch' }));
    const { ChannelARN } = (await created.json()) as { ChannelARN: string };
    const ws = await openSignaling(server.url, ChannelARN, 'MASTER');
    await ws.close();
    await expect(openSignaling(server.url, ChannelARN.replace(/\/\d+$/, '/1'), 'VIEWER', 'v1')).rejects.toThrow(/HTTP 404/);
    const master = await until('the master upgrade line', () => requestLines('/signaling/master')[0]);
    expect(master).toMatchObject({ level: 'info', component: 'openkvs.http', method: 'GET', status: 101, role: 'MASTER', accessKeyId: TEST_ACCESS_KEY });
    const viewer = await until('the refused viewer upgrade line', () => requestLines('/signaling/viewer')[0]);
    expect(viewer).toMatchObject({ level: 'info', component: 'openkvs.http', status: 404, errorType: 'ResourceNotFoundException', role: 'VIEWER', accessKeyId: TEST_ACCESS_KEY });
    // the query (a presigned URL: credential and signature) is not logged
    expect(lines.filter((l) => l.includes('/signaling/')).every((l) => !l.includes('X-Amz-Signature'))).toBe(true);
  });
});
