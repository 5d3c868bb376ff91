import { CreateStreamCommand, DeleteStreamCommand, DescribeStreamCommand, UpdateDataRetentionCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionCutoffMs } from '../../src/core/stream-record.js';
import { ManualClock } from '../../src/util/clock.js';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { until } from '../helpers/until.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';

const HOUR = 3_600_000;
const clock = new ManualClock(Date.UTC(2026, 5, 1));
let server: TestServer;
let kv: KinesisVideoClient;

beforeAll(async () => {
  server = await startTestServer({ putMediaCallsPerSecond: 1000 }, { clock });
  kv = controlClient(server.url);
});
afterAll(async () => {
  kv.destroy();
  await server.stop();
});

const clip = fixture('mkv/h264-5s-1s-gop.mkv');
const streamId = (name: string) => server.registry.find({ name })!.id;
/** What a reader may see: the index filtered by the stream's current retention. */
const visible = (name: string) => {
  const s = server.registry.find({ name })!;
  return server.store.list({ streamId: s.id, notBeforeServerMs: retentionCutoffMs(s, clock.now()) });
};
const everything = (name: string) => server.store.list({ streamId: streamId(name), notBeforeServerMs: 0 });
const segmentFiles = (name: string) => {
  const dir = join(server.dataDir, 'streams', String(streamId(name)));
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe('retention', () => {
  it('makes expired fragments unreachable at once and reclaims their bytes on the next sweep', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'ret', DataRetentionInHours: 1 }));
    await putMedia(server.url, clip, { streamName: 'ret' });
    expect(visible('ret')).toHaveLength(5);
    expect(segmentFiles('ret').length).toBeGreaterThan(0);

    clock.advance(HOUR + 1000);
    expect(visible('ret')).toHaveLength(0); // unreachable before any sweep
    await putMedia(server.url, clip, { streamName: 'ret' }); // lands in a new segment (the old one is over 30 s old)
    await server.retention.sweep();
    expect(everything('ret')).toHaveLength(5);
    expect(visible('ret')).toHaveLength(5);
    expect(segmentFiles('ret')).toHaveLength(1);
  });

  it('deletes at once when retention decreases', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'dec', DataRetentionInHours: 3 }));
    await putMedia(server.url, clip, { streamName: 'dec' });
    clock.advance(2 * HOUR);
    await putMedia(server.url, clip, { streamName: 'dec' });
    expect(everything('dec')).toHaveLength(10);
    const version = (await kv.send(new DescribeStreamCommand({ StreamName: 'dec' }))).StreamInfo!.Version;
    await kv.send(new UpdateDataRetentionCommand({ StreamName: 'dec', CurrentVersion: version, Operation: 'DECREASE_DATA_RETENTION', DataRetentionChangeInHours: 2 }));
    // no sweep timer involved: the update itself expired the older upload
    expect(everything('dec')).toHaveLength(5);
    await server.retention.sweep();
    expect(segmentFiles('dec')).toHaveLength(1);
  });

  it('drops every fragment and file when the stream is deleted', async () => {
    const arn = (await kv.send(new CreateStreamCommand({ StreamName: 'gone', DataRetentionInHours: 5 }))).StreamARN!;
    await putMedia(server.url, clip, { streamName: 'gone' });
    const id = streamId('gone');
    await kv.send(new DeleteStreamCommand({ StreamARN: arn }));
    expect(server.store.list({ streamId: id, notBeforeServerMs: 0 })).toHaveLength(0);
    await server.retention.sweep();
    expect(existsSync(join(server.dataDir, 'streams', String(id))) ? readdirSync(join(server.dataDir, 'streams', String(id))) : []).toEqual([]);
  });

  it('keeps a retention-0 stream in a 5-minute rolling buffer only', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'zero', DataRetentionInHours: 0 }));
    const res = await putMedia(server.url, clip, { streamName: 'zero' });
    expect(res.acks.some((a) => a.EventType === 'PERSISTED')).toBe(false);
    expect(server.buffer.list(streamId('zero'), clock.now())).toHaveLength(5);
    expect(segmentFiles('zero')).toEqual([]);
    clock.advance(5 * 60_000 + 1);
    expect(server.buffer.list(streamId('zero'), clock.now())).toHaveLength(0);
  });
});

describe('uploads and stream deletion', () => {
  it('ends an upload with ERROR 4008 when its stream is deleted mid-stream', async () => {
    const arn = (await kv.send(new CreateStreamCommand({ StreamName: 'mid', DataRetentionInHours: 1 }))).StreamARN!;
    // The producer pauses halfway until the deletion is done, then sends the rest: no race with the clock.
    let deleted!: () => void;
    const hold = new Promise<void>((r) => (deleted = r));
    const upload = putMedia(server.url, clip, { streamName: 'mid', chunkSize: 3000, holdAfterBytes: clip.length / 2, hold });
    await until('a first stored fragment', () => server.store.list({ streamId: streamId('mid'), notBeforeServerMs: 0 }).length > 0);
    await kv.send(new DeleteStreamCommand({ StreamARN: arn }));
    deleted();
    const res = await upload;
    const last = res.acks.at(-1);
    expect(last).toMatchObject({ EventType: 'ERROR', ErrorId: 4008, ErrorCode: 'STREAM_NOT_ACTIVE' });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('keeps nothing of a fragment whose stream is deleted while it is being written', async () => {
    const arn = (await kv.send(new CreateStreamCommand({ StreamName: 'race', DataRetentionInHours: 1 }))).StreamARN!;
    await putMedia(server.url, clip, { streamName: 'race' });
    const id = streamId('race');
    const last = everything('race').at(-1)!;
    const append = server.store.append({
      streamId: id,
      fragmentNumber: server.store.nextFragmentNumber(id, clock.now()),
      producerTimestampMs: last.producerTimestampMs + 1000,
      serverTimestampMs: clock.now(),
      durationMs: 1000,
      timecode: last.timecode + 1000,
      trackInfoId: last.trackInfoId,
      tagsBytes: null,
      clusterBytes: new Uint8Array(4096),
    });
    // The deletion lands while the append is between its write and its index commit.
    server.registry.delete(arn, undefined);
    await expect(append).rejects.toThrow(/deleted while a fragment of it was being stored/);
    expect(server.store.list({ streamId: id, notBeforeServerMs: 0 })).toEqual([]);
    await server.retention.sweep();
    const dir = join(server.dataDir, 'streams', String(id));
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });
});
