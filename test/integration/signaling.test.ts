import {
  CreateSignalingChannelCommand,
  CreateStreamCommand,
  DeleteSignalingChannelCommand,
  DescribeMappedResourceConfigurationCommand,
  DescribeMediaStorageConfigurationCommand,
  DescribeSignalingChannelCommand,
  GetSignalingChannelEndpointCommand,
  KinesisVideoClient,
  ListSignalingChannelsCommand,
  ListTagsForResourceCommand,
  UpdateMediaStorageConfigurationCommand,
  UpdateSignalingChannelCommand,
} from '@aws-sdk/client-kinesis-video';
import { GetIceServerConfigCommand, KinesisVideoSignalingClient } from '@aws-sdk/client-kinesis-video-signaling';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import { Role, SignalingClient } from 'amazon-kinesis-video-streams-webrtc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket as WsSocket } from 'ws';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { selfSignedCert, trustingHandler, trustWebSocketsTo, type TestCert } from '../helpers/tls.js';

// The KVS WebRTC JS SDK refuses ws://: the server runs with TLS (a self-signed certificate the clients trust).

const REGION = 'us-east-1';
const credentials = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET };
let cert: TestCert;
let server: TestServer;
let kv: KinesisVideoClient;
let n = 0;

beforeAll(async () => {
  cert = await selfSignedCert();
  server = await startTestServer({ tlsCert: cert.certFile, tlsKey: cert.keyFile, region: REGION, signalingMaxViewers: 3, turnUris: 'turn:127.0.0.1:3478?transport=udp,turns:127.0.0.1:5349?transport=tcp', turnSecret: 'turn-shared-secret' });
  kv = new KinesisVideoClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
  trustWebSocketsTo(cert.cert);
});

afterAll(async () => {
  kv.destroy();
  await server.stop();
});

async function channel(): Promise<string> {
  const out = await kv.send(new CreateSignalingChannelCommand({ ChannelName: `ch-${++n}`, Tags: [{ Key: 'site', Value: 'lab' }] }));
  return out.ChannelARN!;
}

async function endpoint(arn: string, role: 'MASTER' | 'VIEWER', protocols: ('WSS' | 'HTTPS' | 'WEBRTC')[] = ['WSS', 'HTTPS']): Promise<Record<string, string>> {
  const out = await kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: protocols, Role: role } }));
  return Object.fromEntries(out.ResourceEndpointList!.map((e) => [e.Protocol!, e.ResourceEndpoint!]));
}

type Received = { kind: string; payload: unknown; from: string | undefined };

/** A KVS WebRTC SDK SignalingClient, opened, recording what it receives. */
async function sdkClient(arn: string, role: 'MASTER' | 'VIEWER', clientId?: string): Promise<{ client: SignalingClient; got: Received[]; closed: Promise<void> }> {
  const ep = await endpoint(arn, role);
  const client = new SignalingClient({ channelARN: arn, channelEndpoint: ep['WSS']!, role: role === 'MASTER' ? Role.MASTER : Role.VIEWER, region: REGION, credentials, ...(clientId !== undefined ? { clientId } : {}) });
  const got: Received[] = [];
  client.on('sdpOffer', (p: unknown, from?: string) => got.push({ kind: 'offer', payload: p, from }));
  client.on('sdpAnswer', (p: unknown, from?: string) => got.push({ kind: 'answer', payload: p, from }));
  client.on('iceCandidate', (p: unknown, from?: string) => got.push({ kind: 'ice', payload: p, from }));
  client.on('statusResponse', (p: unknown) => got.push({ kind: 'status', payload: p, from: undefined }));
  const closed = new Promise<void>((r) => client.on('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
    client.open();
  });
  return { client, got, closed };
}

async function until<T>(what: string, probe: () => T | undefined, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A presigned connect URL exactly as the SDK's signer makes it, with a chosen secret and date. */
async function presigned(wss: string, arn: string, opts: { clientId?: string; secret?: string; date?: Date } = {}): Promise<string> {
  const url = new URL(wss.replace(/^wss/, 'https'));
  const signer = new SignatureV4({ service: 'kinesisvideo', region: REGION, credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: opts.secret ?? TEST_SECRET }, sha256: Sha256 });
  const query: Record<string, string> = { 'X-Amz-ChannelARN': arn, ...(opts.clientId !== undefined ? { 'X-Amz-ClientId': opts.clientId } : {}) };
  const req = await signer.presign({ method: 'GET', protocol: 'https:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers: { host: url.host } }, { expiresIn: 299, ...(opts.date ? { signingDate: opts.date } : {}) });
  return `${wss}?${new URLSearchParams(req.query as Record<string, string>).toString()}`;
}

/** Opens a raw WebSocket; resolves with it, or with the HTTP status and error name of a refused upgrade. */
function raw(url: string): Promise<{ ws?: WsSocket; status?: number; errorType?: string }> {
  return new Promise((resolve) => {
    const ws = new WsSocket(url, { ca: cert.cert });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode, errorType: res.headers['x-amzn-errortype'] as string }));
    ws.once('error', () => undefined);
  });
}

type Sdp = Parameters<SignalingClient['sendSdpOffer']>[0];
type Candidate = Parameters<SignalingClient['sendIceCandidate']>[0];
const sdp = (o: { type: string; sdp: string }): Sdp => o as unknown as Sdp;
const candidate = (o: object): Candidate => o as unknown as Candidate;

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64');

describe('signaling channels (control plane, AWS SDK over TLS)', () => {
  it('creates, describes, lists, updates and deletes channels, with tags and versions', async () => {
    const arn = await channel();
    expect(arn).toMatch(/^arn:aws:kinesisvideo:us-east-1:\d{12}:channel\/ch-\d+\/\d+$/);
    const info = (await kv.send(new DescribeSignalingChannelCommand({ ChannelARN: arn }))).ChannelInfo!;
    expect(info).toMatchObject({ ChannelARN: arn, ChannelType: 'SINGLE_MASTER', ChannelStatus: 'ACTIVE', SingleMasterConfiguration: { MessageTtlSeconds: 60 } });
    expect(info.CreationTime).toBeInstanceOf(Date);
    expect((await kv.send(new DescribeSignalingChannelCommand({ ChannelName: info.ChannelName }))).ChannelInfo!.ChannelARN).toBe(arn);
    expect((await kv.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual({ site: 'lab' });

    await expect(kv.send(new CreateSignalingChannelCommand({ ChannelName: info.ChannelName! }))).rejects.toMatchObject({ name: 'ResourceInUseException' });
    await expect(kv.send(new UpdateSignalingChannelCommand({ ChannelARN: arn, CurrentVersion: 'stale', SingleMasterConfiguration: { MessageTtlSeconds: 30 } }))).rejects.toMatchObject({ name: 'VersionMismatchException' });
    await kv.send(new UpdateSignalingChannelCommand({ ChannelARN: arn, CurrentVersion: info.Version!, SingleMasterConfiguration: { MessageTtlSeconds: 30 } }));
    const updated = (await kv.send(new DescribeSignalingChannelCommand({ ChannelARN: arn }))).ChannelInfo!;
    expect(updated.SingleMasterConfiguration!.MessageTtlSeconds).toBe(30);
    expect(updated.Version).not.toBe(info.Version);

    const others = [await channel(), await channel()];
    const page1 = await kv.send(new ListSignalingChannelsCommand({ MaxResults: 2, ChannelNameCondition: { ComparisonOperator: 'BEGINS_WITH', ComparisonValue: 'ch-' } }));
    expect(page1.ChannelInfoList).toHaveLength(2);
    const page2 = await kv.send(new ListSignalingChannelsCommand({ MaxResults: 2, NextToken: page1.NextToken, ChannelNameCondition: { ComparisonOperator: 'BEGINS_WITH', ComparisonValue: 'ch-' } }));
    const listed = [...page1.ChannelInfoList!, ...page2.ChannelInfoList!].map((c) => c.ChannelARN);
    expect(listed).toEqual(expect.arrayContaining([arn, ...others]));

    await kv.send(new DeleteSignalingChannelCommand({ ChannelARN: arn }));
    await expect(kv.send(new DescribeSignalingChannelCommand({ ChannelARN: arn }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('works with the AWS CLI over TLS (its CA bundle set to the server certificate)', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: TEST_SECRET, AWS_DEFAULT_REGION: REGION, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_CA_BUNDLE: cert.certFile };
    const aws = (...args: string[]): Promise<{ stdout: string }> => promisify(execFile)('aws', [...args, '--endpoint-url', server.url, '--output', 'json'], { env, encoding: 'utf8', timeout: 60_000 });
    // asynchronously: the server runs in this process
    const created = JSON.parse((await aws('kinesisvideo', 'create-signaling-channel', '--channel-name', 'cli-channel')).stdout) as { ChannelARN: string };
    expect(created.ChannelARN).toMatch(/:channel\/cli-channel\//);
    const ep = JSON.parse(
      (await aws('kinesisvideo', 'get-signaling-channel-endpoint', '--channel-arn', created.ChannelARN, '--single-master-channel-endpoint-configuration', 'Protocols=WSS,HTTPS,Role=MASTER')).stdout,
    ) as { ResourceEndpointList: { Protocol: string; ResourceEndpoint: string }[] };
    expect(ep.ResourceEndpointList.map((e) => e.Protocol)).toEqual(['WSS', 'HTTPS']);
    expect(ep.ResourceEndpointList[0]!.ResourceEndpoint.startsWith('wss://')).toBe(true);
  });

  it('hands out exactly the requested endpoints, in order, with the scheme of the server (https, wss)', async () => {
    const arn = await channel();
    const out = await kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['HTTPS', 'WSS'], Role: 'VIEWER' } }));
    expect(out.ResourceEndpointList).toEqual([
      { Protocol: 'HTTPS', ResourceEndpoint: server.url },
      { Protocol: 'WSS', ResourceEndpoint: `${server.url.replace('https', 'wss')}/signaling/viewer` },
    ]);
    expect((await endpoint(arn, 'MASTER'))['WSS']).toBe(`${server.url.replace('https', 'wss')}/signaling/master`);
    await expect(endpoint(arn, 'MASTER', ['WEBRTC'])).rejects.toMatchObject({ name: 'InvalidArgumentException' });
  });

  it('maps a channel to a stream for media storage, and back', async () => {
    const arn = await channel();
    await kv.send(new CreateStreamCommand({ StreamName: `st-${n}`, DataRetentionInHours: 2 }));
    await kv.send(new CreateStreamCommand({ StreamName: `st0-${n}`, DataRetentionInHours: 0 }));
    const streamArn = (await kv.send(new DescribeMediaStorageConfigurationCommand({ ChannelARN: arn }))).MediaStorageConfiguration;
    expect(streamArn).toEqual({ Status: 'DISABLED' });
    const { DescribeStreamCommand } = await import('@aws-sdk/client-kinesis-video');
    const stream = (await kv.send(new DescribeStreamCommand({ StreamName: `st-${n}` }))).StreamInfo!.StreamARN!;
    const noRetention = (await kv.send(new DescribeStreamCommand({ StreamName: `st0-${n}` }))).StreamInfo!.StreamARN!;
    await expect(kv.send(new UpdateMediaStorageConfigurationCommand({ ChannelARN: arn, MediaStorageConfiguration: { Status: 'ENABLED', StreamARN: noRetention } }))).rejects.toMatchObject({ name: 'NoDataRetentionException' });
    await kv.send(new UpdateMediaStorageConfigurationCommand({ ChannelARN: arn, MediaStorageConfiguration: { Status: 'ENABLED', StreamARN: stream } }));
    expect((await kv.send(new DescribeMediaStorageConfigurationCommand({ ChannelARN: arn }))).MediaStorageConfiguration).toEqual({ Status: 'ENABLED', StreamARN: stream });
    expect((await kv.send(new DescribeMappedResourceConfigurationCommand({ StreamARN: stream }))).MappedResourceConfigurationList).toEqual([{ Type: 'SIGNALING_CHANNEL', ARN: arn }]);
    expect(Object.keys(await endpoint(arn, 'MASTER', ['WEBRTC', 'WSS', 'HTTPS']))).toEqual(['WEBRTC', 'WSS', 'HTTPS']);
  });

  it('gives time-limited TURN credentials through GetIceServerConfig (the signaling client)', async () => {
    const arn = await channel();
    const https = (await endpoint(arn, 'VIEWER'))['HTTPS']!;
    const signaling = new KinesisVideoSignalingClient({ endpoint: https, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
    const out = await signaling.send(new GetIceServerConfigCommand({ ChannelARN: arn, ClientId: 'viewer-1', Service: 'TURN' }));
    signaling.destroy();
    const [ice] = out.IceServerList!;
    expect(ice!.Uris).toEqual(['turn:127.0.0.1:3478?transport=udp', 'turns:127.0.0.1:5349?transport=tcp']);
    expect(ice!.Ttl).toBe(300);
    const [expiry, user] = ice!.Username!.split(':');
    expect(user).toBe('viewer-1');
    expect(Number(expiry) - Date.now() / 1000).toBeGreaterThan(250);
    expect(ice!.Password).toBe(createHmac('sha1', 'turn-shared-secret').update(ice!.Username!).digest('base64'));
  });
});

describe('signaling WebSocket (KVS WebRTC JS SDK, wss://)', () => {
  it('routes offers, answers and ICE candidates between a master and viewers', async () => {
    const arn = await channel();
    const master = await sdkClient(arn, 'MASTER');
    const v1 = await sdkClient(arn, 'VIEWER', 'viewer-1');
    const v2 = await sdkClient(arn, 'VIEWER', 'viewer-2');

    const offer = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' };
    v1.client.sendSdpOffer(sdp(offer));
    const got = await until('offer at master', () => master.got.find((g) => g.kind === 'offer'));
    expect(got).toEqual({ kind: 'offer', payload: offer, from: 'viewer-1' });

    master.client.sendSdpAnswer(sdp({ type: 'answer', sdp: 'v=0\r\nanswer\r\n' }), 'viewer-1');
    const cand = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    master.client.sendIceCandidate(candidate(cand), 'viewer-1');
    await until('answer + ice at viewer-1', () => (v1.got.length >= 2 ? true : undefined));
    expect(v1.got.map((g) => g.kind)).toEqual(['answer', 'ice']);
    expect(v1.got[1]!.payload).toMatchObject(cand);
    // the SDK holds a sender's candidates until its SDP arrived: viewer-2 offers first
    v2.client.sendSdpOffer(sdp(offer));
    v2.client.sendIceCandidate(candidate(cand));
    await until('ice from viewer-2 at master', () => master.got.find((g) => g.kind === 'ice' && g.from === 'viewer-2'));
    // nothing leaked to the other viewer
    expect(v2.got).toEqual([]);
    for (const c of [master, v1, v2]) {
      c.client.close();
    }
  });

  it('holds messages for a client that is not connected yet, for the channel TTL', async () => {
    const arn = await channel();
    const v = await sdkClient(arn, 'VIEWER', 'early');
    v.client.sendSdpOffer(sdp({ type: 'offer', sdp: 'v=0\r\nfirst\r\n' }));
    v.client.sendSdpOffer(sdp({ type: 'offer', sdp: 'v=0\r\nsecond\r\n' }));
    await new Promise((r) => setTimeout(r, 100));
    const master = await sdkClient(arn, 'MASTER');
    const offers = await until('offer delivered on connect', () => (master.got.length > 0 ? master.got : undefined));
    await new Promise((r) => setTimeout(r, 100));
    // an undelivered offer is replaced by a newer one from the same client
    expect(master.got.map((g) => (g.payload as { sdp: string }).sdp)).toEqual(['v=0\r\nsecond\r\n']);
    expect(offers[0]!.from).toBe('early');
    v.client.close();
    master.client.close();
  });

  it('answers bad messages with STATUS_RESPONSE when they carry a correlationId', async () => {
    const arn = await channel();
    const ep = await endpoint(arn, 'MASTER');
    const { ws } = await raw(await presigned(ep['WSS']!, arn));
    const replies: unknown[] = [];
    ws!.on('message', (d) => replies.push(JSON.parse(d.toString())));
    ws!.send(JSON.stringify({ action: 'SDP_ANSWER', messagePayload: b64({ type: 'answer' }), correlationId: 'c-1' }));
    ws!.send(JSON.stringify({ action: 'NOPE', messagePayload: 'AAAA', correlationId: 'c-2' }));
    ws!.send(JSON.stringify({ action: 'SDP_ANSWER', messagePayload: b64({}) }));
    // the C SDK's PascalCase keys and empty recipient are understood the same way
    ws!.send(JSON.stringify({ action: 'ICE_CANDIDATE', RecipientClientId: '', MessagePayload: b64({}), CorrelationId: 'c-3' }));
    await until('three status responses', () => (replies.length >= 3 ? true : undefined));
    expect(replies).toEqual([
      { messageType: 'STATUS_RESPONSE', statusResponse: expect.objectContaining({ correlationId: 'c-1', errorType: 'InvalidArgumentException', statusCode: '400', success: false }) },
      { messageType: 'STATUS_RESPONSE', statusResponse: expect.objectContaining({ correlationId: 'c-2', errorType: 'InvalidArgumentException' }) },
      { messageType: 'STATUS_RESPONSE', statusResponse: expect.objectContaining({ correlationId: 'c-3', errorType: 'InvalidArgumentException' }) },
    ]);
    ws!.close();
  });

  it("drops a connection's messages past KVS's per-connection rate, answering STATUS_RESPONSE ClientLimitExceededException", async () => {
    const arn = await channel();
    const master = (await raw(await presigned((await endpoint(arn, 'MASTER'))['WSS']!, arn))).ws!;
    const atMaster: unknown[] = [];
    master.on('message', (d) => atMaster.push(JSON.parse(d.toString())));
    const viewer = (await raw(await presigned((await endpoint(arn, 'VIEWER'))['WSS']!, arn, { clientId: 'flood' }))).ws!;
    const statuses: { statusResponse: { correlationId: string; errorType: string; statusCode: string } }[] = [];
    viewer.on('message', (d) => statuses.push(JSON.parse(d.toString())));
    const payload = b64({ candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 });
    // 60 candidates at once: 40 fit the burst (2 s of the 20/s quota), the rest are refused one by one
    for (let i = 0; i < 60; i++) {
      viewer.send(JSON.stringify({ action: 'ICE_CANDIDATE', messagePayload: payload, correlationId: `i-${i}` }));
    }
    await until('every candidate delivered or refused', () => (atMaster.length + statuses.length === 60 ? true : undefined));
    expect(atMaster.length).toBeGreaterThanOrEqual(40);
    expect(atMaster.length).toBeLessThan(60);
    expect(statuses.every((m) => m.statusResponse.errorType === 'ClientLimitExceededException' && m.statusResponse.statusCode === '400')).toBe(true);
    expect(new Set(statuses.map((m) => m.statusResponse.correlationId)).size).toBe(statuses.length);
    // the quota refills: a second later a candidate goes through again
    await new Promise((r) => setTimeout(r, 1100));
    const before = atMaster.length;
    viewer.send(JSON.stringify({ action: 'ICE_CANDIDATE', messagePayload: payload, correlationId: 'later' }));
    await until('the later candidate at the master', () => (atMaster.length > before ? true : undefined));
    expect(statuses.some((m) => m.statusResponse.correlationId === 'later')).toBe(false);
    viewer.close();
    master.close();
  });

  it('refuses bad signatures, expired URLs, unknown channels, role mix-ups and viewers past the limit', async () => {
    const arn = await channel();
    const ep = { master: (await endpoint(arn, 'MASTER'))['WSS']!, viewer: (await endpoint(arn, 'VIEWER'))['WSS']! };
    expect(await raw(await presigned(ep.master, arn, { secret: 'wrong-secret-wrong-secret' }))).toMatchObject({ status: 403, errorType: 'InvalidSignatureException' });
    expect(await raw(await presigned(ep.master, arn, { date: new Date(Date.now() - 600_000) }))).toMatchObject({ status: 403, errorType: 'InvalidSignatureException' });
    expect(await raw(`${ep.master}?X-Amz-ChannelARN=${encodeURIComponent(arn)}`)).toMatchObject({ status: 403, errorType: 'MissingAuthenticationTokenException' });
    expect(await raw(`${ep.master}?X-Amz-ChannelARN=${encodeURIComponent(arn)}&X-Amz-Signature=00`)).toMatchObject({ status: 403, errorType: 'IncompleteSignatureException' });
    expect(await raw(await presigned(ep.master, `${arn}9`))).toMatchObject({ status: 404, errorType: 'ResourceNotFoundException' });
    expect(await raw(await presigned(ep.viewer, arn))).toMatchObject({ status: 400, errorType: 'InvalidArgumentException' });
    expect(await raw(await presigned(ep.master, arn, { clientId: 'x' }))).toMatchObject({ status: 400, errorType: 'InvalidArgumentException' });
    const viewers = await Promise.all(['a', 'b', 'c'].map(async (id) => (await raw(await presigned(ep.viewer, arn, { clientId: id }))).ws!));
    expect(await raw(await presigned(ep.viewer, arn, { clientId: 'd' }))).toMatchObject({ status: 400, errorType: 'ClientLimitExceededException' });
    // the same client id again replaces the older connection instead of counting twice
    const again = await raw(await presigned(ep.viewer, arn, { clientId: 'a' }));
    expect(again.ws).toBeDefined();
    await until('older viewer a closed', () => (viewers[0]!.readyState === WsSocket.CLOSED ? true : undefined));
    for (const w of [...viewers, again.ws!]) {
      w.close();
    }
  });

  it('tells clients GO_AWAY and closes them when their channel is deleted', async () => {
    const arn = await channel();
    const ep = await endpoint(arn, 'MASTER');
    const { ws } = await raw(await presigned(ep['WSS']!, arn));
    const frames: unknown[] = [];
    ws!.on('message', (d) => frames.push(JSON.parse(d.toString())));
    const closed = new Promise<number>((r) => ws!.once('close', (code) => r(code)));
    await kv.send(new DeleteSignalingChannelCommand({ ChannelARN: arn }));
    expect(await closed).toBe(1001);
    expect(frames).toEqual([{ messageType: 'GO_AWAY' }]);
  });
});

describe('signaling timeouts', () => {
  it('closes idle connections and sends GO_AWAY at the maximum connection duration', async () => {
    const quick = await startTestServer({ tlsCert: cert.certFile, tlsKey: cert.keyFile, region: REGION, signalingIdleTimeoutSeconds: 1, signalingMaxConnectionSeconds: 1 });
    const qkv = new KinesisVideoClient({ endpoint: quick.url, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
    try {
      const arn = (await qkv.send(new CreateSignalingChannelCommand({ ChannelName: 'quick' }))).ChannelARN!;
      const wss = (await qkv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS'], Role: 'MASTER' } }))).ResourceEndpointList![0]!.ResourceEndpoint!;
      const { ws } = await raw(await presigned(wss, arn));
      const frames: unknown[] = [];
      ws!.on('message', (d) => frames.push(JSON.parse(d.toString())));
      await new Promise<void>((r) => ws!.once('close', () => r()));
      expect(frames.every((f) => (f as { messageType: string }).messageType === 'GO_AWAY')).toBe(true);
    } finally {
      qkv.destroy();
      await quick.stop();
    }
  });
});
