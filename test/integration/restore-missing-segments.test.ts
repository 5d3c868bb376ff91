import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { ListFragmentsCommand } from '@aws-sdk/client-kinesis-video-archived-media';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/util/logger.js';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-restore-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const fragmentsOf = async (s: TestServer, name: string): Promise<number> => {
  const am = archivedClient(s.url);
  try {
    const out = await am.send(
      new ListFragmentsCommand({
        StreamName: name,
        FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(0), EndTimestamp: new Date(Date.now() + 3_600_000) } },
      }),
    );
    return out.Fragments?.length ?? 0;
  } finally {
    am.destroy();
  }
};

describe('startup recovery after a restore that lost segment files', () => {
  it('drops the index rows of missing segment files, keeps every other stream whole, and says so in the log', async () => {
    let s = await startTestServer({}, { dataDir });
    const kv = controlClient(s.url);
    for (const name of ['kept', 'lost']) {
      await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24 }));
      expect((await putMedia(s.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name })).acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);
    }
    kv.destroy();
    const lostDir = join(dataDir, 'streams', String(s.registry.find({ name: 'lost' })!.id));
    await s.stop();

    // what a backup taken while the stream's files were deleted holds: its index rows, no files
    for (const f of readdirSync(lostDir)) {
      rmSync(join(lostDir, f));
    }
    const lines: string[] = [];
    s = await startTestServer({}, { dataDir, logger: createLogger('info', (l) => lines.push(l)) });
    expect(await fragmentsOf(s, 'kept')).toBe(5);
    expect(await fragmentsOf(s, 'lost')).toBe(0);
    const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((o) => String(o['msg']).startsWith('segment files named by the index are missing'));
    expect(warning).toMatchObject({ level: 'warn', lostSegments: 1, lostFragments: 5 });
    // the stream takes new uploads as before
    expect((await putMedia(s.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'lost' })).acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);
    expect(await fragmentsOf(s, 'lost')).toBe(5);
    await s.stop();
  });
});
