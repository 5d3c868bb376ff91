import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT } from '../../src/cli/context.js';
import { kmsCommand } from '../../src/cli/kms-command.js';
import { rootCliEnv, runCli, spawnOpenkvs } from '../helpers/cli-run.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// One spawned `openkvs` (tsx start-up) besides the in-process calls.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const env = (): NodeJS.ProcessEnv => rootCliEnv(server.url);
const kms = (args: string[]) => runCli(kmsCommand, args, env());
const openkvs = (args: string[]) => spawnOpenkvs(args, env());

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
