import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvsChunkReader } from '../helpers/kvs-chunks.js';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
const tmp = mkdtempSync(join(tmpdir(), 'openkvs-cli-client-'));

beforeAll(async () => {
  server = await startTestServer({ putMediaCallsPerSecond: 1000, getMediaCallsPerSecond: 1000 });
});
afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Run the CLI as a user would (a separate process; the server runs in this one, so never block on it). */
function openkvs(args: string[], env: Record<string, string> = {}, stdin?: Uint8Array): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: TEST_SECRET, AWS_REGION: 'us-east-1', OPENKVS_ENDPOINT: server.url, ...env },
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (stdin !== undefined) {
    child.stdin?.end(stdin);
  }
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('openkvs client commands', () => {
  it('streams create / list / describe / update-capacity / delete', async () => {
    const created = await openkvs(['streams', 'create', 'cli-cam', '--retention-hours', '12', '--capacity', 'fragmentsPerSecond=8']);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout).StreamARN).toMatch(/:stream\/cli-cam\//);
    const list = await openkvs(['streams', 'list', '--prefix', 'cli-']);
    expect(list.stdout).toMatch(/^cli-cam\tACTIVE\tretention=12h/m);
    const described = JSON.parse((await openkvs(['streams', 'describe', 'cli-cam'])).stdout);
    expect(described.StreamInfo.Capacity.fragmentsPerSecond).toBe(8);
    const updated = await openkvs(['streams', 'update-capacity', 'cli-cam', 'fragmentsPerSecond=16']);
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout).fragmentsPerSecond).toBe(16);
    const tooMuch = await openkvs(['streams', 'update-capacity', 'cli-cam', 'fragmentsPerSecond=64']);
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.stderr).toMatch(/InvalidArgumentException: .*double or halve/);
    expect((await openkvs(['streams', 'delete', 'cli-cam'])).code).toBe(0);
    const gone = await openkvs(['streams', 'describe', 'cli-cam']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/ResourceNotFoundException/);
  });

  it('get writes the GetMedia chunks to a file and fragments lists the same fragments', async () => {
    expect((await openkvs(['streams', 'create', 'cli-get'])).code).toBe(0);
    await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'cli-get' });
    const out = join(tmp, 'out.mkv');
    const got = await openkvs(['get', 'cli-get', '--start', 'EARLIEST', '-o', out, '--idle-exit', '1']);
    expect(got.code).toBe(0);
    expect(got.stderr).toMatch(/^5 fragments, \d+ bytes; resume with --start CONTINUATION_TOKEN:\d+/m);
    const reader = new KvsChunkReader();
    reader.push(new Uint8Array(readFileSync(out)));
    const fromGet = reader.complete.map((c) => c.kvs['AWS_KINESISVIDEO_FRAGMENT_NUMBER']);
    const listed = await openkvs(['fragments', 'cli-get']);
    expect(listed.code).toBe(0);
    const fromList = listed.stdout.trim().split('\n').slice(1).map((l) => l.split('\t')[0]);
    expect(fromList).toEqual(fromGet);
    expect(fromList).toHaveLength(5);
    const token = /CONTINUATION_TOKEN:(\d+)/.exec(got.stderr)![1]!;
    const resumed = await openkvs(['get', 'cli-get', '--start', `CONTINUATION_TOKEN:${fromGet[2]}`, '-o', join(tmp, 'rest.mkv'), '--idle-exit', '1']);
    expect(resumed.stderr).toMatch(/^2 fragments/m);
    expect(token).toBe(fromGet[4]);
  });

  it('put uploads a file and stdin, printing one line per persisted fragment and a summary', async () => {
    expect((await openkvs(['streams', 'create', 'cli-put'])).code).toBe(0);
    const file = await openkvs(['put', 'cli-put', 'media-fixtures/mkv/h264-5s-1s-gop.mkv']);
    expect(file.code).toBe(0);
    expect(file.stdout.match(/^persisted \d+ timecode \d+$/gm)).toHaveLength(5);
    expect(file.stdout).toMatch(/^done: 5 fragments, 5 persisted, 0 received \(no retention\), 0 refused, 0 re-sent over 1 connections/m);
    const piped = await openkvs(['put', 'cli-put', '-'], {}, fixture('mkv/h264-5s-piped.mkv'));
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/^done: 5 fragments, 5 persisted/m);
    const id = server.registry.find({ name: 'cli-put' })!.id;
    const rows = server.store.list({ streamId: id, notBeforeServerMs: 0 });
    expect(rows).toHaveLength(10);
    // RELATIVE by default: producer timestamps are wall-clock times, not 1970
    expect(rows.every((r) => r.producerTimestampMs > Date.UTC(2020, 0, 1))).toBe(true);
    const missing = await openkvs(['put', 'no-such-stream', 'media-fixtures/mkv/h264-5s-1s-gop.mkv']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ResourceNotFoundException/);
  });

  it('exits 2 on usage errors, 1 on service errors and 3 when the server cannot be reached', async () => {
    expect((await openkvs(['streams', 'frobnicate'])).code).toBe(2);
    expect((await openkvs(['get'])).code).toBe(2);
    expect((await openkvs(['get', 'x', '--start', 'YESTERDAY'])).code).toBe(2);
    const wrong = await openkvs(['streams', 'list'], { AWS_SECRET_ACCESS_KEY: 'not-the-right-secret-000' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/InvalidSignatureException/);
    const down = await openkvs(['streams', 'list'], { OPENKVS_ENDPOINT: 'http://127.0.0.1:1' });
    expect(down.code).toBe(3);
  });
});
