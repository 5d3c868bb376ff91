import { CreateStreamCommand, DescribeStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCluster, writeMkvHeader } from '../../src/formats/mkv/mkv-writer.js';
import { ackTypesByFragment, putMedia, type AckEvent } from '../helpers/put-media-client.js';
import { REAL_MEDIA, clustersOf, fixture, realMedia } from '../helpers/media.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { signedPost } from '../helpers/signed-fetch.js';

let server: TestServer;
let kv: KinesisVideoClient;
let n = 0;

beforeAll(async () => {
  // PutMedia calls/s (5 by default) is tested with an injected clock in put-media-capacity.test.ts.
  server = await startTestServer({ putMediaCallsPerSecond: 1000 });
  kv = controlClient(server.url);
});
afterAll(async () => {
  kv.destroy();
  await server.stop();
});

async function newStream(retention = 24, capacity?: Record<string, unknown>): Promise<{ name: string; id: number }> {
  const name = `pm-${++n}`;
  if (capacity === undefined) {
    await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: retention }));
  } else {
    const res = await signedPost(`${server.url}/createStream`, JSON.stringify({ StreamName: name, DataRetentionInHours: retention, Capacity: capacity }));
    expect(res.status).toBe(200);
  }
  const s = server.registry.find({ name });
  return { name, id: s!.id };
}

const persisted = (acks: AckEvent[]) => acks.filter((a) => a.EventType === 'PERSISTED');
const errors = (acks: AckEvent[]) => acks.filter((a) => a.EventType === 'ERROR');
const stored = (id: number) => server.store.list({ streamId: id, notBeforeServerMs: 0 });

function expectCleanAckSequences(acks: AckEvent[], fragments: number): void {
  expect(errors(acks)).toEqual([]);
  const byFragment = ackTypesByFragment(acks);
  expect(byFragment.size).toBe(fragments);
  for (const types of byFragment.values()) {
    expect(types).toEqual(['BUFFERING', 'RECEIVED', 'PERSISTED']);
  }
  const numbers = [...byFragment.keys()];
  expect(numbers.every((num) => /^\d+$/.test(num))).toBe(true);
  expect([...numbers].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))).toEqual(numbers);
  // PERSISTED acks come in fragment order
  expect(persisted(acks).map((a) => a.FragmentNumber)).toEqual(numbers);
}

describe('PutMedia with the real kvssink upload (37 clusters, absolute timecodes)', () => {
  const body = realMedia('kvs-producer/kvssink-test-stream-1_0.mkv');

  it.each([
    ['one shot', {}],
    ['slow drip in 1000-byte chunks', { chunkSize: 1000 }],
  ])('acks every cluster BUFFERING → RECEIVED → PERSISTED (%s)', async (_label, opts) => {
    const { name, id } = await newStream();
    const res = await putMedia(server.url, body, { streamName: name, timecodeType: 'ABSOLUTE', ...opts });
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expectCleanAckSequences(res.acks, 37);
    expect(persisted(res.acks).map((a) => a.FragmentTimecode)).toEqual(Array.from({ length: 37 }, (_, i) => 1703120790149 + 1500 * i));
    const rows = stored(id);
    expect(rows).toHaveLength(37);
    expect(rows.map((r) => r.fragmentNumber)).toEqual(persisted(res.acks).map((a) => a.FragmentNumber));
    // ABSOLUTE: the producer timestamp is the cluster timecode (TimecodeScale 1 ms)
    expect(rows[0]!.producerTimestampMs).toBe(1703120790149);
    expect(rows[36]!.producerTimestampMs).toBe(1703120790149 + 36 * 1500);
    // 45 blocks spanning 1467 ms plus one frame; the last cluster holds 20 blocks
    expect(rows.slice(0, 36).every((r) => r.durationMs === 1500)).toBe(true);
    expect(rows[36]!.durationMs).toBe(666);
  });

  it('stores each cluster byte for byte, with the producer Tags that preceded it', async () => {
    const { name, id } = await newStream();
    await putMedia(server.url, body, { streamName: name, timecodeType: 'ABSOLUTE' });
    const source = clustersOf(body);
    const rows = stored(id);
    for (let i = 0; i < rows.length; i++) {
      const bytes = await server.store.readBytes(rows[i]!);
      expect(Buffer.from(bytes.subarray(rows[i]!.tagsSize)).equals(Buffer.from(source[i]!.bytes))).toBe(true);
    }
    expect(rows.filter((r) => r.tagsSize > 0).length).toBeGreaterThan(20);
  });

  it('sends each ack as its own small chunk (PIC rejects ack buffers over 1024 bytes)', async () => {
    const { name } = await newStream();
    const res = await putMedia(server.url, body.subarray(0, 400_000), { streamName: name, chunkSize: 50_000, chunkDelayMs: 5 });
    expect(res.ackChunks.every((c) => c.length <= 1024)).toBe(true);
  });
});

describe('PutMedia accepts every valid real-world MKV', () => {
  const files = [
    'mkv-inputs/clusters.mkv',
    'mkv-inputs/vogels_330.mkv',
    'mkv-inputs/bezos_vogels.mkv',
    'kvs-getmedia/output_get_media.mkv',
    'kvs-getmedia/output_get_media_sparse_fragments.mkv',
    'kvs-getmedia/kinesis_video_renderer_example_output.mkv',
    'kvs-getmedia/test_mixed_tags.mkv',
    'matroska-edge-cases/mediabunny/multi-cluster.mkv',
    'matroska-edge-cases/mediabunny/annex-b-avc.mkv',
    'matroska-edge-cases/mediabunny/trim-buck-bunny.webm',
    'matroska-edge-cases/mediabunny/ac3.mkv',
    'matroska-edge-cases/matroska-demuxer/simple.mkv',
    'matroska-edge-cases/matroska-demuxer/multi_seekhead.mkv',
    'matroska-edge-cases/matroska-demuxer/subtitles.mkv',
    ...readdirSync(resolve(REAL_MEDIA, 'matroska-edge-cases/libwebm'))
      .filter((f) => /\.(webm|mkv)$/.test(f))
      .map((f) => `matroska-edge-cases/libwebm/${f}`),
  ];

  it.each(files)('%s: one PERSISTED per cluster, in 7919-byte chunks', async (file) => {
    const body = realMedia(file);
    const expected = clustersOf(body).length;
    const { name, id } = await newStream(24, { fragmentsPerSecond: 100 });
    const res = await putMedia(server.url, body, { streamName: name, chunkSize: 7919 });
    expectCleanAckSequences(res.acks, expected);
    expect(stored(id)).toHaveLength(expected);
  });

  it('pins the cluster counts the README documents', () => {
    expect(clustersOf(realMedia('mkv-inputs/clusters.mkv'))).toHaveLength(8);
    expect(clustersOf(realMedia('mkv-inputs/vogels_330.mkv'))).toHaveLength(9);
    expect(clustersOf(realMedia('kvs-getmedia/output_get_media.mkv'))).toHaveLength(5);
    expect(clustersOf(realMedia('kvs-getmedia/test_mixed_tags.mkv'))).toHaveLength(10);
    expect(clustersOf(realMedia('matroska-edge-cases/mediabunny/annex-b-avc.mkv'))).toHaveLength(8);
  });

  it.each([
    ['kvs-getmedia/output-get-media-equal-timecode.mkv', 1],
    ['kvs-getmedia/output-get-media-non-increasing-timecode.mkv', 11],
  ])('%s ends mid-cluster: its %i complete fragments are kept, then INVALID_MKV_DATA', async (file, complete) => {
    const { name, id } = await newStream();
    const res = await putMedia(server.url, realMedia(file), { streamName: name, chunkSize: 7919 });
    expect(persisted(res.acks)).toHaveLength(complete);
    expect(errors(res.acks)).toMatchObject([{ ErrorId: 4006, ErrorCode: 'INVALID_MKV_DATA' }]);
    expect(stored(id)).toHaveLength(complete);
  });

  it('restarts the timecode order check at each new EBML document (a new producer session)', async () => {
    const { name, id } = await newStream();
    const res = await putMedia(server.url, realMedia('kvs-getmedia/output-get-media-non-increasing-timecode.mkv'), { streamName: name });
    // cluster timecodes 10014, then 0, 1001, … in later documents: no 4004
    expect(errors(res.acks).map((e) => e.ErrorId)).toEqual([4006]);
    expect(stored(id).map((r) => r.timecode).slice(0, 3)).toEqual([10014, 0, 1001]);
  });
});

describe('PutMedia with MP4', () => {
  it.each([
    ['fragmented (ffmpeg frag_keyframe)', () => fixture('mp4/h264-frag.mp4'), 5, undefined],
    ['progressive with the moov at the end', () => fixture('mp4/h264-progressive-moov-at-end.mp4'), 5, 'video/mp4'],
    ['fragmented H.264 + AAC (mediabunny sample)', () => realMedia('fmp4/mediabunny/frag-buck-bunny.mp4'), 5, 'video/mp4'],
  ])('%s: one fragment per GOP, same acks as MKV', async (_label, load, fragments, contentType) => {
    const { name, id } = await newStream();
    const res = await putMedia(server.url, load(), { streamName: name, chunkSize: 4096, ...(contentType ? { contentType } : {}) });
    expectCleanAckSequences(res.acks, fragments);
    const rows = stored(id);
    expect(rows).toHaveLength(fragments);
    const info = server.store.trackInfo(rows[0]!.trackInfoId);
    expect(info?.tracks[0]?.codecId).toBe('V_MPEG4/ISO/AVC');
    // stored MP4 fragments are Matroska clusters, like every other upload
    const bytes = await server.store.readBytes(rows[0]!);
    expect([...bytes.subarray(rows[0]!.tagsSize, rows[0]!.tagsSize + 4)]).toEqual([0x1f, 0x43, 0xb6, 0x75]);
  });
});

describe('PutMedia rejects bad input with the right ERROR ack and keeps what it stored', () => {
  const clip = fixture('mkv/h264-5s-1s-gop.mkv');

  const invalidDir = resolve(REAL_MEDIA, 'matroska-edge-cases/libwebm/invalid');
  it.each(readdirSync(invalidDir).filter((f) => /\.(mkv|webm)$/.test(f)))('libwebm invalid/%s → ERROR 4006, server healthy', async (file) => {
    const { name } = await newStream();
    const res = await putMedia(server.url, realMedia(`matroska-edge-cases/libwebm/invalid/${file}`), { streamName: name, chunkSize: 3000 });
    expect(res.status).toBe(200);
    expect(errors(res.acks)).toHaveLength(1);
    expect(errors(res.acks)[0]).toMatchObject({ EventType: 'ERROR', ErrorId: 4006, ErrorCode: 'INVALID_MKV_DATA' });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it.each([
    ['random garbage', () => new Uint8Array(Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) % 251))],
    ['an HTTP request as body', () => new TextEncoder().encode('POST /putMedia HTTP/1.1\r\nHost: x\r\n\r\n{"hello":"world"}')],
    ['an empty EBML header only', () => clip.subarray(0, 40)],
  ])('%s → ERROR 4006', async (_label, make) => {
    const { name, id } = await newStream();
    const res = await putMedia(server.url, make(), { streamName: name });
    expect(errors(res.acks)).toMatchObject([{ ErrorId: 4006 }]);
    expect(stored(id)).toHaveLength(0);
  });

  it('a truncated upload keeps every complete fragment before the cut', async () => {
    const { name, id } = await newStream();
    const clusters = clustersOf(clip);
    // cut in the middle of the fourth cluster
    const cut = clip.length - clusters[4]!.bytes.length - Math.floor(clusters[3]!.bytes.length / 2);
    const res = await putMedia(server.url, clip.subarray(0, cut), { streamName: name, chunkSize: 5000 });
    expect(persisted(res.acks).map((a) => a.FragmentTimecode)).toEqual([0, 1000, 2000]);
    expect(errors(res.acks)).toMatchObject([{ ErrorId: 4006, FragmentTimecode: 3000 }]);
    expect(stored(id).map((r) => r.timecode)).toEqual([0, 1000, 2000]);
  });

  it('bit-flipped uploads never crash the server or damage earlier fragments', async () => {
    const { name, id } = await newStream(24, { fragmentsPerSecond: 1000 });
    await putMedia(server.url, clip, { streamName: name });
    const before = await Promise.all(stored(id).map((r) => server.store.readBytes(r)));
    let seed = 42;
    for (let round = 0; round < 20; round++) {
      const damaged = new Uint8Array(clip);
      for (let k = 0; k < 8; k++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const at = seed % damaged.length;
        damaged[at] = damaged[at]! ^ (1 << (seed % 8));
      }
      const res = await putMedia(server.url, damaged, { streamName: name, chunkSize: 4096 });
      expect(res.status).toBe(200);
      for (const e of errors(res.acks)) {
        expect([4002, 4004, 4006, 4007, 4009, 4013]).toContain(e.ErrorId);
      }
    }
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const after = stored(id).slice(0, before.length);
    for (let i = 0; i < before.length; i++) {
      expect(Buffer.from(await server.store.readBytes(after[i]!)).equals(Buffer.from(before[i]!))).toBe(true);
    }
  });

  const track = { number: 1, kind: 'video' as const, codecId: 'V_MPEG4/ISO/AVC', width: 64, height: 64 };
  const header = writeMkvHeader({ timecodeScaleNs: 1_000_000, tracks: [track] });
  const cluster = (tc: number, blocks: number[], size = 100) =>
    writeCluster(tc, blocks.map((t, i) => ({ track: 1, timecode: t, keyframe: i === 0, data: new Uint8Array(size).fill(i) })));
  const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

  it('a timecode lower than the previous one → ERROR 4004 for that fragment, the upload goes on', async () => {
    const { name, id } = await newStream();
    const body = concat(header, cluster(1000, [1000, 1033]), cluster(500, [500, 533]), cluster(2000, [2000, 2033]));
    const res = await putMedia(server.url, body, { streamName: name });
    expect(errors(res.acks)).toMatchObject([{ ErrorId: 4004, ErrorCode: 'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS', FragmentTimecode: 500 }]);
    expect(persisted(res.acks).map((a) => a.FragmentTimecode)).toEqual([1000, 2000]);
    expect(stored(id).map((r) => r.timecode)).toEqual([1000, 2000]);
  });

  it('a fragment longer than the stream maximum → ERROR 4002', async () => {
    const { name } = await newStream();
    const body = concat(header, cluster(0, [0, 10_000, 25_000]), cluster(30_000, [30_000, 30_033]));
    const res = await putMedia(server.url, body, { streamName: name });
    expect(errors(res.acks)).toMatchObject([{ ErrorId: 4002, FragmentTimecode: 0 }]);
    expect(persisted(res.acks).map((a) => a.FragmentTimecode)).toEqual([30_000]);
  });

  it('a fragment over the size limit → ERROR 4001 and the upload stops', async () => {
    const { name, id } = await newStream(24, { maxFragmentBytes: 65_536 });
    const body = concat(header, cluster(0, [0, 33]), cluster(1000, [1000, 1033], 40_000), cluster(2000, [2000, 2033]));
    const res = await putMedia(server.url, body, { streamName: name, chunkSize: 8192 });
    expect(persisted(res.acks).map((a) => a.FragmentTimecode)).toEqual([0]);
    // the cluster's declared size already exceeds the cap, before its Timecode is read
    expect(errors(res.acks)).toMatchObject([{ ErrorId: 4001, ErrorCode: 'MAX_FRAGMENT_SIZE_REACHED' }]);
    expect(stored(id)).toHaveLength(1);
  });
});

describe('PutMedia errors before streaming are ordinary KVS errors', () => {
  it.each([
    ['an unknown stream', { streamName: 'no-such-stream' }, 404, 'ResourceNotFoundException'],
    ['no stream header', {}, 400, 'InvalidArgumentException'],
    ['a bad timecode type', { streamName: 'x', headers: { 'x-amzn-fragment-timecode-type': 'SIDEWAYS' } }, 400, 'InvalidArgumentException'],
    ['a bad producer timestamp', { streamName: 'x', producerStartTimestamp: 'yesterday' }, 400, 'InvalidArgumentException'],
    ['a wrong secret', { streamName: 'x', secret: 'wrong-secret-wrong-secret' }, 403, 'InvalidSignatureException'],
  ])('%s', async (_label, opts, status, errorType) => {
    const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), opts as Parameters<typeof putMedia>[2]);
    expect(res.status).toBe(status);
    expect(res.headers['x-amzn-errortype']).toBe(errorType);
  });

  it('accepts the Java client signing variants (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, UNSIGNED-PAYLOAD)', async () => {
    const { name } = await newStream();
    for (const hash of ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'UNSIGNED-PAYLOAD']) {
      const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name, headers: { 'x-amz-content-sha256': hash } });
      expect(res.status).toBe(200);
      expect(persisted(res.acks)).toHaveLength(5);
    }
  });

  it('addresses the stream by ARN as well', async () => {
    const { name } = await newStream();
    const arn = (await kv.send(new DescribeStreamCommand({ StreamName: name }))).StreamInfo!.StreamARN!;
    const res = await putMedia(server.url, fixture('mkv/h264-opus-5s.mkv'), { streamArn: arn });
    expect(persisted(res.acks)).toHaveLength(clustersOf(fixture('mkv/h264-opus-5s.mkv')).length);
  });
});

describe('producer timestamps', () => {
  it('RELATIVE timecodes are added to x-amzn-producer-start-timestamp (unpadded millis, as the C producer writes it)', async () => {
    const { name, id } = await newStream();
    await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: '1700000000.5' });
    expect(stored(id).map((r) => r.producerTimestampMs)).toEqual([0, 1000, 2000, 3000, 4000].map((t) => 1_700_000_000_005 + t));
  });
});

describe('streams without retention', () => {
  it('get BUFFERING and RECEIVED but no PERSISTED, and fragments stay in the rolling buffer', async () => {
    const { name, id } = await newStream(0);
    const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name });
    expect(errors(res.acks)).toEqual([]);
    expect(persisted(res.acks)).toEqual([]);
    expect(res.acks.filter((a) => a.EventType === 'RECEIVED')).toHaveLength(5);
    expect(stored(id)).toHaveLength(0);
    expect(server.buffer.list(id, Date.now())).toHaveLength(5);
  });
});
