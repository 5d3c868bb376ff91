import {
  CreateSignalingChannelCommand,
  CreateStreamCommand,
  DescribeStreamCommand,
  GetDataEndpointCommand,
  GetSignalingChannelEndpointCommand,
  KinesisVideoClient,
  ListStreamsCommand,
} from '@aws-sdk/client-kinesis-video';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_COMMANDS } from '../../src/cli/run-client-command.js';
import { PutMediaClient } from '../../src/sdk/put-media-client.js';
import { rootCliEnv, runCli } from '../helpers/cli-run.js';
import { FIXTURES, fixture } from '../helpers/media.js';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { decodePayload, openSignaling, type SignalMessage } from '../helpers/signaling-ws.js';
import { trustingHandler } from '../helpers/tls.js';

// --tls-self-signed end to end: the certificate the server generates into its data dir is the one CA the
// clients are given, as a user would; and --http-port's plain listener beside it.

const REGION = 'us-east-1';
const credentials = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET };

function kvClient(endpoint: string, ca?: Buffer): KinesisVideoClient {
  return new KinesisVideoClient({ endpoint, region: REGION, credentials, maxAttempts: 1, ...(ca !== undefined ? { requestHandler: trustingHandler(ca) } : {}) });
}

/** A plain-HTTP GET: its status and body. */
function plainGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).once('error', reject);
  });
}

const REFUSED = { status: 400, body: 'This port serves HTTPS only: use https:// (and wss:// for signaling).\n' };

/** The AWS CLI, run asynchronously (the server it calls runs in this process), with a throwaway identity. */
async function aws(endpoint: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: TEST_SECRET,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    // a certificate failure is final: botocore would otherwise retry it with backoff for seconds
    AWS_MAX_ATTEMPTS: '1',
  };
  // only what each call passes decides trust
  delete env['AWS_CA_BUNDLE'];
  delete env['REQUESTS_CA_BUNDLE'];
  return promisify(execFile)('aws', ['--endpoint-url', endpoint, '--output', 'json', ...args], { env, encoding: 'utf8', timeout: 60_000 });
}

describe('TLS with a self-signed certificate generated into the data dir', () => {
  let server: TestServer;
  let ca: Buffer;
  let kv: KinesisVideoClient;

  beforeAll(async () => {
    server = await startTestServer({ tlsSelfSigned: true, httpPort: 0, region: REGION });
    ca = readFileSync(join(server.dataDir, 'tls', 'cert.pem'));
    kv = kvClient(server.url, ca);
  });
  afterAll(async () => {
    kv.destroy();
    await server.stop();
  });

  it('serves https:// with it: the AWS SDK given it as CA creates and describes a stream, GetDataEndpoint says https://', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.tls).toEqual({ certFile: join(server.dataDir, 'tls', 'cert.pem'), selfSigned: true, generated: true });
    expect(new X509Certificate(ca).subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');

    const created = await kv.send(new CreateStreamCommand({ StreamName: 'tls-cam', DataRetentionInHours: 24 }));
    const described = await kv.send(new DescribeStreamCommand({ StreamName: 'tls-cam' }));
    expect(described.StreamInfo?.StreamARN).toBe(created.StreamARN);
    const ep = await kv.send(new GetDataEndpointCommand({ StreamName: 'tls-cam', APIName: 'PUT_MEDIA' }));
    expect(ep.DataEndpoint).toBe(server.url);
  });

  it('is refused by the AWS SDK that was not given it, with a certificate error and nothing done', async () => {
    const untrusting = kvClient(server.url);
    await expect(untrusting.send(new CreateStreamCommand({ StreamName: 'never-created', DataRetentionInHours: 1 }))).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    untrusting.destroy();
    const names = (await kv.send(new ListStreamsCommand({}))).StreamInfoList?.map((s) => s.StreamName);
    expect(names).not.toContain('never-created');
  });

  it('works with the AWS CLI given it with --ca-bundle, or told --no-verify-ssl, and fails without either', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'cli-listed', DataRetentionInHours: 1 }));
    const bundled = JSON.parse((await aws(server.url, ['--ca-bundle', server.tls!.certFile, 'kinesisvideo', 'list-streams'])).stdout) as { StreamInfoList: { StreamName: string }[] };
    expect(bundled.StreamInfoList.map((s) => s.StreamName)).toContain('cli-listed');
    const insecure = JSON.parse((await aws(server.url, ['--no-verify-ssl', 'kinesisvideo', 'list-streams'])).stdout) as { StreamInfoList: { StreamName: string }[] };
    expect(insecure.StreamInfoList.map((s) => s.StreamName)).toContain('cli-listed');
    await expect(aws(server.url, ['kinesisvideo', 'list-streams'])).rejects.toMatchObject({ stderr: expect.stringMatching(/SSL validation failed|CERTIFICATE_VERIFY_FAILED/) as unknown });
  });

  it('works with the openkvs client commands given --ca-bundle (or AWS_CA_BUNDLE), and says how to trust it without', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'cli-tls', DataRetentionInHours: 24 }));
    const env = rootCliEnv(server.url);
    const listed = await runCli(CLIENT_COMMANDS['streams']!, ['list', '--ca-bundle', server.tls!.certFile], env);
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.stdout).toMatch(/^cli-tls\tACTIVE/m);
    expect(await runCli(CLIENT_COMMANDS['streams']!, ['describe', 'cli-tls'], { ...env, AWS_CA_BUNDLE: server.tls!.certFile })).toMatchObject({ code: 0 });
    const clip = join(FIXTURES, 'mkv/h264-5s-1s-gop.mkv');
    const put = await runCli(CLIENT_COMMANDS['put']!, ['cli-tls', clip, '--ca-bundle', server.tls!.certFile], env);
    expect(put.code).toBe(0);
    expect(put.stdout).toMatch(/done: 5 fragments, 5 persisted/);
    const refused = await runCli(CLIENT_COMMANDS['streams']!, ['list'], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\); pass --ca-bundle/);
    expect((await runCli(CLIENT_COMMANDS['streams']!, ['list', '--ca-bundle', clip], env)).stderr).toMatch(/no PEM certificate/);
  });

  it('takes PutMedia over HTTPS from the producer SDK: every fragment PERSISTED', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'tls-put', DataRetentionInHours: 24 }));
    const ep = await kv.send(new GetDataEndpointCommand({ StreamName: 'tls-put', APIName: 'PUT_MEDIA' }));
    const agent = new HttpsAgent({ ca, keepAlive: false });
    const producer = new PutMediaClient({ endpoint: ep.DataEndpoint!, region: REGION, credentials, streamName: 'tls-put', agent, retry: { maxAttempts: 3 } });
    const persisted: string[] = [];
    producer.on('persisted', (f) => persisted.push(f.fragmentNumber));
    const summary = await producer.pipeFrom([fixture('mkv/h264-5s-1s-gop.mkv')]);
    agent.destroy();
    expect(summary).toMatchObject({ fragments: 5, persisted: 5, failed: [], resent: 0, connections: 1 });
    expect(new Set(persisted).size).toBe(5);
  });

  it('hands out wss:// signaling endpoints and serves the signaling WebSocket on them', async () => {
    const arn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'tls-door' }))).ChannelARN!;
    const endpoints = async (role: 'MASTER' | 'VIEWER'): Promise<Record<string, string>> => {
      const out = await kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: role } }));
      return Object.fromEntries((out.ResourceEndpointList ?? []).map((e) => [e.Protocol!, e.ResourceEndpoint!]));
    };
    const master = await endpoints('MASTER');
    expect(master).toEqual({ WSS: `${server.url.replace(/^https/, 'wss')}/signaling/master`, HTTPS: server.url });
    expect((await endpoints('VIEWER'))['WSS']).toBe(`${server.url.replace(/^https/, 'wss')}/signaling/viewer`);

    const m = await openSignaling(master['HTTPS']!, arn, 'MASTER', undefined, { ca });
    const v = await openSignaling(master['HTTPS']!, arn, 'VIEWER', 'viewer-1', { ca });
    const offer = new Promise<SignalMessage>((resolve) => m.onMessage(resolve));
    v.send('SDP_OFFER', { type: 'offer', sdp: 'v=0 over wss' });
    const got = await offer;
    expect(got).toMatchObject({ messageType: 'SDP_OFFER', senderClientId: 'viewer-1' });
    expect(decodePayload<{ sdp: string }>(got.messagePayload!).sdp).toBe('v=0 over wss');
    await v.close();
    await m.close();
    // the same socket without the CA is refused at the handshake
    await expect(openSignaling(master['HTTPS']!, arn, 'MASTER')).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  it('serves plain http:// and ws:// on httpPort, handing out endpoints with that scheme', async () => {
    expect(server.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.httpUrl).not.toBe(server.url.replace(/^https/, 'http'));
    const plain = kvClient(server.httpUrl!);
    await plain.send(new CreateStreamCommand({ StreamName: 'plain-cam', DataRetentionInHours: 1 }));
    expect((await plain.send(new GetDataEndpointCommand({ StreamName: 'plain-cam', APIName: 'GET_MEDIA' }))).DataEndpoint).toBe(server.httpUrl);
    // the same stream through the TLS port: the endpoint follows the port the request came in on
    expect((await kv.send(new GetDataEndpointCommand({ StreamName: 'plain-cam', APIName: 'GET_MEDIA' }))).DataEndpoint).toBe(server.url);

    const arn = (await plain.send(new CreateSignalingChannelCommand({ ChannelName: 'plain-door' }))).ChannelARN!;
    const out = await plain.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: 'MASTER' } }));
    expect(out.ResourceEndpointList).toEqual([
      { Protocol: 'WSS', ResourceEndpoint: `${server.httpUrl!.replace(/^http/, 'ws')}/signaling/master` },
      { Protocol: 'HTTPS', ResourceEndpoint: server.httpUrl },
    ]);
    const m = await openSignaling(server.httpUrl!, arn, 'MASTER');
    const v = await openSignaling(server.httpUrl!, arn, 'VIEWER', 'plain-viewer');
    const offer = new Promise<SignalMessage>((resolve) => m.onMessage(resolve));
    v.send('SDP_OFFER', { type: 'offer', sdp: 'v=0 over ws' });
    expect(await offer).toMatchObject({ messageType: 'SDP_OFFER', senderClientId: 'plain-viewer' });
    await v.close();
    await m.close();
    plain.destroy();
  });

  it('serves no plain HTTP on the TLS port: a 400 that says to use https://, nothing done, and HTTPS goes on', async () => {
    expect(await plainGet(`${server.url.replace(/^https/, 'http')}/health`)).toEqual(REFUSED);
    const confused = kvClient(server.url.replace(/^https/, 'http'));
    await expect(confused.send(new CreateStreamCommand({ StreamName: 'sent-in-clear', DataRetentionInHours: 1 }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
    confused.destroy();
    const names = (await kv.send(new ListStreamsCommand({}))).StreamInfoList?.map((s) => s.StreamName);
    expect(names).toContain('tls-cam');
    expect(names).not.toContain('sent-in-clear');
  });
});

describe('the self-signed certificate across restarts, without httpPort', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-tls-restart-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('is made once and served again after a restart, byte for byte; nothing serves plain HTTP', async () => {
    const first = await startTestServer({ tlsSelfSigned: true }, { dataDir });
    const certFile = join(dataDir, 'tls', 'cert.pem');
    const cert = readFileSync(certFile);
    expect(first.tls).toMatchObject({ certFile, generated: true });
    expect(first.httpUrl).toBeNull();
    expect(await plainGet(`${first.url.replace(/^https/, 'http')}/health`)).toEqual(REFUSED);
    const kv1 = kvClient(first.url, cert);
    await kv1.send(new CreateStreamCommand({ StreamName: 'kept', DataRetentionInHours: 1 }));
    kv1.destroy();
    await first.stop();

    const second = await startTestServer({ tlsSelfSigned: true }, { dataDir });
    try {
      expect(second.tls).toMatchObject({ certFile, generated: false });
      expect(readFileSync(certFile)).toEqual(cert);
      expect(readFileSync(join(dataDir, 'tls', 'key.pem')).length).toBeGreaterThan(0);
      // a client that trusted the first start's certificate trusts this start too
      const kv2 = kvClient(second.url, cert);
      expect((await kv2.send(new DescribeStreamCommand({ StreamName: 'kept' }))).StreamInfo?.StreamName).toBe('kept');
      kv2.destroy();
    } finally {
      await second.stop();
    }
  });

  it('is made anew for a publicUrl host it does not name', async () => {
    const s = await startTestServer({ tlsSelfSigned: true, publicUrl: 'https://kvs.example.test:8443' }, { dataDir });
    try {
      expect(s.tls).toMatchObject({ generated: true });
      expect(new X509Certificate(readFileSync(join(dataDir, 'tls', 'cert.pem'))).subjectAltName).toContain('DNS:kvs.example.test');
    } finally {
      await s.stop();
    }
  });
});
