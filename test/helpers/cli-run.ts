import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { runClientCommand, type ClientCommand } from '../../src/cli/run-client-command.js';
import { TEST_ACCESS_KEY, TEST_SECRET } from './server.js';

export type CliResult = { code: number; stdout: string; stderr: string };

/** The environment a client command needs to reach a test server as its root key. */
export const rootCliEnv = (endpoint: string): NodeJS.ProcessEnv => ({ AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: TEST_SECRET, AWS_REGION: 'us-east-1', OPENKVS_ENDPOINT: endpoint });

/** A client command in this process, as main.ts calls it (the server runs here too: all async). */
export async function runCli(command: ClientCommand, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = await runClientCommand(command, args, { env, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), stdin: process.stdin });
  return { code, stdout, stderr };
}

/** The real binary, for the wiring in main.ts (a separate process: never spawnSync, the server runs in this one). */
export function spawnOpenkvs(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}
