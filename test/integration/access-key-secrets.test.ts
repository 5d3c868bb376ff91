import { KinesisVideoClient, ListStreamsCommand } from '@aws-sdk/client-kinesis-video';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signedPost } from '../helpers/signed-fetch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) {
    rmSync(d, { recursive: true, force: true });
  }
});

type Creds = { accessKeyId: string; secretAccessKey: string };

const listStreams = (s: TestServer, c: Creds): Promise<unknown> => {
  const kv = new KinesisVideoClient({ endpoint: s.url, region: 'us-east-1', credentials: c, maxAttempts: 1 });
  return kv.send(new ListStreamsCommand({})).finally(() => kv.destroy());
};

/** Every file of the data dir (database, WAL, segments…) as one buffer. */
const everyByte = (dir: string): Buffer =>
  Buffer.concat(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(e.parentPath, e.name))),
  );

describe('access-key secrets at rest', () => {
  it('are sealed under the master key: not in any file, working across restarts, refused under another master key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-secrets-'));
    dirs.push(dataDir);
    let s = await startTestServer({}, { dataDir });
    const res = await signedPost(`${s.url}/openkvs/createAccessKey`, JSON.stringify({ Template: 'full-access' }));
    expect(res.status).toBe(200);
    const key = ((await res.json()) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } }).AccessKey;
    const creds = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    await listStreams(s, creds);
    expect(everyByte(dataDir).includes(key.SecretAccessKey)).toBe(false);
    await s.stop();

    // A database from before sealing holds the secret in the clear: the next start seals it, and it still works.
    const db = new Database(join(dataDir, 'openkvs.sqlite'));
    db.prepare('UPDATE access_keys SET secret_access_key = ? WHERE access_key_id = ?').run(key.SecretAccessKey, key.AccessKeyId);
    db.close();
    expect(everyByte(dataDir).includes(key.SecretAccessKey)).toBe(true);
    s = await startTestServer({}, { dataDir });
    await listStreams(s, creds);
    expect(everyByte(dataDir).includes(key.SecretAccessKey)).toBe(false);
    await s.stop();

    // Another master key cannot open it: the key is an unknown one (the server itself still starts and serves root).
    const otherKey = join(dataDir, 'other.key');
    writeFileSync(otherKey, randomBytes(32).toString('base64'));
    s = await startTestServer({ masterKeyFile: otherKey }, { dataDir });
    await expect(listStreams(s, creds)).rejects.toMatchObject({ name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 403 } });
    await s.stop();
  });
});
