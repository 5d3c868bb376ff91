import { CreateSignalingChannelCommand, CreateStreamCommand, ListStreamsCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { MAX_JSON_BODY_BYTES } from '../../src/api/read-body.js';
import { MAX_FRAME_BYTES } from '../../src/signaling/signaling-messages.js';
import { AUTH_FAILURE_BURST } from '../../src/util/client-rate-limiter.js';
import { ManualClock } from '../../src/util/clock.js';
import { MAX_URL_BYTES } from '../../src/util/url-limit.js';
import { fixture } from '../helpers/media.js';
import { scrape } from '../helpers/metrics-scrape.js';
import { putMedia } from '../helpers/put-media-client.js';
import { rawGet, rawHttp, rawUpgrade } from '../helpers/raw-http.js';
import { openSignaling } from '../helpers/signaling-ws.js';
import { signedPost } from '../helpers/signed-fetch.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

const errorTypeOf = (headers: string): string | undefined => /x-amzn-ErrorType: *([A-Za-z]+)/i.exec(headers)?.[1];

describe('per-client request rate (requestsPerSecondPerClient / requestBurstPerClient)', () => {
  const clock = new ManualClock(Date.now());
  let server: TestServer;
  let kv: KinesisVideoClient;
  let channelArn: string;

  beforeAll(async () => {
    server = await startTestServer({ requestsPerSecondPerClient: 1, requestBurstPerClient: 4 }, { clock });
    kv = controlClient(server.url);
    await kv.send(new CreateStreamCommand({ StreamName: 'rl', DataRetentionInHours: 1 }));
    channelArn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'rl-ch' }))).ChannelARN!;
    clock.advance(10_000);
  });
  afterAll(async () => {
    kv.destroy();
    await server.stop();
  });

  it('limits a signed client across API calls, PutMedia and signaling upgrades, and refills with time', async () => {
    for (let i = 0; i < 4; i++) {
      await kv.send(new ListStreamsCommand({}));
    }
    await expect(kv.send(new ListStreamsCommand({}))).rejects.toMatchObject({ name: 'ClientLimitExceededException', $metadata: { httpStatusCode: 400 } });
    const put = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'rl' });
    expect(put.status).toBe(400);
    expect(put.headers['x-amzn-errortype']).toBe('ClientLimitExceededException');
    await expect(openSignaling(server.url, channelArn, 'MASTER')).rejects.toThrow(/HTTP 400 ClientLimitExceededException/);

    clock.advance(1000);
    await kv.send(new ListStreamsCommand({}));
    clock.advance(10_000);
    const ws = await openSignaling(server.url, channelArn, 'MASTER');
    await ws.close();
  });

  it('limits unsigned clients by address on the playback and console GETs, with a KVS-shaped error; /health and /ready are exempt', async () => {
    clock.advance(10_000);
    for (let i = 0; i < 4; i++) {
      expect((await rawGet(server.url, '/console/config.json')).status).toBe(200);
    }
    const refused = await rawGet(server.url, '/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=x');
    expect(refused.status).toBe(400);
    expect(errorTypeOf(refused.headers)).toBe('ClientLimitExceededException');
    expect(JSON.parse(refused.body)).toMatchObject({ __type: 'ClientLimitExceededException' });
    expect(errorTypeOf((await rawGet(server.url, '/console/')).headers)).toBe('ClientLimitExceededException');
    expect(errorTypeOf((await rawUpgrade(server.url, '/signaling/viewer?X-Amz-ChannelARN=x')).headers)).toBe('ClientLimitExceededException');
    for (let i = 0; i < 10; i++) {
      expect((await rawGet(server.url, '/health')).status).toBe(200);
      expect((await rawGet(server.url, '/ready')).status).toBe(200);
    }
    // the signed client's budget is its own
    clock.advance(10_000);
    await kv.send(new ListStreamsCommand({}));
  });

  it('counts every refusal in openkvs_client_throttles_total, by limit', async () => {
    clock.advance(10_000);
    const m = await scrape(server.url);
    // the ListStreams, PutMedia and signaling upgrade of the signed client; the HLS, console and upgrade GETs by address
    expect(m.value('openkvs_client_throttles_total', { limit: 'client_requests' })).toBe(6);
    expect(m.value('openkvs_client_throttles_total', { limit: 'failed_authentications' })).toBe(0);
  });

  it("counts a signaling connection's messages dropped past its quota (20 ICE candidates a second, burst 40)", async () => {
    clock.advance(10_000);
    const master = await openSignaling(server.url, channelArn, 'MASTER');
    const got: unknown[] = [];
    master.onMessage((msg) => got.push(msg));
    clock.advance(10_000);
    const viewer = await openSignaling(server.url, channelArn, 'VIEWER', 'flood');
    for (let i = 0; i < 50; i++) {
      viewer.send('ICE_CANDIDATE', { candidate: `candidate:${i} 1 udp 2122260223 127.0.0.1 ${50_000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 });
    }
    const dropped = (): Promise<number> => {
      clock.advance(10_000);
      return scrape(server.url).then((m) => m.value('openkvs_client_throttles_total', { limit: 'signaling_messages' }));
    };
    // each candidate is either at the master or counted as dropped
    const n = await until('every candidate delivered or counted', async () => {
      const d = await dropped();
      return got.length + d === 50 ? d : undefined;
    });
    expect(got.length).toBeGreaterThanOrEqual(40);
    expect(n).toBeGreaterThan(0);
    await viewer.close();
    await master.close();
  });
});

describe('failed authentications per address', () => {
  const clock = new ManualClock(Date.now());
  let server: TestServer;
  let kv: KinesisVideoClient;
  let channelArn: string;

  beforeAll(async () => {
    server = await startTestServer({}, { clock });
    kv = controlClient(server.url);
    channelArn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'af-ch' }))).ChannelARN!;
  });
  afterAll(async () => {
    kv.destroy();
    await server.stop();
  });

  it('a fresh made-up key id per request does not escape the limit: the address is refused, signed or not, until it refills', async () => {
    for (let i = 0; i < AUTH_FAILURE_BURST; i++) {
      const res = await signedPost(`${server.url}/listStreams`, '{}', { accessKeyId: `AKIDMADEUP${String(i).padStart(10, '0')}` });
      expect(res.status).toBe(403);
    }
    await expect(kv.send(new ListStreamsCommand({}))).rejects.toMatchObject({ name: 'ClientLimitExceededException' });
    await expect(openSignaling(server.url, channelArn, 'MASTER')).rejects.toThrow(/HTTP 400 ClientLimitExceededException/);
    expect((await rawGet(server.url, '/health')).status).toBe(200);
    expect((await rawGet(server.url, '/ready')).status).toBe(200);
    clock.advance(1000);
    await kv.send(new ListStreamsCommand({}));
    expect((await scrape(server.url)).value('openkvs_client_throttles_total', { limit: 'failed_authentications' })).toBe(2);
  });
});

describe('failed authentications behind a trusted proxy (trustedProxies)', () => {
  // held still: the allowance refills at 5 a second, about what a hundred requests take
  const clock = new ManualClock(Date.now());
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ trustedProxies: ['127.0.0.1', '::1'] }, { clock });
  });
  afterAll(async () => {
    await server.stop();
  });

  const listStreams = (forwardedFor: string, accessKeyId?: string): Promise<Response> =>
    signedPost(`${server.url}/listStreams`, '{}', { headers: { 'x-forwarded-for': forwardedFor }, ...(accessKeyId !== undefined ? { accessKeyId } : {}) });

  it('counts them against the client the proxy names, so its neighbours behind the same proxy are not refused', async () => {
    for (let i = 0; i < AUTH_FAILURE_BURST; i++) {
      expect((await listStreams('198.51.100.1', `AKIDMADEUP${String(i).padStart(10, '0')}`)).status).toBe(403);
    }
    const locked = await listStreams('198.51.100.1');
    expect([locked.status, locked.headers.get('x-amzn-errortype')]).toEqual([400, 'ClientLimitExceededException']);
    // a spoofed left part does not escape: the proxy's own entry is the right-most one
    expect((await listStreams('203.0.113.50, 198.51.100.1')).status).toBe(400);
    // another client behind the same proxy
    expect((await listStreams('198.51.100.2')).status).toBe(200);
  });
});

describe('request size limits on every route family', () => {
  let server: TestServer;
  let kv: KinesisVideoClient;
  let channelArn: string;

  beforeAll(async () => {
    server = await startTestServer();
    kv = controlClient(server.url);
    await kv.send(new CreateStreamCommand({ StreamName: 'sz', DataRetentionInHours: 1 }));
    channelArn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'sz-ch' }))).ChannelARN!;
  });
  afterAll(async () => {
    kv.destroy();
    await server.stop();
  });

  const stillServing = async (): Promise<void> => {
    expect((await kv.send(new ListStreamsCommand({}))).StreamInfoList?.length).toBeGreaterThan(0);
  };

  it('a JSON body over MAX_JSON_BODY_BYTES is RequestEntityTooLargeException (413)', async () => {
    const res = await signedPost(`${server.url}/listStreams`, JSON.stringify({ pad: 'x'.repeat(MAX_JSON_BODY_BYTES) }));
    expect(res.status).toBe(413);
    expect(res.headers.get('x-amzn-errortype')).toBe('RequestEntityTooLargeException');
    expect(await res.json()).toMatchObject({ __type: 'RequestEntityTooLargeException' });
    await stillServing();
  });

  it('PutMedia stream-name and ARN headers over their caps are InvalidArgumentException before the upload starts', async () => {
    const body = fixture('mkv/h264-5s-1s-gop.mkv');
    const longName = await putMedia(server.url, body, { streamName: 'n'.repeat(257) });
    expect(longName.status).toBe(400);
    expect(longName.headers['x-amzn-errortype']).toBe('InvalidArgumentException');
    const longArn = await putMedia(server.url, body, { streamArn: `arn:aws:kinesisvideo:us-east-1:000000000000:stream/${'a'.repeat(1100)}/1` });
    expect(longArn.status).toBe(400);
    expect(longArn.headers['x-amzn-errortype']).toBe('InvalidArgumentException');
    await stillServing();
  });

  it('a playback GET whose URL is over MAX_URL_BYTES is InvalidArgumentException', async () => {
    const res = await rawGet(server.url, `/hls/v1/getHLSMediaPlaylist.m3u8?SessionToken=${'a'.repeat(MAX_URL_BYTES)}`);
    expect(res.status).toBe(400);
    expect(errorTypeOf(res.headers)).toBe('InvalidArgumentException');
    expect(JSON.parse(res.body)).toMatchObject({ __type: 'InvalidArgumentException' });
    const dash = await rawGet(server.url, `/dash/v1/getDASHManifest.mpd?SessionToken=x&pad=${'a'.repeat(MAX_URL_BYTES)}`);
    expect(errorTypeOf(dash.headers)).toBe('InvalidArgumentException');
    await stillServing();
  });

  it('a console path over MAX_URL_BYTES is InvalidArgumentException, and a traversal out of the assets is refused', async () => {
    const res = await rawGet(server.url, `/console/${'a'.repeat(MAX_URL_BYTES)}`);
    expect(res.status).toBe(400);
    expect(errorTypeOf(res.headers)).toBe('InvalidArgumentException');
    for (const target of ['/console/../../package.json', '/console/%2e%2e/%2e%2e/package.json', '/console/..%2f..%2fpackage.json']) {
      const t = await rawGet(server.url, target);
      expect(t.status, target).toBeGreaterThanOrEqual(400);
      expect(t.body, target).not.toContain('"name": "openkvs"');
    }
    await stillServing();
  });

  it('headers over Node\'s 16 KiB limit get a clean 431 and the connection is closed, not left hanging', async () => {
    const res = await rawGet(server.url, '/listStreams', `X-Pad: ${'a'.repeat(20 * 1024)}\r\n`);
    expect(res.status).toBe(431);
    const post = await rawHttp(server.url, `POST /putMedia HTTP/1.1\r\nHost: x\r\nx-amzn-stream-name: ${'s'.repeat(17 * 1024)}\r\nContent-Length: 0\r\n\r\n`);
    expect(post.status).toBe(431);
    await stillServing();
  });

  it('a signaling upgrade URL over MAX_URL_BYTES is refused with InvalidArgumentException before the upgrade', async () => {
    const res = await rawUpgrade(server.url, `/signaling/master?X-Amz-ChannelARN=${encodeURIComponent(channelArn)}&pad=${'a'.repeat(MAX_URL_BYTES)}`);
    expect(res.status).toBe(400);
    expect(errorTypeOf(res.headers)).toBe('InvalidArgumentException');
    expect(JSON.parse(res.body)).toMatchObject({ __type: 'InvalidArgumentException' });
  });

  it('a signaling frame over MAX_FRAME_BYTES closes that socket with 1009; the channel still accepts its master', async () => {
    const master = await openSignaling(server.url, channelArn, 'MASTER');
    await master.close();
    const url = await presignedMasterUrl(server.url, channelArn);
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(MAX_FRAME_BYTES + 1));
    expect(await closed).toBe(1009);
    const again = await openSignaling(server.url, channelArn, 'MASTER');
    await again.close();
    await stillServing();
  });
});

async function presignedMasterUrl(baseUrl: string, channelArn: string): Promise<string> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@aws-crypto/sha256-js');
  const { TEST_ACCESS_KEY, TEST_SECRET } = await import('../helpers/server.js');
  const url = new URL(`${baseUrl}/signaling/master`);
  const signer = new SignatureV4({ service: 'kinesisvideo', region: 'us-east-1', credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, sha256: Sha256 });
  const req = await signer.presign(
    { method: 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query: { 'X-Amz-ChannelARN': channelArn }, headers: { host: url.host } },
    { expiresIn: 299 },
  );
  return `${url.href.replace(/^http/, 'ws')}?${new URLSearchParams(req.query as Record<string, string>).toString()}`;
}
