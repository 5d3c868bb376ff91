import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ putMediaIdleTimeoutSeconds: 5 });
  const kv = controlClient(server.url);
  await kv.send(new CreateStreamCommand({ StreamName: 'idle', DataRetentionInHours: 1 }));
  kv.destroy();
});
afterAll(async () => {
  await server.stop();
});

describe('PutMedia idle handling', () => {
  it('sends IDLE acks while no data arrives, then carries on', async () => {
    const clip = fixture('mkv/h264-5s-1s-gop.mkv');
    // first half, a 3.6 s pause, then the rest
    const res = await putMedia(server.url, clip, { streamName: 'idle', chunkSize: Math.ceil(clip.length / 2), chunkDelayMs: 3600 });
    const types = res.acks.map((a) => a.EventType);
    expect(types).toContain('IDLE');
    expect(res.acks.find((a) => a.EventType === 'IDLE')).toEqual({ EventType: 'IDLE' });
    expect(types.filter((t) => t === 'PERSISTED')).toHaveLength(5);
  });

  it('closes the request after the idle timeout', async () => {
    const clip = fixture('mkv/h264-5s-1s-gop.mkv');
    // the client stops sending after 20 KB and would only go on after 60 s (past the test timeout): this
    // resolves in time only because the server ends the request at its 5 s idle timeout
    const res = await putMedia(server.url, clip, { streamName: 'idle', chunkSize: 20_000, chunkDelayMs: 60_000 });
    expect(res.status).toBe(200);
    expect(res.acks.filter((a) => a.EventType === 'IDLE').length).toBeGreaterThanOrEqual(1);
    expect(res.acks.some((a) => a.EventType === 'PERSISTED')).toBe(true);
  });

  it('stores a trailing unknown-size cluster when the idle timeout ends the upload', async () => {
    // piped MKV: unknown-size clusters, so the last one is only known to be complete when the upload ends
    const piped = fixture('mkv/h264-5s-piped.mkv');
    const res = await putMedia(server.url, piped, { streamName: 'idle', chunkSize: piped.length, chunkDelayMs: 60_000 });
    expect(res.acks.filter((a) => a.EventType === 'PERSISTED').map((a) => a.FragmentTimecode)).toEqual([0, 1000, 2000, 3000, 4000]);
    expect(res.acks.filter((a) => a.EventType === 'ERROR')).toEqual([]);
  });
});
