import { CreateStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { GetMediaCommand, KinesisVideoMediaClient, ResourceNotFoundException, InvalidArgumentException, ConnectionLimitExceededException, type StartSelector } from '@aws-sdk/client-kinesis-video-media';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClusterBlocks } from '../../src/formats/mkv/mkv-stream-parser.js';
import { KvsChunkReader, readChunks, type KvsChunk } from '../helpers/kvs-chunks.js';
import { clustersOf, fixture, realMedia } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { signedPost } from '../helpers/signed-fetch.js';

let server: TestServer;
let kv: KinesisVideoClient;
let media: KinesisVideoMediaClient;
const tmp = mkdtempSync(join(tmpdir(), 'openkvs-getmedia-'));
let n = 0;

beforeAll(async () => {
  server = await startTestServer({ putMediaCallsPerSecond: 1000, getMediaCallsPerSecond: 1000 });
  kv = controlClient(server.url);
  media = new KinesisVideoMediaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, maxAttempts: 1 });
});
afterAll(async () => {
  kv.destroy();
  media.destroy();
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function streamWith(body?: Uint8Array, retention = 24): Promise<string> {
  const name = `gm-${++n}`;
  await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: retention }));
  if (body !== undefined) {
    const res = await putMedia(server.url, body, { streamName: name, timecodeType: 'ABSOLUTE' });
    expect(res.acks.filter((a) => a.EventType === 'ERROR')).toEqual([]);
  }
  return name;
}

async function getMedia(streamName: string, StartSelector: StartSelector) {
  const out = await media.send(new GetMediaCommand({ StreamName: streamName, StartSelector }));
  expect(out.ContentType).toBe('video/webm');
  return out.Payload as unknown as Readable;
}

const numbers = (chunks: KvsChunk[]) => chunks.map((c) => c.kvs['AWS_KINESISVIDEO_FRAGMENT_NUMBER']);
const storedNumbers = (name: string) => server.store.list({ streamId: server.registry.find({ name })!.id, notBeforeServerMs: 0 }).map((f) => f.fragmentNumber);

/** ffmpeg prints this for every concatenated Segment, also for real KVS GetMedia captures; it is not a decode error. */
const decodeErrors = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/Found unknown-length element with ID 0x18538067/.test(l) && !/File ended prematurely/.test(l));

describe('GetMedia round trip against a real KVS capture', () => {
  it('clusters.mkv → PutMedia → GetMedia matches kinesis_video_renderer_example_output.mkv chunk for chunk', async () => {
    const name = await streamWith(realMedia('mkv-inputs/clusters.mkv'));
    const { chunks, bytes } = await readChunks(await getMedia(name, { StartSelectorType: 'EARLIEST' }), 8);

    const reference = new KvsChunkReader();
    reference.push(realMedia('kvs-getmedia/kinesis_video_renderer_example_output.mkv'));
    expect(reference.complete).toHaveLength(8);

    for (let i = 0; i < 8; i++) {
      const ours = chunks[i]!;
      const theirs = reference.complete[i]!;
      // same cluster: timecode, blocks, frame bytes
      const a = parseClusterBlocks(ours.cluster!.bytes);
      const b = parseClusterBlocks(theirs.cluster!.bytes);
      expect(a.timecode).toBe(b.timecode);
      expect(a.blocks.length).toBe(b.blocks.length);
      expect(a.blocks.map((x) => [x.track, x.timecode, x.keyframe, Buffer.concat(x.frames).toString('base64')])).toEqual(
        b.blocks.map((x) => [x.track, x.timecode, x.keyframe, Buffer.concat(x.frames).toString('base64')]),
      );
      // the same tags, well formed
      expect(Object.keys(ours.kvs)).toEqual(Object.keys(theirs.kvs));
      expect(Object.keys(ours.trailing)).toEqual(Object.keys(theirs.trailing));
      expect(ours.kvs['AWS_KINESISVIDEO_FRAGMENT_NUMBER']).toMatch(/^\d+$/);
      expect(ours.kvs['AWS_KINESISVIDEO_SERVER_TIMESTAMP']).toMatch(/^\d+\.\d{3}$/);
      expect(ours.kvs['AWS_KINESISVIDEO_PRODUCER_TIMESTAMP']).toMatch(/^\d+\.\d{3}$/);
      expect(ours.trailing['AWS_KINESISVIDEO_CONTINUATION_TOKEN']).toBe(ours.kvs['AWS_KINESISVIDEO_FRAGMENT_NUMBER']);
      expect(ours.trailing['AWS_KINESISVIDEO_MILLIS_BEHIND_NOW']).toMatch(/^\d+$/);
    }
    expect(numbers(chunks)).toEqual(storedNumbers(name));
    // ABSOLUTE timecodes in ms: the producer timestamp of chunk i is its cluster timecode
    expect(chunks.map((c) => c.kvs['AWS_KINESISVIDEO_PRODUCER_TIMESTAMP'])).toEqual(reference.complete.map((c) => (c.cluster!.timecode / 1000).toFixed(3)));

    const file = join(tmp, 'roundtrip.mkv');
    writeFileSync(file, bytes);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file], { encoding: 'utf8' });
    expect(Number(probe.stdout.trim())).toBe(444);
    const decode = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
    expect(decodeErrors(decode.stderr)).toEqual([]);
  });
});

describe('GetMedia start selectors', () => {
  const clip = fixture('mkv/h264-5s-1s-gop.mkv');
  let name: string;
  let all: string[];
  beforeAll(async () => {
    name = await streamWith(clip);
    all = storedNumbers(name);
    expect(all).toHaveLength(5);
  });

  it('EARLIEST starts with the oldest fragment', async () => {
    expect(numbers((await readChunks(await getMedia(name, { StartSelectorType: 'EARLIEST' }), 5)).chunks)).toEqual(all);
  });

  it('NOW starts with the latest fragment', async () => {
    expect(numbers((await readChunks(await getMedia(name, { StartSelectorType: 'NOW' }), 1)).chunks)).toEqual([all[4]]);
  });

  it('FRAGMENT_NUMBER starts after AfterFragmentNumber', async () => {
    expect(numbers((await readChunks(await getMedia(name, { StartSelectorType: 'FRAGMENT_NUMBER', AfterFragmentNumber: all[1] }), 3)).chunks)).toEqual(all.slice(2));
  });

  it('CONTINUATION_TOKEN resumes right after the last chunk delivered: nothing lost, nothing repeated', async () => {
    const first = await readChunks(await getMedia(name, { StartSelectorType: 'EARLIEST' }), 2);
    const token = first.chunks[1]!.trailing['AWS_KINESISVIDEO_CONTINUATION_TOKEN'];
    const rest = await readChunks(await getMedia(name, { StartSelectorType: 'CONTINUATION_TOKEN', ContinuationToken: token }), 3);
    expect([...numbers(first.chunks), ...numbers(rest.chunks)]).toEqual(all);
  });

  it('PRODUCER_TIMESTAMP and SERVER_TIMESTAMP start with the fragment containing the time', async () => {
    const rows = server.store.list({ streamId: server.registry.find({ name })!.id, notBeforeServerMs: 0 });
    const inThird = new Date(rows[2]!.producerTimestampMs + 500);
    expect(numbers((await readChunks(await getMedia(name, { StartSelectorType: 'PRODUCER_TIMESTAMP', StartTimestamp: inThird }), 3)).chunks)).toEqual(all.slice(2));
    // a one-shot upload: server timestamps milliseconds apart; the fragment that started at or before the time wins
    const atSecond = new Date(rows[1]!.serverTimestampMs);
    const expectedFirst = rows.filter((r) => r.serverTimestampMs <= atSecond.getTime()).at(-1)!.fragmentNumber;
    const from = all.indexOf(expectedFirst);
    expect(from).toBeGreaterThanOrEqual(1);
    const fromServer = numbers((await readChunks(await getMedia(name, { StartSelectorType: 'SERVER_TIMESTAMP', StartTimestamp: atSecond }), all.length - from)).chunks);
    expect(fromServer).toEqual(all.slice(from));
    // before the first fragment: from the first one
    const early = new Date(Math.max(0, rows[0]!.producerTimestampMs - 60_000));
    expect(numbers((await readChunks(await getMedia(name, { StartSelectorType: 'PRODUCER_TIMESTAMP', StartTimestamp: early }), 1)).chunks)).toEqual([all[0]]);
  });

  it.each([
    [{ StartSelectorType: 'FRAGMENT_NUMBER' }],
    [{ StartSelectorType: 'SERVER_TIMESTAMP' }],
    [{ StartSelectorType: 'CONTINUATION_TOKEN' }],
    [{ StartSelectorType: 'CONTINUATION_TOKEN', ContinuationToken: 'not*valid' }],
    [{ StartSelectorType: 'SOMETIME' }],
  ])('rejects %j with InvalidArgumentException', async (sel) => {
    await expect(media.send(new GetMediaCommand({ StreamName: name, StartSelector: sel as StartSelector }))).rejects.toBeInstanceOf(InvalidArgumentException);
  });

  it('answers an unknown stream with ResourceNotFoundException', async () => {
    await expect(media.send(new GetMediaCommand({ StreamName: 'missing', StartSelector: { StartSelectorType: 'NOW' } }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('GetMedia live tail', () => {
  it('a consumer started with NOW on an empty stream receives fragments pushed afterwards, as they are persisted', async () => {
    const name = await streamWith();
    const payload = await getMedia(name, { StartSelectorType: 'NOW' });
    const reading = readChunks(payload, 5);
    await new Promise((r) => setTimeout(r, 100));
    const clip = fixture('mkv/h264-5s-1s-gop.mkv');
    await putMedia(server.url, clip, { streamName: name, chunkSize: 8000, chunkDelayMs: 20 });
    const { chunks } = await reading;
    expect(numbers(chunks)).toEqual(storedNumbers(name));
    const source = clustersOf(clip);
    chunks.forEach((c, i) => expect(Buffer.from(c.cluster!.bytes).equals(Buffer.from(source[i]!.bytes))).toBe(true));
  });

  it('continues live from a continuation token after a disconnect, losing and repeating nothing', async () => {
    const name = await streamWith();
    const clip = fixture('mkv/h264-5s-1s-gop.mkv');
    const first = readChunks(await getMedia(name, { StartSelectorType: 'EARLIEST' }), 2);
    await putMedia(server.url, clip, { streamName: name });
    const got = await first;
    const token = got.chunks[1]!.trailing['AWS_KINESISVIDEO_CONTINUATION_TOKEN'];
    const second = readChunks(await getMedia(name, { StartSelectorType: 'CONTINUATION_TOKEN', ContinuationToken: token }), 8);
    await putMedia(server.url, clip, { streamName: name });
    const rest = await second.catch((e: unknown) => {
      throw new Error(`${(e as Error).message}; stored ${storedNumbers(name).length}`);
    });
    expect([...numbers(got.chunks), ...numbers(rest.chunks)]).toEqual(storedNumbers(name));
  });

  it('serves retention-0 streams from the rolling buffer', async () => {
    const name = await streamWith(undefined, 0);
    const reading = readChunks(await getMedia(name, { StartSelectorType: 'NOW' }), 5);
    await new Promise((r) => setTimeout(r, 100));
    await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name });
    expect((await reading).chunks).toHaveLength(5);
  });

  it('frees its subscription and connection slot when the client disconnects, and enforces the connection capacity', async () => {
    const name = `gm-${++n}`;
    const res = await signedPost(`${server.url}/createStream`, JSON.stringify({ StreamName: name, DataRetentionInHours: 1, Capacity: { getMediaConnections: 1 } }));
    expect(res.status).toBe(200);
    const id = server.registry.find({ name })!.id;
    const payload = await getMedia(name, { StartSelectorType: 'NOW' });
    await expect(media.send(new GetMediaCommand({ StreamName: name, StartSelector: { StartSelectorType: 'NOW' } }))).rejects.toBeInstanceOf(ConnectionLimitExceededException);
    expect(server.feed.listenerCount(id)).toBe(1);
    payload.destroy();
    for (let i = 0; i < 100 && server.feed.listenerCount(id) > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(server.feed.listenerCount(id)).toBe(0);
    (await getMedia(name, { StartSelectorType: 'NOW' })).destroy();
  });
});
