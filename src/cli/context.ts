import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PORT } from '../conf/config.js';
import { KvsHttp, type ClientConfig } from './kvs-http.js';

/** Exit codes of the client commands. */
export const EXIT = { OK: 0, SERVICE_ERROR: 1, USAGE: 2, CONNECTION: 3 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Options every client command takes; values from flags win over the usual AWS environment variables. */
export const CLIENT_OPTIONS = {
  'endpoint-url': { type: 'string' },
  region: { type: 'string' },
  'access-key-id': { type: 'string' },
  'secret-access-key': { type: 'string' },
  'data-dir': { type: 'string' },
  'ca-bundle': { type: 'string' },
} as const;

export type ClientFlags = Partial<Record<keyof typeof CLIENT_OPTIONS, string>>;

export type CliIo = {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
};

/**
 * Endpoint, region and credentials: flags, then AWS_* / OPENKVS_* environment variables, then the credentials a
 * local server generated in its data dir (so `openkvs streams list` works next to `npm start` out of the box).
 */
export function clientConfig(flags: ClientFlags, env: NodeJS.ProcessEnv): ClientConfig {
  const endpoint = flags['endpoint-url'] ?? env['OPENKVS_ENDPOINT'] ?? env['AWS_ENDPOINT_URL'] ?? `http://127.0.0.1:${env['OPENKVS_PORT'] ?? DEFAULT_PORT}`;
  const region = flags.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  let accessKeyId = flags['access-key-id'] ?? env['AWS_ACCESS_KEY_ID'];
  let secretAccessKey = flags['secret-access-key'] ?? env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    const file = join(flags['data-dir'] ?? env['OPENKVS_DATA_DIR'] ?? './data', 'credentials.json');
    if (existsSync(file)) {
      const c = JSON.parse(readFileSync(file, 'utf8')) as { accessKeyId?: string; secretAccessKey?: string };
      accessKeyId ??= c.accessKeyId;
      secretAccessKey ??= c.secretAccessKey;
    }
  }
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new UsageError('no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the server prints them at first start), or pass --access-key-id/--secret-access-key');
  }
  const sessionToken = env['AWS_SESSION_TOKEN'];
  // As the AWS CLI: a PEM bundle of the certificates to trust for an https:// endpoint (a self-signed one).
  const caFile = flags['ca-bundle'] ?? (env['AWS_CA_BUNDLE'] || undefined);
  return { endpoint, region, credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }, ...(caFile !== undefined ? { ca: readCaBundle(caFile) } : {}) };
}

function readCaBundle(file: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new UsageError(`--ca-bundle ${file}: ${(err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UsageError(`--ca-bundle ${file}: no PEM certificate in it`);
  }
  return pem;
}

export const client = (flags: ClientFlags, env: NodeJS.ProcessEnv): KvsHttp => new KvsHttp(clientConfig(flags, env));

/** Parse a time given as ISO-8601 or epoch seconds; returns epoch seconds (the wire format). */
export function parseTime(value: string, what: string): number {
  if (/^\d+(\.\d+)?$/.test(value)) {
    return Number(value);
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new UsageError(`${what}: expected an ISO-8601 time or epoch seconds, got "${value}"`);
  }
  return ms / 1000;
}
