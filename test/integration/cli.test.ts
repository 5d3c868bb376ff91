import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('openkvs serve (the command line)', () => {
  it('prints generated credentials once, serves /health, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-cli-'));
    dirs.push(dataDir);
    const p = run(['serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { OPENKVS_ACCESS_KEY_ID: '', OPENKVS_SECRET_ACCESS_KEY: '' });
    await waitFor(() => /serving http:\/\/127\.0\.0\.1:\d+/.test(p.out()), 'the serving line');
    expect(p.out()).toMatch(/export AWS_ACCESS_KEY_ID=OKVS[0-9A-F]{16}/);
    expect(p.out()).toMatch(/export AWS_SECRET_ACCESS_KEY=\S{30,}/);
    const url = /serving (http:\/\/\S+)/.exec(p.out())![1]!;
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out()).toMatch(/SIGTERM received, shutting down/);

    const again = run(['serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { OPENKVS_ACCESS_KEY_ID: '', OPENKVS_SECRET_ACCESS_KEY: '' });
    await waitFor(() => again.out().includes('serving'), 'the second start');
    expect(again.out()).not.toMatch(/AWS_SECRET_ACCESS_KEY/);
    expect(again.out()).toMatch(/root credentials are in .*credentials\.json/);
    again.child.kill('SIGINT');
    expect(await again.exited).toBe(0);
  });

  it.each([
    [['serve', '--port', '99999'], /port: expected an integer from 0 to 65535/],
    [['serve', '--auth', 'sometimes'], /auth: expected one of on, off/],
    [['serve', '--bogus'], /Unknown option '--bogus'/],
    [['launch'], /unknown command "launch"/],
  ])('refuses %j with a clear message and exit code 2', async (args, message) => {
    const p = run(args);
    expect(await p.exited).toBe(2);
    expect(p.err()).toMatch(message);
  });

  it('reads a JSON config file, with environment variables overriding it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openkvs-cli-'));
    dirs.push(dir);
    const file = join(dir, 'openkvs.json');
    writeFileSync(file, JSON.stringify({ port: 0, dataDir: join(dir, 'data'), region: 'eu-west-1', logLevel: 'warn' }));
    const p = run(['serve', '--config', file], { OPENKVS_REGION: 'ap-south-1', OPENKVS_ACCESS_KEY_ID: '', OPENKVS_SECRET_ACCESS_KEY: '' });
    await waitFor(() => p.out().includes('serving'), 'startup');
    expect(p.out()).toMatch(/AWS_DEFAULT_REGION=ap-south-1/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});
