import {
  CreateSignalingChannelCommand,
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeImageGenerationConfigurationCommand,
  DescribeSignalingChannelCommand,
  DescribeStreamCommand,
  GetDataEndpointCommand,
  GetSignalingChannelEndpointCommand,
  KinesisVideoClient,
  ListStreamsCommand,
  ListTagsForStreamCommand,
  TagResourceCommand,
  TagStreamCommand,
  UpdateDataRetentionCommand,
  UpdateStreamCommand,
} from '@aws-sdk/client-kinesis-video';
import {
  GetClipCommand,
  GetDASHStreamingSessionURLCommand,
  GetHLSStreamingSessionURLCommand,
  GetImagesCommand,
  GetMediaForFragmentListCommand,
  KinesisVideoArchivedMediaClient,
  ListFragmentsCommand,
} from '@aws-sdk/client-kinesis-video-archived-media';
import { GetMediaCommand, KinesisVideoMediaClient } from '@aws-sdk/client-kinesis-video-media';
import { GetIceServerConfigCommand, KinesisVideoSignalingClient } from '@aws-sdk/client-kinesis-video-signaling';
import { JoinStorageSessionAsViewerCommand, KinesisVideoWebRTCStorageClient } from '@aws-sdk/client-kinesis-video-webrtc-storage';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/util/logger.js';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { openSignaling } from '../helpers/signaling-ws.js';
import { signedPost } from '../helpers/signed-fetch.js';

// Issue 8's policy matrix: each template policy (and full access, and no policy) against each API, with the real
// AWS SDK clients — allowed where the template intends, refused with the error the clients expect elsewhere.
// "Allowed" means the request got past authorization: most calls succeed, a few are built to fail afterwards
// (a wrong stream version) so the matrix never deletes what later rows need.

type Creds = { accessKeyId: string; secretAccessKey: string };
type KeyName = 'administrators' | 'capacity' | 'producers' | 'consumers' | 'full-access' | 'none';
const KEYS: readonly KeyName[] = ['administrators', 'capacity', 'producers', 'consumers', 'full-access', 'none'];

let server: TestServer;
const logLines: string[] = [];
const creds = new Map<KeyName, Creds>();
let cam1Arn = '';
let channel1Arn = '';
let fragmentNumber = '';
let window: { StartTimestamp: Date; EndTimestamp: Date };

async function admin(path: string, body: unknown, as?: Creds): Promise<{ status: number; json: Record<string, unknown>; errorType: string | null }> {
  const res = await signedPost(`${server.url}${path}`, JSON.stringify(body), as === undefined ? {} : { accessKeyId: as.accessKeyId, secret: as.secretAccessKey });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, errorType: res.headers.get('x-amzn-errortype') };
}

async function createKey(body: Record<string, unknown>): Promise<Creds> {
  const out = await admin('/openkvs/createAccessKey', body);
  expect(out.status, JSON.stringify(out.json)).toBe(200);
  const key = out.json['AccessKey'] as { AccessKeyId: string; SecretAccessKey: string };
  return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
}

function clients(c: Creds) {
  const config = { endpoint: server.url, region: 'us-east-1', credentials: c, maxAttempts: 1 };
  return {
    kvs: new KinesisVideoClient(config),
    archived: new KinesisVideoArchivedMediaClient(config),
    media: new KinesisVideoMediaClient(config),
    signaling: new KinesisVideoSignalingClient(config),
    storage: new KinesisVideoWebRTCStorageClient(config),
  };
}

type Clients = ReturnType<typeof clients>;
type Probe = { name: string; allowed: readonly KeyName[]; denial: 'NotAuthorizedException' | 'AccessDeniedException'; status?: number; run(c: Clients, creds: Creds): Promise<unknown> };

const ALL_READERS: KeyName[] = ['consumers', 'full-access'];

const PROBES: Probe[] = [
  { name: 'CreateStream cam1 (exists → ResourceInUse)', allowed: ['administrators', 'full-access'], denial: 'NotAuthorizedException', run: (c) => c.kvs.send(new CreateStreamCommand({ StreamName: 'cam1' })) },
  { name: 'DescribeStream cam1', allowed: ['administrators', 'capacity', 'producers', 'consumers', 'full-access'], denial: 'NotAuthorizedException', run: (c) => c.kvs.send(new DescribeStreamCommand({ StreamName: 'cam1' })) },
  { name: 'DescribeStream cam2', allowed: ['administrators', 'capacity', 'full-access'], denial: 'NotAuthorizedException', run: (c) => c.kvs.send(new DescribeStreamCommand({ StreamName: 'cam2' })) },
  { name: 'ListStreams', allowed: ['administrators', 'capacity', 'full-access'], denial: 'NotAuthorizedException', run: (c) => c.kvs.send(new ListStreamsCommand({})) },
  { name: 'DeleteStream cam1 (wrong version → VersionMismatch)', allowed: ['administrators', 'full-access'], denial: 'NotAuthorizedException', run: (c) => c.kvs.send(new DeleteStreamCommand({ StreamARN: cam1Arn, CurrentVersion: 'nope' })) },
  { name: 'TagStream cam1', allowed: ['administrators', 'full-access'], denial: 'NotAuthorizedException', run: (c) => c.kvs.send(new TagStreamCommand({ StreamName: 'cam1', Tags: { site: 'a' } })) },
  { name: 'ListTagsForStream cam1', allowed: ['administrators', 'full-access'], denial: 'NotAuthorizedException', run: (c) => c.kvs.send(new ListTagsForStreamCommand({ StreamName: 'cam1' })) },
  { name: 'TagResource channel cam1', allowed: ['administrators', 'full-access'], denial: 'AccessDeniedException', run: (c) => c.kvs.send(new TagResourceCommand({ ResourceARN: channel1Arn, Tags: [{ Key: 'site', Value: 'a' }] })) },
  { name: 'UpdateStream cam1 (wrong version)', allowed: ['capacity', 'full-access'], denial: 'NotAuthorizedException', run: (c) => c.kvs.send(new UpdateStreamCommand({ StreamName: 'cam1', CurrentVersion: 'nope', MediaType: 'video/h264' })) },
  {
    name: 'UpdateDataRetention cam1 (wrong version)',
    allowed: ['capacity', 'full-access'],
    denial: 'NotAuthorizedException',
    run: (c) => c.kvs.send(new UpdateDataRetentionCommand({ StreamName: 'cam1', CurrentVersion: 'nope', Operation: 'INCREASE_DATA_RETENTION', DataRetentionChangeInHours: 1 })),
  },
  {
    name: 'UpdateStream cam1 with a Capacity (openkvs:ChangeStreamCapacity)',
    allowed: ['capacity', 'full-access'],
    denial: 'NotAuthorizedException',
    run: async (_c, as) => {
      const out = await admin('/updateStream', { StreamName: 'cam1', CurrentVersion: 'nope', Capacity: { fragmentsPerSecond: 6 } }, as);
      throw Object.assign(new Error(String(out.json['message'])), { name: out.errorType ?? 'OK', $metadata: { httpStatusCode: out.status } });
    },
  },
  { name: 'DescribeImageGenerationConfiguration cam1', allowed: ['administrators', 'full-access'], denial: 'AccessDeniedException', run: (c) => c.kvs.send(new DescribeImageGenerationConfigurationCommand({ StreamName: 'cam1' })) },
  { name: 'GetDataEndpoint cam1', allowed: ['producers', 'consumers', 'full-access'], denial: 'NotAuthorizedException', run: (c) => c.kvs.send(new GetDataEndpointCommand({ StreamName: 'cam1', APIName: 'PUT_MEDIA' })) },
  { name: 'GetDataEndpoint cam2', allowed: ['full-access'], denial: 'NotAuthorizedException', run: (c) => c.kvs.send(new GetDataEndpointCommand({ StreamName: 'cam2', APIName: 'GET_MEDIA' })) },
  { name: 'CreateSignalingChannel cam1 (exists)', allowed: ['administrators', 'full-access'], denial: 'AccessDeniedException', run: (c) => c.kvs.send(new CreateSignalingChannelCommand({ ChannelName: 'cam1' })) },
  { name: 'DescribeSignalingChannel cam1', allowed: ['administrators', 'producers', 'consumers', 'full-access'], denial: 'AccessDeniedException', run: (c) => c.kvs.send(new DescribeSignalingChannelCommand({ ChannelName: 'cam1' })) },
  {
    name: 'GetSignalingChannelEndpoint cam1',
    allowed: ['producers', 'consumers', 'full-access'],
    denial: 'AccessDeniedException',
    run: (c) => c.kvs.send(new GetSignalingChannelEndpointCommand({ ChannelARN: channel1Arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: 'VIEWER' } })),
  },
  { name: 'GetIceServerConfig cam1', allowed: ['producers', 'consumers', 'full-access'], denial: 'NotAuthorizedException', run: (c) => c.signaling.send(new GetIceServerConfigCommand({ ChannelARN: channel1Arn, ClientId: 'probe' })) },
  {
    name: 'JoinStorageSessionAsViewer cam1 (no storage → InvalidArgument)',
    allowed: ['consumers', 'full-access'],
    denial: 'AccessDeniedException',
    status: 403,
    run: (c) => c.storage.send(new JoinStorageSessionAsViewerCommand({ channelArn: channel1Arn, clientId: 'probe' })),
  },
  {
    name: 'PutMedia cam1',
    allowed: ['producers', 'full-access'],
    denial: 'NotAuthorizedException',
    run: async (_c, as) => {
      const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'cam1', accessKeyId: as.accessKeyId, secret: as.secretAccessKey, producerStartTimestamp: (Date.now() / 1000).toFixed(3) });
      if (res.status !== 200) {
        throw Object.assign(new Error(res.raw), { name: String(res.headers['x-amzn-errortype']), $metadata: { httpStatusCode: res.status } });
      }
      expect(res.acks.filter((a) => a.EventType === 'PERSISTED').length).toBe(5);
    },
  },
  {
    name: 'PutMedia cam2',
    allowed: ['full-access'],
    denial: 'NotAuthorizedException',
    run: async (_c, as) => {
      const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'cam2', accessKeyId: as.accessKeyId, secret: as.secretAccessKey, producerStartTimestamp: (Date.now() / 1000).toFixed(3) });
      if (res.status !== 200) {
        throw Object.assign(new Error(res.raw), { name: String(res.headers['x-amzn-errortype']), $metadata: { httpStatusCode: res.status } });
      }
    },
  },
  {
    name: 'GetMedia cam1',
    allowed: ALL_READERS,
    denial: 'NotAuthorizedException',
    run: async (c) => {
      const out = await c.media.send(new GetMediaCommand({ StreamName: 'cam1', StartSelector: { StartSelectorType: 'EARLIEST' } }));
      const body = out.Payload as unknown as Readable;
      for await (const chunk of body) {
        expect((chunk as Buffer).length).toBeGreaterThan(0);
        break;
      }
      body.destroy();
    },
  },
  { name: 'ListFragments cam1', allowed: ALL_READERS, denial: 'NotAuthorizedException', run: (c) => c.archived.send(new ListFragmentsCommand({ StreamName: 'cam1' })) },
  { name: 'ListFragments cam2', allowed: ['full-access'], denial: 'NotAuthorizedException', run: (c) => c.archived.send(new ListFragmentsCommand({ StreamName: 'cam2' })) },
  { name: 'GetMediaForFragmentList cam1', allowed: ALL_READERS, denial: 'NotAuthorizedException', run: (c) => c.archived.send(new GetMediaForFragmentListCommand({ StreamName: 'cam1', Fragments: [fragmentNumber] })) },
  {
    name: 'GetHLSStreamingSessionURL cam1 (and the playlist it gives plays)',
    allowed: ALL_READERS,
    denial: 'NotAuthorizedException',
    run: async (c) => {
      const out = await c.archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'cam1', PlaybackMode: 'ON_DEMAND', HLSFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: window } }));
      const master = await fetch(out.HLSStreamingSessionURL ?? '');
      expect(master.status).toBe(200);
      expect(await master.text()).toContain('#EXTM3U');
    },
  },
  { name: 'GetHLSStreamingSessionURL cam2', allowed: ['full-access'], denial: 'NotAuthorizedException', run: (c) => c.archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'cam2', PlaybackMode: 'LIVE' })) },
  {
    name: 'GetDASHStreamingSessionURL cam1',
    allowed: ALL_READERS,
    denial: 'NotAuthorizedException',
    run: (c) => c.archived.send(new GetDASHStreamingSessionURLCommand({ StreamName: 'cam1', PlaybackMode: 'ON_DEMAND', DASHFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: window } })),
  },
  { name: 'GetClip cam1', allowed: ALL_READERS, denial: 'NotAuthorizedException', run: (c) => c.archived.send(new GetClipCommand({ StreamName: 'cam1', ClipFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: window } })) },
  {
    name: 'GetImages cam1',
    allowed: ALL_READERS,
    denial: 'NotAuthorizedException',
    run: (c) => c.archived.send(new GetImagesCommand({ StreamName: 'cam1', ImageSelectorType: 'SERVER_TIMESTAMP', StartTimestamp: window.StartTimestamp, EndTimestamp: window.EndTimestamp, SamplingInterval: 3000, Format: 'JPEG', MaxResults: 1 })),
  },
  {
    name: 'signaling WebSocket as MASTER of cam1',
    allowed: ['producers', 'full-access'],
    denial: 'AccessDeniedException',
    status: 403,
    run: async (_c, as) => {
      const s = await openSignaling(server.url, channel1Arn, 'MASTER', undefined, { credentials: as }).catch(refusal);
      await s.close();
    },
  },
  {
    name: 'signaling WebSocket as VIEWER of cam1',
    allowed: ['consumers', 'full-access'],
    denial: 'AccessDeniedException',
    status: 403,
    run: async (_c, as) => {
      const s = await openSignaling(server.url, channel1Arn, 'VIEWER', `probe-${as.accessKeyId}`, { credentials: as }).catch(refusal);
      await s.close();
    },
  },
  {
    name: 'openkvs listAccessKeys',
    allowed: ['full-access'],
    denial: 'AccessDeniedException',
    run: async (_c, as) => {
      const out = await admin('/openkvs/listAccessKeys', {}, as);
      if (out.status !== 200) {
        throw Object.assign(new Error(String(out.json['message'])), { name: out.errorType ?? '', $metadata: { httpStatusCode: out.status } });
      }
    },
  },
];

/** openSignaling's rejection text → the error shape the SDK rows have. */
function refusal(err: Error): never {
  const m = /HTTP (\d+) (\w+)/.exec(err.message);
  throw Object.assign(new Error(err.message), { name: m?.[2] ?? 'unknown', $metadata: { httpStatusCode: Number(m?.[1] ?? 0) } });
}

beforeAll(async () => {
  server = await startTestServer({}, { logger: createLogger('warn', (line) => logLines.push(line)) });
  const root = controlClient(server.url);
  cam1Arn = (await root.send(new CreateStreamCommand({ StreamName: 'cam1', DataRetentionInHours: 2 }))).StreamARN ?? '';
  await root.send(new CreateStreamCommand({ StreamName: 'cam2', DataRetentionInHours: 2 }));
  channel1Arn = (await root.send(new CreateSignalingChannelCommand({ ChannelName: 'cam1' }))).ChannelARN ?? '';
  await root.send(new CreateSignalingChannelCommand({ ChannelName: 'cam2' }));
  const start = new Date(Date.now() - 1000);
  for (const stream of ['cam1', 'cam2']) {
    const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: stream, producerStartTimestamp: (Date.now() / 1000).toFixed(3) });
    expect(res.acks.filter((a) => a.EventType === 'PERSISTED').length).toBe(5);
  }
  window = { StartTimestamp: start, EndTimestamp: new Date(Date.now() + 1000) };
  fragmentNumber = server.store.list({ streamId: server.registry.find({ name: 'cam1' })!.id, notBeforeServerMs: 0 })[0]!.fragmentNumber;
  for (const template of ['administrators', 'capacity', 'full-access'] as const) {
    creds.set(template, await createKey({ Template: template, Description: `${template} of everything` }));
  }
  for (const template of ['producers', 'consumers'] as const) {
    creds.set(template, await createKey({ Template: template, Streams: ['cam1'], Channels: ['cam1'], Description: `${template} of cam1` }));
  }
  creds.set('none', await createKey({ Description: 'no policy at all' }));
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('policy matrix: template × API with the real SDK clients', () => {
  for (const probe of PROBES) {
    it(probe.name, async () => {
      const outcomes: string[] = [];
      for (const key of KEYS) {
        const c = creds.get(key)!;
        let outcome: string;
        try {
          await probe.run(clients(c), c);
          outcome = 'ok';
        } catch (err) {
          const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
          outcome = `${e.name ?? 'error'} ${e.$metadata?.httpStatusCode ?? '?'}`;
        }
        outcomes.push(`${key}: ${outcome}`);
      }
      const expected = KEYS.map((key) => `${key}: ${probe.allowed.includes(key) ? 'allowed' : `${probe.denial} ${probe.status ?? 401}`}`);
      const actual = outcomes.map((o) => {
        const [key, outcome] = o.split(': ') as [KeyName, string];
        const refused = /^(NotAuthorizedException|AccessDeniedException) /.test(outcome);
        return `${key}: ${refused ? outcome : 'allowed'}`;
      });
      expect(actual, outcomes.join('\n')).toEqual(expected);
    });
  }
});

describe('the issue\'s "done when"', () => {
  it('a producer key can PutMedia to cam1 but cannot delete it or read cam2; a consumer key plays HLS but cannot ingest', async () => {
    const producer = clients(creds.get('producers')!);
    const p = creds.get('producers')!;
    const put = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'cam1', accessKeyId: p.accessKeyId, secret: p.secretAccessKey, producerStartTimestamp: (Date.now() / 1000).toFixed(3) });
    expect(put.acks.filter((a) => a.EventType === 'PERSISTED').length).toBe(5);
    await expect(producer.kvs.send(new DeleteStreamCommand({ StreamARN: cam1Arn }))).rejects.toMatchObject({ name: 'NotAuthorizedException', $metadata: { httpStatusCode: 401 } });
    await expect(producer.archived.send(new ListFragmentsCommand({ StreamName: 'cam2' }))).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    await expect(producer.media.send(new GetMediaCommand({ StreamName: 'cam2', StartSelector: { StartSelectorType: 'EARLIEST' } }))).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    expect((await producer.kvs.send(new DescribeStreamCommand({ StreamName: 'cam1' }))).StreamInfo?.StreamName).toBe('cam1');

    const consumer = clients(creds.get('consumers')!);
    const c = creds.get('consumers')!;
    const hls = await consumer.archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'cam1', PlaybackMode: 'ON_DEMAND', HLSFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: window } }));
    const master = await (await fetch(hls.HLSStreamingSessionURL ?? '')).text();
    const mediaPlaylistUrl = new URL(master.split('\n').find((l) => l !== '' && !l.startsWith('#')) ?? '', hls.HLSStreamingSessionURL);
    const playlist = await (await fetch(mediaPlaylistUrl)).text();
    const segment = playlist.split('\n').find((l) => l !== '' && !l.startsWith('#')) ?? '';
    const seg = await fetch(new URL(segment, mediaPlaylistUrl));
    expect(seg.status).toBe(200);
    expect((await seg.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const refused = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'cam1', accessKeyId: c.accessKeyId, secret: c.secretAccessKey });
    expect(refused.status).toBe(401);
    expect(refused.headers['x-amzn-errortype']).toBe('NotAuthorizedException');
  });
});

describe('access key lifecycle', () => {
  it('disable, enable, rotate and delete take effect at once; denials are logged without secrets', async () => {
    const key = await createKey({ Template: 'consumers', Streams: ['cam1'], Channels: [] });
    const list = () => clients(key).kvs.send(new DescribeStreamCommand({ StreamName: 'cam1' }));
    await list();
    expect((await admin('/openkvs/updateAccessKey', { AccessKeyId: key.accessKeyId, Status: 'Inactive' })).status).toBe(200);
    await expect(list()).rejects.toMatchObject({ name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 403 } });
    expect((await admin('/openkvs/updateAccessKey', { AccessKeyId: key.accessKeyId, Status: 'Active' })).status).toBe(200);
    await list();

    const rotated = await admin('/openkvs/rotateAccessKey', { AccessKeyId: key.accessKeyId });
    const next = rotated.json['AccessKey'] as { AccessKeyId: string; SecretAccessKey: string; PolicyNames: string[] };
    expect(next.PolicyNames).toEqual(['consumers']);
    expect((rotated.json['PreviousAccessKey'] as { Status: string }).Status).toBe('Inactive');
    await expect(list()).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    const nextCreds = { accessKeyId: next.AccessKeyId, secretAccessKey: next.SecretAccessKey };
    await clients(nextCreds).kvs.send(new DescribeStreamCommand({ StreamName: 'cam1' }));
    await expect(clients(nextCreds).kvs.send(new DescribeStreamCommand({ StreamName: 'cam2' }))).rejects.toMatchObject({ name: 'NotAuthorizedException' });

    const listed = await admin('/openkvs/listAccessKeys', {});
    const text = JSON.stringify(listed.json);
    expect(text).toContain(next.AccessKeyId);
    expect(text).not.toContain(next.SecretAccessKey);
    expect((await admin('/openkvs/deleteAccessKey', { AccessKeyId: next.AccessKeyId })).status).toBe(200);
    await expect(clients(nextCreds).kvs.send(new DescribeStreamCommand({ StreamName: 'cam1' }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    expect((await admin('/openkvs/describeAccessKey', { AccessKeyId: next.AccessKeyId })).errorType).toBe('ResourceNotFoundException');

    const denials = logLines.filter((l) => l.includes('access denied'));
    expect(denials.some((l) => l.includes(nextCreds.accessKeyId) && l.includes('kinesisvideo:DescribeStream') && l.includes('stream/cam2/'))).toBe(true);
    for (const c of [...creds.values(), key, nextCreds]) {
      expect(logLines.join('\n')).not.toContain(c.secretAccessKey);
    }
  });

  it('an explicit Deny beats the template that allows; a changed policy applies to the next request', async () => {
    const key = await createKey({ Template: 'producers', Streams: ['cam1'], Channels: [] });
    const describe = () => clients(key).kvs.send(new DescribeStreamCommand({ StreamName: 'cam1' }));
    await describe();
    const deny = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'kinesisvideo:Describe*', Resource: 'arn:aws:kinesisvideo:*:*:stream/cam1/*' }] };
    expect((await admin('/openkvs/putAccessKeyPolicy', { AccessKeyId: key.accessKeyId, PolicyName: 'no-describe', PolicyDocument: JSON.stringify(deny) })).status).toBe(200);
    const err = await describe().catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'NotAuthorizedException' });
    expect((err as Error).message).toContain('explicit deny');
    expect((await admin('/openkvs/deleteAccessKeyPolicy', { AccessKeyId: key.accessKeyId, PolicyName: 'no-describe' })).status).toBe(200);
    await describe();
  });

  it('malformed policies and unknown templates are refused with InvalidArgumentException', async () => {
    for (const body of [
      { PolicyName: 'p', PolicyDocument: '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}}' },
      { PolicyName: 'p', PolicyDocument: 'not json' },
      { Template: 'superusers' },
      { Template: 'producers', Streams: ['../etc'] },
    ]) {
      const out = await admin('/openkvs/createAccessKey', body);
      expect(out.errorType, JSON.stringify(body)).toBe('InvalidArgumentException');
      expect(out.status).toBe(400);
    }
  });
});
