import { GetSignalingChannelEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import {
  GetClipCommand,
  GetHLSStreamingSessionURLCommand,
  GetMediaForFragmentListCommand,
  ListFragmentsCommand,
  type KinesisVideoArchivedMediaClient,
} from '@aws-sdk/client-kinesis-video-archived-media';
import { JoinStorageSessionAsViewerCommand, JoinStorageSessionCommand, KinesisVideoWebRTCStorageClient } from '@aws-sdk/client-kinesis-video-webrtc-storage';
import { Role, SignalingClient } from 'amazon-kinesis-video-streams-webrtc';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, useH264, useOPUS } from 'werift';
import { H264Packetizer } from '../../src/formats/rtp/h264-packetizer.js';
import { serializeRtpPacket } from '../../src/formats/rtp/rtp-packet.js';
import { RtpSequencer } from '../../src/formats/rtp/rtp-sequencer.js';
import { parseClusterBlocks } from '../../src/formats/mkv/mkv-blocks.js';
import { MkvStreamParser } from '../../src/formats/mkv/mkv-stream-parser.js';
import { STORAGE_CLIENT_ID } from '../../src/webrtc/storage-session.js';
import { fixture } from '../helpers/media.js';
import { StorageViewerPeer } from '../helpers/storage-viewer-peer.js';
import { fixtureMedia } from '../helpers/webrtc-media.js';
import { TestMaster } from '../helpers/webrtc-peers.js';
import { playFixture, OPUS_PT } from '../helpers/webrtc-play.js';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { createStorageChannel } from '../helpers/storage-channel.js';
import { until } from '../helpers/until.js';
import { selfSignedCert, trustingHandler, trustWebSocketsTo, type TestCert } from '../helpers/tls.js';
import { fixtureAccessUnits } from '../unit/formats/rtp/h264-fixture.js';
import { KinesisVideoArchivedMediaClient as ArchivedClient } from '@aws-sdk/client-kinesis-video-archived-media';

// WebRTC ingestion end to end: a werift MASTER signalling through the KVS WebRTC JS SDK (wss, TLS) sends a fixture
// as RTP in real time; the operator flow runs through the AWS SDK clients; the recording is read back with
// ListFragments, GetMediaForFragmentList and HLS, and decoded by ffprobe.

const REGION = 'us-east-1';
const credentials = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET };
const run = promisify(execFile);
let cert: TestCert;
let server: TestServer;
let kv: KinesisVideoClient;
let archive: KinesisVideoArchivedMediaClient;
let tmp: string;
let n = 0;
/** The last recorded session's counters, printed when an assertion on its recording fails. */
let lastStats: unknown;

beforeAll(async () => {
  cert = await selfSignedCert();
  server = await startTestServer({ tlsCert: cert.certFile, tlsKey: cert.keyFile, region: REGION, webrtcHostAddresses: ['127.0.0.1'], webrtcLoopbackOnly: true });
  kv = new KinesisVideoClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
  archive = new ArchivedClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
  trustWebSocketsTo(cert.cert);
  tmp = mkdtempSync(join(tmpdir(), 'openkvs-webrtc-storage-'));
});

afterAll(async () => {
  kv.destroy();
  archive.destroy();
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function storageChannel(storage = true): Promise<{ channelArn: string; streamName: string; streamArn: string }> {
  const i = ++n;
  return createStorageChannel(kv, { stream: `rec-${i}`, channel: `rec-ch-${i}` }, storage);
}

async function endpoints(channelArn: string, protocols: ('WSS' | 'HTTPS' | 'WEBRTC')[]): Promise<Record<string, string>> {
  const out = await kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: channelArn, SingleMasterChannelEndpointConfiguration: { Protocols: protocols, Role: 'MASTER' } }));
  return Object.fromEntries(out.ResourceEndpointList!.map((e) => [e.Protocol!, e.ResourceEndpoint!]));
}

function storageClient(endpoint: string): KinesisVideoWebRTCStorageClient {
  return new KinesisVideoWebRTCStorageClient({ endpoint, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
}

type TimedUnit = { timeMs: number; send: (t: { video: MediaStreamTrack; audio: MediaStreamTrack | null }) => void };

/** The fixture's video (packetized with src/formats/rtp) and Opus packets (straight from the blocks), in time order. */
function fixtureUnits(rel: string, sends: Sends): { units: TimedUnit[]; videoFrames: number; audioFrames: number } {
  const { avcC, accessUnits } = fixtureAccessUnits(rel);
  const pk = new H264Packetizer({ avcC });
  const vseq = new RtpSequencer({ ssrc: 1111, payloadType: 96 });
  const units: TimedUnit[] = (sends.video ? accessUnits : []).map((au) => ({
    timeMs: au.timeMs,
    send: (t) => {
      for (const p of vseq.packets(pk.packetize(au.nals), au.timeMs)) {
        t.video.writeRtp(Buffer.from(serializeRtpPacket(p)));
      }
    },
  }));
  let audioFrames = 0;
  if (sends.audio) {
    const parser = new MkvStreamParser();
    const events = [...parser.push(fixture(rel)), ...parser.end()];
    const header = events.find((e) => e.kind === 'header')!.header;
    const opus = header.tracks.find((t) => t.codecId === 'A_OPUS')!;
    const aseq = new RtpSequencer({ ssrc: 2222, payloadType: 111, clockRate: 48_000 });
    for (const e of events) {
      if (e.kind !== 'fragment') {
        continue;
      }
      for (const b of parseClusterBlocks(e.fragment.bytes).blocks.filter((x) => x.track === opus.number)) {
        for (const frame of b.frames) {
          const timeMs = (b.timecode * header.timecodeScaleNs) / 1e6;
          audioFrames++;
          units.push({
            timeMs,
            send: (t) => {
              for (const p of aseq.packets([{ payload: frame, marker: false }], timeMs)) {
                t.audio?.writeRtp(Buffer.from(serializeRtpPacket(p)));
              }
            },
          });
        }
      }
    }
  }
  units.sort((a, b) => a.timeMs - b.timeMs);
  return { units, videoFrames: units.length - audioFrames, audioFrames };
}

type Sends = { video: boolean; audio: boolean };

type Master = { signaling: SignalingClient; pc: RTCPeerConnection; connected: Promise<void>; offerFrom: Promise<string>; leave(): void };

/** A master as the KVS WebRTC samples build one: SignalingClient (MASTER) + a peer answering the storage session's offer. */
async function startMaster(channelArn: string, wss: string, sends: Sends): Promise<Master & { video: MediaStreamTrack; audio: MediaStreamTrack | null }> {
  const signaling = new SignalingClient({ channelARN: channelArn, channelEndpoint: wss, role: Role.MASTER, region: REGION, credentials });
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (p) => p.remoteCandidate.host === '127.0.0.1' && p.protocol.localCandidate?.host === '127.0.0.1',
    iceFilterStunResponse: (_m, addr) => addr[0] === '127.0.0.1',
    codecs: { video: [useH264()], audio: [useOPUS()] },
  });
  const video = new MediaStreamTrack({ kind: 'video' });
  const audio = sends.audio ? new MediaStreamTrack({ kind: 'audio' }) : null;
  let offerFrom!: (id: string) => void;
  const offered = new Promise<string>((r) => (offerFrom = r));
  signaling.on('sdpOffer', (offer: { type: 'offer'; sdp: string }, senderClientId: string) => {
    offerFrom(senderClientId);
    void (async () => {
      await pc.setRemoteDescription(offer);
      for (const tr of pc.getTransceivers()) {
        const track = tr.kind === 'video' ? (sends.video ? video : null) : audio;
        if (track !== null) {
          tr.setDirection('sendonly');
          await tr.sender.replaceTrack(track);
        } else {
          // a video-only (audio-only) master refuses the audio (video) the storage session asked for
          tr.setDirection('inactive');
        }
      }
      await pc.setLocalDescription(await pc.createAnswer());
      if (pc.iceGatheringState !== 'complete') {
        await pc.iceGatheringStateChange.watch((s) => s === 'complete');
      }
      signaling.sendSdpAnswer({ type: 'answer', sdp: pc.localDescription!.sdp } as never, senderClientId);
    })();
  });
  signaling.on('iceCandidate', (c: object) => void pc.addIceCandidate(c as never).catch(() => undefined));
  const connected = pc.connectionStateChange.watch((s) => s === 'connected').then(() => undefined);
  await new Promise<void>((resolve, reject) => {
    signaling.once('open', () => resolve());
    signaling.once('error', (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
    signaling.open();
  });
  return { signaling, pc, connected, offerFrom: offered, video, audio, leave: () => signaling.close() };
}

/** Sends the units at their media times from now (real time, as a camera would). */
async function sendRealTime(units: TimedUnit[], tracks: { video: MediaStreamTrack; audio: MediaStreamTrack | null }): Promise<void> {
  const start = Date.now();
  for (const u of units) {
    const wait = start + u.timeMs - Date.now();
    if (wait > 0) {
      await new Promise((r) => setTimeout(r, wait));
    }
    u.send(tracks);
  }
}

async function fragmentsOf(streamName: string): Promise<{ FragmentNumber?: string; ProducerTimestamp?: Date; FragmentLengthInMilliseconds?: number }[]> {
  const out = await archive.send(new ListFragmentsCommand({ StreamName: streamName, MaxResults: 1000, FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(Date.now() - 3_600_000), EndTimestamp: new Date(Date.now() + 60_000) } } }));
  return [...(out.Fragments ?? [])].sort((a, b) => a.FragmentNumber!.localeCompare(b.FragmentNumber!));
}

/** ffprobe's decoded frame counts per stream kind (execFile: asynchronous, so this process's server keeps serving). */
async function decodedFrames(input: string): Promise<{ video: number; audio: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,nb_read_frames', '-of', 'json', input], { maxBuffer: 1 << 20 });
  const streams = (JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string; nb_read_frames?: string }[] }).streams;
  const count = (kind: string): number => streams.filter((s) => s.codec_type === kind).reduce((sum, s) => sum + Number(s.nb_read_frames ?? 0), 0);
  return { video: count('video'), audio: count('audio') };
}

type Spans = Record<'video' | 'audio', { codec: string | null; packets: number; startS: number; endS: number }>;

/** Per kind: the codec, the packet count and the time from the first packet to the end of the last (ffprobe). */
async function packetSpans(input: string): Promise<Spans> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=index,codec_type,codec_name:packet=stream_index,pts_time,duration_time', '-of', 'json', input], { maxBuffer: 1 << 24 });
  const out = JSON.parse(stdout) as { streams: { index: number; codec_type: string; codec_name: string }[]; packets: { stream_index: number; pts_time?: string; duration_time?: string }[] };
  const spans = {} as Spans;
  for (const kind of ['video', 'audio'] as const) {
    const streams = out.streams.filter((st) => st.codec_type === kind);
    const packets = out.packets.filter((pk) => streams.some((st) => st.index === pk.stream_index) && pk.pts_time !== undefined);
    const starts = packets.map((pk) => Number(pk.pts_time));
    const ends = packets.map((pk) => Number(pk.pts_time) + Number(pk.duration_time ?? 0));
    spans[kind] = { codec: streams[0]?.codec_name ?? null, packets: packets.length, startS: Math.min(...starts), endS: Math.max(...ends) };
  }
  return spans;
}

/** What ffmpeg prints at -v error while decoding every stream: nothing for a clean recording. */
async function decodeErrors(input: string): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-i', input, '-f', 'null', '-'], { maxBuffer: 1 << 22 });
  return stderr.trim();
}

/** The audio's mean volume in dB (ffmpeg volumedetect): about -21 dB for the fixture's sine, -91 dB for silence. */
async function meanVolume(input: string): Promise<number> {
  const { stderr } = await run('ffmpeg', ['-nostdin', '-hide_banner', '-nostats', '-i', input, '-map', '0:a:0', '-af', 'volumedetect', '-f', 'null', '-'], { maxBuffer: 1 << 22 });
  const m = /mean_volume: (-?[\d.]+) dB/.exec(stderr);
  if (m === null) {
    throw new Error(`no mean_volume in ffmpeg's output: ${stderr.slice(-500)}`);
  }
  return Number(m[1]);
}

/** The codec IDs of the recording's track header (the EBML header of GetMediaForFragmentList's output). */
function trackCodecs(path: string): { codecId: string; codecPrivate?: string }[] {
  const parser = new MkvStreamParser();
  const header = [...parser.push(readFileSync(path)), ...parser.end()].find((e) => e.kind === 'header');
  if (header?.kind !== 'header') {
    throw new Error('no Matroska header');
  }
  return header.header.tracks.map((t) => ({ codecId: t.codecId, ...(t.codecPrivate !== undefined ? { codecPrivate: Buffer.from(t.codecPrivate).toString('hex') } : {}) }));
}

/** Opus frames of a sine tone, made with ffmpeg (libopus, 20 ms frames) for a participant to say. */
async function toneOpus(hz: number, seconds: number): Promise<Uint8Array[]> {
  const file = join(tmp, `tone-${hz}.webm`);
  await run('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=${hz}:sample_rate=48000:duration=${seconds}`, '-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', '-y', file]);
  return fixtureMedia(readFileSync(file)).opus.map((o) => o.frame);
}

/** The recording's audio decoded to 48 kHz mono float, with the wall-clock ms of its first sample. */
async function recordedPcm(mkv: string): Promise<{ startMs: number; pcm: Float32Array }> {
  const spans = await packetSpans(mkv);
  const { stdout } = await run('ffmpeg', ['-nostdin', '-v', 'quiet', '-i', mkv, '-map', '0:a:0', '-ac', '1', '-ar', '48000', '-f', 'f32le', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 26 });
  const pcm = new Float32Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.length));
  return { startMs: spans.audio.startS * 1000, pcm };
}

/** Power (dB, relative) of one frequency in a stretch of the recording (Goertzel). */
function toneDb(rec: { startMs: number; pcm: Float32Array }, hz: number, fromMs: number, toMs: number): number {
  const from = Math.max(0, Math.round(((fromMs - rec.startMs) * 48_000) / 1000));
  const to = Math.min(rec.pcm.length, Math.round(((toMs - rec.startMs) * 48_000) / 1000));
  const k = 2 * Math.cos((2 * Math.PI * hz) / 48_000);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s0 = rec.pcm[i]! + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = (s1 * s1 + s2 * s2 - k * s1 * s2) / Math.max(1, to - from) ** 2;
  return 10 * Math.log10(power + 1e-20);
}

/** The whole recording as one Matroska file (GetMediaForFragmentList), on disk for ffprobe. */
async function recordingFile(streamName: string, numbers: string[], name: string): Promise<string> {
  const out = await archive.send(new GetMediaForFragmentListCommand({ StreamName: streamName, Fragments: numbers }));
  const path = join(tmp, name);
  writeFileSync(path, await out.Payload!.transformToByteArray());
  return path;
}

/** A full session: operator setup, master connects, JoinStorageSession, the fixture in real time, master leaves. */
async function recordSession(rel: string, sends: Sends): Promise<{ streamName: string; sent: { videoFrames: number; audioFrames: number }; channelId: number }> {
  const { channelArn, streamName } = await storageChannel();
  const ep = await endpoints(channelArn, ['WEBRTC', 'WSS', 'HTTPS']);
  expect(ep['WEBRTC']).toBe(server.url);
  const master = await startMaster(channelArn, ep['WSS']!, sends);
  const storage = storageClient(ep['WEBRTC']!);
  try {
    await storage.send(new JoinStorageSessionCommand({ channelArn }));
    expect(await master.offerFrom).toBe(STORAGE_CLIENT_ID);
    await master.connected;
    const { units, videoFrames, audioFrames } = fixtureUnits(rel, sends);
    await sendRealTime(units, master);
    const channelId = server.channels.find(channelArn)!.id;
    const session = server.storage.current(channelId);
    expect(session).toBeDefined();
    // the master leaving ends the session: its last fragment is flushed and stored (the channel forgets the session
    // at once; stop() hands back the ending already under way, which resolves once the last fragment is stored)
    master.leave();
    await until('the storage session to end', () => (server.storage.current(channelId) === undefined ? true : undefined));
    await session?.stop('the master left');
    lastStats = session?.stats;
    return { streamName, sent: { videoFrames, audioFrames }, channelId };
  } finally {
    storage.destroy();
    master.leave();
    await master.pc.close();
  }
}

describe('WebRTC ingestion (JoinStorageSession) records the master into the mapped stream', () => {
  it('records H.264 + Opus as H.264 + AAC: one fragment per key frame, audio in sync, HLS (fMP4 and TS) and GetClip play both', async () => {
    const { streamName, sent } = await recordSession('mkv/h264-opus-5s.mkv', { video: true, audio: true });
    const fragments = await until('fragments', async () => {
      const f = await fragmentsOf(streamName);
      return f.length >= 4 ? f : undefined;
    });
    // 5 s with a key frame every second: 5 fragments (4 if the first GOP was missed before the first key frame)
    expect(fragments.length, JSON.stringify(lastStats)).toBeGreaterThanOrEqual(4);
    expect(fragments.length).toBeLessThanOrEqual(6);
    const times = fragments.map((f) => f.ProducerTimestamp!.getTime());
    expect(Math.abs(times[0]! - Date.now())).toBeLessThan(60_000);
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    const mkv = await recordingFile(streamName, fragments.map((f) => f.FragmentNumber!), 'av.mkv');
    // the Opus the master sent is stored as AAC-LC 48 kHz stereo (kvs-api.md §5.3 item 5)
    expect(trackCodecs(mkv)).toEqual([{ codecId: 'V_MPEG4/ISO/AVC', codecPrivate: expect.any(String) as string }, { codecId: 'A_AAC', codecPrivate: '1190' }]);
    const decoded = await decodedFrames(mkv);
    const spans = await packetSpans(mkv);
    const context = JSON.stringify({ sent, decoded, spans, fragments: fragments.map((f) => f.FragmentLengthInMilliseconds), session: lastStats });
    expect(decoded.video, context).toBeGreaterThanOrEqual(sent.videoFrames - 30);
    expect(decoded.video).toBeLessThanOrEqual(sent.videoFrames);
    // 20 ms Opus packets in, 1024-sample (21.3 ms) AAC frames out, from the first key frame on
    const aacFrames = (sent.audioFrames * 960) / 1024;
    expect(decoded.audio, context).toBeGreaterThanOrEqual(aacFrames * 0.7);
    expect(decoded.audio, context).toBeLessThanOrEqual(aacFrames + 10);
    // the first fragment starts with a key frame; its first audio frame is the one starting at or just after it
    expect(spans.audio.startS - spans.video.startS, context).toBeGreaterThanOrEqual(0);
    expect(spans.audio.startS - spans.video.startS, context).toBeLessThanOrEqual(0.03);
    // (decoding is checked on HLS below: ffmpeg reports every chunk's new Segment in GetMedia's output as an error)

    // (the range ends at the last fragment listed above: a later one may have landed since)
    const range = { StartTimestamp: new Date(times[0]! - 1000), EndTimestamp: new Date(times.at(-1)! + 1) };
    for (const ContainerFormat of ['FRAGMENTED_MP4', 'MPEG_TS'] as const) {
      const hls = await archive.send(new GetHLSStreamingSessionURLCommand({ StreamName: streamName, PlaybackMode: 'ON_DEMAND', HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range }, ContainerFormat }));
      const url = hls.HLSStreamingSessionURL!;
      const played = await packetSpans(url);
      const where = `${ContainerFormat} ${JSON.stringify(played)} ${context}`;
      expect(played.video.codec, where).toBe('h264');
      expect(played.audio.codec, where).toBe('aac');
      expect(played.video.packets, where).toBe(decoded.video);
      expect(played.audio.packets, where).toBe(decoded.audio);
      // the audio lasts as long as the video (it runs on to the master's last packet, a frame or few past the video)
      expect(Math.abs(played.audio.endS - played.audio.startS - (played.video.endS - played.video.startS)), where).toBeLessThan(0.3);
      expect(Math.abs(played.audio.startS - played.video.startS), where).toBeLessThanOrEqual(0.03);
      expect(await decodeErrors(url), where).toBe('');
      // the master sent a 440 Hz sine: heard, not silence (-91 dB)
      expect(await meanVolume(url), where).toBeGreaterThan(-50);
    }

    // GetClip: one MP4 with both tracks
    const clip = await archive.send(new GetClipCommand({ StreamName: streamName, ClipFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: range } }));
    const clipFile = join(tmp, 'clip.mp4');
    writeFileSync(clipFile, await clip.Payload!.transformToByteArray());
    const clipped = await packetSpans(clipFile);
    expect(clipped.video, JSON.stringify(clipped)).toMatchObject({ codec: 'h264', packets: decoded.video });
    expect(clipped.audio, JSON.stringify(clipped)).toMatchObject({ codec: 'aac', packets: decoded.audio });
    expect(Math.abs(clipped.audio.startS - clipped.video.startS)).toBeLessThanOrEqual(0.03);
    expect(await decodeErrors(clipFile)).toBe('');
  }, 60_000);

  it('mixes a storage viewer’s audio into the recording: the master’s 440 Hz throughout, the viewer’s 1 kHz while it talks', async () => {
    const { channelArn, streamName } = await storageChannel();
    const storage = storageClient(server.url);
    const viewer = new StorageViewerPeer(`mixer-${n}`);
    const master = new TestMaster();
    try {
      // the viewer joins first and waits for the master, as KVS allows
      await viewer.openRaw(server.url, channelArn, cert.cert);
      await storage.send(new JoinStorageSessionAsViewerCommand({ channelArn, clientId: viewer.id }));
      await viewer.connected();
      await master.open(server.url, channelArn, { ca: cert.cert });
      await storage.send(new JoinStorageSessionCommand({ channelArn }));
      await master.connected();
      const tone = await toneOpus(1000, 2);
      const channelId = server.channels.find(channelArn)!.id;
      let talked = { fromMs: 0, toMs: 0 };
      // the master plays 5 s (H.264 and the fixture's 440 Hz Opus); 1.5 s in, the viewer says 2 s of 1 kHz
      const viewerTalks = async (): Promise<void> => {
        await new Promise((r) => setTimeout(r, 1500));
        const seq = new RtpSequencer({ ssrc: 7, payloadType: OPUS_PT, clockRate: 48_000 });
        const t0 = Date.now();
        for (const [i, frame] of tone.entries()) {
          const wait = t0 + i * 20 - Date.now();
          if (wait > 0) {
            await new Promise((r) => setTimeout(r, wait));
          }
          for (const p of seq.packets([{ payload: frame, marker: false }], i * 20)) {
            viewer.sendAudio(p);
          }
        }
        talked = { fromMs: t0, toMs: Date.now() };
      };
      await Promise.all([playFixture((kind, p) => master.send(kind, p)), viewerTalks()]);
      const session = server.storage.current(channelId);
      await master.close();
      await until('the storage session to end', () => (server.storage.current(channelId) === undefined ? true : undefined));
      await session?.stop('the master left');
      lastStats = session?.stats;
      expect(lastStats).toMatchObject({ audioEncoderFailures: 0 });
      expect((lastStats as { viewerAudioPackets: number }).viewerAudioPackets).toBeGreaterThan(80);

      const fragments = await until('fragments', async () => {
        const f = await fragmentsOf(streamName);
        return f.length >= 4 ? f : undefined;
      });
      const mkv = await recordingFile(streamName, fragments.map((f) => f.FragmentNumber!), 'mixed.mkv');
      const rec = await recordedPcm(mkv);
      const before = { from: talked.fromMs - 1200, to: talked.fromMs - 200 };
      const during = { from: talked.fromMs + 200, to: talked.toMs - 200 };
      const db = {
        viewerBefore: toneDb(rec, 1000, before.from, before.to),
        viewerDuring: toneDb(rec, 1000, during.from, during.to),
        masterBefore: toneDb(rec, 440, before.from, before.to),
        masterDuring: toneDb(rec, 440, during.from, during.to),
      };
      const context = JSON.stringify({ db, talked, recordingStartMs: rec.startMs, samples: rec.pcm.length, session: lastStats });
      // the viewer is heard while it talks and not before; the master is heard all along, also while mixed
      expect(db.viewerDuring - db.viewerBefore, context).toBeGreaterThan(20);
      expect(db.masterDuring, context).toBeGreaterThan(db.viewerBefore + 20);
      expect(Math.abs(db.masterDuring - db.masterBefore), context).toBeLessThan(6);
    } finally {
      storage.destroy();
      await viewer.close();
      await master.close();
    }
  }, 60_000);

  it('records a video-only session (the master refuses audio)', async () => {
    const { streamName, sent } = await recordSession('mkv/h264-5s-1s-gop.mkv', { video: true, audio: false });
    const fragments = await until('fragments', async () => {
      const f = await fragmentsOf(streamName);
      return f.length >= 4 ? f : undefined;
    });
    const mkv = await recordingFile(streamName, fragments.map((f) => f.FragmentNumber!), 'video.mkv');
    const decoded = await decodedFrames(mkv);
    expect(decoded.video).toBeGreaterThanOrEqual(sent.videoFrames - 30);
    expect(decoded.video).toBeLessThanOrEqual(sent.videoFrames);
    expect(decoded.audio).toBe(0);
  }, 40_000);

  it('records an audio-only session as AAC alone, which GetMedia and HLS play', async () => {
    const { streamName, sent } = await recordSession('mkv/h264-opus-5s.mkv', { video: false, audio: true });
    const fragments = await until('fragments', async () => {
      const f = await fragmentsOf(streamName);
      return f.length >= 2 ? f : undefined;
    });
    // cut every 2 s: 5 s of audio make 3 fragments (2 when the first packets go out before the peer can take them)
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    expect(fragments.length).toBeLessThanOrEqual(3);
    const mkv = await recordingFile(streamName, fragments.map((f) => f.FragmentNumber!), 'audio.mkv');
    expect(trackCodecs(mkv)).toEqual([{ codecId: 'A_AAC', codecPrivate: '1190' }]);
    const decoded = await decodedFrames(mkv);
    const aacFrames = (sent.audioFrames * 960) / 1024;
    expect(decoded.video).toBe(0);
    expect(decoded.audio, JSON.stringify({ sent, decoded, session: lastStats })).toBeGreaterThanOrEqual(aacFrames * 0.7);
    expect(decoded.audio).toBeLessThanOrEqual(aacFrames + 10);
    const times = fragments.map((f) => f.ProducerTimestamp!.getTime());
    const hls = await archive.send(new GetHLSStreamingSessionURLCommand({ StreamName: streamName, PlaybackMode: 'ON_DEMAND', HLSFragmentSelector: { FragmentSelectorType: 'PRODUCER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(times[0]! - 1000), EndTimestamp: new Date(times.at(-1)! + 1) } } }));
    const played = await packetSpans(hls.HLSStreamingSessionURL!);
    expect(played.video.packets).toBe(0);
    expect(played.audio).toMatchObject({ codec: 'aac', packets: decoded.audio });
    expect(await decodeErrors(hls.HLSStreamingSessionURL!)).toBe('');
    expect(await meanVolume(hls.HLSStreamingSessionURL!)).toBeGreaterThan(-50);
  }, 40_000);

  it('sends one offer per call: a newer JoinStorageSession replaces the session, and a master connecting later gets only its offer', async () => {
    const { channelArn } = await storageChannel();
    const ep = await endpoints(channelArn, ['WEBRTC', 'WSS']);
    const channelId = server.channels.find(channelArn)!.id;
    const storage = storageClient(ep['WEBRTC']!);
    const offers: string[] = [];
    try {
      await storage.send(new JoinStorageSessionCommand({ channelArn }));
      const first = await until('the first session', () => server.storage.current(channelId));
      await storage.send(new JoinStorageSessionCommand({ channelArn }));
      const second = server.storage.current(channelId);
      expect(second).toBeDefined();
      expect(second).not.toBe(first);
      // non-trickle offers go out once gathering completes; give both sessions the time to send theirs
      await new Promise((r) => setTimeout(r, 500));
      const signaling = new SignalingClient({ channelARN: channelArn, channelEndpoint: ep['WSS']!, role: Role.MASTER, region: REGION, credentials });
      signaling.on('sdpOffer', (offer: { sdp: string }, from: string) => offers.push(`${from}:${offer.sdp.length > 0}`));
      await new Promise<void>((resolve) => {
        signaling.once('open', () => resolve());
        signaling.open();
      });
      await until('the queued offer', () => (offers.length > 0 ? true : undefined));
      await new Promise((r) => setTimeout(r, 200));
      expect(offers).toEqual([`${STORAGE_CLIENT_ID}:true`]);
      signaling.close();
      await until('the session to end with its master', () => (server.storage.current(channelId) === undefined ? true : undefined));
    } finally {
      storage.destroy();
    }
  });

  it('refuses a channel without media storage (InvalidArgumentException) and an unknown channel (ResourceNotFoundException)', async () => {
    const { channelArn } = await storageChannel(false);
    const storage = storageClient(server.url);
    try {
      await expect(storage.send(new JoinStorageSessionCommand({ channelArn }))).rejects.toMatchObject({ name: 'InvalidArgumentException', $metadata: { httpStatusCode: 400 } });
      await expect(storage.send(new JoinStorageSessionCommand({ channelArn: channelArn.replace(/\/\d+$/, '/1') }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
      await expect(storage.send(new JoinStorageSessionAsViewerCommand({ channelArn, clientId: 'viewer-1' }))).rejects.toMatchObject({ name: 'InvalidArgumentException' });
    } finally {
      storage.destroy();
    }
  });
});
