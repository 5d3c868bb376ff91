import { CreateSignalingChannelCommand, CreateStreamCommand, DescribeStreamCommand, ListStreamsCommand, UpdateImageGenerationConfigurationCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { GetHLSStreamingSessionURLCommand, type KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../../src/util/logger.js';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { openSignaling } from '../helpers/signaling-ws.js';
import { signedPost } from '../helpers/signed-fetch.js';
import { TEST_ACCESS_KEY, TEST_SECRET, archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

// With logLevel debug, drive a spread of signed, presigned, failing and token-carrying requests, then search every
// log line for each credential that passed through the server: none may appear.

const WEBHOOK_SECRET = 'hook-secret-8f1d2c3b4a5e6f708192';
const DESTINATION_TOKEN = 'dest-token-5a6b7c8d9e0f1a2b3c4d';

type Handler = (args: { request: unknown }) => Promise<unknown>;
/** The part of an SDK client's middleware stack used here; both clients' stacks have it, with their own types. */
type Stack = { add(middleware: (next: Handler) => Handler, options: { step: 'deserialize'; name: string }): void };

/** Records the Authorization header of every request an SDK client sends, after signing. */
function recordAuthorization(stack: Stack, into: string[]): void {
  stack.add(
    (next) => async (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      if (headers['authorization'] !== undefined) {
        into.push(headers['authorization']);
      }
      return next(args);
    },
    { step: 'deserialize', name: 'recordAuthorization' },
  );
}

async function presignedSignalingUrl(baseUrl: string, channelArn: string): Promise<string> {
  const url = new URL(`${baseUrl}/signaling/master`);
  const signer = new SignatureV4({ service: 'kinesisvideo', region: 'us-east-1', credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, sha256: Sha256 });
  const req = await signer.presign(
    { method: 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query: { 'X-Amz-ChannelARN': channelArn }, headers: { host: url.host } },
    { expiresIn: 299 },
  );
  return `${url.href.replace(/^http/, 'ws')}?${new URLSearchParams(req.query as Record<string, string>).toString()}`;
}

describe('no secrets in logs', () => {
  const lines: string[] = [];
  const authorizations: string[] = [];
  const secrets: string[] = [TEST_SECRET, WEBHOOK_SECRET, DESTINATION_TOKEN];
  let server: TestServer;
  let kv: KinesisVideoClient;
  let archived: KinesisVideoArchivedMediaClient;
  let receiver: Server;
  let received = 0;

  beforeAll(async () => {
    // an image endpoint and webhook that always fail, so the consumers' error paths run and log too
    receiver = createServer((req, res) => {
      received++;
      req.resume();
      res.statusCode = 500;
      res.end(`no: ${req.url ?? ''}`);
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    server = await startTestServer({ logLevel: 'debug', putMediaCallsPerSecond: 1000 }, { logger: createLogger('debug', (l) => lines.push(l)) });
    kv = controlClient(server.url);
    archived = archivedClient(server.url);
    recordAuthorization(kv.middlewareStack as unknown as Stack, authorizations);
    recordAuthorization(archived.middlewareStack as unknown as Stack, authorizations);
  });

  afterAll(async () => {
    kv.destroy();
    archived.destroy();
    await server.stop();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it('drives signed calls, a bad signature, PutMedia, HLS, signaling and failing image deliveries', async () => {
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    await kv.send(new CreateStreamCommand({ StreamName: 'logs', DataRetentionInHours: 1 }));
    await kv.send(new DescribeStreamCommand({ StreamName: 'logs' }));
    await kv.send(new ListStreamsCommand({}));
    await expect(controlClient(server.url, 'wrong-secret-wrong-secret-0000').send(new ListStreamsCommand({}))).rejects.toMatchObject({ name: 'InvalidSignatureException' });
    const badPost = await signedPost(`${server.url}/describeStream`, JSON.stringify({ StreamName: 'logs' }), { secret: 'another-wrong-secret-1234567' });
    expect(badPost.status).toBe(403);

    await kv.send(
      new UpdateImageGenerationConfigurationCommand({
        StreamName: 'logs',
        ImageGenerationConfiguration: { Status: 'ENABLED', ImageSelectorType: 'SERVER_TIMESTAMP', DestinationConfig: { Uri: `${receiverUrl}/images?token=${DESTINATION_TOKEN}`, DestinationRegion: 'us-east-1' }, SamplingInterval: 1000, Format: 'JPEG', HeightPixels: 90 },
      }),
    );
    const hooks = await signedPost(`${server.url}/openkvs/updateFrameHooks`, JSON.stringify({ StreamName: 'logs', Hooks: [{ Name: 'wh', Type: 'WEBHOOK', Uri: `${receiverUrl}/hook`, Secret: WEBHOOK_SECRET }] }));
    expect(hooks.status).toBe(200);
    const up = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'logs', timecodeType: 'RELATIVE', producerStartTimestamp: (Date.now() / 1000).toFixed(3) });
    expect(up.acks.filter((a) => a.EventType === 'PERSISTED').length).toBeGreaterThan(0);
    const badPut = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'logs', secret: 'wrong-secret-for-put-media-000' });
    expect(badPut.status).toBe(403);

    const hls = (await archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'logs', PlaybackMode: 'LIVE' }))).HLSStreamingSessionURL!;
    const token = new URL(hls).searchParams.get('SessionToken')!;
    secrets.push(token, token.split('.')[1]!);
    const master = await (await fetch(hls)).text();
    const media = new URL(master.split('\n').find((l) => l.startsWith('getHLSMediaPlaylist'))!, hls);
    expect((await fetch(media)).status).toBe(200);
    media.searchParams.set('SessionToken', `${token.split('.')[0]!}.forged`);
    expect((await fetch(media)).status).toBe(401);

    const channelArn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'logs-ch' }))).ChannelARN!;
    const wsUrl = await presignedSignalingUrl(server.url, channelArn);
    secrets.push(new URL(wsUrl).searchParams.get('X-Amz-Signature')!);
    const ws = new WebSocket(wsUrl);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.close();
    const tampered = new URL(wsUrl);
    tampered.searchParams.set('X-Amz-Signature', 'f'.repeat(64));
    const refused = new WebSocket(tampered.href);
    await new Promise<void>((resolve) => {
      refused.once('unexpected-response', () => resolve());
      refused.once('error', () => resolve());
    });
    refused.terminate();
    const viewer = await openSignaling(server.url, channelArn, 'MASTER');
    await viewer.close();

    // both the destination and the webhook have failed at least once by now
    await until('image deliveries attempted', () => received >= 2 || undefined, 30_000);
  });

  it('never logs the secret key, a signature, an Authorization header, a session token or a configured secret', () => {
    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(10);
    const signatures = authorizations.map((a) => /Signature=([0-9a-f]{64})/.exec(a)?.[1]).filter((s): s is string => s !== undefined);
    expect(signatures.length).toBeGreaterThan(5);
    for (const s of [...secrets, ...signatures, ...authorizations]) {
      expect(log.includes(s), `log contains ${s.slice(0, 24)}…`).toBe(false);
    }
    expect(log).not.toMatch(/AWS4-HMAC-SHA256 Credential=/);
    expect(log).not.toMatch(/X-Amz-Signature=/i);
    expect(log).not.toMatch(/SessionToken=/);
  });
});
