import { CreateStreamCommand, DescribeStreamCommand } from '@aws-sdk/client-kinesis-video';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/util/clock.js';
import { putMedia, type AckEvent } from '../helpers/put-media-client.js';
import { fixture, realMedia } from '../helpers/media.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { signedPost } from '../helpers/signed-fetch.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const T0 = Date.UTC(2026, 0, 1);
const persisted = (acks: AckEvent[]) => acks.filter((a) => a.EventType === 'PERSISTED');
const errors = (acks: AckEvent[]) => acks.filter((a) => a.EventType === 'ERROR');

async function createWithCapacity(s: TestServer, name: string, capacity: Record<string, unknown>): Promise<void> {
  const res = await signedPost(`${s.url}/createStream`, JSON.stringify({ StreamName: name, DataRetentionInHours: 24, Capacity: capacity }));
  expect(res.status).toBe(200);
}

async function updateCapacity(s: TestServer, name: string, capacity: Record<string, unknown>): Promise<Response> {
  const kv = controlClient(s.url);
  const version = (await kv.send(new DescribeStreamCommand({ StreamName: name }))).StreamInfo!.Version!;
  kv.destroy();
  return signedPost(`${s.url}/updateStream`, JSON.stringify({ StreamName: name, CurrentVersion: version, Capacity: capacity }));
}

async function describeRaw(s: TestServer, name: string): Promise<{ Capacity: Record<string, number | null>; CapacityChangesLast24h: number }> {
  const res = await signedPost(`${s.url}/describeStream`, JSON.stringify({ StreamName: name }));
  return ((await res.json()) as { StreamInfo: { Capacity: Record<string, number | null>; CapacityChangesLast24h: number } }).StreamInfo;
}

describe('fixed per-stream capacity (injected clock)', () => {
  it('admits a burst of 10 s of fragments, then throttles the rest with ERROR 4013 — never silently, never by raising capacity', async () => {
    const clock = new ManualClock(T0);
    server = await startTestServer({}, { clock });
    await createWithCapacity(server, 'slow', { fragmentsPerSecond: 1 });
    const body = realMedia('kvs-producer/kvssink-test-stream-1_0.mkv');
    const res = await putMedia(server.url, body, { streamName: 'slow', timecodeType: 'ABSOLUTE' });
    expect(persisted(res.acks)).toHaveLength(10);
    const errs = errors(res.acks);
    expect(errs).toHaveLength(27);
    expect(errs.every((e) => e.ErrorId === 4013 && e.ErrorCode === undefined && typeof e.FragmentTimecode === 'number')).toBe(true);
    // every fragment got an answer
    expect(res.acks.filter((a) => a.EventType === 'BUFFERING')).toHaveLength(37);
    expect((await describeRaw(server, 'slow')).Capacity.fragmentsPerSecond).toBe(1);

    clock.advance(3000);
    const again = await putMedia(server.url, body, { streamName: 'slow', timecodeType: 'ABSOLUTE' });
    expect(persisted(again.acks)).toHaveLength(3);
  });

  it('throttles on ingest bytes per second too', async () => {
    const clock = new ManualClock(T0);
    server = await startTestServer({}, { clock });
    const clip = fixture('mkv/h264-5s-1s-gop.mkv');
    // 1024 B/s → a burst of 10 KiB admits nothing of a ~15 KB cluster… except that the burst never goes below one
    // max-size fragment, so cap fragments at 16 KiB: exactly one cluster fits.
    await createWithCapacity(server, 'bytes', { ingestBytesPerSecond: 1024, maxFragmentBytes: 17_000 });
    const res = await putMedia(server.url, clip, { streamName: 'bytes' });
    expect(persisted(res.acks)).toHaveLength(1);
    expect(errors(res.acks).map((e) => e.ErrorId)).toEqual([4013, 4013, 4013, 4013]);
  });

  it('enforces an optional storage budget', async () => {
    server = await startTestServer();
    await createWithCapacity(server, 'budget', { storageBudgetBytes: 40_000 });
    const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'budget' });
    expect(persisted(res.acks)).toHaveLength(2);
    expect(errors(res.acks).map((e) => e.ErrorId)).toEqual([4013, 4013, 4013]);
  });

  it('refuses PutMedia calls over the per-stream call rate with ClientLimitExceededException', async () => {
    const clock = new ManualClock(T0);
    server = await startTestServer({ putMediaCallsPerSecond: 2 }, { clock });
    const kv = controlClient(server.url);
    await kv.send(new CreateStreamCommand({ StreamName: 'calls', DataRetentionInHours: 1 }));
    kv.destroy();
    const clip = fixture('mkv/h264-5s-1s-gop.mkv').subarray(0, 2000);
    expect((await putMedia(server.url, clip, { streamName: 'calls' })).status).toBe(200);
    expect((await putMedia(server.url, clip, { streamName: 'calls' })).status).toBe(200);
    const third = await putMedia(server.url, clip, { streamName: 'calls' });
    expect(third.status).toBe(400);
    expect(third.headers['x-amzn-errortype']).toBe('ClientLimitExceededException');
    clock.advance(1000);
    expect((await putMedia(server.url, clip, { streamName: 'calls' })).status).toBe(200);
  });

  it('refuses connections over the stream capacity with ConnectionLimitExceededException', async () => {
    server = await startTestServer({ putMediaCallsPerSecond: 100 });
    await createWithCapacity(server, 'conns', { putMediaConnections: 1 });
    const clip = fixture('mkv/h264-5s-1s-gop.mkv');
    const slow = putMedia(server.url, clip, { streamName: 'conns', chunkSize: 4000, chunkDelayMs: 40 });
    await new Promise((r) => setTimeout(r, 150));
    const second = await putMedia(server.url, clip, { streamName: 'conns' });
    expect(second.status).toBe(400);
    expect(second.headers['x-amzn-errortype']).toBe('ConnectionLimitExceededException');
    expect(persisted((await slow).acks)).toHaveLength(5);
    // the slot is free again once the first upload ended
    expect(persisted((await putMedia(server.url, clip, { streamName: 'conns' })).acks)).toHaveLength(5);
  });
});

describe('changing capacity (resharding rules)', () => {
  it('shows capacity in DescribeStream and changes it only explicitly, at most ×2 / ÷2 per step, 10 times a day', async () => {
    const clock = new ManualClock(T0);
    server = await startTestServer({}, { clock });
    await createWithCapacity(server, 'cap', { fragmentsPerSecond: 4 });
    expect(await describeRaw(server, 'cap')).toMatchObject({ Capacity: { fragmentsPerSecond: 4, maxFragmentBytes: 50 * 1024 * 1024 }, CapacityChangesLast24h: 0 });

    const triple = await updateCapacity(server, 'cap', { fragmentsPerSecond: 12 });
    expect(triple.status).toBe(400);
    expect(triple.headers.get('x-amzn-errortype')).toBe('InvalidArgumentException');
    expect(((await triple.json()) as { message: string }).message).toMatch(/at most double or halve/);

    const values = [8, 16, 8, 4, 2, 4, 8, 16, 32, 64];
    for (const v of values) {
      expect((await updateCapacity(server, 'cap', { fragmentsPerSecond: v })).status).toBe(200);
    }
    expect(await describeRaw(server, 'cap')).toMatchObject({ Capacity: { fragmentsPerSecond: 64 }, CapacityChangesLast24h: 10 });
    const eleventh = await updateCapacity(server, 'cap', { fragmentsPerSecond: 32 });
    expect(eleventh.status).toBe(400);
    expect(eleventh.headers.get('x-amzn-errortype')).toBe('ClientLimitExceededException');

    clock.advance(24 * 3_600_000 + 1);
    expect((await updateCapacity(server, 'cap', { fragmentsPerSecond: 32 })).status).toBe(200);
    expect((await describeRaw(server, 'cap')).CapacityChangesLast24h).toBe(1);
  });

  it('rejects unknown or out-of-range capacity members', async () => {
    server = await startTestServer();
    const kv = controlClient(server.url);
    await kv.send(new CreateStreamCommand({ StreamName: 'cap2' }));
    for (const bad of [{ shards: 2 }, { fragmentsPerSecond: 0 }, { maxFragmentBytes: 'big' }]) {
      const res = await updateCapacity(server, 'cap2', bad);
      expect(res.status).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toBe('InvalidArgumentException');
    }
    const err = await signedPost(`${server.url}/createStream`, JSON.stringify({ StreamName: 'cap3', Capacity: { putMediaConnections: -1 } }));
    expect(err.status).toBe(400);
    expect(err.headers.get('x-amzn-errortype')).toBe('InvalidArgumentException');
    // streams created through the AWS SDK (which cannot send the extension) get the configured defaults
    expect((await describeRaw(server, 'cap2')).Capacity).toEqual(server.config.streamCapacity);
    kv.destroy();
  });
});
