import { CreateStreamCommand, DescribeStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { GetClipCommand, GetHLSStreamingSessionURLCommand, GetImagesCommand, GetMediaForFragmentListCommand, ListFragmentsCommand, type KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { GetMediaCommand, KinesisVideoMediaClient } from '@aws-sdk/client-kinesis-video-media';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KvsChunkReader, readChunks } from '../helpers/kvs-chunks.js';
import { clustersOf, fixture } from '../helpers/media.js';
import { putMedia, type AckEvent } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { signedPost } from '../helpers/signed-fetch.js';

// Several server restarts over one data dir.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-encryption-'));
const otherMaster = join(dataDir, '..', `${dataDir.split('/').pop() ?? 'x'}-other.key`);
const clip = fixture('mkv/h264-5s-1s-gop.mkv');
const clusters = clustersOf(clip).map((c) => Buffer.from(c.bytes));

let server: TestServer;
let kv: KinesisVideoClient;
let archive: KinesisVideoArchivedMediaClient;
let media: KinesisVideoMediaClient;

async function start(overrides: Record<string, unknown> = {}): Promise<void> {
  server = await startTestServer({ putMediaCallsPerSecond: 1000, ...overrides }, { dataDir });
  kv = controlClient(server.url);
  archive = archivedClient(server.url);
  media = new KinesisVideoMediaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, maxAttempts: 1 });
}

async function stop(): Promise<void> {
  kv.destroy();
  archive.destroy();
  media.destroy();
  await server.stop();
}

beforeAll(() => start());
afterAll(async () => {
  await stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(otherMaster, { force: true });
});

async function admin(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await signedPost(server.url + path, JSON.stringify(body));
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) {
    throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  }
  return json;
}

async function put(name: string): Promise<AckEvent[]> {
  const res = await putMedia(server.url, clip, { streamName: name, timecodeType: 'ABSOLUTE' });
  expect(res.status).toBe(200);
  return res.acks;
}

const persisted = (acks: AckEvent[]): number => acks.filter((a) => a.EventType === 'PERSISTED').length;
const errors = (acks: AckEvent[]): string[] => acks.filter((a) => a.EventType === 'ERROR').map((a) => `${a.ErrorId} ${a.ErrorCode}`);

const streamId = (name: string): number => {
  const s = server.registry.find({ name });
  if (s === undefined) {
    throw new Error(`no stream ${name}`);
  }
  return s.id;
};

const firstServerTime = (name: string): Date => new Date(server.store.list({ streamId: streamId(name), notBeforeServerMs: 0, limit: 1 })[0]?.serverTimestampMs ?? 0);

/** Every byte of a stream's segment files, by file name. */
function segmentFiles(name: string): Map<string, Buffer> {
  const dir = join(dataDir, 'streams', String(streamId(name)));
  return new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

const digest = (files: Map<string, Buffer>): string[] => [...files].map(([f, b]) => `${f}:${b.length}:${createHash('sha256').update(b).digest('hex')}`);

/** 64-byte windows from the start, middle and end of every cluster of the fixture found in the stream's files. */
function mediaWindowsOnDisk(name: string): number {
  const disk = Buffer.concat([...segmentFiles(name).values()]);
  let found = 0;
  for (const c of clusters) {
    for (const at of [0, Math.floor(c.length / 2), c.length - 64]) {
      if (disk.includes(c.subarray(at, at + 64))) {
        found++;
      }
    }
  }
  return found;
}

async function getMediaClusters(name: string, count: number): Promise<Buffer[]> {
  const out = await media.send(new GetMediaCommand({ StreamName: name, StartSelector: { StartSelectorType: 'EARLIEST' } }));
  const { chunks } = await readChunks(out.Payload as unknown as Readable, count);
  return chunks.map((c) => Buffer.from(c.cluster?.bytes ?? new Uint8Array()));
}

/** A GetMedia that answers a key problem: one error chunk, then the response ends. */
async function getMediaError(name: string): Promise<Record<string, string>> {
  const out = await media.send(new GetMediaCommand({ StreamName: name, StartSelector: { StartSelectorType: 'EARLIEST' } }));
  const reader = new KvsChunkReader();
  for await (const part of out.Payload as unknown as Readable) {
    reader.push(part as Uint8Array);
  }
  expect(reader.chunks).toHaveLength(1);
  return reader.chunks[0]?.kvs ?? {};
}

async function fragmentNumbers(name: string): Promise<string[]> {
  const out = await archive.send(
    new ListFragmentsCommand({ StreamName: name, FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(0), EndTimestamp: new Date(Date.now() + 60_000) } } }),
  );
  return (out.Fragments ?? []).sort((a, b) => ((a.FragmentNumber ?? '') < (b.FragmentNumber ?? '') ? -1 : 1)).map((f) => f.FragmentNumber ?? '');
}

async function fragmentListChunks(name: string): Promise<KvsChunkReader> {
  const out = await archive.send(new GetMediaForFragmentListCommand({ StreamName: name, Fragments: await fragmentNumbers(name) }));
  const reader = new KvsChunkReader();
  reader.push(await (out.Payload as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  return reader;
}

/** An ON_DEMAND HLS session's first media segment URL (a session of the last hour). */
async function hlsSegmentUrl(name: string): Promise<string> {
  const out = await archive.send(
    new GetHLSStreamingSessionURLCommand({
      StreamName: name,
      PlaybackMode: 'ON_DEMAND',
      HLSFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(Date.now() - 3_600_000), EndTimestamp: new Date(Date.now() - 1) } },
    }),
  );
  const master = new URL(out.HLSStreamingSessionURL ?? '');
  const mediaLine = (await (await fetch(master)).text()).split('\n').find((l) => l.startsWith('getHLSMediaPlaylist')) ?? '';
  const media = new URL(mediaLine, master);
  const segment = (await (await fetch(media)).text()).split('\n').find((l) => l.startsWith('getMP4MediaFragment')) ?? '';
  return new URL(segment, media).href;
}

async function createStream(name: string, kmsKeyId?: string): Promise<void> {
  await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24, ...(kmsKeyId !== undefined ? { KmsKeyId: kmsKeyId } : {}) }));
}

describe('encryption at rest', () => {
  it('stores ciphertext only, and GetMedia / GetMediaForFragmentList return the exact media', async () => {
    await createStream('enc-default');
    const acks = await put('enc-default');
    expect(errors(acks)).toEqual([]);
    expect(persisted(acks)).toBe(clusters.length);
    expect(mediaWindowsOnDisk('enc-default')).toBe(0);
    expect(Buffer.concat([...segmentFiles('enc-default').values()]).includes(Buffer.from([0x1f, 0x43, 0xb6, 0x75]))).toBe(false);
    expect(await getMediaClusters('enc-default', clusters.length)).toEqual(clusters);
    const listed = await fragmentListChunks('enc-default');
    expect(listed.chunks.map((c) => Buffer.from(c.cluster?.bytes ?? new Uint8Array()))).toEqual(clusters);
  });

  it('the default key is aws/kinesisvideo; a created key selected by alias encrypts its streams', async () => {
    const keys = (await admin('/openkvs/listKeys', {}))['Keys'] as { AliasName?: string; KeyState: string }[];
    expect(keys.map((k) => [k.AliasName, k.KeyState])).toEqual([['alias/aws/kinesisvideo', 'Enabled']]);
    const created = (await admin('/openkvs/createKey', { AliasName: 'alias/cams', Description: 'cameras' }))['KeyMetadata'] as { Arn: string; KeyId: string };
    expect(created.Arn).toBe(`arn:aws:kms:us-east-1:000000000000:key/${created.KeyId}`);
    await createStream('enc-cams', 'arn:aws:kms:us-east-1:000000000000:alias/cams');
    expect((await kv.send(new DescribeStreamCommand({ StreamName: 'enc-cams' }))).StreamInfo?.KmsKeyId).toBe('arn:aws:kms:us-east-1:000000000000:alias/cams');
    expect(persisted(await put('enc-cams'))).toBe(clusters.length);
    expect(mediaWindowsOnDisk('enc-cams')).toBe(0);
    expect(await getMediaClusters('enc-cams', clusters.length)).toEqual(clusters);
  });

  it('a disabled key: PutMedia ERROR acks 4501, reads fail with 4501 / KMSDisabledException, stored bytes untouched; enabled again it all works', async () => {
    const before = digest(segmentFiles('enc-cams'));
    const segment = await hlsSegmentUrl('enc-cams');
    expect((await fetch(segment)).status).toBe(200); // packaged and cached before the key is disabled
    await admin('/openkvs/disableKey', { KeyId: 'alias/cams' });
    const acks = await put('enc-cams');
    expect(persisted(acks)).toBe(0);
    expect(errors(acks)).toEqual(clusters.map(() => '4501 KMS_KEY_DISABLED'));
    expect(digest(segmentFiles('enc-cams'))).toEqual(before);

    expect(await getMediaError('enc-cams')).toMatchObject({ AWS_KINESISVIDEO_ERROR_ID: '4501', AWS_KINESISVIDEO_ERROR_CODE: 'KMS_KEY_DISABLED' });
    const listed = await fragmentListChunks('enc-cams');
    expect(listed.chunks.map((c) => c.kvs['AWS_KINESISVIDEO_ERROR_ID'])).toEqual(['4501']);
    const range = { StartTimestamp: new Date(Date.now() - 3_600_000), EndTimestamp: new Date(Date.now() - 1) };
    await expect(archive.send(new GetClipCommand({ StreamName: 'enc-cams', ClipFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: range } }))).rejects.toMatchObject({
      name: 'KMSDisabledException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      archive.send(
        new GetImagesCommand({ StreamName: 'enc-cams', ImageSelectorType: 'SERVER_TIMESTAMP', StartTimestamp: firstServerTime('enc-cams'), EndTimestamp: new Date(), SamplingInterval: 1000, Format: 'JPEG' }),
      ),
    ).rejects.toMatchObject({ name: 'KMSDisabledException' });
    const refused = await fetch(segment);
    expect([refused.status, refused.headers.get('x-amzn-errortype') ?? (await refused.text())]).toEqual([400, expect.stringMatching(/KMSDisabledException/)]);
    // another key's streams are not affected
    expect(await getMediaClusters('enc-default', clusters.length)).toEqual(clusters);

    await admin('/openkvs/enableKey', { KeyId: 'alias/cams' });
    expect(await getMediaClusters('enc-cams', clusters.length)).toEqual(clusters);
    expect((await fetch(segment)).status).toBe(200);
    expect(persisted(await put('enc-cams'))).toBe(clusters.length);
  });

  it('a KmsKeyId no key answers to is accepted by CreateStream and fails PutMedia with 4506', async () => {
    await createStream('enc-unknown', 'alias/no-such-key');
    const acks = await put('enc-unknown');
    expect(errors(acks)).toEqual(clusters.map(() => '4506 KMS_KEY_NOT_FOUND'));
    expect(await fragmentNumbers('enc-unknown')).toEqual([]);
  });

  it('rotation re-wraps the data keys without touching the media files', async () => {
    const before = digest(segmentFiles('enc-default'));
    const out = await admin('/openkvs/rotateKey', { KeyId: 'alias/aws/kinesisvideo' });
    expect(out['DataKeysRewrapped']).toBe(1);
    expect((out['KeyMetadata'] as { KeyMaterialVersion: number }).KeyMaterialVersion).toBe(2);
    expect(digest(segmentFiles('enc-default'))).toEqual(before);
    expect(await getMediaClusters('enc-default', clusters.length)).toEqual(clusters);
  });

  it('after a restart with the same data dir everything reads, and new fragments are sealed under the rotated key', async () => {
    await stop();
    await start();
    expect(await getMediaClusters('enc-default', clusters.length)).toEqual(clusters);
    expect(persisted(await put('enc-default'))).toBe(clusters.length);
    expect(await getMediaClusters('enc-default', 2 * clusters.length)).toEqual([...clusters, ...clusters]);
  });

  it('another master key: the server starts, PutMedia and reads answer 4502, nothing is damaged; the right key reads again', async () => {
    const before = digest(segmentFiles('enc-default'));
    writeFileSync(otherMaster, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    await stop();
    await start({ masterKeyFile: otherMaster });
    expect(errors(await put('enc-default'))).toEqual(clusters.map(() => '4502 KMS_KEY_VALIDATION_ERROR'));
    expect(await getMediaError('enc-default')).toMatchObject({ AWS_KINESISVIDEO_ERROR_ID: '4502', AWS_KINESISVIDEO_ERROR_CODE: 'KMS_KEY_VALIDATION_ERROR' });
    await expect(admin('/openkvs/rotateKey', { KeyId: 'alias/aws/kinesisvideo' })).rejects.toThrow(/KMSInvalidStateException/);
    expect(digest(segmentFiles('enc-default'))).toEqual(before);
    await stop();
    await start();
    expect(await getMediaClusters('enc-default', 2 * clusters.length)).toEqual([...clusters, ...clusters]);
  });

  it('with encryption off new fragments are stored as they come, and both kinds read after encryption is on again', async () => {
    await stop();
    await start({ encryption: 'off' });
    await createStream('enc-off');
    expect(persisted(await put('enc-off'))).toBe(clusters.length);
    expect(mediaWindowsOnDisk('enc-off')).toBe(3 * clusters.length);
    expect(await getMediaClusters('enc-default', clusters.length)).toEqual(clusters);
    await stop();
    await start();
    expect(await getMediaClusters('enc-off', clusters.length)).toEqual(clusters);
    expect(await getMediaClusters('enc-default', clusters.length)).toEqual(clusters);
  });

  it('keys are deleted only when disabled and no stream uses them', async () => {
    await expect(admin('/openkvs/deleteKey', { KeyId: 'alias/aws/kinesisvideo' })).rejects.toThrow(/InvalidArgumentException/);
    await admin('/openkvs/disableKey', { KeyId: 'alias/cams' });
    await expect(admin('/openkvs/deleteKey', { KeyId: 'alias/cams' })).rejects.toThrow(/ResourceInUseException/);
    const spare = (await admin('/openkvs/createKey', {}))['KeyMetadata'] as { KeyId: string };
    await expect(admin('/openkvs/deleteKey', { KeyId: spare.KeyId })).rejects.toThrow(/disable it/);
    await admin('/openkvs/disableKey', { KeyId: spare.KeyId });
    await admin('/openkvs/deleteKey', { KeyId: spare.KeyId });
    await expect(admin('/openkvs/describeKey', { KeyId: spare.KeyId })).rejects.toThrow(/ResourceNotFoundException/);
  });
});
