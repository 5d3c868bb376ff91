import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysCommand } from '../../src/cli/keys-command.js';
import { rootCliEnv, runCli, spawnOpenkvs } from '../helpers/cli-run.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';

// `openkvs keys` end to end: keys made with the CLI are used by the AWS CLI, which is refused exactly where the
// policy says, with the error name it expects.

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await controlClient(server.url).send(new CreateStreamCommand({ StreamName: 'cam1' }));
  await controlClient(server.url).send(new CreateStreamCommand({ StreamName: 'cam2' }));
});

afterAll(async () => {
  await server?.stop();
});

const rootEnv = (): NodeJS.ProcessEnv => rootCliEnv(server.url);
const keys = (args: string[], env = rootEnv()) => runCli(keysCommand, args, env);

const created = (stdout: string): { id: string; secret: string } => ({
  id: /AccessKeyId\s+(\S+)/.exec(stdout)?.[1] ?? '',
  secret: /SecretAccessKey\s+(\S+)/.exec(stdout)?.[1] ?? '',
});

/** The AWS CLI as another key (async: the server runs in this process). */
async function aws(key: { id: string; secret: string }, ...args: string[]): Promise<{ ok: boolean; out: string }> {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: key.id, AWS_SECRET_ACCESS_KEY: key.secret, AWS_DEFAULT_REGION: 'us-east-1', AWS_MAX_ATTEMPTS: '1' };
  try {
    const r = await promisify(execFile)('aws', [...args, '--endpoint-url', server.url, '--output', 'json'], { env, encoding: 'utf8', timeout: 60_000 });
    return { ok: true, out: r.stdout };
  } catch (err) {
    return { ok: false, out: String((err as { stderr?: string }).stderr ?? err) };
  }
}

describe('openkvs keys', () => {
  it('create → the AWS CLI with that key is allowed and refused as its template says; disable, rotate, delete', async () => {
    const made = await keys(['create', '--template', 'producers', '--streams', 'cam1', '--channels', 'cam1', '--description', 'front door camera']);
    expect(made.code, made.stderr).toBe(0);
    const key = created(made.stdout);
    expect(key.id).toMatch(/^OKVK[A-Z0-9]{16}$/);
    expect(key.secret.length).toBeGreaterThanOrEqual(40);

    const describe1 = await aws(key, 'kinesisvideo', 'describe-stream', '--stream-name', 'cam1');
    expect(describe1.ok, describe1.out).toBe(true);
    expect(JSON.parse(describe1.out).StreamInfo.StreamName).toBe('cam1');
    const del = await aws(key, 'kinesisvideo', 'delete-stream', '--stream-arn', (JSON.parse(describe1.out) as { StreamInfo: { StreamARN: string } }).StreamInfo.StreamARN);
    expect(del.ok).toBe(false);
    expect(del.out).toMatch(/NotAuthorizedException.*not authorized to perform: kinesisvideo:DeleteStream/s);
    const other = await aws(key, 'kinesisvideo', 'describe-stream', '--stream-name', 'cam2');
    expect(other.out).toContain('NotAuthorizedException');

    const listed = await keys(['list']);
    expect(listed.stdout).toMatch(new RegExp(`${key.id}\\s+Active .* producers\\s+front door camera`));
    expect(listed.stdout).not.toContain(key.secret);

    expect((await keys(['disable', key.id])).stdout).toContain(`${key.id}: Inactive`);
    expect((await aws(key, 'kinesisvideo', 'describe-stream', '--stream-name', 'cam1')).out).toContain('UnrecognizedClientException');
    expect((await keys(['enable', key.id])).code).toBe(0);
    expect((await aws(key, 'kinesisvideo', 'describe-stream', '--stream-name', 'cam1')).ok).toBe(true);

    const rotated = await keys(['rotate', key.id]);
    const next = created(rotated.stdout);
    expect(rotated.stdout).toContain(`${key.id} is now Inactive`);
    expect((await aws(next, 'kinesisvideo', 'describe-stream', '--stream-name', 'cam1')).ok).toBe(true);
    expect((await aws(key, 'kinesisvideo', 'describe-stream', '--stream-name', 'cam1')).ok).toBe(false);

    expect((await keys(['delete', next.id])).code).toBe(0);
    const gone = await keys(['describe', next.id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('ResourceNotFoundException');
  });

  it('put-policy from a file, delete-policy, templates; a non-root key cannot manage keys', async () => {
    const key = created((await keys(['create'])).stdout);
    expect((await aws(key, 'kinesisvideo', 'list-streams')).out).toContain('NotAuthorizedException');
    const file = join(mkdtempSync(join(tmpdir(), 'openkvs-policy-')), 'list.json');
    writeFileSync(file, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kinesisvideo:List*', Resource: '*' }] }));
    expect((await keys(['put-policy', key.id, '--policy-file', file, '--policy-name', 'lists'])).stdout).toContain('policies lists');
    const names = JSON.parse((await aws(key, 'kinesisvideo', 'list-streams')).out) as { StreamInfoList: { StreamName: string }[] };
    expect(names.StreamInfoList.map((s) => s.StreamName)).toEqual(['cam1', 'cam2']);

    const asKey = await keys(['list'], { ...rootEnv(), AWS_ACCESS_KEY_ID: key.id, AWS_SECRET_ACCESS_KEY: key.secret });
    expect(asKey.code).toBe(1);
    expect(asKey.stderr).toContain('AccessDeniedException');

    expect((await keys(['delete-policy', key.id, 'lists'])).stdout).toContain('(none: allowed nothing)');
    expect((await aws(key, 'kinesisvideo', 'list-streams')).out).toContain('NotAuthorizedException');

    const templates = await keys(['templates']);
    for (const name of ['administrators', 'capacity', 'producers', 'consumers', 'full-access']) {
      expect(templates.stdout).toContain(`${name}: `);
    }
    expect((await keys(['put-policy', key.id])).code).toBe(2);
    expect((await keys(['create', '--template', 'producers', '--policy-file', file])).code).toBe(2);
  });

  it('the openkvs binary has the command', async () => {
    const { code, stdout } = await spawnOpenkvs(['keys', 'list'], rootEnv());
    expect(code).toBe(0);
    expect(stdout).toContain('ACCESS KEY ID');
  });
});
