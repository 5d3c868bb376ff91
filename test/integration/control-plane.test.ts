import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeImageGenerationConfigurationCommand,
  DescribeNotificationConfigurationCommand,
  DescribeStreamCommand,
  DescribeStreamStorageConfigurationCommand,
  GetDataEndpointCommand,
  InvalidArgumentException,
  KinesisVideoServiceException,
  ListStreamsCommand,
  ListTagsForResourceCommand,
  ListTagsForStreamCommand,
  NoDataRetentionException,
  ResourceInUseException,
  ResourceNotFoundException,
  TagResourceCommand,
  TagStreamCommand,
  TagsPerResourceExceededLimitException,
  UntagResourceCommand,
  UntagStreamCommand,
  UpdateDataRetentionCommand,
  UpdateImageGenerationConfigurationCommand,
  UpdateNotificationConfigurationCommand,
  UpdateStreamCommand,
  UpdateStreamStorageConfigurationCommand,
  VersionMismatchException,
  StartEdgeConfigurationUpdateCommand,
  type KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let kv: KinesisVideoClient;

beforeAll(async () => {
  server = await startTestServer();
  kv = controlClient(server.url);
});
afterAll(async () => {
  kv.destroy();
  await server.stop();
});

const describeStream = async (name: string) => (await kv.send(new DescribeStreamCommand({ StreamName: name }))).StreamInfo!;

describe('CreateStream / DescribeStream', () => {
  it('creates a stream and describes it with every modelled field', async () => {
    const before = Date.now();
    const out = await kv.send(
      new CreateStreamCommand({ StreamName: 'cam-a', DeviceName: 'dev1', MediaType: 'video/h264,audio/aac', DataRetentionInHours: 24, Tags: { site: 'lab' } }),
    );
    expect(out.StreamARN).toMatch(/^arn:aws:kinesisvideo:us-east-1:000000000000:stream\/cam-a\/\d{13}$/);
    const info = await describeStream('cam-a');
    expect(info).toMatchObject({ StreamName: 'cam-a', StreamARN: out.StreamARN, DeviceName: 'dev1', MediaType: 'video/h264,audio/aac', Status: 'ACTIVE', DataRetentionInHours: 24 });
    expect(info.CreationTime).toBeInstanceOf(Date);
    expect(info.CreationTime!.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(info.CreationTime!.getTime()).toBe(Number(out.StreamARN!.split('/')[2]));
    expect(info.Version).toMatch(/^[a-zA-Z0-9]{20}$/);
    const byArn = await kv.send(new DescribeStreamCommand({ StreamARN: out.StreamARN }));
    expect(byArn.StreamInfo?.StreamName).toBe('cam-a');
  });

  it('rejects a duplicate name with ResourceInUseException', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'dup' }));
    await expect(kv.send(new CreateStreamCommand({ StreamName: 'dup' }))).rejects.toBeInstanceOf(ResourceInUseException);
  });

  it.each([
    ['bad name characters', { StreamName: 'bad name!' }],
    ['name too long', { StreamName: 'x'.repeat(257) }],
    ['negative retention', { StreamName: 'neg', DataRetentionInHours: -1 }],
    ['bad media type', { StreamName: 'mt', MediaType: 'h264' }],
    ['bad storage tier', { StreamName: 'tier', StreamStorageConfiguration: { DefaultStorageTier: 'COLD' as 'HOT' } }],
    ['retention over ten years', { StreamName: 'long', DataRetentionInHours: 87_601 }],
  ])('rejects %s with InvalidArgumentException (400)', async (_label, input) => {
    const err = await kv.send(new CreateStreamCommand(input)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentException);
    expect((err as InvalidArgumentException).$metadata.httpStatusCode).toBe(400);
    expect((err as InvalidArgumentException).message).toMatch(/validation error|must|match/);
  });

  it('rejects more than 50 tags with TagsPerResourceExceededLimitException', async () => {
    const Tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    await expect(kv.send(new CreateStreamCommand({ StreamName: 'many-tags', Tags }))).rejects.toBeInstanceOf(TagsPerResourceExceededLimitException);
  });

  it('describes an unknown stream as ResourceNotFoundException (404)', async () => {
    const err = await kv.send(new DescribeStreamCommand({ StreamName: 'nope' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect((err as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    expect((err as ResourceNotFoundException).$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('requires StreamName or StreamARN, and both must agree', async () => {
    await expect(kv.send(new DescribeStreamCommand({}))).rejects.toBeInstanceOf(InvalidArgumentException);
    await kv.send(new CreateStreamCommand({ StreamName: 'agree' }));
    const other = (await kv.send(new CreateStreamCommand({ StreamName: 'agree2' }))).StreamARN;
    await expect(kv.send(new DescribeStreamCommand({ StreamName: 'agree', StreamARN: other }))).rejects.toBeInstanceOf(InvalidArgumentException);
  });
});

describe('ListStreams', () => {
  it('pages with NextToken and filters with BEGINS_WITH', async () => {
    for (const n of ['pg-1', 'pg-2', 'pg-3', 'pg-4', 'pg-5']) {
      await kv.send(new CreateStreamCommand({ StreamName: n }));
    }
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await kv.send(
        new ListStreamsCommand({ MaxResults: 2, NextToken: token, StreamNameCondition: { ComparisonOperator: 'BEGINS_WITH', ComparisonValue: 'pg-' } }),
      );
      names.push(...(page.StreamInfoList ?? []).map((s) => s.StreamName!));
      page.StreamInfoList?.forEach((s) => expect(s.CreationTime).toBeInstanceOf(Date));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(names).toEqual(['pg-1', 'pg-2', 'pg-3', 'pg-4', 'pg-5']);
    expect(pages).toBe(3);
  });

  it('rejects MaxResults out of range and a malformed NextToken', async () => {
    await expect(kv.send(new ListStreamsCommand({ MaxResults: 10_001 }))).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(kv.send(new ListStreamsCommand({ NextToken: '!!' }))).rejects.toBeInstanceOf(InvalidArgumentException);
  });
});

describe('UpdateStream / UpdateDataRetention / DeleteStream', () => {
  it('updates metadata, bumps the version and enforces CurrentVersion', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'upd', DataRetentionInHours: 2 }));
    const v1 = (await describeStream('upd')).Version!;
    await kv.send(new UpdateStreamCommand({ StreamName: 'upd', CurrentVersion: v1, MediaType: 'video/h265', DeviceName: 'cam9' }));
    const after = await describeStream('upd');
    expect(after).toMatchObject({ MediaType: 'video/h265', DeviceName: 'cam9' });
    expect(after.Version).not.toBe(v1);
    await expect(kv.send(new UpdateStreamCommand({ StreamName: 'upd', CurrentVersion: v1, MediaType: 'video/h264' }))).rejects.toBeInstanceOf(VersionMismatchException);

    await kv.send(
      new UpdateDataRetentionCommand({ StreamName: 'upd', CurrentVersion: after.Version, Operation: 'INCREASE_DATA_RETENTION', DataRetentionChangeInHours: 10 }),
    );
    const r = await describeStream('upd');
    expect(r.DataRetentionInHours).toBe(12);
    await kv.send(new UpdateDataRetentionCommand({ StreamName: 'upd', CurrentVersion: r.Version, Operation: 'DECREASE_DATA_RETENTION', DataRetentionChangeInHours: 12 }));
    const r2 = await describeStream('upd');
    expect(r2.DataRetentionInHours).toBe(0);
    await expect(
      kv.send(new UpdateDataRetentionCommand({ StreamName: 'upd', CurrentVersion: r2.Version, Operation: 'DECREASE_DATA_RETENTION', DataRetentionChangeInHours: 1 })),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(
      kv.send(new UpdateDataRetentionCommand({ StreamName: 'upd', CurrentVersion: r2.Version, Operation: 'SIDEWAYS' as 'INCREASE_DATA_RETENTION', DataRetentionChangeInHours: 1 })),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(
      kv.send(new UpdateDataRetentionCommand({ StreamName: 'upd', CurrentVersion: 'stale', Operation: 'INCREASE_DATA_RETENTION', DataRetentionChangeInHours: 1 })),
    ).rejects.toBeInstanceOf(VersionMismatchException);
  });

  it('deletes by ARN only, checks the version, and frees the name', async () => {
    const arn = (await kv.send(new CreateStreamCommand({ StreamName: 'del', Tags: { a: 'b' } }))).StreamARN!;
    await expect(kv.send(new DeleteStreamCommand({ StreamARN: arn, CurrentVersion: 'wrong' }))).rejects.toBeInstanceOf(VersionMismatchException);
    await expect(kv.send(new DeleteStreamCommand({} as { StreamARN: string }))).rejects.toBeInstanceOf(InvalidArgumentException);
    await kv.send(new DeleteStreamCommand({ StreamARN: arn }));
    await expect(kv.send(new DescribeStreamCommand({ StreamName: 'del' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(kv.send(new DeleteStreamCommand({ StreamARN: arn }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await new Promise((r) => setTimeout(r, 2)); // a re-created stream gets a new creation-ms ARN
    const arn2 = (await kv.send(new CreateStreamCommand({ StreamName: 'del' }))).StreamARN!;
    expect(arn2).not.toBe(arn);
    expect((await kv.send(new ListTagsForStreamCommand({ StreamARN: arn2 }))).Tags).toEqual({});
  });
});

describe('GetDataEndpoint', () => {
  it.each(['PUT_MEDIA', 'GET_MEDIA', 'LIST_FRAGMENTS', 'GET_MEDIA_FOR_FRAGMENT_LIST', 'GET_HLS_STREAMING_SESSION_URL', 'GET_DASH_STREAMING_SESSION_URL', 'GET_CLIP', 'GET_IMAGES'] as const)(
    'returns this server base URL without a trailing slash for %s',
    async (api) => {
      await kv.send(new CreateStreamCommand({ StreamName: `ep-${api.toLowerCase().replace(/_/g, '-')}` })).catch(() => undefined);
      const out = await kv.send(new GetDataEndpointCommand({ StreamName: `ep-${api.toLowerCase().replace(/_/g, '-')}`, APIName: api }));
      expect(out.DataEndpoint).toBe(server.url);
    },
  );

  it('rejects an unknown APIName and an unknown stream', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'ep-x' }));
    await expect(kv.send(new GetDataEndpointCommand({ StreamName: 'ep-x', APIName: 'PUT_IT' as 'PUT_MEDIA' }))).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(kv.send(new GetDataEndpointCommand({ StreamName: 'missing', APIName: 'PUT_MEDIA' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('tags', () => {
  it('tags, lists and untags a stream (map family)', async () => {
    const arn = (await kv.send(new CreateStreamCommand({ StreamName: 'tg', Tags: { a: '1' } }))).StreamARN!;
    await kv.send(new TagStreamCommand({ StreamName: 'tg', Tags: { b: '2', a: 'one' } }));
    expect((await kv.send(new ListTagsForStreamCommand({ StreamName: 'tg' }))).Tags).toEqual({ a: 'one', b: '2' });
    await kv.send(new UntagStreamCommand({ StreamARN: arn, TagKeyList: ['a', 'not-there'] }));
    expect((await kv.send(new ListTagsForStreamCommand({ StreamARN: arn }))).Tags).toEqual({ b: '2' });
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    await expect(kv.send(new TagStreamCommand({ StreamName: 'tg', Tags: fifty }))).rejects.toBeInstanceOf(TagsPerResourceExceededLimitException);
    expect(Object.keys((await kv.send(new ListTagsForStreamCommand({ StreamName: 'tg' }))).Tags ?? {})).toEqual(['b']);
    await expect(kv.send(new TagStreamCommand({ StreamName: 'tg', Tags: { 'bad*key': 'v' } }))).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(kv.send(new TagStreamCommand({ StreamName: 'nope', Tags: { a: 'b' } }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('tags, lists and untags by ResourceARN (list family)', async () => {
    const arn = (await kv.send(new CreateStreamCommand({ StreamName: 'tr' }))).StreamARN!;
    await kv.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: 'x', Value: '1' }, { Key: 'y', Value: '' }] }));
    expect((await kv.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual({ x: '1', y: '' });
    await kv.send(new UntagResourceCommand({ ResourceARN: arn, TagKeyList: ['x'] }));
    expect((await kv.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags).toEqual({ y: '' });
    const missing = arn.replace('/tr/', '/gone/');
    await expect(kv.send(new ListTagsForResourceCommand({ ResourceARN: missing }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(kv.send(new TagResourceCommand({ ResourceARN: 'not-an-arn', Tags: [{ Key: 'a', Value: 'b' }] }))).rejects.toBeInstanceOf(InvalidArgumentException);
  });
});

describe('stored configurations', () => {
  const imageConfig = {
    Status: 'ENABLED' as const,
    ImageSelectorType: 'SERVER_TIMESTAMP' as const,
    DestinationConfig: { Uri: 's3://bucket/prefix', DestinationRegion: 'us-east-1' },
    SamplingInterval: 1000,
    Format: 'JPEG' as const,
    FormatConfig: { JPEGQuality: '80' },
    WidthPixels: 640,
    HeightPixels: 360,
  };

  it('stores, returns and deletes an image generation configuration', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'img', DataRetentionInHours: 1 }));
    expect((await kv.send(new DescribeImageGenerationConfigurationCommand({ StreamName: 'img' }))).ImageGenerationConfiguration).toBeUndefined();
    await kv.send(new UpdateImageGenerationConfigurationCommand({ StreamName: 'img', ImageGenerationConfiguration: imageConfig }));
    expect((await kv.send(new DescribeImageGenerationConfigurationCommand({ StreamName: 'img' }))).ImageGenerationConfiguration).toEqual(imageConfig);
    await kv.send(new UpdateImageGenerationConfigurationCommand({ StreamName: 'img' }));
    expect((await kv.send(new DescribeImageGenerationConfigurationCommand({ StreamName: 'img' }))).ImageGenerationConfiguration).toBeUndefined();
  });

  it('validates image generation configurations and needs retention', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'img0' }));
    await expect(kv.send(new UpdateImageGenerationConfigurationCommand({ StreamName: 'img0', ImageGenerationConfiguration: imageConfig }))).rejects.toBeInstanceOf(
      NoDataRetentionException,
    );
    await kv.send(new CreateStreamCommand({ StreamName: 'img1', DataRetentionInHours: 1 }));
    for (const bad of [
      { ...imageConfig, SamplingInterval: 100 },
      { ...imageConfig, Format: 'GIF' as 'JPEG' },
      { ...imageConfig, WidthPixels: 4000 },
      { ...imageConfig, DestinationConfig: { Uri: 's3://b/p', DestinationRegion: 'eu-west-1' } },
      { ...imageConfig, FormatConfig: { JPEGQuality: '101' } },
    ]) {
      await expect(kv.send(new UpdateImageGenerationConfigurationCommand({ StreamName: 'img1', ImageGenerationConfiguration: bad }))).rejects.toBeInstanceOf(
        InvalidArgumentException,
      );
    }
  });

  it('stores and deletes a notification configuration', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'ntf', DataRetentionInHours: 1 }));
    const cfg = { Status: 'ENABLED' as const, DestinationConfig: { Uri: 'arn:aws:sns:us-east-1:000000000000:topic' } };
    await kv.send(new UpdateNotificationConfigurationCommand({ StreamName: 'ntf', NotificationConfiguration: cfg }));
    expect((await kv.send(new DescribeNotificationConfigurationCommand({ StreamName: 'ntf' }))).NotificationConfiguration).toEqual(cfg);
    await kv.send(new UpdateNotificationConfigurationCommand({ StreamName: 'ntf' }));
    expect((await kv.send(new DescribeNotificationConfigurationCommand({ StreamName: 'ntf' }))).NotificationConfiguration).toBeUndefined();
    await expect(
      kv.send(new UpdateNotificationConfigurationCommand({ StreamName: 'ntf', NotificationConfiguration: { Status: 'ON' as 'ENABLED', DestinationConfig: cfg.DestinationConfig } })),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
  });

  it('describes and updates the storage tier with version checks', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'st', StreamStorageConfiguration: { DefaultStorageTier: 'WARM' } }));
    const d = await kv.send(new DescribeStreamStorageConfigurationCommand({ StreamName: 'st' }));
    expect(d.StreamStorageConfiguration?.DefaultStorageTier).toBe('WARM');
    const v = (await describeStream('st')).Version!;
    await kv.send(new UpdateStreamStorageConfigurationCommand({ StreamName: 'st', CurrentVersion: v, StreamStorageConfiguration: { DefaultStorageTier: 'HOT' } }));
    expect((await kv.send(new DescribeStreamStorageConfigurationCommand({ StreamName: 'st' }))).StreamStorageConfiguration?.DefaultStorageTier).toBe('HOT');
    await expect(
      kv.send(new UpdateStreamStorageConfigurationCommand({ StreamName: 'st', CurrentVersion: v, StreamStorageConfiguration: { DefaultStorageTier: 'HOT' } })),
    ).rejects.toBeInstanceOf(VersionMismatchException);
  });
});

describe('requests that reach no operation', () => {
  it('answers edge-agent operations with a documented UnsupportedOperationException (501)', async () => {
    const err = await kv
      .send(new StartEdgeConfigurationUpdateCommand({ StreamName: 'x', EdgeConfig: { HubDeviceArn: 'arn:aws:iot:us-east-1:0:thing/x', RecorderConfig: { MediaSourceConfig: { MediaUriSecretArn: 'arn:aws:secretsmanager:us-east-1:0:secret:x', MediaUriType: 'RTSP_URI' } } } }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KinesisVideoServiceException);
    expect((err as KinesisVideoServiceException).name).toBe('UnsupportedOperationException');
    expect((err as KinesisVideoServiceException).$metadata.httpStatusCode).toBe(501);
  });

  it('answers unknown paths, GETs and bad JSON with KVS-shaped JSON errors, never HTML', async () => {
    const unsigned = await fetch(`${server.url}/no/such/path`, { method: 'POST', body: '{}' });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    const get = await fetch(`${server.url}/`);
    expect(get.status).toBe(404);
    expect(get.headers.get('content-type')).toMatch(/application\/json/);
    expect(get.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(get.headers.get('date')).toMatch(/GMT$/);
    expect(await get.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });
});
