import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { mkdtempSync, promises as fsp, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';

// Power loss is not something kill -9 shows (the page cache survives a killed process), so this checks the
// store's part of it directly: before a stream's first fragment is PERSISTED, every directory entry on the path
// to its segment file has been fsync'd — the segment in streams/<id>/, streams/<id> in streams/, and on a first
// start streams/ in the data dir. Without that, a power cut could drop a whole directory of acked fragments.

const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-dirsync-'));
let server: TestServer | undefined;
afterAll(async () => {
  vi.restoreAllMocks();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a new segment', () => {
  it('has every directory entry on its path fsync’d before its first fragment is PERSISTED', async () => {
    const synced: string[] = [];
    const realOpen = fsp.open.bind(fsp);
    vi.spyOn(fsp, 'open').mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const fh = await realOpen(...args);
      if (args[1] === 'r') {
        const realSync = fh.sync.bind(fh);
        fh.sync = async () => {
          await realSync();
          synced.push(String(args[0]));
        };
      }
      return fh;
    });
    server = await startTestServer({}, { dataDir });
    const kv = controlClient(server.url);
    for (const name of ['dirsync-1', 'dirsync-2']) {
      await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24 }));
    }
    kv.destroy();
    const idOf = (name: string): string => String(server!.registry.find({ name })!.id);
    const streams = join(dataDir, 'streams');

    const first = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'dirsync-1' });
    expect(first.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);
    expect(synced).toEqual(expect.arrayContaining([join(streams, idOf('dirsync-1')), streams, dataDir]));

    synced.length = 0;
    const second = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'dirsync-2' });
    expect(second.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);
    expect(synced).toEqual(expect.arrayContaining([join(streams, idOf('dirsync-2')), streams]));
  });
});
