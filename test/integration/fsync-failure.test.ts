import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import Database from 'better-sqlite3';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { AckErrorId } from '../../src/ingest/ack.js';
import { createLogger } from '../../src/util/logger.js';
import { checkNoTornTails, summarizeAcks } from '../helpers/child-server.js';
import { clustersOf, fixture } from '../helpers/media.js';
import { putMedia, type AckEvent } from '../helpers/put-media-client.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';

// A segment's fdatasync failing (EIO, or ENOSPC where the filesystem allocates at writeback: NFS, thin
// provisioning). Linux reports such a failure once and may have dropped the pages, so the fragments in that
// batch get ERROR 5001, and nothing else written to that segment file may be indexed later even though the next
// fdatasync of it succeeds: the store moves the stream to a new segment. The failure is injected into Node's
// FileHandle.datasync, which only the store's group commit calls.

const PIPED = fixture('mkv/h264-5s-piped.mkv');
const SOURCE = new Map(clustersOf(PIPED).map((c) => [c.timecode, c.bytes]));
const CLUSTER_ID = Buffer.from([0x1f, 0x43, 0xb6, 0x75]);
const ONE_CLUSTER = PIPED.subarray(0, Buffer.from(PIPED).indexOf(CLUSTER_ID, Buffer.from(PIPED).indexOf(CLUSTER_ID) + CLUSTER_ID.length));
const STREAM = 'fsync-failure';

let server: TestServer | undefined;
let dataDir: string | undefined;
afterAll(async () => {
  vi.restoreAllMocks();
  await server?.stop();
  if (dataDir !== undefined) {
    await fsp.rm(dataDir, { recursive: true, force: true });
  }
});

describe('a failed fdatasync of a segment', () => {
  it('answers 5001 for its batch, never indexes that file again, and PERSISTs the next fragments in a new segment', async () => {
    const logs: string[] = [];
    // Our own data dir: a server started without one deletes its own on stop, and this one is restarted.
    dataDir = await fsp.mkdtemp(join(tmpdir(), 'openkvs-fsync-'));
    server = await startTestServer({}, { dataDir, logger: createLogger('error', (l) => logs.push(l)) });
    const probe = await fsp.open(join(server.dataDir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const realDatasync = proto.datasync;
    let failures = 0;
    vi.spyOn(proto, 'datasync').mockImplementation(function (this: unknown) {
      if (failures > 0) {
        failures--;
        return Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      }
      return realDatasync.call(this);
    });

    const kv = controlClient(server.url);
    await kv.send(new CreateStreamCommand({ StreamName: STREAM, DataRetentionInHours: 24 }));
    kv.destroy();
    const upload = async (body: Uint8Array): Promise<AckEvent[]> => (await putMedia(server!.url, body, { streamName: STREAM, timecodeType: 'RELATIVE' })).acks;
    const persisted = (acks: AckEvent[]): string[] => acks.filter((a) => a.EventType === 'PERSISTED').map((a) => a.FragmentNumber!);

    const before = persisted(await upload(PIPED));
    expect(before).toHaveLength(5);

    failures = 1;
    const failed = await upload(ONE_CLUSTER);
    expect(failed.filter((a) => a.EventType === 'ERROR').map((a) => a.ErrorId), summarizeAcks(failed)).toEqual([AckErrorId.ARCHIVAL_ERROR]);
    expect(logs.some((l) => /EIO/.test(l)), logs.join('\n')).toBe(true);

    const after = persisted(await upload(PIPED));
    expect(after).toHaveLength(5);

    const stream = server.registry.find({ name: STREAM })!;
    const rows = server.store.list({ streamId: stream.id, notBeforeServerMs: 0 });
    expect(rows.map((r) => r.fragmentNumber)).toEqual([...before, ...after]);
    for (const r of rows) {
      const bytes = await server.store.readBytes(r);
      expect(Buffer.compare(bytes.subarray(r.tagsSize), SOURCE.get(r.timecode)!), `fragment ${r.fragmentNumber}`).toBe(0);
    }
    const db = new Database(join(server.dataDir, 'openkvs.sqlite'), { readonly: true });
    const segmentOf = (n: string): number => (db.prepare('SELECT segment_id FROM fragments WHERE fragment_number = ?').get(n) as { segment_id: number }).segment_id;
    try {
      expect(new Set(before.map(segmentOf)).size).toBe(1);
      expect(new Set(after.map(segmentOf)).size).toBe(1);
      expect(segmentOf(after[0]!), 'the fragments after the failure went to the failed segment').not.toBe(segmentOf(before[0]!));
    } finally {
      db.close();
    }

    // The failed fragment's bytes are the failed segment's unindexed tail: recovery cuts them.
    vi.restoreAllMocks();
    const dir = server.dataDir;
    await server.stop();
    server = await startTestServer({}, { dataDir: dir });
    expect(server.store.list({ streamId: stream.id, notBeforeServerMs: 0 }).map((r) => r.fragmentNumber)).toEqual([...before, ...after]);
    await server.stop();
    server = undefined;
    checkNoTornTails(dir);
  });
});
