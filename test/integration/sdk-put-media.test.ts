import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readElementId, readElementSize } from '../../src/formats/ebml/vint.js';
import { writeCluster, writeMkvHeader } from '../../src/formats/mkv/mkv-writer.js';
import { H264FrameWriter } from '../../src/sdk/frame-writer.js';
import { MediaUnitSplitter } from '../../src/sdk/media-units.js';
import { PutMediaClient, PutMediaError, type PutMediaClientOptions } from '../../src/sdk/put-media-client.js';
import type { AckEvent } from '../../src/sdk/ack-stream.js';
import { REAL_MEDIA, clustersOf, fixture, realMedia } from '../helpers/media.js';
import { TEST_ACCESS_KEY, TEST_SECRET, controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { signedPost } from '../helpers/signed-fetch.js';

const KVSSINK = 'kvs-producer/kvssink-test-stream-1_0.mkv';
const GOP_CLIP = 'mkv/h264-5s-1s-gop.mkv';

const servers: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const d of dirs.splice(0)) {
    rmSync(d, { recursive: true, force: true });
  }
});

async function server(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const s = await startTestServer(...args);
  servers.push(s);
  return s;
}

async function createStream(s: TestServer, name: string): Promise<void> {
  const kv = controlClient(s.url);
  await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24 }));
  kv.destroy();
}

function client(s: TestServer, streamName: string, extra: Partial<PutMediaClientOptions> = {}): PutMediaClient {
  return new PutMediaClient({
    endpoint: s.url,
    region: 'us-east-1',
    credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET },
    streamName,
    retry: { maxAttempts: 40, baseDelayMs: 50, maxDelayMs: 500 },
    ...extra,
  });
}

/** Bounded wait for the upload, so a stuck client fails the test with a message instead of the suite timeout. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Feed bytes in uneven chunks, as a pipe would. */
async function* chunks(bytes: Uint8Array, size = 7919): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < bytes.length; off += size) {
    yield bytes.subarray(off, off + size);
  }
}

type Stored = { timecode: number; fragmentNumber: string; cluster: Uint8Array; tagsSize: number };

async function storedFragments(s: TestServer, name: string): Promise<Stored[]> {
  const stream = s.registry.find({ name });
  if (stream === undefined) {
    throw new Error(`stream ${name} not found`);
  }
  const out: Stored[] = [];
  for (const rec of s.store.list({ streamId: stream.id, notBeforeServerMs: 0 })) {
    const bytes = await s.store.readBytes(rec);
    out.push({ timecode: rec.timecode, fragmentNumber: rec.fragmentNumber, cluster: bytes.subarray(rec.tagsSize), tagsSize: rec.tagsSize });
  }
  return out;
}

/** A cluster's children: the client seals unknown-size clusters (kvssink writes them), the payload is untouched. */
function payload(cluster: Uint8Array): Buffer {
  const id = readElementId(cluster, 0, cluster.length, 0);
  const size = id === null ? null : readElementSize(cluster, id.length, cluster.length, id.length);
  if (id === null || size === null) {
    throw new Error('not an element');
  }
  return Buffer.from(cluster.subarray(id.length + size.length));
}

/** Every source cluster is stored exactly once, byte for byte (payload), and nothing else is. */
function expectExactlyOnce(stored: Stored[], source: Uint8Array): void {
  const expected = clustersOf(source);
  const byTimecode = [...stored].sort((a, b) => a.timecode - b.timecode);
  expect(byTimecode.map((f) => f.timecode)).toEqual(expected.map((c) => c.timecode));
  byTimecode.forEach((f, i) => {
    expect(payload(f.cluster).equals(payload(expected[i]!.bytes)), `payload of the cluster at ${f.timecode}`).toBe(true);
  });
}

describe('PutMediaClient against openkvs', () => {
  it.each([
    ['the 1 s-GOP fixture', () => fixture(GOP_CLIP), 5],
    ['a kvssink capture (unknown-size clusters, producer tags)', () => realMedia(KVSSINK), 37],
  ])('uploads %s: every fragment PERSISTED once and stored in order', async (_, load, clusters) => {
    const s = await server();
    await createStream(s, 'cam');
    const source = load();
    const c = client(s, 'cam');
    const persisted: string[] = [];
    const acks: AckEvent[] = [];
    c.on('persisted', (f) => persisted.push(f.fragmentNumber));
    const iterated = (async () => {
      for await (const a of c.acks()) {
        acks.push(a);
      }
    })();
    const summary = await within(c.pipeFrom(chunks(source)), 20_000, 'the upload');
    await within(iterated, 5000, 'the ack iterator');

    expect(summary).toMatchObject({ fragments: clusters, persisted: clusters, failed: [], resent: 0, connections: 1 });
    expect(new Set(persisted).size).toBe(clusters);
    expect(acks.filter((a) => a.type === 'persisted')).toHaveLength(clusters);
    const stored = await storedFragments(s, 'cam');
    expect(stored.map((f) => f.fragmentNumber)).toEqual(persisted);
    expect(stored.map((f) => f.timecode)).toEqual(clustersOf(source).map((f) => f.timecode));
    expectExactlyOnce(stored, source);
  });

  it('keeps producer Tags with the cluster that follows them, as a direct upload does', async () => {
    const s = await server();
    await createStream(s, 'tags');
    const source = realMedia(KVSSINK);
    await within(client(s, 'tags').pipeFrom(chunks(source)), 20_000, 'the upload');
    const stored = await storedFragments(s, 'tags');
    const units = new MediaUnitSplitter().push(source).filter((u) => u.kind === 'fragment');
    expect(stored.filter((f) => f.tagsSize > 0).length).toBeGreaterThan(0);
    stored.forEach((f, i) => expect(f.tagsSize + f.cluster.length).toBe(units[i]?.bytes.length));
  });

  it('survives a server restart mid-upload: no cluster lost, none stored twice', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-sdk-restart-'));
    dirs.push(dataDir);
    let first: TestServer | null = await startTestServer({}, { dataDir });
    const port = first.port;
    await createStream(first, 'restart');
    const source = realMedia(KVSSINK);
    const c = client(first, 'restart');
    const reconnects: PutMediaError[] = [];
    c.on('reconnecting', (r) => reconnects.push(r.cause));

    // Stop the server at the first PERSISTED ack, while later fragments are on the wire.
    let stopped: Promise<void> | null = null;
    c.on('persisted', () => {
      if (stopped === null && first !== null) {
        const s = first;
        first = null;
        stopped = s.close();
      }
    });
    const half = Math.floor(source.length / 2);
    for await (const part of chunks(source.subarray(0, half), 65_536)) {
      await c.write(part);
    }
    await within(
      (async () => {
        while (stopped === null) {
          await new Promise((r) => setTimeout(r, 10));
        }
        await stopped;
      })(),
      15_000,
      'the first PERSISTED ack and the shutdown',
    );
    // The rest arrives while the server is down; the client buffers it and keeps retrying.
    for await (const part of chunks(source.subarray(half), 65_536)) {
      await c.write(part);
    }
    await within(
      (async () => {
        while (!reconnects.some((r) => r.kind === 'connection')) {
          await new Promise((r) => setTimeout(r, 10));
        }
      })(),
      15_000,
      'a refused reconnect while the server is down',
    );
    const second = await server({ port }, { dataDir });
    const summary = await within(c.end(), 20_000, 'the upload after the restart');

    // The shutdown is announced (5000), then connecting fails until the new server listens.
    expect(reconnects[0]).toMatchObject({ kind: 'ack', errorId: 5000 });
    expect(summary.connections).toBeGreaterThanOrEqual(2);
    expect(summary).toMatchObject({ fragments: 37, persisted: 37, failed: [] });
    expectExactlyOnce(await storedFragments(second, 'restart'), source);
  });

  it('backs off and resends on ERROR 4013 until a capacity-throttled stream has every fragment', async () => {
    // fragmentsPerSecond 2 admits a 20-fragment burst, then 2/s. The server's clock runs 5× so that the 17 held
    // back fragments need ~2 s of real time instead of ~9; the client's retry timers run on real time.
    const start = Date.now();
    const s = await server({}, { clock: { now: () => start + (Date.now() - start) * 5 } });
    const res = await signedPost(`${s.url}/createStream`, JSON.stringify({ StreamName: 'throttled', DataRetentionInHours: 24, Capacity: { fragmentsPerSecond: 2 } }));
    expect(res.status).toBe(200);
    const source = realMedia(KVSSINK);
    const c = client(s, 'throttled', { retry: { maxAttempts: 40, baseDelayMs: 100, maxDelayMs: 800 } });
    const errorIds: number[] = [];
    c.on('ack', (a) => {
      if (a.type === 'error') {
        errorIds.push(a.errorId);
      }
    });
    const summary = await within(c.pipeFrom(chunks(source, 65_536)), 25_000, 'the throttled upload');

    expect(errorIds.length).toBeGreaterThan(0);
    expect(new Set(errorIds)).toEqual(new Set([4013]));
    expect(summary).toMatchObject({ fragments: 37, persisted: 37, failed: [] });
    expect(summary.resent).toBeGreaterThan(0);
    expectExactlyOnce(await storedFragments(s, 'throttled'), source);
  });

  it('uploads MP4 input as the Matroska the server would make of it', async () => {
    const s = await server();
    await createStream(s, 'mp4');
    const source = fixture('mp4/h264-frag.mp4');
    const splitter = new MediaUnitSplitter();
    const expected = [...splitter.push(source), ...splitter.end()].filter((u) => u.kind === 'fragment');
    const summary = await within(client(s, 'mp4').pipeFrom(chunks(source)), 20_000, 'the MP4 upload');
    expect(splitter.format).toBe('mp4');
    expect(expected.length).toBeGreaterThan(1);
    expect(summary).toMatchObject({ fragments: expected.length, persisted: expected.length, failed: [] });
    expect((await storedFragments(s, 'mp4')).map((f) => f.timecode)).toEqual(expected.map((u) => (u.kind === 'fragment' ? u.timecode : -1)));
  });

  it('skips a fragment the server refuses for good (4004) and delivers the rest', async () => {
    const s = await server();
    await createStream(s, 'order');
    const header = writeMkvHeader({ timecodeScaleNs: 1_000_000, tracks: [{ number: 1, kind: 'video', codecId: 'V_MPEG4/ISO/AVC', width: 16, height: 16 }] });
    const cluster = (tc: number): Uint8Array => writeCluster(tc, [{ track: 1, timecode: tc, keyframe: true, data: Uint8Array.of(0, 0, 0, 1, 0x65) }]);
    const c = client(s, 'order');
    const failedEvents: number[] = [];
    c.on('fragment-failed', (f) => failedEvents.push(f.timecode));
    for (const part of [header, cluster(1000), cluster(2000), cluster(1500), cluster(3000)]) {
      await c.write(part);
    }
    const summary = await within(c.end(), 10_000, 'the upload');
    expect(summary.persisted).toBe(3);
    expect(summary.failed).toEqual([expect.objectContaining({ timecode: 1500, errorId: 4004, errorCode: 'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS' })]);
    expect(failedEvents).toEqual([1500]);
    expect((await storedFragments(s, 'order')).map((f) => f.timecode)).toEqual([1000, 2000, 3000]);
  });

  it('stops at once on a non-retryable error before the upload (unknown stream)', async () => {
    const s = await server();
    const c = client(s, 'nope');
    const errors: PutMediaError[] = [];
    c.on('error', (e) => errors.push(e));
    await c.write(fixture(GOP_CLIP));
    const err = await within(c.end(), 10_000, 'the failing upload').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PutMediaError);
    expect(err).toMatchObject({ kind: 'http', status: 404, errorType: 'ResourceNotFoundException', retryable: false });
    expect(errors).toHaveLength(1);
    expect(c.summary.connections).toBe(1);
    await expect(c.write(Uint8Array.of(1))).rejects.toBe(err);
  });

  it('frame writer: producer-c H.264 frames → clusters → PutMedia → stored → ffmpeg decodes all 180 frames', async () => {
    const s = await server();
    await createStream(s, 'frames');
    const media = readFileSync(resolve(REAL_MEDIA, 'elementary/producer-c_h264_frames_001-180.h264'));
    const rows = readFileSync(resolve(REAL_MEDIA, 'elementary/producer-c_h264_frames_001-180.frames.csv'), 'utf8').trim().split('\n').slice(1);
    const writer = new H264FrameWriter({ track: { width: 640, height: 480, frameDurationMs: 40 } });
    const c = client(s, 'frames');
    const t0 = Date.UTC(2026, 0, 1);
    let headerSent = false;
    const send = async (cluster: Uint8Array | null): Promise<void> => {
      if (cluster === null) {
        return;
      }
      if (!headerSent) {
        await c.write(writer.header());
        headerSent = true;
      }
      await c.write(cluster);
    };
    for (const [i, row] of rows.entries()) {
      const [, , offset, size] = row.split(',');
      const au = media.subarray(Number(offset), Number(offset) + Number(size));
      await send(writer.pushAccessUnit(au, t0 + i * 40));
    }
    await send(writer.flush());
    const summary = await within(c.end(), 20_000, 'the frame upload');
    expect(summary).toMatchObject({ fragments: 4, persisted: 4, failed: [] });

    const stored = await storedFragments(s, 'frames');
    expect(stored.map((f) => f.timecode)).toEqual([0, 45, 90, 135].map((i) => t0 + i * 40));
    const dir = mkdtempSync(join(tmpdir(), 'openkvs-sdk-frames-'));
    dirs.push(dir);
    const file = join(dir, 'stored.mkv');
    writeFileSync(file, Buffer.concat([writer.header(), ...stored.map((f) => f.cluster)]));
    const ff = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'framecrc', '-'], { encoding: 'utf8' });
    expect(ff.status, ff.stderr).toBe(0);
    expect(ff.stderr).toBe('');
    expect(ff.stdout.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'))).toHaveLength(180);
  });
});
