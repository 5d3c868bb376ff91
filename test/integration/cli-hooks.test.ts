import { CreateStreamCommand, UpdateImageGenerationConfigurationCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT, UsageError } from '../../src/cli/context.js';
import { formatEvent, hookSpecs, hooksCommand } from '../../src/cli/hooks-command.js';
import { rootCliEnv, runCli, spawnOpenkvs } from '../helpers/cli-run.js';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';

// Decoding a 5 s clip and waiting for the consumer's events takes a few seconds.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let server: TestServer;
let kv: KinesisVideoClient;
const tmp = mkdtempSync(join(tmpdir(), 'openkvs-cli-hooks-'));

beforeAll(async () => {
  server = await startTestServer({ putMediaCallsPerSecond: 1000 });
  kv = controlClient(server.url);
  // MODULE hooks run only from the server's hooks directory (<dataDir>/hooks by default).
  mkdirSync(join(server.dataDir, 'hooks'), { recursive: true });
  writeFileSync(
    join(server.dataDir, 'hooks', 'every-frame.mjs'),
    "export default function onFrame(frame) { return { label: 'cli-frame', confidence: 0.5, data: { w: frame.width } }; }\n",
  );
});
afterAll(async () => {
  kv?.destroy();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const env = (): NodeJS.ProcessEnv => rootCliEnv(server.url);
const hooks = (args: string[]) => runCli(hooksCommand, args, env());
const openkvs = (args: string[]) => spawnOpenkvs(args, env());

describe('openkvs hooks: arguments', () => {
  it('builds the Hooks list with default and explicit names', () => {
    expect(hookSpecs({ module: ['bright.mjs', 'sub/ml.ts:detector'], webhook: ['http://127.0.0.1:9000/frames'], secret: 's3cr3t', motion: '', 'timeout-ms': '2000' })).toEqual([
      { Name: 'bright', Type: 'MODULE', Module: 'bright.mjs', TimeoutMs: 2000 },
      { Name: 'detector', Type: 'MODULE', Module: 'sub/ml.ts', TimeoutMs: 2000 },
      { Name: 'webhook', Type: 'WEBHOOK', Uri: 'http://127.0.0.1:9000/frames', Secret: 's3cr3t' },
      { Name: 'motion', Type: 'MOTION' },
    ]);
    // a trailing port is not a name; a name after the path is
    expect(hookSpecs({ webhook: ['http://127.0.0.1:9000'] })).toEqual([{ Name: 'webhook', Type: 'WEBHOOK', Uri: 'http://127.0.0.1:9000' }]);
    expect(hookSpecs({ webhook: ['https://ml.example/frames:ml', 'http://[::1]:9000/x'] }).map((h) => [h.Name, 'Uri' in h ? h.Uri : ''])).toEqual([
      ['ml', 'https://ml.example/frames'],
      ['webhook', 'http://[::1]:9000/x'],
    ]);
    expect(hookSpecs({ motion: '0.05' })).toEqual([{ Name: 'motion', Type: 'MOTION', Threshold: 0.05 }]);
  });

  it.each([
    [{ motion: '2' }, /--motion: expected a threshold above 0 and at most 1/],
    [{ motion: '0' }, /--motion: expected a threshold/],
    [{ motion: 'lots' }, /--motion: expected a threshold/],
    [{ webhook: ['ftp://x/y'] }, /--webhook: expected an http/],
    [{ webhook: ['http://a/x', 'http://b/y'] }, /two hooks are named "webhook"/],
    [{ secret: 'x' }, /--secret applies to --webhook/],
    [{ motion: '', 'timeout-ms': '100' }, /--timeout-ms applies to --module/],
    [{ module: ['a.mjs'], 'timeout-ms': 'soon' }, /--timeout-ms: expected a whole number/],
  ])('refuses %j', (flags, message) => {
    expect(() => hookSpecs(flags)).toThrow(UsageError);
    expect(() => hookSpecs(flags)).toThrow(message);
  });

  it('prints one tab-separated line per event', () => {
    const e = { EventId: '1', HookName: 'h', Label: 'motion', Confidence: 0.5, FragmentNumber: '123', ProducerTimestamp: 1764280001.5, ServerTimestamp: 1764280002.25 };
    expect(formatEvent(e)).toBe('2025-11-27T21:46:41.500Z\tmotion\t0.500\th\t123');
    expect(formatEvent({ ...e, Confidence: null }, true)).toBe('2025-11-27T21:46:42.250Z\tmotion\t-\th\t123');
  });

  it('exits 2 on usage errors, before any request', async () => {
    expect((await hooks([])).code).toBe(EXIT.USAGE);
    expect((await hooks(['set'])).stderr).toMatch(/hooks set: a stream name is required/);
    expect((await hooks(['set', 'cam'])).stderr).toMatch(/give at least one of --module, --webhook, --motion/);
    expect((await hooks(['events', 'cam', '--from', 'yesterday'])).code).toBe(EXIT.USAGE);
    expect((await hooks(['events', 'cam', '--from', '200', '--to', '100'])).stderr).toMatch(/--from must be before --to/);
    expect((await hooks(['describe', 'cam', 'extra'])).code).toBe(EXIT.USAGE);
  });
});

describe('openkvs hooks against the server', () => {
  it('set / describe / events / clear', async () => {
    const name = 'cli-hooks-cam';
    await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24, MediaType: 'video/h264' }));

    const set = await hooks(['set', name, '--module', 'every-frame.mjs', '--motion=0.5', '--timeout-ms', '5000']);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(EXIT.OK);
    expect(set.stdout).toBe(`${name}: 2 hooks: every-frame (MODULE), motion (MOTION)\n`);

    const described = await openkvs(['hooks', 'describe', name]);
    expect(described.code).toBe(0);
    const status = JSON.parse(described.stdout) as { StreamName: string; Status: string; Hooks: { Name: string; Type: string }[] };
    expect(status.StreamName).toBe(name);
    expect(status.Status).toBe('STOPPED'); // no image generation yet
    expect(status.Hooks.map((h) => [h.Name, h.Type])).toEqual([
      ['every-frame', 'MODULE'],
      ['motion', 'MOTION'],
    ]);

    await kv.send(
      new UpdateImageGenerationConfigurationCommand({
        StreamName: name,
        ImageGenerationConfiguration: {
          Status: 'ENABLED',
          ImageSelectorType: 'PRODUCER_TIMESTAMP',
          DestinationConfig: { Uri: `file://localhost${join(tmp, 'frames')}`, DestinationRegion: 'us-east-1' },
          SamplingInterval: 1000,
          Format: 'JPEG',
          WidthPixels: 320,
        },
      }),
    );
    const startedS = Date.now() / 1000 - 1;
    const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name, timecodeType: 'RELATIVE' });
    expect(res.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);

    // one image a second of a 5 s clip: five frames (six when the clip starts just after a grid point), each
    // labelled by the module
    let lines: string[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const out = await hooks(['events', name, '--label', 'cli-frame']);
      expect(out.code).toBe(EXIT.OK);
      lines = out.stdout.split('\n').filter((l) => l !== '');
      if (lines.length >= 5) {
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 1000));
    lines = (await hooks(['events', name, '--label', 'cli-frame'])).stdout.split('\n').filter((l) => l !== '');
    const n = lines.length;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(n).toBeLessThanOrEqual(6);
    const fragments = new Set(res.acks.filter((a) => a.EventType === 'PERSISTED').map((a) => a.FragmentNumber));
    for (const line of lines) {
      const [time, label, confidence, hook, fragment] = line.split('\t');
      expect(Date.parse(time!) / 1000).toBeGreaterThanOrEqual(startedS - 1);
      expect([label, confidence, hook]).toEqual(['cli-frame', '0.500', 'every-frame']);
      expect(fragments.has(fragment)).toBe(true);
    }
    const times = lines.map((l) => Date.parse(l.split('\t')[0]!));
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    // the same by server time with an explicit range; a range before the upload and an unknown label are empty
    const byServer = await hooks(['events', name, '--server-time', '--label', 'cli-frame', '--from', String(startedS - 5), '--to', new Date(Date.now() + 60_000).toISOString()]);
    expect(byServer.stdout.split('\n').filter((l) => l !== '')).toHaveLength(n);
    expect(byServer.stderr).toBe(`${n} events\n`);
    expect((await hooks(['events', name, '--from', String(startedS - 7200), '--to', String(startedS - 3600)])).stderr).toBe('0 events\n');
    expect((await hooks(['events', name, '--label', 'no-such-label'])).stdout).toBe('');

    const after = JSON.parse((await hooks(['describe', name])).stdout) as { Status: string; FramesDelivered: number; Hooks: { Name: string; Calls: number; Events: number }[] };
    expect(after.Status).toBe('RUNNING');
    expect(after.FramesDelivered).toBe(n);
    expect(after.Hooks.find((h) => h.Name === 'every-frame')).toMatchObject({ Calls: n, Events: n });

    expect((await hooks(['clear', name])).stdout).toBe(`${name}: hooks cleared\n`);
    expect((JSON.parse((await hooks(['describe', name])).stdout) as { Hooks: unknown[] }).Hooks).toEqual([]);
  });

  it('reports the server refusing: an unknown stream, a module outside the hooks directory', async () => {
    const missing = await openkvs(['hooks', 'describe', 'no-such-stream']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ResourceNotFoundException/);
    await kv.send(new CreateStreamCommand({ StreamName: 'cli-hooks-bad', DataRetentionInHours: 1 }));
    const outside = await hooks(['set', 'cli-hooks-bad', '--module', '../escape.mjs']);
    expect(outside.code).toBe(EXIT.SERVICE_ERROR);
    expect(outside.stderr).toMatch(/^openkvs: \w+Exception: /);
    const wrongType = await hooks(['events', 'no-such-stream']);
    expect(wrongType.code).toBe(EXIT.SERVICE_ERROR);
    expect(wrongType.stderr).toMatch(/ResourceNotFoundException/);
  });
});
