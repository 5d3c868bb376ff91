import { CreateStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import type {
  KinesisVideoArchivedMediaClient} from '@aws-sdk/client-kinesis-video-archived-media';
import {
  GetClipCommand,
  GetDASHStreamingSessionURLCommand,
  GetHLSStreamingSessionURLCommand,
  type GetHLSStreamingSessionURLCommandInput,
  InvalidArgumentException,
  NoDataRetentionException,
  ResourceNotFoundException,
  UnsupportedStreamMediaTypeException,
} from '@aws-sdk/client-kinesis-video-archived-media';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { REAL_MEDIA, fixture, realMedia } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { ManualClock } from '../../src/util/clock.js';
import { archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let kv: KinesisVideoClient;
let archived: KinesisVideoArchivedMediaClient;
const tmp = mkdtempSync(join(tmpdir(), 'openkvs-playback-'));
let n = 0;

beforeAll(async () => {
  server = await startTestServer({ putMediaCallsPerSecond: 1000 });
  kv = controlClient(server.url);
  archived = archivedClient(server.url);
});
afterAll(async () => {
  kv.destroy();
  archived.destroy();
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});
afterEach(() => {
  vi.useRealTimers();
});

type Uploaded = { name: string; fromMs: number; toMs: number };

/** A stream holding `body`, uploaded RELATIVE from a producer start of "now"; the server-time range that covers it. */
async function streamWith(body: Uint8Array, retention = 24): Promise<Uploaded> {
  const name = `pb-${++n}`;
  await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: retention }));
  const fromMs = Date.now() - 1000;
  const res = await putMedia(server.url, body, { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: (Date.now() / 1000).toFixed(3) });
  expect(res.acks.filter((a) => a.EventType === 'ERROR')).toEqual([]);
  return { name, fromMs, toMs: Date.now() + 1000 };
}

/** Runs a tool without blocking: the server under test lives in this process and must answer the tool's requests. */
function run(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** ffprobe's decoded frame count per stream type, and every line ffmpeg prints at -v error while decoding the input. */
async function probe(input: string): Promise<{ video: number; audio: number; errors: string[]; duration: number }> {
  const count = async (sel: string): Promise<number> => {
    // HLS and DASH inputs list each stream again under their program: count each stream index once.
    const r = await run('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', sel, '-show_entries', 'stream=index,nb_read_frames', '-of', 'csv=p=0', input]);
    const perStream = new Map(
      r.stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => l.split(',').map(Number) as [number, number]),
    );
    return [...perStream.values()].reduce((a, b) => a + b, 0);
  };
  const dec = await run('ffmpeg', ['-v', 'error', '-i', input, '-f', 'null', '-']);
  const dur = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', input]);
  let duration = Number(dur.stdout.trim());
  if (!Number.isFinite(duration)) {
    // A live capture (unknown-size Segment, no Duration): the span of its video packets instead.
    const pk = await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', input]);
    const spans = pk.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => l.split(',').map(Number) as [number, number]);
    duration = Math.max(...spans.map(([pts, d]) => pts + (Number.isFinite(d) ? d : 0))) - Math.min(...spans.map(([pts]) => pts));
  }
  return { video: await count('v'), audio: await count('a'), errors: dec.stderr.split('\n').filter((l) => l.trim() !== ''), duration };
}

const seconds = (ms: number): Date => new Date(ms);
const serverRange = (up: Uploaded) => ({ FragmentSelectorType: 'SERVER_TIMESTAMP' as const, TimestampRange: { StartTimestamp: seconds(up.fromMs), EndTimestamp: seconds(up.toMs) } });

/** An ON_DEMAND HLS session URL over everything uploaded, from the AWS SDK. */
async function onDemandHls(up: Uploaded, extra: Partial<GetHLSStreamingSessionURLCommandInput> = {}): Promise<string> {
  const out = await archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: up.name, PlaybackMode: 'ON_DEMAND', HLSFragmentSelector: serverRange(up), ...extra }));
  return out.HLSStreamingSessionURL!;
}

describe('HLS', () => {
  it('ON_DEMAND fMP4: the AWS SDK URL plays in ffmpeg with every frame of clusters.mkv and no errors', async () => {
    const up = await streamWith(realMedia('mkv-inputs/clusters.mkv'));
    const url = await onDemandHls(up);
    expect(url.startsWith(`${server.url}/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=`)).toBe(true);
    const master = await (await fetch(url)).text();
    expect(master).toMatch(/^#EXTM3U/);
    expect(master).toMatch(/CODECS="avc1\.64/);
    expect(master).toMatch(/RESOLUTION=640x480/);
    const mediaUrl = new URL(master.split('\n').find((l) => l.startsWith('getHLSMediaPlaylist'))!, url).href;
    const playlist = await (await fetch(mediaUrl)).text();
    expect(playlist.match(/^#EXTINF:/gm)).toHaveLength(8);
    expect(playlist).toContain('#EXT-X-ENDLIST');
    expect(playlist).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    const p = await probe(url);
    expect(p.errors).toEqual([]);
    expect(p.video).toBe(444);
  });

  it('ON_DEMAND MPEG_TS plays in ffmpeg with every frame', async () => {
    const up = await streamWith(realMedia('mkv-inputs/clusters.mkv'));
    const p = await probe(await onDemandHls(up, { ContainerFormat: 'MPEG_TS' }));
    expect(p.errors).toEqual([]);
    expect(p.video).toBe(444);
  });

  it('H.264 + AAC: video and audio renditions each play with every frame', async () => {
    const up = await streamWith(fixture('mkv/h264-aac-5s.mkv'));
    const url = await onDemandHls(up);
    const master = await (await fetch(url)).text();
    expect(master).toContain('TYPE=AUDIO');
    expect(master).toMatch(/CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/i);
    const input = await probe(join(process.cwd(), 'media-fixtures/mkv/h264-aac-5s.mkv'));
    const p = await probe(url);
    expect(p.errors).toEqual([]);
    expect(p.video).toBe(input.video);
    expect(p.audio).toBe(input.audio);
  });

  it('an audio track that ends early: fragments without audio are empty audio segments, and both renditions play', async () => {
    // 6 s of video with 2 s of audio, one cluster per second: clusters 3–6 declare the audio track but carry none
    const file = join(tmp, 'short-audio.mkv');
    const made = await run('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', '6', '-filter_complex', '[1:a]atrim=0:2[a]', '-map', '0:v', '-map', '[a]', '-c:v', 'libx264', '-g', '30', '-bf', '0', '-c:a', 'aac', '-cluster_time_limit', '1100', '-f', 'matroska', file]);
    expect(made.stderr).toBe('');
    const up = await streamWith(new Uint8Array(readFileSync(file)));
    const url = await onDemandHls(up);
    const master = await (await fetch(url)).text();
    const audioUrl = new URL(/URI="([^"]+)"/.exec(master.split('\n').find((l) => l.includes('TYPE=AUDIO'))!)![1]!, url).href;
    const segments = (await (await fetch(audioUrl)).text()).split('\n').filter((l) => l.startsWith('getMP4MediaFragment'));
    expect(segments.length).toBeGreaterThanOrEqual(6);
    const statuses = await Promise.all(segments.map(async (s) => (await fetch(new URL(s, audioUrl))).status));
    expect(statuses).toEqual(segments.map(() => 200));
    const input = await probe(file);
    const p = await probe(url);
    expect(p.errors).toEqual([]);
    expect(p.video).toBe(input.video);
    expect(p.audio).toBe(input.audio);
  });

  it('an audio track that comes later (video alone first, then video + AAC): its playlist covers the earlier fragments too', async () => {
    const up = await streamWith(fixture('mkv/h264-5s-1s-gop.mkv'));
    const res = await putMedia(server.url, fixture('mkv/h264-aac-5s.mkv'), { streamName: up.name, timecodeType: 'RELATIVE', producerStartTimestamp: (Date.now() / 1000 + 10).toFixed(3) });
    expect(res.acks.filter((a) => a.EventType === 'ERROR')).toEqual([]);
    const url = await onDemandHls({ ...up, toMs: Date.now() + 1000 });
    const master = await (await fetch(url)).text();
    const audioUrl = new URL(/URI="([^"]+)"/.exec(master.split('\n').find((l) => l.includes('TYPE=AUDIO'))!)![1]!, url).href;
    const playlist = await (await fetch(audioUrl)).text();
    const resources = [...playlist.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]!).concat(playlist.split('\n').filter((l) => l.startsWith('getMP4MediaFragment')));
    expect(resources.length).toBeGreaterThanOrEqual(12);
    const statuses = await Promise.all(resources.map(async (r) => (await fetch(new URL(r, audioUrl))).status));
    expect(statuses).toEqual(resources.map(() => 200));
  });

  it('LIVE: each fragment is in the media playlist as soon as its PERSISTED ack arrives', async () => {
    const name = `pb-live-${++n}`;
    await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 1 }));
    const body = fixture('mkv/h264-5s-1s-gop.mkv');
    // First a fragment so the LIVE session can be created, then the rest one by one, checking the playlist after each ack.
    await putMedia(server.url, body, { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: (Date.now() / 1000 - 60).toFixed(3) });
    const out = await archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: name, PlaybackMode: 'LIVE', MaxMediaPlaylistFragmentResults: 3 }));
    const master = await (await fetch(out.HLSStreamingSessionURL!)).text();
    const mediaUrl = new URL(master.split('\n').find((l) => l.startsWith('getHLSMediaPlaylist'))!, out.HLSStreamingSessionURL!).href;
    const first = await (await fetch(mediaUrl)).text();
    expect(first).not.toContain('#EXT-X-ENDLIST');
    const seq0 = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(first)![1]);
    const res = await putMedia(server.url, body, { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: (Date.now() / 1000).toFixed(3) });
    const persisted = res.acks.filter((a) => a.EventType === 'PERSISTED').map((a) => a.FragmentNumber!);
    expect(persisted).toHaveLength(5);
    const later = await (await fetch(mediaUrl)).text();
    // the window holds the newest 3, their sequence numbers continue from the first playlist
    for (const fn of persisted.slice(-3)) {
      expect(later).toContain(`FragmentNumber=${fn}&`);
    }
    expect(later.match(/^#EXTINF:/gm)).toHaveLength(3);
    expect(Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(later)![1])).toBe(seq0 + 5);
    // what a player fetches from that window (init + the three segments) decodes to the three seconds of frames
    const uris = later.split('\n').filter((l) => l.startsWith('getMP4MediaFragment'));
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(later)![1]!;
    const parts = await Promise.all([init, ...uris].map(async (u) => new Uint8Array(await (await fetch(new URL(u, mediaUrl))).arrayBuffer())));
    const file = join(tmp, 'live-window.mp4');
    writeFileSync(file, Buffer.concat(parts));
    const p = await probe(file);
    expect(p.errors).toEqual([]);
    expect(p.video).toBe(90);
  });

  it('refuses forged, foreign and expired session tokens with NotAuthorizedException', async () => {
    const up = await streamWith(fixture('mkv/h264-5s-1s-gop.mkv'));
    const url = new URL(await onDemandHls(up, { Expires: 300 }));
    const token = url.searchParams.get('SessionToken')!;
    const [body, mac] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forgedBody = Buffer.from(JSON.stringify({ ...claims, expiresMs: Date.now() + 86_400_000 })).toString('base64url');
    for (const bad of [`${forgedBody}.${mac}`, `${body}.${mac.slice(0, -2)}AA`, 'garbage', '']) {
      url.searchParams.set('SessionToken', bad);
      const res = await fetch(url);
      expect(res.status).toBe(401);
      expect(res.headers.get('x-amzn-errortype')).toBe('NotAuthorizedException');
    }
    url.searchParams.set('SessionToken', token);
    expect((await fetch(url)).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 301_000);
    const expired = await fetch(url);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { message: string }).message).toMatch(/expired/);
  });

  it('gives the KVS errors: no retention, nothing to play, bad selectors, unplayable codecs', async () => {
    const empty = `pb-empty-${++n}`;
    await kv.send(new CreateStreamCommand({ StreamName: empty, DataRetentionInHours: 1 }));
    await expect(archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: empty, PlaybackMode: 'LIVE' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    const noRetention = `pb-r0-${++n}`;
    await kv.send(new CreateStreamCommand({ StreamName: noRetention, DataRetentionInHours: 0 }));
    await expect(archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: noRetention }))).rejects.toBeInstanceOf(NoDataRetentionException);
    await expect(archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: empty, PlaybackMode: 'ON_DEMAND' }))).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(
      archived.send(
        new GetHLSStreamingSessionURLCommand({
          StreamName: empty,
          PlaybackMode: 'LIVE',
          HLSFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(), EndTimestamp: new Date() } },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidArgumentException);
    // an Opus-only stream has nothing HLS can carry
    const opus = join(tmp, 'opus.mkv');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=3', '-c:a', 'libopus', '-cluster_time_limit', '1100', opus], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const up = await streamWith(new Uint8Array(readFileSync(opus)));
    await expect(archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: up.name, PlaybackMode: 'LIVE' }))).rejects.toBeInstanceOf(UnsupportedStreamMediaTypeException);
    await expect(archived.send(new GetDASHStreamingSessionURLCommand({ StreamName: up.name, PlaybackMode: 'LIVE' }))).rejects.toBeInstanceOf(UnsupportedStreamMediaTypeException);
  });
});

describe('DASH', () => {
  it('ON_DEMAND manifest plays in ffmpeg with every frame', async () => {
    const up = await streamWith(realMedia('mkv-inputs/clusters.mkv'));
    const out = await archived.send(
      new GetDASHStreamingSessionURLCommand({
        StreamName: up.name,
        PlaybackMode: 'ON_DEMAND',
        DisplayFragmentNumber: 'ALWAYS',
        DASHFragmentSelector: serverRange(up),
      }),
    );
    const url = out.DASHStreamingSessionURL!;
    expect(url.startsWith(`${server.url}/dash/v1/getDASHManifest.mpd?SessionToken=`)).toBe(true);
    const mpd = await (await fetch(url)).text();
    expect(mpd).toContain('type="static"');
    expect(mpd.match(/<SegmentURL /g)).toHaveLength(8);
    expect(mpd).toMatch(/kvs:fn="\d+"/);
    const p = await probe(url);
    expect(p.errors).toEqual([]);
    expect(p.video).toBe(444);
  });
});

describe('GetClip', () => {
  it('returns an MP4 of the range that ffmpeg decodes with the expected frames and duration', async () => {
    const up = await streamWith(fixture('mkv/h264-aac-5s.mkv'));
    const out = await archived.send(
      new GetClipCommand({
        StreamName: up.name,
        ClipFragmentSelector: serverRange(up),
      }),
    );
    expect(out.ContentType).toBe('video/mp4');
    const bytes = await out.Payload!.transformToByteArray();
    const file = join(tmp, `clip-${n}.mp4`);
    writeFileSync(file, bytes);
    const input = await probe(join(process.cwd(), 'media-fixtures/mkv/h264-aac-5s.mkv'));
    const p = await probe(file);
    expect(p.errors).toEqual([]);
    expect(p.video).toBe(input.video);
    expect(p.audio).toBe(input.audio);
    expect(Math.abs(p.duration - input.duration)).toBeLessThan(0.1);
  });

  it('refuses empty ranges and bad selectors', async () => {
    const up = await streamWith(fixture('mkv/h264-5s-1s-gop.mkv'));
    const sel = (from: number, to: number) => ({ FragmentSelectorType: 'SERVER_TIMESTAMP' as const, TimestampRange: { StartTimestamp: seconds(from), EndTimestamp: seconds(to) } });
    await expect(archived.send(new GetClipCommand({ StreamName: up.name, ClipFragmentSelector: sel(up.fromMs - 3_600_000, up.fromMs - 3_000_000) }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(archived.send(new GetClipCommand({ StreamName: up.name, ClipFragmentSelector: sel(up.toMs, up.fromMs) }))).rejects.toBeInstanceOf(InvalidArgumentException);
    await expect(archived.send(new GetClipCommand({ StreamName: up.name, ClipFragmentSelector: sel(up.fromMs, up.fromMs + 25 * 3_600_000) }))).rejects.toBeInstanceOf(InvalidArgumentException);
  });
});

describe('LIVE_REPLAY, producer timestamps and more codecs', () => {
  let clocked: TestServer;
  let clockedArchived: KinesisVideoArchivedMediaClient;
  let clockedKv: KinesisVideoClient;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    clocked = await startTestServer({ putMediaCallsPerSecond: 1000 }, { clock });
    clockedKv = controlClient(clocked.url);
    clockedArchived = archivedClient(clocked.url);
  });
  afterAll(async () => {
    clockedKv.destroy();
    clockedArchived.destroy();
    await clocked.stop();
  });

  async function mediaPlaylistUrl(sessionUrl: string): Promise<string> {
    const master = await (await fetch(sessionUrl)).text();
    return new URL(master.split('\n').find((l) => l.startsWith('getHLSMediaPlaylist'))!, sessionUrl).href;
  }

  it('LIVE_REPLAY starts at StartTimestamp, adds fragments as the session clock reaches them and ends at EndTimestamp', async () => {
    const name = `pb-replay-${++n}`;
    await clockedKv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24 }));
    const producerStart = 1_700_000_000_000;
    const res = await putMedia(clocked.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: (producerStart / 1000).toFixed(3) });
    expect(res.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);
    const out = await clockedArchived.send(
      new GetHLSStreamingSessionURLCommand({
        StreamName: name,
        PlaybackMode: 'LIVE_REPLAY',
        DisplayFragmentTimestamp: 'ALWAYS',
        MaxMediaPlaylistFragmentResults: 10,
        HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(producerStart), EndTimestamp: new Date(producerStart + 4500) } },
      }),
    );
    const url = await mediaPlaylistUrl(out.HLSStreamingSessionURL!);
    const at0 = await (await fetch(url)).text();
    expect(at0.match(/^#EXTINF:/gm)).toHaveLength(1);
    expect(at0).not.toContain('#EXT-X-ENDLIST');
    expect(at0).toContain(`#EXT-X-PROGRAM-DATE-TIME:${new Date(producerStart).toISOString()}`);
    clock.advance(2000);
    const at2 = await (await fetch(url)).text();
    expect(at2.match(/^#EXTINF:/gm)).toHaveLength(3);
    expect(at2).toContain('#EXT-X-MEDIA-SEQUENCE:0');
    // PRODUCER_TIMESTAMP defaults to DiscontinuityMode NEVER: one init, no discontinuities
    expect(at2).not.toContain('#EXT-X-DISCONTINUITY\n');
    expect(at2.match(/#EXT-X-MAP/g)).toHaveLength(1);
    clock.advance(10_000);
    const done = await (await fetch(url)).text();
    expect(done.match(/^#EXTINF:/gm)).toHaveLength(5);
    expect(done).toContain('#EXT-X-ENDLIST');
    const durations = [...done.matchAll(/^#EXTINF:([0-9.]+),/gm)].map((m) => Number(m[1]));
    expect(durations.reduce((a, b) => a + b, 0)).toBeCloseTo(5, 1);
  });

  it.each([
    ['HEVC', join(process.cwd(), 'media-fixtures/mkv/hevc-5s.mkv'), /CODECS="hvc1\./],
    ['H.264 with B-frames', join(process.cwd(), 'media-fixtures/mkv/h264-bframes-5s.mkv'), /CODECS="avc1\./],
    ['H.264 + AAC', join(process.cwd(), 'media-fixtures/mkv/h264-aac-5s.mkv'), /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"/i],
    ['a real kvssink upload (absolute timecodes)', join(REAL_MEDIA, 'kvs-producer/kvssink-test-stream-1_0.mkv'), /CODECS="avc1\.42/i],
  ])('%s plays over HLS fMP4 and TS and as a clip with every frame', async (label, file, codecs) => {
    const name = `pb-codec-${++n}`;
    await clockedKv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24 }));
    const fromMs = clock.now() - 1000;
    const body = new Uint8Array(readFileSync(file));
    const absolute = label.includes('kvssink');
    const res = await putMedia(clocked.url, body, { streamName: name, timecodeType: absolute ? 'ABSOLUTE' : 'RELATIVE', producerStartTimestamp: (Date.now() / 1000).toFixed(3) });
    expect(res.acks.filter((a) => a.EventType === 'ERROR')).toEqual([]);
    const input = await probe(file);
    for (const ContainerFormat of ['FRAGMENTED_MP4', 'MPEG_TS'] as const) {
      const out = await clockedArchived.send(
        new GetHLSStreamingSessionURLCommand({
          StreamName: name,
          PlaybackMode: 'ON_DEMAND',
          ContainerFormat,
          HLSFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(fromMs), EndTimestamp: new Date(clock.now() + 1000) } },
        }),
      );
      expect(await (await fetch(out.HLSStreamingSessionURL!)).text()).toMatch(codecs);
      const p = await probe(out.HLSStreamingSessionURL!);
      expect(p.errors, ContainerFormat).toEqual([]);
      expect(p.video, ContainerFormat).toBe(input.video);
      expect(p.audio, ContainerFormat).toBe(input.audio);
    }
    const clip = await clockedArchived.send(
      new GetClipCommand({ StreamName: name, ClipFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(fromMs), EndTimestamp: new Date(clock.now() + 1000) } } }),
    );
    const clipFile = join(tmp, `clip-codec-${n}.mp4`);
    writeFileSync(clipFile, await clip.Payload!.transformToByteArray());
    const c = await probe(clipFile);
    expect(c.errors).toEqual([]);
    expect(c.video).toBe(input.video);
    expect(c.audio).toBe(input.audio);
    expect(Math.abs(c.duration - input.duration)).toBeLessThan(0.1);
  });

  it('a LIVE DASH manifest is dynamic and follows the stream', async () => {
    const name = `pb-dash-live-${++n}`;
    await clockedKv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24 }));
    await putMedia(clocked.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: (Date.now() / 1000).toFixed(3) });
    const out = await clockedArchived.send(new GetDASHStreamingSessionURLCommand({ StreamName: name, PlaybackMode: 'LIVE', DisplayFragmentTimestamp: 'ALWAYS' }));
    const mpd = await (await fetch(out.DASHStreamingSessionURL!)).text();
    expect(mpd).toContain('type="dynamic"');
    expect(mpd.match(/<SegmentURL /g)).toHaveLength(5);
    expect(mpd).toMatch(/kvs:ts="\d+\.\d{3}"/);
    const res = await putMedia(clocked.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: (Date.now() / 1000 + 5).toFixed(3) });
    const newest = res.acks.filter((a) => a.EventType === 'PERSISTED').at(-1)!.FragmentNumber!;
    const again = await (await fetch(out.DASHStreamingSessionURL!)).text();
    expect(again).toContain(`FragmentNumber=${newest}&amp;`);
    expect(again).toContain('startNumber="5"');
  });
});
