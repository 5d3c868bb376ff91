// Real-time media for WebRTC tests: a master playing the 1 s-GOP fixture (and the Opus fixture's audio) as RTP,
// a viewer speaking the Opus frames or filming a fixture, and how many frames ffprobe decodes from the video RTP a
// peer received.

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { RtpPacket } from 'werift';
import { H264Depacketizer } from '../../src/formats/rtp/h264-depacketizer.js';
import { joinAnnexB } from '../../src/formats/rtp/h264-nal.js';
import { H264Packetizer } from '../../src/formats/rtp/h264-packetizer.js';
import { RtpSequencer } from '../../src/formats/rtp/rtp-sequencer.js';
import { fixture } from './media.js';
import { fixtureMedia } from './webrtc-media.js';

export const OPUS_PT = 111;
export type RtpFields = { payload: Uint8Array; sequenceNumber: number; timestamp: number; marker: boolean };

const sleepUntil = (t0: number, ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t0 + ms - performance.now())));

/** 150 H.264 frames (a key frame each second) and 5 s of Opus, each packet handed to `send` at its media time. */
export async function playFixture(send: (kind: 'video' | 'audio', p: RtpFields) => void): Promise<{ videoFrames: number }> {
  const v = fixtureMedia(fixture('mkv/h264-5s-1s-gop.mkv'));
  const a = fixtureMedia(fixture('mkv/h264-opus-5s.mkv'));
  const pk = new H264Packetizer({ avcC: v.avcC! });
  const vs = new RtpSequencer({ ssrc: 1, payloadType: 102 });
  const as = new RtpSequencer({ ssrc: 2, payloadType: OPUS_PT, clockRate: 48_000 });
  const events = [...v.video.map((x) => ({ t: x.timeMs, video: x.nals })), ...a.opus.map((x) => ({ t: x.timeMs, opus: x.frame }))].sort((x, y) => x.t - y.t);
  const t0 = performance.now();
  for (const e of events) {
    await sleepUntil(t0, e.t);
    if ('video' in e) {
      for (const p of vs.packets(pk.packetize(e.video), e.t)) {
        send('video', p);
      }
    } else {
      for (const p of as.packets([{ payload: e.opus, marker: false }], e.t)) {
        send('audio', p);
      }
    }
  }
  return { videoFrames: v.video.length };
}

/** The Opus fixture's frames in real time (a viewer talking); returns them, to recognise them at the far end. */
export async function speakFixture(send: (p: RtpFields) => void, ssrc = 3): Promise<Uint8Array[]> {
  const { opus } = fixtureMedia(fixture('mkv/h264-opus-5s.mkv'));
  const seq = new RtpSequencer({ ssrc, payloadType: OPUS_PT, clockRate: 48_000 });
  const t0 = performance.now();
  for (const f of opus) {
    await sleepUntil(t0, f.timeMs);
    for (const p of seq.packets([{ payload: f.frame, marker: false }], f.timeMs)) {
      send(p);
    }
  }
  return opus.map((f) => f.frame);
}

/** A camera: a fixture's video as RTP in real time; returns the payloads sent (hex), to recognise them at the far end. */
export async function filmFixture(rel: string, send: (p: RtpFields) => void, ssrc = 4): Promise<Set<string>> {
  const v = fixtureMedia(fixture(rel));
  const pk = new H264Packetizer({ avcC: v.avcC! });
  const seq = new RtpSequencer({ ssrc, payloadType: 102 });
  const sent = new Set<string>();
  const t0 = performance.now();
  for (const f of v.video) {
    await sleepUntil(t0, f.timeMs);
    for (const p of seq.packets(pk.packetize(f.nals), f.timeMs)) {
      sent.add(Buffer.from(p.payload).toString('hex'));
      send(p);
    }
  }
  return sent;
}

/** Frames ffprobe decodes from received video RTP, written to `file` as Annex-B from the first key frame. */
export const decodedVideoFrames = async (packets: readonly RtpPacket[], file: string): Promise<number> => (await decodedVideo(packets, file)).frames;

/** The access units from the first key frame on, and how many of them ffprobe decodes. */
export async function decodedVideo(packets: readonly RtpPacket[], file: string): Promise<{ accessUnits: number; frames: number }> {
  const d = new H264Depacketizer();
  const aus = [...packets.flatMap((p) => d.push({ payload: p.payload, marker: p.header.marker, sequenceNumber: p.header.sequenceNumber, timestamp: p.header.timestamp })), ...d.flush()];
  const first = aus.findIndex((au) => au.keyframe);
  if (first < 0) {
    return { accessUnits: 0, frames: 0 };
  }
  writeFileSync(file, joinAnnexB(aus.slice(first).flatMap((au) => au.nalUnits)));
  // execFile, not spawnSync: the server under test runs in this process and must keep serving
  const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-f', 'h264', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]);
  return { accessUnits: aus.length - first, frames: Number(stdout.trim()) };
}
