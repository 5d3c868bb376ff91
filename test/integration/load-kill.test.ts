import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { GetHLSStreamingSessionURLCommand, GetMediaForFragmentListCommand, ListFragmentsCommand, type Fragment } from '@aws-sdk/client-kinesis-video-archived-media';
import { GetMediaCommand, KinesisVideoMediaClient } from '@aws-sdk/client-kinesis-video-media';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MkvStreamParser } from '../../src/formats/mkv/mkv-stream-parser.js';
import { parseSimpleTags } from '../../src/formats/mkv/mkv-tags.js';
import { EXIT_TIMEOUT_MS, checkNoTornTails, startAckTap, startChild, summarizeAcks, within, type Child } from '../helpers/child-server.js';
import { KvsChunkReader } from '../helpers/kvs-chunks.js';
import { fixture, realMedia } from '../helpers/media.js';
import { prng } from '../helpers/prng.js';
import { putMedia, type AckEvent } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, archivedClient, controlClient } from '../helpers/server.js';

// Many producers and consumers at once against `openkvs serve` as a child process, SIGKILLed at seeded-random
// moments and restarted on the same data dir, round after round. The promise under test is PERSISTED (fsync'd
// bytes + committed index row), seen from every side: what a producer was told is durable is listed and reads back
// byte for byte; whatever a reader was served before the kill was committed, so it is still there too; no index
// row ever points at torn bytes, and recovery leaves no tail that the index does not cover.
// LOAD_KILL_SEED=<n> picks another kill schedule (the same seed gives the same kill points; what is in flight at
// each still depends on timing); the seed is printed with the summary.

const SEED = Number(process.env['LOAD_KILL_SEED'] ?? 0x10ad_c1);
const ROUNDS = 6;
// No kill point waits longer than this after the producers start: it bounds the test, and at the paces below no
// stream goes past its capacity (5 fragments/s with a 10 s burst) within one server lifetime.
const MAX_ROUND_MS = 5000;

type Pace = { chunkSize: number; chunkDelayMs: number };
/** ~100 KB clusters: 16 KB every 40 ms is about 4 clusters/s. */
const REAL_PACE: Pace = { chunkSize: 16384, chunkDelayMs: 40 };
/** ~16 KB one-second clusters: 4 KB every 50 ms is about 5 clusters/s, so a producer ends and the next starts about every second. */
const FIXTURE_PACE: Pace = { chunkSize: 4096, chunkDelayMs: 50 };

type Source = { file: string; bytes: Uint8Array; timecodeType: 'ABSOLUTE' | 'RELATIVE'; pace: Pace; clusters: Map<number, Uint8Array> };

function source(file: string, bytes: Uint8Array, timecodeType: Source['timecodeType'], pace: Pace): Source {
  const parser = new MkvStreamParser();
  const clusters = new Map<number, Uint8Array>();
  for (const ev of [...parser.push(bytes), ...parser.end()]) {
    if (ev.kind === 'fragment') {
      // Stored fragments are matched to their source cluster by timecode, so timecodes must be unique per source.
      expect(clusters.has(ev.fragment.timecode), `${file}: timecode ${ev.fragment.timecode} twice`).toBe(false);
      clusters.set(ev.fragment.timecode, ev.fragment.bytes);
    }
  }
  return { file, bytes, timecodeType, pace, clusters };
}

const kvssink = source('kvssink-test-stream-1_0.mkv (37 unknown-size clusters, producer Tags)', realMedia('kvs-producer/kvssink-test-stream-1_0.mkv'), 'ABSOLUTE', REAL_PACE);
const clusters = source('clusters.mkv', realMedia('mkv-inputs/clusters.mkv'), 'RELATIVE', REAL_PACE);
const vogels = source('vogels_330.mkv', realMedia('mkv-inputs/vogels_330.mkv'), 'RELATIVE', REAL_PACE);
const gop = source('h264-5s-1s-gop.mkv', fixture('mkv/h264-5s-1s-gop.mkv'), 'RELATIVE', FIXTURE_PACE);
const aac = source('h264-aac-5s.mkv', fixture('mkv/h264-aac-5s.mkv'), 'RELATIVE', FIXTURE_PACE);
const hevc = source('hevc-5s.mkv', fixture('mkv/hevc-5s.mkv'), 'RELATIVE', FIXTURE_PACE);
const opus = source('h264-opus-5s.mkv', fixture('mkv/h264-opus-5s.mkv'), 'RELATIVE', FIXTURE_PACE);

/**
 * Eight streams, each with one producer connection at a time that uploads its source again as soon as the last
 * upload ended (the fixtures' sequential producers take about a second each; the real captures run into the kill).
 */
const STREAMS: { name: string; src: Source; getMedia: boolean; hls: boolean }[] = [
  { name: 'lk-kvssink-a', src: kvssink, getMedia: true, hls: false },
  { name: 'lk-kvssink-b', src: kvssink, getMedia: false, hls: false },
  { name: 'lk-clusters', src: clusters, getMedia: true, hls: true },
  { name: 'lk-vogels', src: vogels, getMedia: false, hls: false },
  { name: 'lk-gop', src: gop, getMedia: true, hls: true },
  { name: 'lk-aac', src: aac, getMedia: false, hls: false },
  { name: 'lk-hevc', src: hevc, getMedia: false, hls: true },
  { name: 'lk-opus', src: opus, getMedia: true, hls: false },
];

type KillPlan = { kind: 'delay'; ms: number } | { kind: 'acks'; count: number };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const credentials = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET };

/** What the test learned across all rounds, and every broken promise it saw. */
class Ledger {
  /** Per stream: fragment number → timecode, for every PERSISTED ack. */
  readonly persisted = new Map<string, Map<string, number>>(STREAMS.map((s) => [s.name, new Map()]));
  /** Per stream: fragment numbers some reader was served (GetMedia, GetMediaForFragmentList, an HLS playlist). */
  readonly served = new Map<string, Set<string>>(STREAMS.map((s) => [s.name, new Set()]));
  readonly violations: string[] = [];
  uploads = 0;
  acks = 0;
  getMediaChunks = 0;
  archivedChunks = 0;
  hlsSegments = 0;

  violation(what: string): void {
    if (this.violations.length < 50) {
      this.violations.push(what);
    }
  }

  /** A cluster a reader got: it must be one of the source's clusters, byte for byte. */
  checkCluster(stream: (typeof STREAMS)[number], via: string, fragmentNumber: string | undefined, cluster: { timecode: number; bytes: Uint8Array } | null): void {
    if (fragmentNumber === undefined || cluster === null) {
      this.violation(`${via} on ${stream.name}: a chunk without ${fragmentNumber === undefined ? 'a fragment number' : 'a cluster'} (fragment ${fragmentNumber})`);
      return;
    }
    this.served.get(stream.name)?.add(fragmentNumber);
    const want = stream.src.clusters.get(cluster.timecode);
    if (want === undefined || Buffer.compare(cluster.bytes, want) !== 0) {
      this.violation(`${via} on ${stream.name}: fragment ${fragmentNumber} (timecode ${cluster.timecode}) is not the source's cluster byte for byte`);
    }
  }
}

/** Split a GetMediaForFragmentList payload into (fragment number, cluster) chunks. */
function archivedChunks(payload: Uint8Array): { fragmentNumber: string | undefined; error: string | undefined; cluster: { timecode: number; bytes: Uint8Array } | null }[] {
  const parser = new MkvStreamParser();
  const out: { fragmentNumber: string | undefined; error: string | undefined; cluster: { timecode: number; bytes: Uint8Array } | null }[] = [];
  for (const ev of [...parser.push(payload), ...parser.end()]) {
    if (ev.kind === 'tags') {
      const tags = Object.fromEntries(parseSimpleTags(ev.bytes).map((t) => [t.name, t.value]));
      if (tags['AWS_KINESISVIDEO_FRAGMENT_NUMBER'] !== undefined) {
        out.push({ fragmentNumber: tags['AWS_KINESISVIDEO_FRAGMENT_NUMBER'], error: tags['AWS_KINESISVIDEO_ERROR_CODE'], cluster: null });
      }
    } else if (ev.kind === 'fragment') {
      const last = out.at(-1);
      if (last !== undefined) {
        last.cluster = ev.fragment;
      }
    }
  }
  return out;
}

/** Top-level ISO BMFF boxes; a body that is not exactly a sequence of whole boxes gives null. */
function boxTypes(body: Uint8Array): string[] | null {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const types: string[] = [];
  let off = 0;
  while (off < body.length) {
    if (off + 8 > body.length) {
      return null;
    }
    let size = view.getUint32(off);
    if (size === 1 && off + 16 <= body.length) {
      size = Number(view.getBigUint64(off + 8));
    }
    if (size < 8 || off + size > body.length) {
      return null;
    }
    types.push(Buffer.from(body.subarray(off + 4, off + 8)).toString('latin1'));
    off += size;
  }
  return types;
}

async function listAll(archive: ReturnType<typeof archivedClient>, streamName: string): Promise<Fragment[]> {
  const out: Fragment[] = [];
  let token: string | undefined;
  do {
    const page = await archive.send(
      new ListFragmentsCommand(
        token !== undefined
          ? { StreamName: streamName, NextToken: token }
          : { StreamName: streamName, FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(0), EndTimestamp: new Date(Date.now() + 3_600_000) } } },
      ),
    );
    out.push(...(page.Fragments ?? []));
    token = page.NextToken;
  } while (token !== undefined);
  return out;
}

/**
 * One server lifetime under load: producers on every stream, live GetMedia, ListFragments + GetMediaForFragmentList
 * and HLS readers, and a SIGKILL when the plan says. Resolves once every producer and reader has stopped.
 */
async function loadAndKill(child: Child, plan: KillPlan, ledger: Ledger): Promise<string> {
  let killed = false;
  let killedBy = '';
  let roundAcks = 0;
  const kill = (why: string): void => {
    if (!killed) {
      killed = true;
      killedBy = why;
      child.proc.kill('SIGKILL');
    }
  };
  /** Transport failures are expected once the server is gone; before that, any failure is a finding. */
  const failed = (what: string, err: unknown): void => {
    if (!killed) {
      ledger.violation(`${what} failed while the server was up: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const producer = async (s: (typeof STREAMS)[number]): Promise<void> => {
    while (!killed) {
      const acks: AckEvent[] = [];
      const tap = await startAckTap(child.port, (ack) => {
        acks.push(ack);
        ledger.acks++;
        roundAcks++;
        if (ack.EventType === 'PERSISTED' && ack.FragmentNumber !== undefined && ack.FragmentTimecode !== undefined) {
          ledger.persisted.get(s.name)?.set(ack.FragmentNumber, ack.FragmentTimecode);
        }
        if (ack.EventType === 'ERROR') {
          ledger.violation(`PutMedia to ${s.name}: ERROR ack ${JSON.stringify(ack)}`);
        }
        if (plan.kind === 'acks' && roundAcks >= plan.count) {
          kill(`ack #${roundAcks} (${ack.EventType} on ${s.name})`);
        }
      });
      ledger.uploads++;
      try {
        const res = await putMedia(tap.url, s.src.bytes, { streamName: s.name, timecodeType: s.src.timecodeType, ...s.src.pace });
        if (!killed && res.status !== 200) {
          ledger.violation(`PutMedia to ${s.name}: HTTP ${res.status} ${res.raw}`);
        }
        if (!killed && acks.filter((a) => a.EventType === 'PERSISTED').length !== s.src.clusters.size) {
          ledger.violation(`PutMedia to ${s.name} ended with ${summarizeAcks(acks)}`);
        }
      } catch (err) {
        failed(`PutMedia to ${s.name}`, err);
      } finally {
        // An ack written just before the kill is still a promise: read the connection to its end.
        if (killed) {
          await within(tap.upstreamClosed, EXIT_TIMEOUT_MS, `the killed server's PutMedia connection (${s.name}) to close`);
        }
        await tap.close();
      }
    }
  };

  const media = new KinesisVideoMediaClient({ endpoint: child.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  const archive = archivedClient(child.url);

  const liveReader = async (s: (typeof STREAMS)[number]): Promise<void> => {
    try {
      const out = await media.send(new GetMediaCommand({ StreamName: s.name, StartSelector: { StartSelectorType: 'NOW' } }));
      const reader = new KvsChunkReader();
      let checked = 0;
      for await (const part of out.Payload as AsyncIterable<Uint8Array>) {
        try {
          reader.push(part);
        } catch (err) {
          ledger.violation(`GetMedia on ${s.name}: malformed MKV (${String(err)})`);
          return;
        }
        const complete = reader.complete;
        for (; checked < complete.length; checked++) {
          const c = complete[checked]!;
          ledger.getMediaChunks++;
          ledger.checkCluster(s, 'GetMedia', c.kvs['AWS_KINESISVIDEO_FRAGMENT_NUMBER'], c.cluster);
        }
        if (killed) {
          break;
        }
      }
    } catch (err) {
      failed(`GetMedia on ${s.name}`, err);
    }
  };

  // Reads what was just indexed: a row whose bytes are not all there yet would show here as a short or foreign cluster.
  const archivedReader = async (): Promise<void> => {
    for (let i = 0; !killed; i++) {
      const s = STREAMS[i % STREAMS.length]!;
      try {
        const listed = await archive.send(
          new ListFragmentsCommand({
            StreamName: s.name,
            FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(Date.now() - 3000), EndTimestamp: new Date(Date.now() + 60_000) } },
          }),
        );
        const numbers = (listed.Fragments ?? []).map((f) => f.FragmentNumber!).slice(-4);
        if (numbers.length > 0) {
          const out = await archive.send(new GetMediaForFragmentListCommand({ StreamName: s.name, Fragments: numbers }));
          const chunks = archivedChunks(await out.Payload!.transformToByteArray());
          if (chunks.length !== numbers.length) {
            ledger.violation(`GetMediaForFragmentList on ${s.name}: ${chunks.length} chunks for ${numbers.length} fragments`);
          }
          for (const c of chunks) {
            ledger.archivedChunks++;
            if (c.error !== undefined) {
              ledger.violation(`GetMediaForFragmentList on ${s.name}: fragment ${c.fragmentNumber} came back as error ${c.error}`);
            } else {
              ledger.checkCluster(s, 'GetMediaForFragmentList', c.fragmentNumber, c.cluster);
            }
          }
        }
      } catch (err) {
        failed(`ListFragments/GetMediaForFragmentList on ${s.name}`, err);
      }
      await sleep(100);
    }
  };

  const hlsReader = async (s: (typeof STREAMS)[number]): Promise<void> => {
    let url: string | undefined;
    while (!killed && url === undefined) {
      try {
        url = (await archive.send(new GetHLSStreamingSessionURLCommand({ StreamName: s.name, PlaybackMode: 'LIVE' }))).HLSStreamingSessionURL;
      } catch (err) {
        // A stream with no fragment yet has nothing to play (first round only).
        if (!(err instanceof Error && err.name === 'ResourceNotFoundException')) {
          failed(`GetHLSStreamingSessionURL on ${s.name}`, err);
          return;
        }
        await sleep(200);
      }
    }
    const fetched = new Set<string>();
    const get = async (u: string): Promise<Uint8Array | null> => {
      const res = await fetch(u);
      const body = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) {
        ledger.violation(`HLS on ${s.name}: HTTP ${res.status} for ${u.split('?')[0]}: ${Buffer.from(body).toString('utf8').slice(0, 200)}`);
        return null;
      }
      return body;
    };
    try {
      while (!killed && url !== undefined) {
        const master = await get(url);
        const mediaLine = master === null ? undefined : Buffer.from(master).toString('utf8').split('\n').find((l) => l.startsWith('getHLSMediaPlaylist'));
        if (mediaLine === undefined) {
          ledger.violation(`HLS on ${s.name}: no media playlist in the master playlist`);
          return;
        }
        const mediaUrl = new URL(mediaLine, url).href;
        const playlistBytes = await get(mediaUrl);
        if (playlistBytes === null) {
          return;
        }
        const playlist = Buffer.from(playlistBytes).toString('utf8');
        const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)?.[1];
        const segments = playlist.split('\n').filter((l) => l.startsWith('getMP4MediaFragment'));
        for (const u of [...(init !== undefined ? [init] : []), ...segments]) {
          if (killed || fetched.has(u)) {
            continue;
          }
          fetched.add(u);
          const body = await get(new URL(u, mediaUrl).href);
          const types = body === null ? null : boxTypes(body);
          const isInit = u === init;
          if (body !== null && (types === null || !(isInit ? ['ftyp', 'moov'] : ['moof', 'mdat']).every((t) => types.includes(t)))) {
            ledger.violation(`HLS on ${s.name}: ${isInit ? 'init' : 'media'} segment ${u.split('?')[0]} is not whole fMP4 (boxes ${JSON.stringify(types)})`);
          }
          const n = /FragmentNumber=(\d+)/.exec(u)?.[1];
          if (!isInit && n !== undefined) {
            ledger.hlsSegments++;
            ledger.served.get(s.name)?.add(n);
          }
        }
        await sleep(250);
      }
    } catch (err) {
      failed(`HLS on ${s.name}`, err);
    }
  };

  const work = [
    ...STREAMS.map(producer),
    ...STREAMS.filter((s) => s.getMedia).map(liveReader),
    archivedReader(),
    ...STREAMS.filter((s) => s.hls).map(hlsReader),
  ];
  const timer = setTimeout(() => kill(plan.kind === 'delay' ? `${plan.ms} ms after the producers started` : `${MAX_ROUND_MS} ms cap (only ${roundAcks} acks of ${plan.count})`), plan.kind === 'delay' ? plan.ms : MAX_ROUND_MS);
  try {
    const exit = await within(child.exited, MAX_ROUND_MS + EXIT_TIMEOUT_MS, 'the SIGKILLed child to exit');
    expect(exit.signal, `the child died before the kill\n${child.output()}`).toBe('SIGKILL');
    await within(Promise.all(work), 2 * EXIT_TIMEOUT_MS, 'producers and readers to notice the dead server');
  } finally {
    clearTimeout(timer);
    kill('the round ended');
    media.destroy();
    archive.destroy();
  }
  return killedBy;
}

const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-load-kill-'));
const children: Child[] = [];
afterAll(() => {
  for (const c of children) {
    c.proc.kill('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 under load', () => {
  it(`keeps every PERSISTED and every served fragment, byte for byte, across ${ROUNDS} SIGKILLs at seeded-random points`, { timeout: 180_000 }, async () => {
    const random = prng(SEED);
    const ledger = new Ledger();
    const kills: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const child = await startChild(dataDir);
      children.push(child);
      if (round === 0) {
        const kv = controlClient(child.url);
        for (const s of STREAMS) {
          await kv.send(new CreateStreamCommand({ StreamName: s.name, DataRetentionInHours: 24 }));
        }
        kv.destroy();
      } else {
        // After each restart, before any new load: everything acked or served so far is still listed.
        await checkListed(child, ledger, `after restart ${round}`);
      }
      // Half the rounds die after a random time, half on a random ack (any type, any stream): a kill lands
      // between a write and its fsync, between the fsync and the commit, or while acks are in flight.
      const plan: KillPlan = random() < 0.5 ? { kind: 'delay', ms: Math.round(300 + random() * (MAX_ROUND_MS - 300)) } : { kind: 'acks', count: 5 + Math.floor(random() * 120) };
      kills.push(`round ${round}: ${await loadAndKill(child, plan, ledger)}`);
    }

    const last = await startChild(dataDir);
    children.push(last);
    const verified = await checkListed(last, ledger, 'after the last restart');
    last.proc.kill('SIGTERM');
    expect(await within(last.exited, EXIT_TIMEOUT_MS, 'openkvs to stop on SIGTERM')).toEqual({ code: 0, signal: null });
    checkNoTornTails(dataDir);

    const persisted = [...ledger.persisted.values()].reduce((n, m) => n + m.size, 0);
    const served = [...ledger.served.values()].reduce((n, m) => n + m.size, 0);
    console.log(
      [
        `load-kill (LOAD_KILL_SEED=${SEED}): ${ROUNDS} SIGKILLs + a clean restart, ${STREAMS.length} streams, ${ledger.uploads} PutMedia uploads, ${ledger.acks} acks`,
        ...kills.map((k) => `  ${k}`),
        `  readers checked ${ledger.getMediaChunks} live GetMedia chunks, ${ledger.archivedChunks} GetMediaForFragmentList chunks, ${ledger.hlsSegments} HLS segments`,
        `  after the last restart: ${persisted} PERSISTED and ${served} served fragment numbers all listed; ${verified} indexed fragments read back byte for byte`,
      ].join('\n'),
    );
    expect(ledger.violations).toEqual([]);
    expect(persisted).toBeGreaterThan(ROUNDS * 5);
  });
});

/**
 * Every PERSISTED or served fragment is listed, and every indexed fragment — acked or not — reads back through
 * GetMediaForFragmentList as exactly a cluster of its stream's source. Returns how many fragments were read.
 */
async function checkListed(child: Child, ledger: Ledger, when: string): Promise<number> {
  const archive = archivedClient(child.url);
  let read = 0;
  try {
    for (const s of STREAMS) {
      const listed = await listAll(archive, s.name);
      const numbers = listed.map((f) => f.FragmentNumber!);
      const known = new Set(numbers);
      const persisted = ledger.persisted.get(s.name)!;
      expect([...persisted.keys()].filter((n) => !known.has(n)), `${s.name} ${when}: fragments acked PERSISTED but not listed`).toEqual([]);
      expect([...ledger.served.get(s.name)!].filter((n) => !known.has(n)), `${s.name} ${when}: fragments served to a reader but not listed`).toEqual([]);
      for (let i = 0; i < numbers.length; i += 100) {
        const batch = numbers.slice(i, i + 100);
        const out = await archive.send(new GetMediaForFragmentListCommand({ StreamName: s.name, Fragments: batch }));
        const chunks = archivedChunks(await out.Payload!.transformToByteArray());
        expect(chunks.map((c) => c.fragmentNumber), `${s.name} ${when}: GetMediaForFragmentList chunks`).toEqual(batch);
        for (const c of chunks) {
          expect(c.error, `${s.name} ${when}: fragment ${c.fragmentNumber}`).toBeUndefined();
          const want = c.cluster === null ? undefined : s.src.clusters.get(c.cluster.timecode);
          expect(want !== undefined && c.cluster !== null && Buffer.compare(c.cluster.bytes, want) === 0, `${s.name} ${when}: fragment ${c.fragmentNumber} is not a source cluster byte for byte`).toBe(true);
          const acked = persisted.get(c.fragmentNumber!);
          if (acked !== undefined) {
            expect(c.cluster?.timecode, `${s.name} ${when}: fragment ${c.fragmentNumber} timecode vs its PERSISTED ack`).toBe(acked);
          }
          read++;
        }
      }
    }
  } finally {
    archive.destroy();
  }
  return read;
}
