import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MkvStreamParser, parseClusterBlocks } from '../../src/formats/mkv/mkv-stream-parser.js';
import { EXIT_TIMEOUT_MS, checkNoTornTails, startAckTap, startChild, summarizeAcks, within, type Child } from '../helpers/child-server.js';
import { putMedia, type AckEvent } from '../helpers/put-media-client.js';
import { controlClient, startTestServer } from '../helpers/server.js';

// kill -9 the server mid-upload, several times, and check the promise behind PERSISTED: whatever was acked
// PERSISTED survives byte for byte, nothing half-written is ever indexed, and recovery leaves no torn tails.

// 37 unknown-size clusters (~95 KB each, absolute timecodes) with producer Tags between them: the real
// producer upload, so tags prefixes and unknown-size cluster boundaries are both exercised.
const SOURCE_PATH = resolve(process.cwd(), '../shared/real-media/kvs-producer/kvssink-test-stream-1_0.mkv');
const STREAM = 'crash-durability';
// Slow drip: ~8 KB every 15 ms is about 5 clusters/s, so a kill lands mid-upload with later clusters unsent.
const DRIP = { chunkSize: 8192, chunkDelayMs: 15 };
// Flat out: the server then holds up to 8 fragments written but not yet committed, so a kill is likely to
// leave bytes in a segment that no index row covers (a real torn tail).
const FLAT_OUT = { chunkSize: 65536, chunkDelayMs: 0 };

type KillPoint = { name: string; pace: { chunkSize: number; chunkDelayMs: number }; shouldKill(ack: AckEvent, persistedThisRound: number): boolean };

// Each round kills at a different moment of the durable path. The default stream capacity (5 fragments/s,
// 10 s burst) covers all of them.
const ROUNDS: KillPoint[] = [
  { name: 'drip, just after the 3rd PERSISTED ack (next cluster half received)', pace: DRIP, shouldKill: (a, n) => a.EventType === 'PERSISTED' && n >= 3 },
  { name: 'flat out, on the 2nd PERSISTED ack (more commits in flight)', pace: FLAT_OUT, shouldKill: (a, n) => a.EventType === 'PERSISTED' && n >= 2 },
  { name: 'drip, on a BUFFERING ack after 1 PERSISTED (its predecessor just RECEIVED)', pace: DRIP, shouldKill: (a, n) => a.EventType === 'BUFFERING' && n >= 1 },
  { name: 'flat out, on a RECEIVED ack after 8 PERSISTED', pace: FLAT_OUT, shouldKill: (a, n) => a.EventType === 'RECEIVED' && n >= 8 },
  { name: 'drip, just after the 5th PERSISTED ack', pace: DRIP, shouldKill: (a, n) => a.EventType === 'PERSISTED' && n >= 5 },
];

type SourceFragment = { cluster: Uint8Array; tags: Uint8Array };

/** The source's clusters by Timecode, each with the Tags elements the producer sent since the previous cluster. */
function sourceFragments(bytes: Uint8Array): Map<number, SourceFragment> {
  const parser = new MkvStreamParser();
  const out = new Map<number, SourceFragment>();
  let pendingTags: Uint8Array[] = [];
  for (const ev of [...parser.push(bytes), ...parser.end()]) {
    if (ev.kind === 'tags') {
      pendingTags.push(ev.bytes);
    } else if (ev.kind === 'fragment') {
      // Timecodes identify clusters below, so they must be unique in the source.
      expect(out.has(ev.fragment.timecode)).toBe(false);
      out.set(ev.fragment.timecode, { cluster: ev.fragment.bytes, tags: Buffer.concat(pendingTags) });
      pendingTags = [];
    }
  }
  return out;
}

/** Upload the source at the round's pace and SIGKILL the child at the kill point; returns every ack the server sent. */
async function uploadAndKill(child: Child, source: Uint8Array, kill: KillPoint): Promise<AckEvent[]> {
  const acks: AckEvent[] = [];
  let persisted = 0;
  let killed = false;
  const tap = await startAckTap(child.port, (ack) => {
    acks.push(ack);
    if (ack.EventType === 'PERSISTED') {
      persisted++;
    }
    if (!killed && (ack.EventType === 'ERROR' || kill.shouldKill(ack, persisted))) {
      killed = true;
      child.proc.kill('SIGKILL');
    }
  });
  try {
    const upload = putMedia(tap.url, source, { streamName: STREAM, ...kill.pace }).then(
      () => 'the upload completed',
      (err: unknown) => `the upload failed (${String(err)})`,
    );
    const first = await within(Promise.race([child.exited.then(() => 'exited'), upload]), 30_000, `kill point "${kill.name}"; acks so far: ${summarizeAcks(acks)}`);
    if (!killed) {
      throw new Error(`${first} before the kill point "${kill.name}"; acks: ${summarizeAcks(acks)}\n${child.output()}`);
    }
    const exit = await within(child.exited, EXIT_TIMEOUT_MS, 'the child to exit after SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    // An ack the server wrote just before dying is still a promise it made: read the connection to its end.
    await within(tap.upstreamClosed, EXIT_TIMEOUT_MS, 'the killed server connection to close');
    await within(upload, EXIT_TIMEOUT_MS, 'the PutMedia client to notice the dead server');
  } finally {
    await tap.close();
  }
  expect(acks.filter((a) => a.EventType === 'ERROR'), summarizeAcks(acks)).toEqual([]);
  return acks;
}

const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-crash-'));
const children: Child[] = [];
afterAll(() => {
  for (const c of children) {
    c.proc.kill('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 during PutMedia', () => {
  it('keeps every PERSISTED fragment byte-identical, indexes nothing torn, and truncates torn tails', async () => {
    const source = new Uint8Array(readFileSync(SOURCE_PATH));
    const expected = sourceFragments(source);
    expect(expected.size).toBe(37);

    const persisted = new Map<string, number>();
    for (const [round, kill] of ROUNDS.entries()) {
      const child = await startChild(dataDir);
      children.push(child);
      if (round === 0) {
        const kv = controlClient(child.url);
        await kv.send(new CreateStreamCommand({ StreamName: STREAM, DataRetentionInHours: 24 }));
        kv.destroy();
      }
      const acks = await uploadAndKill(child, source, kill);
      for (const a of acks) {
        if (a.EventType === 'PERSISTED' && a.FragmentNumber !== undefined && a.FragmentTimecode !== undefined) {
          persisted.set(a.FragmentNumber, a.FragmentTimecode);
        }
      }
    }
    expect(persisted.size).toBeGreaterThanOrEqual(3 + 2 + 1 + 8 + 5);

    // Whether a kill above landed between a write and its commit is down to timing, so also leave such a torn
    // tail on purpose: the first half of a cluster after the newest segment's last fragment.
    const streamDirs = readdirSync(join(dataDir, 'streams'));
    expect(streamDirs).toHaveLength(1);
    const segDir = join(dataDir, 'streams', streamDirs[0]!);
    const newest = join(segDir, readdirSync(segDir).sort().at(-1)!);
    const anyCluster = expected.values().next().value!.cluster;
    appendFileSync(newest, anyCluster.subarray(0, anyCluster.length >> 1));

    // A restart on the crashed data dir must recover and then shut down cleanly.
    const last = await startChild(dataDir);
    children.push(last);
    last.proc.kill('SIGTERM');
    expect(await within(last.exited, EXIT_TIMEOUT_MS, 'openkvs to stop on SIGTERM')).toEqual({ code: 0, signal: null });

    checkNoTornTails(dataDir);

    const server = await startTestServer({}, { dataDir });
    try {
      const stream = server.registry.find({ name: STREAM });
      expect(stream).toBeDefined();
      const listed = server.store.list({ streamId: stream!.id, notBeforeServerMs: 0 });
      const listedNumbers = new Set(listed.map((f) => f.fragmentNumber));
      const missing = [...persisted.keys()].filter((n) => !listedNumbers.has(n));
      expect(missing, 'fragments acked PERSISTED but not in the index').toEqual([]);

      for (const f of listed) {
        const want = expected.get(f.timecode);
        expect(want, `fragment ${f.fragmentNumber}: timecode ${f.timecode} is not a source cluster`).toBeDefined();
        const stored = await server.store.readBytes(f);
        const cluster = stored.subarray(f.tagsSize);
        // A complete, well-formed cluster, not a prefix of one…
        expect(parseClusterBlocks(cluster).timecode).toBe(f.timecode);
        // …and exactly the bytes the producer sent, tags included.
        expect(Buffer.compare(cluster, want!.cluster), `fragment ${f.fragmentNumber}: cluster bytes differ from the source`).toBe(0);
        expect(Buffer.compare(stored.subarray(0, f.tagsSize), want!.tags), `fragment ${f.fragmentNumber}: tags bytes differ from the source`).toBe(0);
        const ackedTimecode = persisted.get(f.fragmentNumber);
        if (ackedTimecode !== undefined) {
          expect(f.timecode).toBe(ackedTimecode);
        }
      }
    } finally {
      await server.stop();
    }
  });
});
