import { CreateStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import type {
  KinesisVideoArchivedMediaClient} from '@aws-sdk/client-kinesis-video-archived-media';
import {
  GetMediaForFragmentListCommand,
  InvalidArgumentException,
  ListFragmentsCommand,
  ResourceNotFoundException,
  type Fragment,
  type FragmentSelector,
  type ListFragmentsCommandInput,
} from '@aws-sdk/client-kinesis-video-archived-media';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Input } from '../../src/api/input.js';
import { MediaResponse } from '../../src/api/operation.js';
import { archivedMediaOperations } from '../../src/api/operations/archived-media.js';
import type { StreamRecord } from '../../src/core/stream-record.js';
import { FragmentReader } from '../../src/core/fragment-reader.js';
import { MkvStreamParser, parseSimpleTags } from '../../src/formats/mkv/mkv-stream-parser.js';
import type { FragmentRecord } from '../../src/store/fragment-store.js';
import { systemClock } from '../../src/util/clock.js';
import { clustersOf, fixture, realMedia } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let kv: KinesisVideoClient;
let archive: KinesisVideoArchivedMediaClient;
const tmp = mkdtempSync(join(tmpdir(), 'openkvs-archive-'));

const gop = fixture('mkv/h264-5s-1s-gop.mkv');
const realClusters = realMedia('mkv-inputs/clusters.mkv');
const gopClusters = clustersOf(gop);
const realClusterList = clustersOf(realClusters);

// Producer clocks of the two uploads: the second upload is timestamped EARLIER than the first, so producer-time order
// and fragment-number order disagree.
const GOP_START_S = 1_700_000_000;
const CLUSTERS_START_S = 1_600_000_000;

/** Stream "mixed": the 5 one-second GOP clusters, then the 8 two-second clusters of clusters.mkv. */
const mixed = { name: 'lf-mixed', gopFrom: 0, gopTo: 0, clustersFrom: 0, clustersTo: 0 };

beforeAll(async () => {
  server = await startTestServer({ putMediaCallsPerSecond: 1000 });
  kv = controlClient(server.url);
  archive = archivedClient(server.url, 'us-west-2');

  await kv.send(new CreateStreamCommand({ StreamName: mixed.name, DataRetentionInHours: 24 }));
  mixed.gopFrom = Date.now();
  await upload(mixed.name, gop, GOP_START_S);
  mixed.gopTo = Date.now();
  await new Promise((r) => setTimeout(r, 5));
  mixed.clustersFrom = Date.now();
  await upload(mixed.name, realClusters, CLUSTERS_START_S);
  mixed.clustersTo = Date.now();
});
afterAll(async () => {
  kv.destroy();
  archive.destroy();
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function upload(name: string, body: Uint8Array, producerStartS: number): Promise<void> {
  const res = await putMedia(server.url, body, { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: producerStartS.toFixed(3) });
  expect(res.acks.filter((a) => a.EventType === 'ERROR')).toEqual([]);
}

const stored = (name: string): FragmentRecord[] => server.store.list({ streamId: server.registry.find({ name })!.id, notBeforeServerMs: 0 });
const serverRange = (from: number, to: number): FragmentSelector => ({ FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(from), EndTimestamp: new Date(to) } });
const producerRange = (fromS: number, toS: number): FragmentSelector => ({
  FragmentSelectorType: 'PRODUCER_TIMESTAMP',
  TimestampRange: { StartTimestamp: new Date(fromS * 1000), EndTimestamp: new Date(toS * 1000) },
});
const numbersOf = (fragments: Fragment[] | undefined): string[] => (fragments ?? []).map((f) => f.FragmentNumber!);

async function listAll(input: ListFragmentsCommandInput): Promise<{ fragments: Fragment[]; pages: number }> {
  const fragments: Fragment[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const out = await archive.send(new ListFragmentsCommand({ ...input, NextToken: token }));
    fragments.push(...(out.Fragments ?? []));
    token = out.NextToken;
    pages++;
  } while (token !== undefined && pages < 100);
  return { fragments, pages };
}

describe('ListFragments', () => {
  it('SERVER_TIMESTAMP ranges select by ingestion time, in fragment-number order, with exact sizes and lengths', async () => {
    const rows = stored(mixed.name);
    expect(rows).toHaveLength(13);

    const all = await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, FragmentSelector: serverRange(mixed.gopFrom, mixed.clustersTo) }));
    expect(all.NextToken).toBeUndefined();
    expect(numbersOf(all.Fragments)).toEqual(rows.map((r) => r.fragmentNumber));

    const first = await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, FragmentSelector: serverRange(mixed.gopFrom, mixed.gopTo) }));
    expect(numbersOf(first.Fragments)).toEqual(rows.slice(0, 5).map((r) => r.fragmentNumber));
    const second = await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, FragmentSelector: serverRange(mixed.clustersFrom, mixed.clustersTo) }));
    expect(numbersOf(second.Fragments)).toEqual(rows.slice(5).map((r) => r.fragmentNumber));

    const fragments = all.Fragments!;
    fragments.forEach((f, i) => {
      const row = rows[i]!;
      expect(f.ServerTimestamp).toBeInstanceOf(Date);
      expect(f.ProducerTimestamp).toBeInstanceOf(Date);
      expect(f.ServerTimestamp!.getTime()).toBe(row.serverTimestampMs);
      expect(f.ServerTimestamp!.getTime()).toBeGreaterThanOrEqual(i < 5 ? mixed.gopFrom : mixed.clustersFrom);
      expect(f.ServerTimestamp!.getTime()).toBeLessThanOrEqual(i < 5 ? mixed.gopTo : mixed.clustersTo);
      expect(f.FragmentSizeInBytes).toBe(row.size);
    });
    // A fragment's size is its Cluster element plus the producer Tags stored with it: here only the file-level
    // Tags that ffmpeg writes before the first cluster of each upload.
    expect(fragments.map((f) => f.FragmentSizeInBytes! - rows[fragments.indexOf(f)]!.tagsSize)).toEqual([...gopClusters, ...realClusterList].map((c) => c.bytes.length));
    expect(rows.map((r) => r.tagsSize > 0)).toEqual([true, false, false, false, false, true, false, false, false, false, false, false, false]);
    // RELATIVE timecodes: producer time = producer start + cluster timecode (ms timecode scale in both files).
    expect(fragments.map((f) => f.ProducerTimestamp!.getTime())).toEqual([
      ...gopClusters.map((c) => GOP_START_S * 1000 + c.timecode),
      ...realClusterList.map((c) => CLUSTERS_START_S * 1000 + c.timecode),
    ]);
    // A fragment lasts from its first block to the end of its last frame: 30 frames at 30 fps in each GOP cluster;
    // in clusters.mkv the block span plus one ~33 ms frame (59 blocks per cluster, 31 in the last).
    expect(fragments.slice(0, 5).map((f) => f.FragmentLengthInMilliseconds)).toEqual([1000, 1000, 1000, 1000, 1000]);
    fragments.slice(5).forEach((f, i) => {
      const c = realClusterList[i]!;
      expect(f.FragmentLengthInMilliseconds! - (c.maxBlockTimecode - c.minBlockTimecode)).toBeGreaterThanOrEqual(32);
      expect(f.FragmentLengthInMilliseconds! - (c.maxBlockTimecode - c.minBlockTimecode)).toBeLessThanOrEqual(34);
    });
  });

  it('PRODUCER_TIMESTAMP ranges are inclusive at both ends and ordered by producer time', async () => {
    const rows = stored(mixed.name);
    const gopNumbers = rows.slice(0, 5).map((r) => r.fragmentNumber);
    const clusterNumbers = rows.slice(5).map((r) => r.fragmentNumber);

    const middle = await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, FragmentSelector: producerRange(GOP_START_S + 1, GOP_START_S + 3) }));
    expect(numbersOf(middle.Fragments)).toEqual(gopNumbers.slice(1, 4));

    const clustersOnly = await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, FragmentSelector: producerRange(CLUSTERS_START_S, CLUSTERS_START_S + 14) }));
    expect(numbersOf(clustersOnly.Fragments)).toEqual(clusterNumbers);

    // The later upload has the earlier producer clock, so it comes first.
    const everything = await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, FragmentSelector: producerRange(0, GOP_START_S + 10) }));
    expect(numbersOf(everything.Fragments)).toEqual([...clusterNumbers, ...gopNumbers]);

    const none = await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, FragmentSelector: producerRange(GOP_START_S + 4.001, GOP_START_S + 100) }));
    expect(none.Fragments).toEqual([]);
    expect(none.NextToken).toBeUndefined();
  });

  it('pages with MaxResults 2 + NextToken return every fragment exactly once, in the same order as one big page', async () => {
    for (const selector of [serverRange(mixed.gopFrom, mixed.clustersTo), producerRange(0, GOP_START_S + 10)]) {
      const whole = await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, FragmentSelector: selector }));
      const paged = await listAll({ StreamName: mixed.name, FragmentSelector: selector, MaxResults: 2 });
      expect(paged.pages).toBe(7);
      expect(numbersOf(paged.fragments)).toEqual(numbersOf(whole.Fragments));
      expect(new Set(numbersOf(paged.fragments)).size).toBe(13);
    }
  });

  it('pages through fragments that share producer timestamps without losing or repeating any', async () => {
    const name = 'lf-ties';
    await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 1 }));
    await upload(name, gop, GOP_START_S);
    await upload(name, gop, GOP_START_S);
    const rows = stored(name);
    expect(rows).toHaveLength(10);
    // (producer time, fragment number): each timestamp twice, first upload's fragment first
    const expected = [0, 5, 1, 6, 2, 7, 3, 8, 4, 9].map((i) => rows[i]!.fragmentNumber);
    for (const max of [1, 2, 3]) {
      const paged = await listAll({ StreamName: name, FragmentSelector: producerRange(GOP_START_S, GOP_START_S + 4), MaxResults: max });
      expect(numbersOf(paged.fragments)).toEqual(expected);
      expect(paged.pages).toBe(Math.ceil(10 / max));
    }
  });

  it('accepts the NextToken alone, or with the same FragmentSelector, and by StreamARN', async () => {
    const arn = server.registry.find({ name: mixed.name })!.arn;
    const selector = serverRange(mixed.gopFrom, mixed.clustersTo);
    const first = await archive.send(new ListFragmentsCommand({ StreamARN: arn, FragmentSelector: selector, MaxResults: 4 }));
    expect(first.NextToken).toMatch(/^[a-zA-Z0-9+/]+={0,2}$/);
    const alone = await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, NextToken: first.NextToken, MaxResults: 4 }));
    const withSelector = await archive.send(new ListFragmentsCommand({ StreamARN: arn, FragmentSelector: selector, NextToken: first.NextToken, MaxResults: 4 }));
    expect(numbersOf(alone.Fragments)).toEqual(stored(mixed.name).slice(4, 8).map((r) => r.fragmentNumber));
    expect(numbersOf(withSelector.Fragments)).toEqual(numbersOf(alone.Fragments));
  });

  it('answers bad input with InvalidArgumentException and an unknown stream with ResourceNotFoundException', async () => {
    const selector = serverRange(mixed.gopFrom, mixed.clustersTo);
    const token = (await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, FragmentSelector: selector, MaxResults: 1 }))).NextToken;
    const otherToken = (await archive.send(new ListFragmentsCommand({ StreamName: 'lf-ties', FragmentSelector: producerRange(0, GOP_START_S + 10), MaxResults: 1 }))).NextToken;
    expect(token).toBeDefined();
    const bad: [string, ListFragmentsCommandInput][] = [
      ['MaxResults 0', { StreamName: mixed.name, FragmentSelector: selector, MaxResults: 0 }],
      ['MaxResults 1001', { StreamName: mixed.name, FragmentSelector: selector, MaxResults: 1001 }],
      ['Start after End', { StreamName: mixed.name, FragmentSelector: serverRange(mixed.clustersTo, mixed.gopFrom) }],
      ['no selector, no token', { StreamName: mixed.name }],
      ['unknown selector type', { StreamName: mixed.name, FragmentSelector: { ...selector, FragmentSelectorType: 'ARRIVAL_TIMESTAMP' as 'SERVER_TIMESTAMP' } }],
      ['missing EndTimestamp', { StreamName: mixed.name, FragmentSelector: { ...selector, TimestampRange: { StartTimestamp: new Date(0) } as never } }],
      ['token off the pattern', { StreamName: mixed.name, NextToken: 'not*a*token' }],
      ['token that is not ours', { StreamName: mixed.name, NextToken: Buffer.from('{"hello":1}').toString('base64') }],
      ['token that is not JSON', { StreamName: mixed.name, NextToken: 'abcd' }],
      ['token with a different selector', { StreamName: mixed.name, NextToken: token, FragmentSelector: serverRange(mixed.gopFrom, mixed.gopTo) }],
      ['token of another stream', { StreamName: mixed.name, NextToken: otherToken }],
      ['bad stream name', { StreamName: 'no spaces allowed', FragmentSelector: selector }],
      ['neither name nor ARN', { FragmentSelector: selector }],
    ];
    for (const [what, input] of bad) {
      await expect(archive.send(new ListFragmentsCommand(input)), what).rejects.toBeInstanceOf(InvalidArgumentException);
    }
    await expect(archive.send(new ListFragmentsCommand({ StreamName: 'lf-missing', FragmentSelector: selector }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('works with the AWS CLI, which sends integer timestamps and pages by itself', async () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: TEST_SECRET,
      AWS_DEFAULT_REGION: 'us-west-2',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const selector = JSON.stringify({ FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: { StartTimestamp: CLUSTERS_START_S, EndTimestamp: GOP_START_S + 10 } });
    // Asynchronously: the server runs in this process, so a blocking spawn would leave the CLI unanswered.
    const cli = await promisify(execFile)(
      'aws',
      ['kinesis-video-archived-media', 'list-fragments', '--endpoint-url', server.url, '--stream-name', mixed.name, '--fragment-selector', selector, '--page-size', '3', '--output', 'json'],
      { env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(cli.stderr).toBe('');
    const out = JSON.parse(cli.stdout) as { Fragments: { FragmentNumber: string; ProducerTimestamp: number | string; ServerTimestamp: number | string }[] };
    const rows = stored(mixed.name);
    expect(out.Fragments.map((f) => f.FragmentNumber)).toEqual([...rows.slice(5), ...rows.slice(0, 5)].map((r) => r.fragmentNumber));
    // The CLI prints timestamps either as received or as ISO text, depending on its version's defaults.
    const ms = (v: number | string): number => (typeof v === 'number' ? Math.round(v * 1000) : Date.parse(v));
    expect(out.Fragments.map((f) => ms(f.ProducerTimestamp))).toEqual([...rows.slice(5), ...rows.slice(0, 5)].map((r) => r.producerTimestampMs));
    expect(out.Fragments.map((f) => ms(f.ServerTimestamp))).toEqual([...rows.slice(5), ...rows.slice(0, 5)].map((r) => r.serverTimestampMs));
  });
});

type Chunk = { tags: Record<string, string>; cluster: Uint8Array | null };

/** Split a GetMediaForFragmentList payload into chunks: each opens with the KVS Tags before its cluster. */
function chunksOf(payload: Uint8Array): Chunk[] {
  const parser = new MkvStreamParser();
  const events = [...parser.push(payload), ...parser.end()];
  const chunks: Chunk[] = [];
  for (const ev of events) {
    if (ev.kind === 'tags') {
      const tags = parseSimpleTags(ev.bytes);
      if (tags.some((t) => t.name === 'AWS_KINESISVIDEO_FRAGMENT_NUMBER')) {
        chunks.push({ tags: Object.fromEntries(tags.map((t) => [t.name, t.value])), cluster: null });
      }
    } else if (ev.kind === 'fragment') {
      const last = chunks.at(-1);
      if (last !== undefined) {
        last.cluster = ev.fragment.bytes;
      }
    }
  }
  return chunks;
}

async function fragmentMedia(name: string, numbers: string[]): Promise<Uint8Array> {
  const out = await archive.send(new GetMediaForFragmentListCommand({ StreamName: name, Fragments: numbers }));
  expect(out.ContentType).toBe('video/webm');
  return out.Payload!.transformToByteArray();
}

/** ffmpeg reports every concatenated Segment (also in real KVS captures); that is not a decode error. */
const decodeErrors = (stderr: string): string[] => stderr.split('\n').filter((l) => l.trim() !== '' && !/Found unknown-length element with ID 0x18538067/.test(l) && !/File ended prematurely/.test(l));

function checkDecodes(payload: Uint8Array, file: string, frames: number): void {
  const path = join(tmp, file);
  writeFileSync(path, payload);
  const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  expect(Number(probe.stdout.trim())).toBe(frames);
  const decode = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', path, '-f', 'null', '-'], { encoding: 'utf8' });
  expect(decodeErrors(decode.stderr)).toEqual([]);
}

describe('GetMediaForFragmentList', () => {
  it('returns one self-contained chunk per listed fragment: the stored cluster and the KVS fragment tags, and it decodes', async () => {
    const listed = numbersOf((await archive.send(new ListFragmentsCommand({ StreamName: mixed.name, FragmentSelector: serverRange(mixed.gopFrom, mixed.clustersTo) }))).Fragments);
    const rows = stored(mixed.name);
    const sources = [...gopClusters, ...realClusterList];

    const payload = await fragmentMedia(mixed.name, listed);
    const chunks = chunksOf(payload);
    expect(chunks.map((c) => c.tags['AWS_KINESISVIDEO_FRAGMENT_NUMBER'])).toEqual(listed);
    chunks.forEach((c, i) => {
      expect(Buffer.from(c.cluster!).equals(Buffer.from(sources[i]!.bytes))).toBe(true);
      expect(c.tags['AWS_KINESISVIDEO_SERVER_TIMESTAMP']).toMatch(/^\d+\.\d{3}$/);
      expect(c.tags['AWS_KINESISVIDEO_PRODUCER_TIMESTAMP']).toMatch(/^\d+\.\d{3}$/);
      expect(Math.round(Number(c.tags['AWS_KINESISVIDEO_SERVER_TIMESTAMP']) * 1000)).toBe(rows[i]!.serverTimestampMs);
      expect(Math.round(Number(c.tags['AWS_KINESISVIDEO_PRODUCER_TIMESTAMP']) * 1000)).toBe(rows[i]!.producerTimestampMs);
    });
    // Every chunk starts its own EBML document (EBML magic 1A 45 DF A3), as in GetMedia output.
    expect(Buffer.from(payload).toString('hex').split('1a45dfa3').length - 1).toBeGreaterThanOrEqual(13);

    // The two uploads have different codec parameters, so each is decoded from its own request.
    checkDecodes(await fragmentMedia(mixed.name, listed.slice(0, 5)), 'gop.mkv', 150);
    checkDecodes(await fragmentMedia(mixed.name, listed.slice(5)), 'clusters.mkv', 444);
  });

  it('follows the order of the request, repeats included', async () => {
    const rows = stored(mixed.name);
    const wanted = [rows[7]!, rows[2]!, rows[12]!, rows[0]!, rows[2]!].map((r) => r.fragmentNumber);
    const chunks = chunksOf(await fragmentMedia(mixed.name, wanted));
    expect(chunks.map((c) => c.tags['AWS_KINESISVIDEO_FRAGMENT_NUMBER'])).toEqual(wanted);
    expect(Buffer.from(chunks[1]!.cluster!).equals(Buffer.from(gopClusters[2]!.bytes))).toBe(true);
    expect(Buffer.from(chunks[0]!.cluster!).equals(Buffer.from(realClusterList[2]!.bytes))).toBe(true);
  });

  it('answers unknown fragment numbers with ResourceNotFoundException before any media, and bad input with InvalidArgumentException', async () => {
    const known = stored(mixed.name)[0]!.fragmentNumber;
    await expect(archive.send(new GetMediaForFragmentListCommand({ StreamName: mixed.name, Fragments: [known, '12345'] }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    // a fragment of another stream is not a fragment of this one
    const foreign = stored('lf-ties')[0]!.fragmentNumber;
    await expect(archive.send(new GetMediaForFragmentListCommand({ StreamName: mixed.name, Fragments: [foreign] }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(archive.send(new GetMediaForFragmentListCommand({ StreamName: 'lf-missing', Fragments: [known] }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    for (const fragments of [[], ['12a'], ['1'.repeat(129)], Array.from({ length: 1001 }, () => known)]) {
      await expect(archive.send(new GetMediaForFragmentListCommand({ StreamName: mixed.name, Fragments: fragments }))).rejects.toBeInstanceOf(InvalidArgumentException);
    }
  });

  it('sends an error chunk for a fragment that vanishes after the request was accepted, and goes on with the rest', async () => {
    const rows = stored(mixed.name);
    const lost = rows[1]!.fragmentNumber;
    // The fragment is there when the request is checked and gone when its turn to be read comes (as after expiry).
    class VanishingReader extends FragmentReader {
      #seen = 0;
      override get(stream: StreamRecord, fragmentNumber: string): FragmentRecord | undefined {
        if (fragmentNumber === lost && ++this.#seen > 1) {
          return undefined;
        }
        return super.get(stream, fragmentNumber);
      }
    }
    const ops = archivedMediaOperations({ registry: server.registry, reader: new VanishingReader(server.store, server.buffer, systemClock) });
    const wanted = rows.slice(0, 3).map((r) => r.fragmentNumber);
    const res = await ops['/getMediaForFragmentList']!(new Input({ StreamName: mixed.name, Fragments: wanted }), { requestId: 'test', baseUrl: server.url });
    expect(res).toBeInstanceOf(MediaResponse);
    const media = res as MediaResponse;
    const body = typeof media.body === 'function' ? media.body(new AbortController().signal) : media.body;
    const parts: Uint8Array[] = [];
    for await (const part of body) {
      parts.push(...(part instanceof Uint8Array ? [part] : part));
    }
    const chunks = chunksOf(new Uint8Array(Buffer.concat(parts)));
    expect(chunks.map((c) => c.tags['AWS_KINESISVIDEO_FRAGMENT_NUMBER'])).toEqual(wanted);
    expect(chunks[1]!.tags).toEqual({ AWS_KINESISVIDEO_FRAGMENT_NUMBER: lost, AWS_KINESISVIDEO_ERROR_CODE: 'FRAGMENT_NOT_FOUND', AWS_KINESISVIDEO_ERROR_ID: '4000' });
    expect(chunks[1]!.cluster).toBeNull();
    expect(Buffer.from(chunks[2]!.cluster!).equals(Buffer.from(gopClusters[2]!.bytes))).toBe(true);
  });
});
