import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { GetMediaForFragmentListCommand, ListFragmentsCommand } from '@aws-sdk/client-kinesis-video-archived-media';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, fstatSync, mkdirSync, mkdtempSync, openSync, rmSync, rmdirSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckErrorId } from '../../src/ingest/ack.js';
import { MkvStreamParser } from '../../src/formats/mkv/mkv-stream-parser.js';
import { parseSimpleTags } from '../../src/formats/mkv/mkv-tags.js';
import { createLogger } from '../../src/util/logger.js';
import { checkNoTornTails, summarizeAcks, within } from '../helpers/child-server.js';
import { clustersOf, fixture } from '../helpers/media.js';
import { putMedia, type AckEvent } from '../helpers/put-media-client.js';
import { archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';

// A really full filesystem under the data dir (a small tmpfs): PutMedia gets ERROR 5001 (ARCHIVAL_ERROR) per
// fragment instead of PERSISTED, the server neither crashes nor hangs, what was stored before stays readable byte
// for byte, nothing unwritten is ever indexed, and uploads are PERSISTED again as soon as space returns — without
// a restart. Both ways a commit can meet the full disk are driven: the segment write (ENOSPC) and, with exactly
// the segment's pages freed, the SQLite commit after it (SQLITE_FULL on the WAL).
//
// Mounting needs root. Without it the file is skipped loudly — unless CI is set: CI runs as root, so there a
// mount that fails is a failure, not a skip.

const TMPFS_BYTES = 8 * 1024 * 1024;
const PAGE = 4096;
const CI = (process.env['CI'] ?? '') !== '' && process.env['CI'] !== 'false';

/** Can this process mount a tmpfs (and unmount it)? Probed once at collection, on a scratch directory. */
function probeMount(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'openkvs-mount-probe-'));
  try {
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
    if (m.status !== 0) {
      return `mount -t tmpfs failed (uid ${process.getuid?.() ?? '?'}): ${(m.stderr || m.error?.message || `exit ${m.status}`).trim()}`;
    }
    const u = spawnSync('umount', [dir], { encoding: 'utf8' });
    return u.status === 0 ? null : `umount failed: ${u.stderr.trim()}`;
  } finally {
    rmdirSync(dir);
  }
}

const cannotMount = probeMount();
if (cannotMount !== null && !CI) {
  console.warn(`\n**********\n* disk-full.test.ts SKIPPED: ${cannotMount}\n* It needs root to mount a small tmpfs; CI runs it (and fails it there if mounting fails).\n**********\n`);
}

// Unknown-size Segment and Clusters (as a live producer sends): a prefix that stops where a cluster starts is a
// complete upload of the clusters before it, so one cluster can be uploaded on its own.
const PIPED = fixture('mkv/h264-5s-piped.mkv');
const SOURCE = new Map(clustersOf(PIPED).map((c) => [c.timecode, c.bytes]));
const CLUSTER_ID = Buffer.from([0x1f, 0x43, 0xb6, 0x75]);
const ONE_CLUSTER = PIPED.subarray(0, Buffer.from(PIPED).indexOf(CLUSTER_ID, Buffer.from(PIPED).indexOf(CLUSTER_ID) + CLUSTER_ID.length));

const STREAM = 'disk-full';
/** Its first upload comes while the disk is full: with encryption on, making its data key is a SQLite write too. */
const FIRST_UPLOAD_WHEN_FULL = 'disk-full-first';
/** Retention 1 h, so a sweep "two hours later" has rows to delete while the disk is full. */
const EXPIRING = 'disk-full-expiring';

let mnt = '';
let dataDir = '';
let mounted = false;
let server: TestServer | undefined;
const logs: string[] = [];
let clockOffsetMs = 0;

async function startServer(): Promise<TestServer> {
  // Logged errors are how the test tells which write met the full disk (ENOSPC from the segment, SQLITE_FULL from the index).
  const logger = createLogger('error', (line) => logs.push(line));
  return startTestServer({}, { dataDir, logger, clock: { now: () => Date.now() + clockOffsetMs } });
}

/** Fill the filesystem to the last page; returns the open filler file. */
function fill(): number {
  const fd = openSync(join(mnt, 'filler'), 'w');
  const block = Buffer.alloc(64 * 1024, 0xa5);
  for (;;) {
    try {
      if (writeSync(fd, block) < block.length) {
        continue;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
        return fd;
      }
      throw err;
    }
  }
}

const freeBytes = (): number => {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
};

/** Give back exactly `pages` pages of the filler. */
function freePages(fd: number, pages: number): void {
  const allocated = Math.ceil(fstatSync(fd).size / PAGE);
  ftruncateSync(fd, Math.max(0, allocated - pages) * PAGE);
}

async function upload(body: Uint8Array, stream = STREAM): Promise<AckEvent[]> {
  const res = await within(putMedia(server!.url, body, { streamName: stream, timecodeType: 'RELATIVE' }), 20_000, `PutMedia to ${stream} to finish`);
  expect(res.status).toBe(200);
  return res.acks;
}

const persistedOf = (acks: AckEvent[]): string[] => acks.filter((a) => a.EventType === 'PERSISTED').map((a) => a.FragmentNumber!);

/**
 * Everything the index lists for the stream reads back through GetMediaForFragmentList as exactly a source
 * cluster, and the rows never overlap or reach past their segment file: no row covers bytes that were not written.
 */
async function checkStored(expected: string[], stream = STREAM): Promise<void> {
  const archive = archivedClient(server!.url);
  try {
    const listed = await archive.send(
      new ListFragmentsCommand({ StreamName: stream, FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(0), EndTimestamp: new Date(Date.now() + 3_600_000) } } }),
    );
    const numbers = (listed.Fragments ?? []).map((f) => f.FragmentNumber!).sort();
    expect(numbers).toEqual([...expected].sort());
    const out = await archive.send(new GetMediaForFragmentListCommand({ StreamName: stream, Fragments: numbers }));
    const parser = new MkvStreamParser();
    const payload = await out.Payload!.transformToByteArray();
    const got: string[] = [];
    let current: string | undefined;
    for (const ev of [...parser.push(payload), ...parser.end()]) {
      if (ev.kind === 'tags') {
        const tags = Object.fromEntries(parseSimpleTags(ev.bytes).map((t) => [t.name, t.value]));
        expect(tags['AWS_KINESISVIDEO_ERROR_CODE'], `fragment ${tags['AWS_KINESISVIDEO_FRAGMENT_NUMBER']}`).toBeUndefined();
        current = tags['AWS_KINESISVIDEO_FRAGMENT_NUMBER'] ?? current;
      } else if (ev.kind === 'fragment') {
        const want = SOURCE.get(ev.fragment.timecode);
        expect(want !== undefined && Buffer.compare(ev.fragment.bytes, want) === 0, `fragment ${current}: not the source cluster byte for byte`).toBe(true);
        got.push(current!);
      }
    }
    expect(got).toEqual(numbers);
  } finally {
    archive.destroy();
  }
  const db = new Database(join(dataDir, 'openkvs.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT stream_id, segment_id, offset, size FROM fragments ORDER BY segment_id, offset').all() as { stream_id: number; segment_id: number; offset: number; size: number }[];
    let prev: (typeof rows)[number] | undefined;
    for (const r of rows) {
      if (prev?.segment_id === r.segment_id) {
        expect(r.offset, `segment ${r.segment_id}: rows overlap`).toBeGreaterThanOrEqual(prev.offset + prev.size);
      }
      const file = join(dataDir, 'streams', String(r.stream_id), `${String(r.segment_id).padStart(10, '0')}.seg`);
      const fd = openSync(file, 'r');
      try {
        expect(r.offset + r.size, `segment ${r.segment_id}: a row past the end of its file`).toBeLessThanOrEqual(fstatSync(fd).size);
      } finally {
        closeSync(fd);
      }
      prev = r;
    }
  } finally {
    db.close();
  }
}

describe.skipIf(cannotMount !== null && !CI)('a full disk', () => {
  beforeAll(() => {
    if (cannotMount !== null) {
      throw new Error(`CI is set, so this must run: ${cannotMount}`);
    }
    mnt = mkdtempSync(join(tmpdir(), 'openkvs-disk-full-'));
    dataDir = join(mnt, 'data');
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', mnt], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    mounted = true;
    mkdirSync(dataDir);
  });

  afterAll(async () => {
    try {
      await server?.stop();
    } finally {
      if (mounted) {
        // Lazy unmount if something still holds a file open: the mount must not outlive the test either way.
        if (spawnSync('umount', [mnt]).status !== 0) {
          spawnSync('umount', ['-l', mnt]);
        }
      }
      if (mnt !== '') {
        rmdirSync(mnt);
      }
    }
  });

  it('answers ERROR 5001 per fragment, keeps what was stored, and PERSISTs again once space returns', { timeout: 60_000 }, async () => {
    expect(clustersOf(ONE_CLUSTER).map((c) => c.timecode)).toEqual([0]);
    server = await startServer();
    const kv = controlClient(server.url);
    await kv.send(new CreateStreamCommand({ StreamName: STREAM, DataRetentionInHours: 24 }));
    await kv.send(new CreateStreamCommand({ StreamName: EXPIRING, DataRetentionInHours: 1 }));
    await kv.send(new CreateStreamCommand({ StreamName: FIRST_UPLOAD_WHEN_FULL, DataRetentionInHours: 24 }));
    kv.destroy();

    // Stored while there is room.
    const before = persistedOf(await upload(PIPED));
    expect(before).toHaveLength(5);
    expect(persistedOf(await upload(PIPED, EXPIRING))).toHaveLength(5);

    const filler = fill();
    try {
      expect(freeBytes()).toBe(0);

      // A retention sweep two hours on must delete the expiring stream's rows, and SQLite has no room to log
      // that: the sweep fails and is logged; it must not throw out of the sweeper's timer (that kills the process).
      clockOffsetMs = 2 * 3_600_000;
      try {
        await server.retention.sweep();
      } finally {
        clockOffsetMs = 0;
      }
      expect(logs.some((l) => /retention/.test(l) && /database or disk is full/.test(l)), logs.join('\n')).toBe(true);

      // The segment write meets the full disk: every fragment gets 5001 and the upload goes on to its end.
      logs.length = 0;
      const full = await upload(PIPED);
      const errors = full.filter((a) => a.EventType === 'ERROR');
      expect(persistedOf(full), summarizeAcks(full)).toEqual([]);
      expect(errors.map((a) => [a.ErrorId, a.ErrorCode, a.FragmentTimecode]), summarizeAcks(full)).toEqual([...SOURCE.keys()].map((tc) => [AckErrorId.ARCHIVAL_ERROR, 'ARCHIVAL_ERROR', tc]));
      expect(logs.some((l) => /ENOSPC/.test(l)), logs.join('\n')).toBe(true);
      await checkStored(before);
      const first = await upload(PIPED, FIRST_UPLOAD_WHEN_FULL);
      expect(first.filter((a) => a.EventType === 'ERROR').map((a) => a.ErrorId), summarizeAcks(first)).toEqual([...SOURCE.keys()].map(() => AckErrorId.ARCHIVAL_ERROR));
      expect(server.store.list({ streamId: server.registry.find({ name: FIRST_UPLOAD_WHEN_FULL })!.id, notBeforeServerMs: 0 })).toEqual([]);

      // Room for the segment bytes but not for the WAL frames of their index row: the write and fsync succeed and
      // the commit fails. The fragment gets 5001 and its bytes stay unindexed, now and after later commits.
      logs.length = 0;
      freePages(filler, Math.ceil(SOURCE.get(0)!.length / PAGE) + 1);
      const squeezed = await upload(ONE_CLUSTER);
      expect(squeezed.filter((a) => a.EventType === 'ERROR').map((a) => a.ErrorId), summarizeAcks(squeezed)).toEqual([AckErrorId.ARCHIVAL_ERROR]);
      expect(logs.some((l) => /database or disk is full/.test(l)), `expected SQLITE_FULL on the commit:\n${logs.join('\n')}`).toBe(true);
      await checkStored(before);
    } finally {
      closeSync(filler);
    }

    // Space returns: the same server PERSISTs again, and only what was acked PERSISTED is indexed.
    rmSync(join(mnt, 'filler'));
    const after = persistedOf(await upload(PIPED));
    expect(after).toHaveLength(5);
    const single = persistedOf(await upload(ONE_CLUSTER));
    expect(single).toHaveLength(1);
    await checkStored([...before, ...after, ...single]);
    const firstAfter = persistedOf(await upload(PIPED, FIRST_UPLOAD_WHEN_FULL));
    expect(firstAfter).toHaveLength(5);
    await checkStored(firstAfter, FIRST_UPLOAD_WHEN_FULL);

    // A restart on that data dir while the disk is full again: SQLite cannot make its WAL index, and the server
    // says so (not just "disk I/O error"). With room again it starts and recovers to the same state, with no
    // tail the index does not cover.
    await server.stop();
    server = undefined;
    closeSync(fill());
    const onFullDisk = await startServer().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    if (!(onFullDisk instanceof Error)) {
      server = onFullDisk; // stopped by afterAll
    }
    expect(onFullDisk instanceof Error ? onFullDisk.message : 'it started').toMatch(/no space left/);
    rmSync(join(mnt, 'filler'));
    server = await startServer();
    await checkStored([...before, ...after, ...single]);
    await checkStored(firstAfter, FIRST_UPLOAD_WHEN_FULL);
    await server.stop();
    server = undefined;
    checkNoTornTails(dataDir);
  });
});
