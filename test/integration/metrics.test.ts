import { CreateStreamCommand, DeleteStreamCommand, UpdateImageGenerationConfigurationCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { GetClipCommand, GetDASHStreamingSessionURLCommand, GetHLSStreamingSessionURLCommand, GetImagesCommand, type KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { GetMediaCommand, KinesisVideoMediaClient } from '@aws-sdk/client-kinesis-video-media';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCluster, writeMkvHeader } from '../../src/formats/mkv/mkv-writer.js';
import { readChunks } from '../helpers/kvs-chunks.js';
import { clustersOf, fixture } from '../helpers/media.js';
import { scrape, signedGet } from '../helpers/metrics-scrape.js';
import { putMedia, type AckEvent } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { signedPost } from '../helpers/signed-fetch.js';
import { until } from '../helpers/until.js';
import { ManualClock } from '../../src/util/clock.js';

const TOKEN = 'prometheus-scrape-token-0123456789';
const FIXTURE = 'mkv/h264-5s-1s-gop.mkv';

let server: TestServer;
let kv: KinesisVideoClient;
let archived: KinesisVideoArchivedMediaClient;
let media: KinesisVideoMediaClient;

beforeAll(async () => {
  server = await startTestServer({ putMediaCallsPerSecond: 1000, getMediaCallsPerSecond: 1000, metricsToken: TOKEN });
  kv = controlClient(server.url);
  archived = archivedClient(server.url);
  media = new KinesisVideoMediaClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, maxAttempts: 1 });
});
afterAll(async () => {
  kv.destroy();
  archived.destroy();
  media.destroy();
  await server.stop();
});

const errors = (acks: AckEvent[]) => acks.filter((a) => a.EventType === 'ERROR');
const persisted = (acks: AckEvent[]) => acks.filter((a) => a.EventType === 'PERSISTED');

describe('PutMedia, GetMedia, playback and GetImages move their metrics', () => {
  const body = fixture(FIXTURE);
  const clusters = clustersOf(body);
  const frames = clusters.reduce((n, c) => n + c.blockCount, 0);

  it('counts the bytes, fragments and frames of an upload exactly, and observes each fragment once per latency histogram', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'm-ingest', DataRetentionInHours: 24 }));
    const before = await scrape(server.url);
    const res = await putMedia(server.url, body, { streamName: 'm-ingest', chunkSize: 4096 });
    expect(errors(res.acks)).toEqual([]);
    expect(persisted(res.acks)).toHaveLength(clusters.length);

    const m = await scrape(server.url);
    const s = { stream: 'm-ingest' };
    expect(m.value('openkvs_putmedia_incoming_bytes_total', s)).toBe(body.length);
    expect(m.value('openkvs_putmedia_incoming_fragments_total', s)).toBe(clusters.length);
    expect(m.value('openkvs_putmedia_incoming_frames_total', s)).toBe(frames);
    expect(m.value('openkvs_putmedia_requests_total', s)).toBe(1);
    expect(m.value('openkvs_putmedia_active_connections', s)).toBe(0);
    expect(m.value('openkvs_putmedia_fragment_persist_latency_seconds_count', s)).toBe(clusters.length);
    expect(m.value('openkvs_putmedia_fragment_persist_latency_seconds_bucket', { ...s, le: '+Inf' })).toBe(clusters.length);
    expect(m.value('openkvs_putmedia_fragment_ingestion_latency_seconds_count', s)).toBe(clusters.length);
    expect(m.value('openkvs_putmedia_fragment_persist_latency_seconds_sum', s)).toBeGreaterThan(0);
    expect(m.value('openkvs_stream_committed_fragments_total', s)).toBe(clusters.length);

    // what the stream holds, as the store has it
    const stored = server.store.list({ streamId: server.registry.find({ name: 'm-ingest' })!.id, notBeforeServerMs: 0 });
    expect(m.value('openkvs_store_fragments', s)).toBe(stored.length);
    expect(m.value('openkvs_store_bytes', s)).toBe(stored.reduce((n, f) => n + f.size, 0));
    expect(m.value('openkvs_stream_capacity_fragments_per_second', s)).toBe(5);
    expect(m.value('openkvs_stream_fragments_headroom_ratio', s)).toBeLessThan(1);

    // the server-wide twins moved by the same amounts
    expect(m.value('openkvs_server_putmedia_incoming_bytes_total') - before.value('openkvs_server_putmedia_incoming_bytes_total')).toBe(body.length);
    expect(m.value('openkvs_server_putmedia_fragment_persist_latency_seconds_count') - before.value('openkvs_server_putmedia_fragment_persist_latency_seconds_count')).toBe(clusters.length);
  });

  it('counts GetMedia bytes as sent and sets MillisBehindNow', async () => {
    const out = await media.send(new GetMediaCommand({ StreamName: 'm-ingest', StartSelector: { StartSelectorType: 'EARLIEST' } }));
    const { chunks, bytes } = await readChunks(out.Payload as unknown as Readable, clusters.length);
    expect(chunks.length).toBeGreaterThanOrEqual(clusters.length);
    const m = await until('GetMedia bytes counted', async () => {
      const now = await scrape(server.url);
      return now.value('openkvs_getmedia_outgoing_fragments_total', { stream: 'm-ingest' }) === clusters.length ? now : undefined;
    });
    expect(m.value('openkvs_getmedia_outgoing_bytes_total', { stream: 'm-ingest' })).toBe(bytes.length);
    expect(m.value('openkvs_getmedia_millis_behind_now', { stream: 'm-ingest' })).toBeGreaterThanOrEqual(0);
    expect(m.has('openkvs_getmedia_millis_behind_now', { stream: 'm-ingest' })).toBe(true);
  });

  it('counts an HLS session for the stream and its playlist request', async () => {
    const out = await archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'm-ingest', PlaybackMode: 'LIVE_REPLAY', HLSFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(Date.now() - 600_000) } } }));
    expect((await fetch(out.HLSStreamingSessionURL!)).status).toBe(200);
    const m = await scrape(server.url);
    expect(m.value('openkvs_hls_sessions_total', { stream: 'm-ingest' })).toBe(1);
    expect(m.value('openkvs_playback_requests_total', { protocol: 'hls', kind: 'master_playlist', status: '200' })).toBe(1);
  });

  it('counts a DASH session and its manifest request, and a clip', async () => {
    const range = { StartTimestamp: new Date(Date.now() - 600_000), EndTimestamp: new Date(Date.now() + 60_000) };
    const dash = await archived.send(new GetDASHStreamingSessionURLCommand({ StreamName: 'm-ingest', PlaybackMode: 'ON_DEMAND', DASHFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: range } }));
    expect((await fetch(dash.DASHStreamingSessionURL!)).status).toBe(200);
    const clip = await archived.send(new GetClipCommand({ StreamName: 'm-ingest', ClipFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: range } }));
    await clip.Payload!.transformToByteArray();
    const m = await scrape(server.url);
    expect(m.value('openkvs_dash_sessions_total', { stream: 'm-ingest' })).toBe(1);
    expect(m.value('openkvs_playback_requests_total', { protocol: 'dash', kind: 'manifest', status: '200' })).toBe(1);
    expect(m.value('openkvs_getclip_requests_total', { stream: 'm-ingest' })).toBe(1);
    expect(m.value('openkvs_server_getclip_requests_total')).toBe(1);
  });

  it('counts a GetImages call, its images and its latency', async () => {
    const start = new Date(Date.now() - 60_000);
    const out = await archived.send(
      new GetImagesCommand({ StreamName: 'm-ingest', ImageSelectorType: 'SERVER_TIMESTAMP', StartTimestamp: start, EndTimestamp: new Date(), SamplingInterval: 3000, Format: 'JPEG' }),
    );
    const m = await scrape(server.url);
    expect(m.value('openkvs_getimages_requests_total', { stream: 'm-ingest', outcome: 'ok' })).toBe(1);
    expect(m.value('openkvs_getimages_latency_seconds_count', { stream: 'm-ingest' })).toBe(1);
    expect(m.value('openkvs_getimages_images_total', { stream: 'm-ingest' })).toBe(out.Images?.length);
    expect(m.value('openkvs_getimages_images_total', { stream: 'm-ingest', result: 'image' })).toBe(out.Images?.filter((i) => i.ImageContent !== undefined).length);
  });
});

describe('frame consumers', () => {
  it("report a running consumer's frames and its lag behind the stream", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openkvs-metrics-frames-'));
    try {
      await kv.send(new CreateStreamCommand({ StreamName: 'm-frames', DataRetentionInHours: 24 }));
      await kv.send(
        new UpdateImageGenerationConfigurationCommand({
          StreamName: 'm-frames',
          ImageGenerationConfiguration: { Status: 'ENABLED', ImageSelectorType: 'PRODUCER_TIMESTAMP', DestinationConfig: { Uri: `file://localhost${dir}`, DestinationRegion: 'us-east-1' }, SamplingInterval: 500, Format: 'JPEG' },
        }),
      );
      const res = await putMedia(server.url, fixture(FIXTURE), { streamName: 'm-frames', timecodeType: 'RELATIVE' });
      expect(persisted(res.acks)).toHaveLength(5);
      // 5 s sampled every 500 ms: 10 frames, all delivered, and the checkpoint reaches the newest fragment
      const m = await until(
        'the consumer to handle every frame',
        async () => {
          const now = await scrape(server.url);
          return now.value('openkvs_frame_consumer_frames_delivered', { stream: 'm-frames' }) >= 10 && now.value('openkvs_frame_consumer_lag_seconds', { stream: 'm-frames' }) === 0 ? now : undefined;
        },
        30_000,
      );
      expect(m.value('openkvs_frame_consumer_frames_decoded', { stream: 'm-frames' })).toBeGreaterThanOrEqual(10);
      expect(m.value('openkvs_frame_consumer_frames_dropped', { stream: 'm-frames' })).toBe(0);
      expect(m.has('openkvs_frame_consumer_frames_delivered', { stream: 'm-ingest' })).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('errors and throttles', () => {
  const track = { number: 1, kind: 'video' as const, codecId: 'V_MPEG4/ISO/AVC', width: 64, height: 64 };
  const header = writeMkvHeader({ timecodeScaleNs: 1_000_000, tracks: [track] });
  const cluster = (tc: number) => writeCluster(tc, [tc, tc + 33].map((t, i) => ({ track: 1, timecode: t, keyframe: i === 0, data: new Uint8Array(100).fill(i) })));
  const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

  it('counts an ERROR ack by its ErrorId', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'm-errors', DataRetentionInHours: 24 }));
    const res = await putMedia(server.url, concat(header, cluster(1000), cluster(500), cluster(2000)), { streamName: 'm-errors' });
    expect(errors(res.acks).map((a) => a.ErrorId)).toEqual([4004]);
    const m = await scrape(server.url);
    expect(m.value('openkvs_putmedia_error_acks_total', { stream: 'm-errors', error_id: '4004', error: 'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS' })).toBe(1);
    expect(m.value('openkvs_putmedia_error_acks_total', { stream: 'm-errors' })).toBe(1);
    expect(m.value('openkvs_putmedia_incoming_fragments_total', { stream: 'm-errors' })).toBe(2);
  });

  it('counts fragments refused by the fixed capacity (4013) as throttles', async () => {
    const created = await signedPost(`${server.url}/createStream`, JSON.stringify({ StreamName: 'm-throttled', DataRetentionInHours: 24, Capacity: { fragmentsPerSecond: 1 } }));
    expect(created.status).toBe(200);
    // 10 s of burst at 1 fragment/s: 14 fragments at once overflow it
    const res = await putMedia(server.url, concat(header, ...Array.from({ length: 14 }, (_, i) => cluster(i * 1000))), { streamName: 'm-throttled' });
    const refused = errors(res.acks).filter((a) => a.ErrorId === 4013).length;
    expect(refused).toBeGreaterThan(0);
    const m = await scrape(server.url);
    expect(m.value('openkvs_throttles_total', { stream: 'm-throttled', limit: 'fragment_capacity' })).toBe(refused);
    expect(m.value('openkvs_putmedia_error_acks_total', { stream: 'm-throttled', error_id: '4013' })).toBe(refused);
  });

  it("drops a deleted stream's series; the server-wide twins keep their counts", async () => {
    const before = await scrape(server.url);
    await kv.send(new DeleteStreamCommand({ StreamARN: server.registry.find({ name: 'm-errors' })!.arn }));
    const m = await scrape(server.url);
    expect(m.has('openkvs_putmedia_incoming_bytes_total', { stream: 'm-errors' })).toBe(false);
    expect(m.has('openkvs_putmedia_error_acks_total', { stream: 'm-errors' })).toBe(false);
    expect(m.has('openkvs_store_bytes', { stream: 'm-errors' })).toBe(false);
    expect(m.value('openkvs_server_putmedia_incoming_bytes_total')).toBe(before.value('openkvs_server_putmedia_incoming_bytes_total'));
  });
});

describe('retention', () => {
  it('counts the fragments the sweeper deletes past retention, per stream', async () => {
    const clock = new ManualClock(Date.now());
    const s = await startTestServer({ putMediaCallsPerSecond: 1000 }, { clock });
    const control = controlClient(s.url);
    try {
      await control.send(new CreateStreamCommand({ StreamName: 'm-old', DataRetentionInHours: 1 }));
      const body = fixture(FIXTURE);
      const res = await putMedia(s.url, body, { streamName: 'm-old' });
      const fragments = persisted(res.acks).length;
      expect(fragments).toBe(clustersOf(body).length);
      clock.advance(2 * 3_600_000);
      await s.retention.sweep();
      const m = await scrape(s.url);
      expect(m.value('openkvs_retention_deleted_fragments_total', { stream: 'm-old' })).toBe(fragments);
      expect(m.value('openkvs_server_retention_deleted_fragments_total')).toBe(fragments);
      expect(m.value('openkvs_store_fragments', { stream: 'm-old' })).toBe(0);
    } finally {
      control.destroy();
      await s.stop();
    }
  });
});

describe('a stream deleted during an upload', () => {
  it('leaves no series behind: the upload ending on it (STREAM_NOT_ACTIVE, its disconnect) does not bring them back', async () => {
    await kv.send(new CreateStreamCommand({ StreamName: 'm-gone', DataRetentionInHours: 24 }));
    const upload = putMedia(server.url, fixture(FIXTURE), { streamName: 'm-gone', chunkSize: 2000, chunkDelayMs: 50 });
    await until('the upload to be counted as active', async () => (await scrape(server.url)).value('openkvs_putmedia_active_connections', { stream: 'm-gone' }) === 1);
    await kv.send(new DeleteStreamCommand({ StreamARN: server.registry.find({ name: 'm-gone' })!.arn }));
    const res = await upload;
    expect(errors(res.acks).map((a) => a.ErrorId)).toContain(4008);
    const m = await scrape(server.url);
    expect(m.samples.filter((s) => s.labels['stream'] === 'm-gone')).toEqual([]);
    expect(m.value('openkvs_server_putmedia_requests_total')).toBeGreaterThan(0);
  });
});

describe('access to /metrics', () => {
  it('refuses an unsigned GET and a wrong bearer token; takes a root-signed GET and the configured token', async () => {
    const unsigned = await fetch(`${server.url}/metrics`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');

    const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer not-the-token-at-all-000' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');

    const badSig = await signedGet(`${server.url}/metrics`, { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: 'not-the-secret-0123456789' });
    expect(badSig.status).toBe(403);

    const signed = await signedGet(`${server.url}/metrics`);
    expect(signed.status).toBe(200);
    expect(signed.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await signed.text();
    expect(text).toMatch(/^# HELP openkvs_putmedia_incoming_bytes_total /m);
    expect(text).toMatch(/^# TYPE openkvs_putmedia_fragment_persist_latency_seconds histogram$/m);
    expect(text).toMatch(/^openkvs_process_resident_memory_bytes \d+/m);

    const bearer = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(200);
  });

  it('authorizes openkvs:GetMetrics for other access keys', async () => {
    const created = await signedPost(`${server.url}/openkvs/createAccessKey`, JSON.stringify({ Template: 'consumers' }));
    expect(created.status).toBe(200);
    const key = ((await created.json()) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } }).AccessKey;
    const refused = await signedGet(`${server.url}/metrics`, { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('openkvs:GetMetrics');

    const full = await signedPost(`${server.url}/openkvs/createAccessKey`, JSON.stringify({ Template: 'full-access' }));
    const admin = ((await full.json()) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } }).AccessKey;
    expect((await signedGet(`${server.url}/metrics`, { accessKeyId: admin.AccessKeyId, secretAccessKey: admin.SecretAccessKey })).status).toBe(200);

    const administrators = await signedPost(`${server.url}/openkvs/createAccessKey`, JSON.stringify({ Template: 'administrators' }));
    const operator = ((await administrators.json()) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } }).AccessKey;
    expect((await signedGet(`${server.url}/metrics`, { accessKeyId: operator.AccessKeyId, secretAccessKey: operator.SecretAccessKey })).status).toBe(200);
  });
});

describe('/ready', () => {
  it('is 200 with every check passing', async () => {
    const res = await fetch(`${server.url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', checks: { store: { ok: true }, migrations: { ok: true }, accepting: { ok: true }, disk: { ok: true } } });
  });

  it('is 503 naming the disk check when minFreeDiskBytes is more than any disk has', async () => {
    const low = await startTestServer({ minFreeDiskBytes: Number.MAX_SAFE_INTEGER });
    try {
      const res = await fetch(`${low.url}/ready`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; failed: string[]; checks: { disk: { ok: boolean; detail: string } } };
      expect(body.status).toBe('not ready');
      expect(body.failed).toEqual(['disk']);
      expect(body.checks.disk.detail).toMatch(/below minFreeDiskBytes/);
      expect((await fetch(`${low.url}/health`)).status).toBe(200);
    } finally {
      await low.stop();
    }
  });
});
