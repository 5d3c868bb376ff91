import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/conf/config.js';
import { resolveConfig } from '../../src/conf/load-config.js';
import { startOpenKvs, type RunningServer, type StartOptions } from '../../src/server.js';
import { createLogger } from '../../src/util/logger.js';
import { findFfmpeg } from '../../src/frames/ffmpeg-binary.js';

export const TEST_ACCESS_KEY = 'AKIDOPENKVSTEST00001';
export const TEST_SECRET = 'openkvs-test-secret-key-0123456789';

export type TestServer = RunningServer & { dataDir: string; config: Readonly<Config>; stop(): Promise<void> };

/** Start openkvs in-process on port 0 with a temp data dir (or a given one, for restart tests). */
export async function startTestServer(overrides: Partial<Record<keyof Config, unknown>> = {}, options: StartOptions & { dataDir?: string } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'openkvs-test-'));
  const config = resolveConfig({
    port: 0,
    dataDir,
    logLevel: 'silent',
    accessKeyId: TEST_ACCESS_KEY,
    secretAccessKey: TEST_SECRET,
    ...overrides,
  });
  const server = await startOpenKvs(config, { logger: createLogger('silent'), shutdownGraceMs: 500, ffmpeg: findFfmpeg(process.env), ...options });
  return {
    ...server,
    dataDir,
    config,
    stop: async () => {
      await server.close();
      if (options.dataDir === undefined) {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export function controlClient(url: string, secret = TEST_SECRET): KinesisVideoClient {
  return new KinesisVideoClient({
    endpoint: url,
    region: 'us-west-2',
    credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: secret },
    maxAttempts: 1,
  });
}

/** The archived-media client (ListFragments, HLS/DASH sessions, GetClip, GetImages) pointed at a test server. */
export function archivedClient(url: string, region = 'us-east-1'): KinesisVideoArchivedMediaClient {
  return new KinesisVideoArchivedMediaClient({ endpoint: url, region, credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, maxAttempts: 1 });
}
