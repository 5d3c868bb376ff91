import { CreateStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import type { KinesisVideoArchivedMediaClient} from '@aws-sdk/client-kinesis-video-archived-media';
import { GetImagesCommand, InvalidArgumentException, NoDataRetentionException, type Image } from '@aws-sdk/client-kinesis-video-archived-media';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, realMedia } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let kv: KinesisVideoClient;
let archived: KinesisVideoArchivedMediaClient;
let n = 0;

beforeAll(async () => {
  server = await startTestServer({ putMediaCallsPerSecond: 1000 });
  kv = controlClient(server.url);
  archived = archivedClient(server.url);
});
afterAll(async () => {
  kv.destroy();
  archived.destroy();
  await server.stop();
});

/** A stream holding `body`, uploaded RELATIVE from the given producer start time. */
async function streamWith(body: Uint8Array, producerStartMs: number): Promise<string> {
  const name = `img-${++n}`;
  await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24 }));
  const res = await putMedia(server.url, body, { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: (producerStartMs / 1000).toFixed(3) });
  expect(res.acks.filter((a) => a.EventType === 'ERROR')).toEqual([]);
  return name;
}

/** ffprobe's view of one image (codec and size), read from stdin without blocking this process's server. */
function probeImage(bytes: Uint8Array): Promise<{ codec: string; width: number; height: number; errors: string }> {
  return new Promise((resolve) => {
    const p = spawn('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', '-i', 'pipe:0'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    p.on('close', () => {
      const [codec = '', w = '0', h = '0'] = out.trim().split(',');
      resolve({ codec, width: Number(w), height: Number(h), errors: err.trim() });
    });
    p.stdin.end(Buffer.from(bytes));
  });
}

const content = (img: Image): Uint8Array => new Uint8Array(Buffer.from(img.ImageContent!, 'base64'));

describe('GetImages', () => {
  const P0 = 1_750_000_000_000;

  it('samples a real H.264 + AAC upload (vogels_330.mkv) every second as decodable JPEGs, with paging', async () => {
    const name = await streamWith(realMedia('mkv-inputs/vogels_330.mkv'), P0);
    const request = { StreamName: name, ImageSelectorType: 'PRODUCER_TIMESTAMP' as const, StartTimestamp: new Date(P0), EndTimestamp: new Date(P0 + 29_000), SamplingInterval: 1000, Format: 'JPEG' as const };
    const page1 = await archived.send(new GetImagesCommand(request));
    expect(page1.Images).toHaveLength(25);
    expect(page1.NextToken).toBeDefined();
    const page2 = await archived.send(new GetImagesCommand({ ...request, NextToken: page1.NextToken }));
    expect(page2.Images).toHaveLength(5);
    expect(page2.NextToken).toBeUndefined();
    const all = [...page1.Images!, ...page2.Images!];
    expect(all.map((i) => i.TimeStamp!.getTime())).toEqual(Array.from({ length: 30 }, (_, i) => P0 + i * 1000));
    // the upload covers 30.4 s from P0 (three of its clusters start mid-GOP: decoded from the key frame before them)
    const withImages = all.filter((i) => i.ImageContent !== undefined);
    expect(withImages).toHaveLength(30);
    for (const img of withImages.slice(0, 6)) {
      const p = await probeImage(content(img));
      expect(p).toEqual({ codec: 'mjpeg', width: 640, height: 330, errors: '' });
    }
  });

  it('works with the AWS CLI: get-images returns decodable JPEGs', async () => {
    const name = await streamWith(fixture('mkv/h264-5s-1s-gop.mkv'), P0);
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: TEST_SECRET,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    // Asynchronously: the server runs in this process, so a blocking spawn would leave the CLI unanswered.
    const cli = await promisify(execFile)(
      'aws',
      ['kinesis-video-archived-media', 'get-images', '--endpoint-url', server.url, '--stream-name', name, '--image-selector-type', 'PRODUCER_TIMESTAMP',
        '--start-timestamp', String(P0 / 1000), '--end-timestamp', String(P0 / 1000 + 4), '--sampling-interval', '1000', '--format', 'JPEG', '--width-pixels', '320', '--output', 'json'],
      { env, encoding: 'utf8', timeout: 60_000 },
    );
    const out = JSON.parse(cli.stdout) as { Images: { TimeStamp: number | string; ImageContent?: string; Error?: string }[] };
    expect(out.Images).toHaveLength(5);
    for (const img of out.Images) {
      expect(img.Error).toBeUndefined();
      expect(await probeImage(new Uint8Array(Buffer.from(img.ImageContent!, 'base64')))).toEqual({ codec: 'mjpeg', width: 320, height: 180, errors: '' });
    }
  });

  it('PNG at a requested width keeps the aspect ratio; samples outside the data are NO_MEDIA', async () => {
    const name = await streamWith(fixture('mkv/h264-5s-1s-gop.mkv'), P0);
    const out = await archived.send(
      new GetImagesCommand({
        StreamName: name,
        ImageSelectorType: 'PRODUCER_TIMESTAMP',
        StartTimestamp: new Date(P0 - 2000),
        EndTimestamp: new Date(P0 + 8000),
        SamplingInterval: 2000,
        Format: 'PNG',
        WidthPixels: 320,
      }),
    );
    const images = out.Images!;
    expect(images.map((i) => i.TimeStamp!.getTime() - P0)).toEqual([-2000, 0, 2000, 4000, 6000, 8000]);
    expect(images.map((i) => i.Error ?? 'image')).toEqual(['NO_MEDIA', 'image', 'image', 'image', 'NO_MEDIA', 'NO_MEDIA']);
    for (const img of images.filter((i) => i.ImageContent !== undefined)) {
      expect(await probeImage(content(img))).toEqual({ codec: 'png', width: 320, height: 180, errors: '' });
    }
  });

  it('sub-GOP sampling decodes the frames in between, and they differ', async () => {
    const name = await streamWith(fixture('mkv/h264-5s-1s-gop.mkv'), P0);
    const out = await archived.send(
      new GetImagesCommand({
        StreamName: name,
        ImageSelectorType: 'PRODUCER_TIMESTAMP',
        StartTimestamp: new Date(P0),
        EndTimestamp: new Date(P0 + 1000),
        SamplingInterval: 250,
        Format: 'JPEG',
        FormatConfig: { JPEGQuality: '50' },
      }),
    );
    const images = out.Images!;
    expect(images).toHaveLength(5);
    expect(images.every((i) => i.ImageContent !== undefined)).toBe(true);
    // testsrc's picture changes every frame: distinct sample times give distinct images
    expect(new Set(images.map((i) => i.ImageContent)).size).toBe(5);
  });

  it('gives the KVS errors for bad requests and retention 0', async () => {
    const name = await streamWith(fixture('mkv/h264-5s-1s-gop.mkv'), P0);
    const base = { StreamName: name, ImageSelectorType: 'PRODUCER_TIMESTAMP' as const, StartTimestamp: new Date(P0), Format: 'JPEG' as const };
    await expect(archived.send(new GetImagesCommand({ ...base, EndTimestamp: new Date(P0 + 301_000) }))).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(archived.send(new GetImagesCommand({ ...base, EndTimestamp: new Date(P0 + 1000), SamplingInterval: 100 }))).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(archived.send(new GetImagesCommand({ ...base, EndTimestamp: new Date(P0 - 1000) }))).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(archived.send(new GetImagesCommand({ ...base, EndTimestamp: new Date(P0 + 1000), FormatConfig: { JPEGQuality: '101' } }))).rejects.toBeInstanceOf(InvalidArgumentException);
    const r0 = `img-r0-${++n}`;
    await kv.send(new CreateStreamCommand({ StreamName: r0, DataRetentionInHours: 0 }));
    await expect(archived.send(new GetImagesCommand({ ...base, StreamName: r0, EndTimestamp: new Date(P0 + 1000) }))).rejects.toBeInstanceOf(NoDataRetentionException);
  });
});
