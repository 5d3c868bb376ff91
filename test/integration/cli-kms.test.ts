import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../src/cli/context.js';
import { kmsCommand } from '../../src/cli/kms-command.js';
import { runClientCommand } from '../../src/cli/run-client-command.js';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';

// One spawned `openkvs` (tsx start-up) besides the in-process calls.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const env = (): NodeJS.ProcessEnv => ({ AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: TEST_SECRET, AWS_REGION: 'us-east-1', OPENKVS_ENDPOINT: server.url });

/** The command function in this process, as main.ts calls it (the server runs here too: all async). */
async function kms(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = await runClientCommand(kmsCommand, args, { env: env(), stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), stdin: process.stdin });
  return { code, stdout, stderr };
}

/** The real binary, for the wiring in main.ts (a separate process: never spawnSync, the server runs in this one). */
function openkvs(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('openkvs kms', () => {
  it('create, list, describe, disable, enable, rotate, delete', async () => {
    const created = await kms(['create', '--alias', 'alias/cli-cams', '--description', 'from the CLI']);
    expect(created.code).toBe(EXIT.OK);
    const meta = (JSON.parse(created.stdout) as { KeyMetadata: { KeyId: string; AliasName: string; KeyState: string; Description: string } }).KeyMetadata;
    expect(meta).toMatchObject({ AliasName: 'alias/cli-cams', KeyState: 'Enabled', Description: 'from the CLI' });

    const list = await kms(['list']);
    expect(list.code).toBe(EXIT.OK);
    expect(list.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t').slice(1, 4))).toEqual([
      ['alias/aws/kinesisvideo', 'Enabled', 'v1'],
      ['alias/cli-cams', 'Enabled', 'v1'],
    ]);

    const described = await kms(['describe', meta.KeyId]);
    expect((JSON.parse(described.stdout) as { KeyMetadata: { AliasName: string } }).KeyMetadata.AliasName).toBe('alias/cli-cams');
    expect(await kms(['rotate', 'alias/cli-cams'])).toEqual({ code: EXIT.OK, stdout: 'alias/cli-cams: key material v2, 0 data key(s) re-wrapped\n', stderr: '' });
    expect(await kms(['disable', 'alias/cli-cams'])).toEqual({ code: EXIT.OK, stdout: 'alias/cli-cams: Disabled\n', stderr: '' });
    expect(await kms(['enable', 'alias/cli-cams'])).toEqual({ code: EXIT.OK, stdout: 'alias/cli-cams: Enabled\n', stderr: '' });
    const refused = await kms(['delete', 'alias/cli-cams']);
    expect(refused.code).toBe(EXIT.SERVICE_ERROR);
    expect(refused.stderr).toMatch(/^openkvs: InvalidArgumentException: .*disable it/);
    await kms(['disable', 'alias/cli-cams']);
    expect(await kms(['delete', 'alias/cli-cams'])).toEqual({ code: EXIT.OK, stdout: 'alias/cli-cams: deleted\n', stderr: '' });
    const gone = await kms(['describe', 'alias/cli-cams']);
    expect(gone.code).toBe(EXIT.SERVICE_ERROR);
    expect(gone.stderr).toMatch(/ResourceNotFoundException/);
  });

  it('usage errors exit 2', async () => {
    expect((await kms([])).code).toBe(EXIT.USAGE);
    expect((await kms(['describe'])).stderr).toMatch(/a key .* is required/);
    expect((await kms(['list', 'extra'])).code).toBe(EXIT.USAGE);
    expect((await kms(['disable', 'k', '--alias', 'alias/x'])).code).toBe(EXIT.USAGE);
  });

  it('is wired into the openkvs binary', async () => {
    const res = await openkvs(['kms', 'list']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\talias\/aws\/kinesisvideo\tEnabled\tv1\t/);
  });
});
