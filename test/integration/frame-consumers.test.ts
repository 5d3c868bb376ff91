import { CreateStreamCommand, UpdateImageGenerationConfigurationCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvsHttp, ServiceError } from '../../src/cli/kvs-http.js';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, controlClient, startTestServer, type TestServer } from '../helpers/server.js';

// The fixture: 5 s of 640x360 H.264 at 30 fps, one key frame (and so one fragment) per second.
const FIXTURE = 'mkv/h264-5s-1s-gop.mkv';
const T0 = 1_750_000_000; // producer start, epoch seconds
const INTERVAL_MS = 500;

type Posted = { metadata: Record<string, unknown>; image: Uint8Array; imageType: string; signature: string | undefined; body: Uint8Array };

let dataDir: string;
let hooksDir: string;
let outDir: string;
let server: TestServer;
let kv: KinesisVideoClient;
let api: KvsHttp;
let receiver: Server;
let receiverUrl: string;
const posted: Posted[] = [];
let n = 0;

const HOOKS: Record<string, string> = {
  // counts frames and reports their mean brightness; TypeScript, to prove .ts hooks load
  'brightness.ts': `
    type Luma = { width: number; height: number; data: Uint8Array };
    let seen = 0;
    export default function onFrame(frame: { luma: Luma }): unknown {
      let sum = 0;
      for (const v of frame.luma.data) sum += v;
      seen++;
      const mean = sum / frame.luma.data.length / 255;
      return [{ label: 'frame', confidence: mean, data: { seen } }, ...(mean > 0.2 ? [{ label: 'bright', confidence: mean }] : [])];
    }`,
  'throws.mjs': `export default function () { throw new Error('hook exploded'); }`,
  'hangs.mjs': `export function onFrame() { for (;;) {} }`,
};

async function startServer(): Promise<void> {
  server = await startTestServer({ putMediaCallsPerSecond: 1000, hooksDir }, { dataDir });
  kv = controlClient(server.url);
  api = new KvsHttp({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET } });
}

async function stopServer(): Promise<void> {
  kv.destroy();
  await server.close();
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'openkvs-frames-'));
  hooksDir = join(dataDir, 'hooks');
  outDir = join(dataDir, 'images');
  mkdirSync(hooksDir, { recursive: true });
  for (const [file, source] of Object.entries(HOOKS)) {
    writeFileSync(join(hooksDir, file), source);
  }
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = new Uint8Array(Buffer.concat(chunks));
        const form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
        const meta = form.get('metadata') as Blob;
        const image = form.get('image') as Blob;
        posted.push({
          metadata: JSON.parse(await meta.text()) as Record<string, unknown>,
          image: new Uint8Array(await image.arrayBuffer()),
          imageType: image.type,
          signature: req.headers['x-openkvs-signature'] as string | undefined,
          body,
        });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ events: [{ label: 'seen-by-webhook', confidence: 0.5, box: { x: 0.1, y: 0.1, width: 0.5, height: 0.5 } }] }));
      })();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/frames`;
  await startServer();
});

afterAll(async () => {
  await stopServer();
  await new Promise<void>((r) => receiver.close(() => r()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => T | Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function newStream(): Promise<string> {
  const name = `fc-${++n}`;
  await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 1 }));
  return name;
}

async function enable(name: string, status: 'ENABLED' | 'DISABLED', dir = join(outDir, name)): Promise<void> {
  await kv.send(
    new UpdateImageGenerationConfigurationCommand({
      StreamName: name,
      ImageGenerationConfiguration: {
        Status: status,
        ImageSelectorType: 'PRODUCER_TIMESTAMP',
        DestinationConfig: { Uri: `file://localhost${dir}`, DestinationRegion: 'us-east-1' },
        SamplingInterval: INTERVAL_MS,
        Format: 'JPEG',
        FormatConfig: { JPEGQuality: '70' },
        WidthPixels: 320,
      },
    }),
  );
}

async function push(name: string, startSeconds: number): Promise<void> {
  const res = await putMedia(server.url, fixture(FIXTURE), { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: startSeconds.toFixed(3) });
  expect(res.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);
  expect(res.acks.filter((a) => a.EventType === 'ERROR')).toEqual([]);
}

type Status = { Status: string; FramesDelivered: number; FramesDecoded: number; FramesDropped: number; Hooks: { Name: string; Calls: number; Errors: number; Timeouts: number; Events: number; LastError: string | null }[]; Destination?: { Delivered: number; Errors: number; LastError: string | null }; Checkpoint?: { FragmentNumber: string; ProducerTimestamp: number } };
const status = (name: string): Promise<Status> => api.call<Status>('/openkvs/describeFrameConsumer', { StreamName: name });

/** Producer timestamps (ms) of the images in a destination directory, from their file names. */
function imagesIn(dir: string): number[] {
  const out: number[] = [];
  if (!existsSync(dir)) {
    return out;
  }
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) {
        walk(join(d, e.name));
      } else if (e.name.endsWith('.jpg')) {
        out.push(Number(e.name.split('-')[0]));
      }
    }
  };
  walk(dir);
  return out.sort((a, b) => a - b);
}

/** Width and height of an encoded image, by ffprobe decoding it. */
function probe(image: Uint8Array): Promise<{ width: number; height: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', '-i', 'pipe:0']);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`ffprobe exited ${code}`));
        return;
      }
      const s = (JSON.parse(out) as { streams: { width: number; height: number }[] }).streams[0]!;
      resolve({ width: s.width, height: s.height });
    });
    p.stdin.end(Buffer.from(image));
  });
}

const grid = (fromSeconds: number, count: number): number[] => Array.from({ length: count }, (_, i) => fromSeconds * 1000 + i * INTERVAL_MS);

describe('continuous frame consumers', () => {
  it('delivers one image per sampling interval from a live PutMedia stream to the directory and a signed webhook, whose answer lands on the timeline', async () => {
    const name = await newStream();
    await enable(name, 'ENABLED');
    await api.call('/openkvs/updateFrameHooks', { StreamName: name, Hooks: [{ Name: 'ml', Type: 'WEBHOOK', Uri: receiverUrl, Secret: 'webhook-secret' }] });
    await push(name, T0);

    const expected = grid(T0, 10); // 5 s at one image per 500 ms
    await waitFor('10 images on disk', () => imagesIn(join(outDir, name)), (v) => v.length >= 10);
    expect(imagesIn(join(outDir, name))).toEqual(expected);
    const mine = await waitFor('10 webhook posts', () => posted.filter((p) => p.metadata['streamName'] === name), (v) => v.length >= 10);
    expect(mine.map((p) => p.metadata['producerTimestamp'])).toEqual(expected);
    for (const p of mine) {
      expect(p.signature).toBe(`sha256=${createHmac('sha256', 'webhook-secret').update(p.body).digest('hex')}`);
      expect(p.imageType).toBe('image/jpeg');
      expect(p.metadata).toMatchObject({ streamName: name, format: 'JPEG', width: 320, height: 180 });
      expect(p.metadata['fragmentNumber']).toMatch(/^\d+$/);
      expect(Number(p.metadata['serverTimestamp'])).toBeGreaterThan(0);
      expect(p.metadata).not.toHaveProperty('image');
    }
    expect(await probe(mine[3]!.image)).toEqual({ width: 320, height: 180 });

    const s = await waitFor('delivery counted', () => status(name), (v) => v.FramesDelivered >= 10);
    expect(s).toMatchObject({ Status: 'RUNNING', FramesDecoded: 10, FramesDropped: 0, Destination: { Delivered: 10, Errors: 0 } });
    expect(s.Hooks).toEqual([expect.objectContaining({ Name: 'ml', Type: 'WEBHOOK', Calls: 10, Errors: 0, Events: 10 })]);
    expect(JSON.stringify(s)).not.toContain('webhook-secret');
    expect(s.Checkpoint?.ProducerTimestamp).toBe(expected.at(-1)! / 1000);

    const events = await api.call<{ Events: { Label: string; Box?: unknown; ProducerTimestamp: number }[] }>('/openkvs/listFrameEvents', { StreamName: name, StartTimestamp: T0, EndTimestamp: T0 + 10 });
    expect(events.Events.map((e) => e.ProducerTimestamp * 1000)).toEqual(expected);
    expect(events.Events[0]).toMatchObject({ Label: 'seen-by-webhook', Box: { x: 0.1, y: 0.1, width: 0.5, height: 0.5 } });
  });

  it('runs module hooks in workers: a throwing and a hanging hook are reported while ingest, the destination and a TypeScript hook carry on', async () => {
    const name = await newStream();
    await enable(name, 'ENABLED');
    await api.call('/openkvs/updateFrameHooks', {
      StreamName: name,
      Hooks: [
        { Name: 'hangs', Type: 'MODULE', Module: 'hangs.mjs', TimeoutMs: 150 },
        { Name: 'throws', Type: 'MODULE', Module: 'throws.mjs' },
        { Name: 'brightness', Type: 'MODULE', Module: 'brightness.ts' },
      ],
    });
    // two uploads back to back: every fragment is PERSISTED while the hanging hook burns its worker
    await push(name, T0);
    await push(name, T0 + 5);
    await waitFor('20 images on disk', () => imagesIn(join(outDir, name)), (v) => v.length >= 20);
    expect(imagesIn(join(outDir, name))).toEqual(grid(T0, 20));

    const s = await waitFor('every hook to see 20 frames', () => status(name), (v) => v.Hooks.every((h) => h.Calls + (h as { Dropped?: number }).Dropped! >= 20));
    const hook = (hn: string): Status['Hooks'][number] => s.Hooks.find((h) => h.Name === hn)!;
    expect(hook('hangs')).toMatchObject({ Errors: 0, Events: 0, LastError: expect.stringContaining('no answer within 150 ms') });
    expect(hook('hangs').Timeouts).toBeGreaterThan(0);
    expect(hook('throws')).toMatchObject({ Calls: 20, Errors: 20, Timeouts: 0, Events: 0, LastError: expect.stringContaining('hook exploded') });
    expect(hook('brightness')).toMatchObject({ Calls: 20, Errors: 0, Timeouts: 0 });
    expect(hook('brightness').Events).toBeGreaterThanOrEqual(20);
    expect(s.Destination).toMatchObject({ Delivered: 20, Errors: 0 });
  });

  it('lets hook events be queried by time range, timestamp type, label and page', async () => {
    const name = await newStream();
    await enable(name, 'ENABLED');
    await api.call('/openkvs/updateFrameHooks', { StreamName: name, Hooks: [{ Name: 'brightness', Type: 'MODULE', Module: 'brightness.ts' }, { Name: 'motion', Type: 'MOTION', Threshold: 0.01 }] });
    await push(name, T0);
    await waitFor('10 frame events', () => api.call<{ Events: unknown[] }>('/openkvs/listFrameEvents', { StreamName: name, StartTimestamp: T0, EndTimestamp: T0 + 5, Label: 'frame' }), (v) => v.Events.length >= 10);

    type Ev = { EventId: string; HookName: string; Label: string; Confidence?: number; Box?: { x: number; width: number }; Data?: { seen: number }; ProducerTimestamp: number; ServerTimestamp: number; FragmentNumber: string };
    const list = (body: Record<string, unknown>): Promise<{ Events: Ev[]; NextToken?: string }> => api.call('/openkvs/listFrameEvents', { StreamName: name, ...body });
    // one second of producer time: the frames at T0+1.0 and T0+1.5 only (end exclusive)
    const second = await list({ StartTimestamp: T0 + 1, EndTimestamp: T0 + 2, Label: 'frame' });
    expect(second.Events.map((e) => e.ProducerTimestamp)).toEqual([T0 + 1, T0 + 1.5]);
    expect(second.Events.map((e) => e.Data?.seen)).toEqual([3, 4]);
    expect(second.Events[0]).toMatchObject({ HookName: 'brightness', Label: 'frame' });

    // motion in the test pattern, with a box inside the picture
    const motion = await waitFor('motion events', () => list({ StartTimestamp: T0, EndTimestamp: T0 + 5, Label: 'motion' }), (v) => v.Events.length >= 9);
    for (const e of motion.Events) {
      expect(e.HookName).toBe('motion');
      expect(e.Confidence).toBeGreaterThanOrEqual(0.01);
      expect(e.Box!.x + e.Box!.width).toBeLessThanOrEqual(1);
    }

    // paging returns every event exactly once, in timestamp order
    const all = await list({ StartTimestamp: T0, EndTimestamp: T0 + 5, MaxResults: 1000 });
    const paged: Ev[] = [];
    let token: string | undefined;
    do {
      const page = await list({ StartTimestamp: T0, EndTimestamp: T0 + 5, MaxResults: 3, ...(token !== undefined ? { NextToken: token } : {}) });
      expect(page.Events.length).toBeLessThanOrEqual(3);
      paged.push(...page.Events);
      token = page.NextToken;
    } while (token !== undefined);
    expect(paged.map((e) => e.EventId)).toEqual(all.Events.map((e) => e.EventId));
    expect([...all.Events.map((e) => e.ProducerTimestamp)]).toEqual([...all.Events.map((e) => e.ProducerTimestamp)].sort((a, b) => a - b));

    // the same events on the server timeline
    const serverFrom = Math.min(...all.Events.map((e) => e.ServerTimestamp));
    const byServer = await list({ StartTimestamp: serverFrom, EndTimestamp: serverFrom + 600, TimestampType: 'SERVER_TIMESTAMP', MaxResults: 1000 });
    expect(byServer.Events.map((e) => e.EventId).sort()).toEqual(all.Events.map((e) => e.EventId).sort());
    expect((await list({ StartTimestamp: T0 + 100, EndTimestamp: T0 + 200 })).Events).toEqual([]);
  });

  it('rejects bad hook configurations and queries with KVS-shaped errors', async () => {
    const name = await newStream();
    const fail = async (path: string, body: Record<string, unknown>): Promise<ServiceError> => {
      const err = await api.call(path, body).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServiceError);
      return err as ServiceError;
    };
    const outside = join(dataDir, 'outside.mjs');
    writeFileSync(outside, 'export default () => {}');
    for (const module of [relative(hooksDir, outside), outside, 'missing.mjs']) {
      const e = await fail('/openkvs/updateFrameHooks', { StreamName: name, Hooks: [{ Name: 'x', Type: 'MODULE', Module: module }] });
      expect(e.errorName).toBe('InvalidArgumentException');
    }
    expect((await fail('/openkvs/updateFrameHooks', { StreamName: name, Hooks: [{ Name: 'x', Type: 'MOTION' }, { Name: 'x', Type: 'MOTION' }] })).errorName).toBe('InvalidArgumentException');
    expect((await fail('/openkvs/updateFrameHooks', { StreamName: name, Hooks: [{ Name: 'x', Type: 'WEBHOOK', Uri: 'ftp://x' }] })).status).toBe(400);
    expect((await fail('/openkvs/updateFrameHooks', { StreamName: 'no-such-stream', Hooks: [] })).errorName).toBe('ResourceNotFoundException');
    expect((await fail('/openkvs/listFrameEvents', { StreamName: name, StartTimestamp: T0, EndTimestamp: T0 + 1, NextToken: 'bm90IGEgdG9rZW4' })).errorName).toBe('InvalidArgumentException');
    expect((await fail('/openkvs/listFrameEvents', { StreamName: name, StartTimestamp: T0 + 1, EndTimestamp: T0 })).errorName).toBe('InvalidArgumentException');
    const badUri = await kv
      .send(
        new UpdateImageGenerationConfigurationCommand({
          StreamName: name,
          ImageGenerationConfiguration: { Status: 'ENABLED', ImageSelectorType: 'PRODUCER_TIMESTAMP', DestinationConfig: { Uri: 'gopher://host/x', DestinationRegion: 'us-east-1' }, SamplingInterval: 500, Format: 'JPEG' },
        }),
      )
      .catch((e: unknown) => e);
    expect((badUri as Error).name).toBe('InvalidArgumentException');
  });

  it('resumes from its checkpoint after a restart: fragments stored while it was off are processed, nothing is lost or repeated', async () => {
    const name = await newStream();
    const dir = join(outDir, name);
    await enable(name, 'ENABLED');
    await api.call('/openkvs/updateFrameHooks', { StreamName: name, Hooks: [{ Name: 'brightness', Type: 'MODULE', Module: 'brightness.ts' }] });
    await push(name, T0);
    await waitFor('first 10 images', () => imagesIn(dir), (v) => v.length >= 10);
    await waitFor('checkpoint at the last image', () => status(name), (v) => v.Checkpoint?.ProducerTimestamp === T0 + 4.5);

    // switched off, more video arrives; then the server restarts and the consumer is switched on again
    await enable(name, 'DISABLED');
    await waitFor('consumer stopped', () => status(name), (v) => v.Status === 'STOPPED');
    await push(name, T0 + 5);
    await stopServer();
    await startServer();
    expect((await status(name)).Checkpoint?.ProducerTimestamp).toBe(T0 + 4.5);
    await enable(name, 'ENABLED');

    await waitFor('20 images', () => imagesIn(dir), (v) => v.length >= 20);
    // the hook runs on its own queue (a fresh worker compiling TypeScript) and may finish after the directory: the
    // checkpoint reaches the last image only once every sink is done with it
    await waitFor('checkpoint at the last image', () => status(name), (v) => v.Checkpoint?.ProducerTimestamp === T0 + 9.5);
    expect(imagesIn(dir)).toEqual(grid(T0, 20));
    const events = await api.call<{ Events: { ProducerTimestamp: number }[] }>('/openkvs/listFrameEvents', { StreamName: name, StartTimestamp: T0, EndTimestamp: T0 + 10, Label: 'frame' });
    expect(events.Events.map((e) => e.ProducerTimestamp * 1000)).toEqual(grid(T0, 20));

    // and live again after the catch-up
    await push(name, T0 + 10);
    await waitFor('30 images', () => imagesIn(dir), (v) => v.length >= 30);
    expect(imagesIn(dir)).toEqual(grid(T0, 30));
  });
});

describe('image files', () => {
  it('are named <stream>/<YYYY>/<MM>/<DD>/<HH>/<ms>-<fragment>.jpg and decode at the configured size', async () => {
    const name = await newStream();
    await enable(name, 'ENABLED');
    await push(name, T0);
    const dir = join(outDir, name);
    await waitFor('images', () => imagesIn(dir), (v) => v.length >= 10);
    const d = new Date(T0 * 1000);
    const hourDir = join(dir, name, String(d.getUTCFullYear()), String(d.getUTCMonth() + 1).padStart(2, '0'), String(d.getUTCDate()).padStart(2, '0'), String(d.getUTCHours()).padStart(2, '0'));
    const files = readdirSync(hourDir).sort();
    expect(files).toHaveLength(10);
    expect(files[0]).toMatch(new RegExp(`^${T0 * 1000}-\\d+\\.jpg$`));
    expect(await probe(new Uint8Array(readFileSync(join(hourDir, files[0]!))))).toEqual({ width: 320, height: 180 });
  });
});
