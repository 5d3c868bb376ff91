import { describe, expect, it } from 'vitest';
import { parseClusterBlocks } from '../../../src/formats/mkv/mkv-blocks.js';
import { H264Packetizer } from '../../../src/formats/rtp/h264-packetizer.js';
import { RtpSequencer } from '../../../src/formats/rtp/rtp-sequencer.js';
import type { TrackSet } from '../../../src/media/track.js';
import { createLogger } from '../../../src/util/logger.js';
import type { AacEncoderFactory, AacEncoderSink } from '../../../src/webrtc/aac-encoder.js';
import { MAX_ENCODER_RESTARTS } from '../../../src/webrtc/recording-audio.js';
import { MIX_CHANNELS, type PcmDecoder } from '../../../src/webrtc/audio-mixer.js';
import type { AssembledFragment } from '../../../src/webrtc/fragment-assembler.js';
import type { RecordingWriter } from '../../../src/webrtc/recording-writer.js';
import { SessionRecorder } from '../../../src/webrtc/session-recorder.js';
import { fixtureAccessUnits } from '../formats/rtp/h264-fixture.js';

// SessionRecorder's audio path with its two processes faked: the Opus decoder gives 20 ms of the packet's int16
// level, and the "AAC encoder" writes one frame per 1024 input samples (after one priming frame, as ffmpeg's
// does) whose two bytes are the level of the block's first sample. So every stored audio block says which
// participants were mixed into it, and where.

const T0 = 1_700_000_000_000;
const AAC_MS = 1024 / 48;

const level = (n: number): Uint8Array => {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setInt16(0, n);
  return b;
};
const levelOf = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getInt16(0);

const fakeDecoder = (): PcmDecoder => ({ decode: (p) => new Int16Array(960 * MIX_CHANNELS).fill(levelOf(p)), free: () => undefined });

/** Each encoder it makes writes a frame per 1024 samples; `fail` makes the newest one die. */
function fakeEncoder(): { factory: AacEncoderFactory; fail: (reason: string) => void; made: () => number } {
  let newest: { sink: AacEncoderSink; failed: boolean } | null = null;
  let made = 0;
  const factory: AacEncoderFactory = (s) => {
    const me = { sink: s, failed: false };
    newest = me;
    made++;
    const left: number[] = [];
    let primed = false;
    const emit = (): void => {
      if (!primed) {
        primed = true;
        s.frame(level(0));
      }
      s.frame(level(left[0] ?? 0));
      left.splice(0, 1024);
    };
    return {
      write: (pcm) => {
        for (let i = 0; i < pcm.length && !me.failed; i += MIX_CHANNELS) {
          left.push(pcm[i]!);
          if (left.length === 1024) {
            emit();
          }
        }
      },
      end: () => {
        if (left.length > 0 && !me.failed) {
          emit();
        }
        return Promise.resolve();
      },
      kill: () => undefined,
    };
  };
  return {
    factory,
    fail: (reason) => {
      if (newest !== null) {
        newest.failed = true;
        newest.sink.failed(reason);
      }
    },
    made: () => made,
  };
}

type Written = { f: AssembledFragment; tracks: TrackSet };

function fakeWriter(): { writer: RecordingWriter; written: Written[] } {
  const written: Written[] = [];
  let tracks: TrackSet | null = null;
  const writer = {
    stream: () => undefined,
    setTracks: (t: TrackSet) => void (tracks = t),
    write: (f: AssembledFragment) => void written.push({ f, tracks: tracks! }),
    settled: () => Promise.resolve(),
  };
  return { writer: writer as unknown as RecordingWriter, written };
}

/** Audio blocks of every fragment: [ms from T0, level], and per fragment its span from T0. */
function audioBlocks(written: Written[], audioTrack: number): { blocks: [number, number][]; fragments: [number, number][] } {
  const blocks: [number, number][] = [];
  for (const { f } of written) {
    for (const b of parseClusterBlocks(f.clusterBytes).blocks.filter((x) => x.track === audioTrack)) {
      blocks.push([b.timecode - T0, levelOf(b.frames[0]!)]);
    }
  }
  return { blocks, fragments: written.map(({ f }) => [f.timecode - T0, f.timecode - T0 + f.durationMs]) };
}

const h264 = fixtureAccessUnits('mkv/h264-5s-1s-gop.mkv');

/** The recorder's clock and pump timer, advanced by hand: every pump due up to a time runs at its own time. */
class ManualTime {
  now = T0;
  #fn: (() => void) | null = null;
  #period = 0;
  #next = 0;

  readonly every = (ms: number, fn: () => void): (() => void) => {
    this.#fn = fn;
    this.#period = ms;
    this.#next = this.now + ms;
    return () => void (this.#fn = null);
  };

  advanceTo(t: number): void {
    while (this.#fn !== null && this.#next <= t) {
      this.now = this.#next;
      this.#fn();
      this.#next += this.#period;
    }
    this.now = t;
  }
}

type SendOptions = { video: boolean; masterLevel: number; silentMaster?: boolean; viewer?: { id: string; fromMs: number; toMs: number; level: number } };

/**
 * A master (and a viewer) sending in arrival order: video access units at their fixture times, Opus every 20 ms
 * (the master's RTP clock wraps at 2^32 1.4 s in). One sender per session, so its RTP clocks run on across calls.
 */
function sender(): (r: SessionRecorder, clock: ManualTime, fromMs: number, untilMs: number, opts: SendOptions) => void {
  const pk = new H264Packetizer({ avcC: h264.avcC });
  const vseq = new RtpSequencer({ ssrc: 1, payloadType: 96, timestampOffset: 4_000_000_000 });
  return (r, clock, fromMs, untilMs, opts) => {
    type Ev = { ms: number; send: () => void };
    const events: Ev[] = [];
    if (opts.video) {
      for (const au of h264.accessUnits.filter((a) => a.timeMs >= fromMs && a.timeMs < untilMs)) {
        events.push({ ms: au.timeMs, send: () => vseq.packets(pk.packetize(au.nals), au.timeMs).forEach((p) => r.videoPacket(p)) });
      }
    }
    for (let ms = fromMs; ms < untilMs && opts.silentMaster !== true; ms += 20) {
      const seq = ms / 20;
      events.push({ ms, send: () => r.audioPacket({ payload: level(opts.masterLevel), marker: false, sequenceNumber: seq, timestamp: (4_294_900_000 + seq * 960) >>> 0 }) });
    }
    const v = opts.viewer;
    if (v !== undefined) {
      for (let ms = v.fromMs, seq = 0; ms < v.toMs; ms += 20, seq++) {
        const s = seq;
        events.push({ ms: ms + 0.5, send: () => r.viewerAudioPacket(v.id, { payload: level(v.level), marker: false, sequenceNumber: s, timestamp: 12_345 + s * 960 }) });
      }
      events.push({ ms: v.toMs, send: () => r.viewerLeft(v.id) });
    }
    events.sort((a, b) => a.ms - b.ms);
    for (const e of events) {
      clock.advanceTo(T0 + e.ms);
      e.send();
    }
    clock.advanceTo(T0 + untilMs);
  };
}

function recorder(tracks: { video: boolean; audio: boolean }, encoder: AacEncoderFactory): { r: SessionRecorder; written: Written[]; clock: ManualTime } {
  const clock = new ManualTime();
  const { writer, written } = fakeWriter();
  const r = new SessionRecorder({ tracks, writer, now: () => clock.now, requestKeyframe: () => undefined, log: createLogger('silent'), aacEncoder: encoder, opusDecoder: fakeDecoder, every: clock.every });
  return { r, written, clock };
}

describe('SessionRecorder audio', () => {
  it('stores the master and a viewer mixed as one A_AAC track (AAC-LC 48 kHz stereo), timed from the first packet', async () => {
    const { r, written, clock } = recorder({ video: false, audio: true }, fakeEncoder().factory);
    sender()(r, clock, 0, 3000, { video: false, masterLevel: 100, viewer: { id: 'v1', fromMs: 1000, toMs: 2000, level: 10 } });
    await r.stop();

    expect(written[0]!.tracks.tracks).toEqual([{ number: 1, kind: 'audio', codecId: 'A_AAC', codecPrivate: new Uint8Array([0x11, 0x90]), name: 'audio', sampleRate: 48_000, channels: 2 }]);
    const { blocks, fragments } = audioBlocks(written, 1);
    // an audio-only session is cut every 2 s
    expect(fragments.map(([from]) => from)).toEqual([0, 2005]);
    // the first frame after the priming one plays the first packet; the frames follow each other without gaps
    expect(blocks[0]).toEqual([0, 100]);
    blocks.slice(1).forEach(([ms], i) => expect([21, 22]).toContain(ms - blocks[i]![0]));
    expect(blocks.length).toBe(Math.ceil(3000 / AAC_MS));
    const levelsIn = (from: number, to: number): number[] => [...new Set(blocks.filter(([ms]) => ms >= from && ms < to).map(([, l]) => l))];
    expect(levelsIn(0, 999)).toEqual([100]);
    expect(levelsIn(1001, 1999)).toEqual([110]);
    expect(levelsIn(2001, 2999)).toEqual([100]);
    expect(r.stats).toMatchObject({ audioPackets: 200, viewerAudioPackets: 50, lateAudioPackets: 0, audioEncoderFailures: 0 });
  });

  it('puts the audio before each key frame in the fragment that key frame closes, and the rest after it', async () => {
    const { r, written, clock } = recorder({ video: true, audio: true }, fakeEncoder().factory);
    sender()(r, clock, 0, 3100, { video: true, masterLevel: 100 });
    await r.stop();

    expect(written.map((w) => w.tracks.tracks.map((t) => t.codecId))).toEqual(Array(written.length).fill(['V_MPEG4/ISO/AVC', 'A_AAC']));
    const { blocks, fragments } = audioBlocks(written, 2);
    expect(fragments.map(([from]) => from)).toEqual([0, 1000, 2000, 3000]);
    for (const [i, { f }] of written.entries()) {
      const [from, to] = fragments[i]!;
      const audio = parseClusterBlocks(f.clusterBytes).blocks.filter((b) => b.track === 2);
      expect(audio.length).toBeGreaterThan(0);
      // none before the key frame that opens the fragment, none at or after the one that closes it
      expect(audio[0]!.timecode - T0).toBeGreaterThanOrEqual(from);
      expect(audio[0]!.timecode - T0).toBeLessThan(from + AAC_MS);
      if (i < written.length - 1) {
        expect(audio.at(-1)!.timecode - T0).toBeLessThan(to);
        expect(audio.at(-1)!.timecode - T0).toBeGreaterThanOrEqual(to - AAC_MS - 1);
      }
    }
    expect(blocks.every(([, l]) => l === 100)).toBe(true);
    expect(r.stats).toMatchObject({ videoFrames: 93, videoWaitsExpired: 0, audioEncoderFailures: 0 });
  });

  it('declares no audio track while no audio has come (a master that agreed to send audio but sends none)', async () => {
    const { r, written, clock } = recorder({ video: true, audio: true }, fakeEncoder().factory);
    const send = sender();
    send(r, clock, 0, 2100, { video: true, masterLevel: 100, silentMaster: true });
    await r.stop();
    expect(written.map((w) => w.tracks.tracks.map((t) => t.codecId))).toEqual([['V_MPEG4/ISO/AVC'], ['V_MPEG4/ISO/AVC'], ['V_MPEG4/ISO/AVC']]);
    expect(r.stats).toMatchObject({ videoFrames: 63, audioFrames: 0, videoWaitsExpired: 0 });
  });

  it('replaces an encoder that dies: the audio goes on from what the new one is given, with a gap, not a shift', async () => {
    const enc = fakeEncoder();
    const { r, written, clock } = recorder({ video: true, audio: true }, enc.factory);
    const send = sender();
    send(r, clock, 0, 1500, { video: true, masterLevel: 100 });
    enc.fail('ffmpeg is 1002240 bytes of input behind');
    send(r, clock, 1500, 3100, { video: true, masterLevel: 100 });
    await r.stop();

    expect(enc.made()).toBe(2);
    expect(r.stats).toMatchObject({ audioEncoderRestarts: 1, audioEncoderFailures: 0, videoWaitsExpired: 0 });
    expect(written.map((w) => w.tracks.tracks.map((t) => t.codecId).join('+'))).toEqual(Array(written.length).fill('V_MPEG4/ISO/AVC+A_AAC'));
    const { blocks } = audioBlocks(written, 2);
    const gaps = blocks.slice(1).map(([ms], i) => ms - blocks[i]![0]).filter((d) => d > 22);
    // what the first encoder held when it died is missing; every frame before and after is in place
    expect(gaps).toHaveLength(1);
    expect(blocks.at(-1)![0]).toBeGreaterThan(3000);
    expect(blocks.every(([, l]) => l === 100)).toBe(true);
  });

  it(`goes on with video alone when the encoder dies ${MAX_ENCODER_RESTARTS + 1} times: nothing waits, and later fragments declare no audio track`, async () => {
    const enc = fakeEncoder();
    const { r, written, clock } = recorder({ video: true, audio: true }, enc.factory);
    const send = sender();
    send(r, clock, 0, 1500, { video: true, masterLevel: 100 });
    for (let i = 0; i <= MAX_ENCODER_RESTARTS; i++) {
      enc.fail('ffmpeg exited (code 1)');
    }
    expect(r.stats).toMatchObject({ audioEncoderFailures: 1, audioEncoderRestarts: MAX_ENCODER_RESTARTS });
    // the rest of the session (key frames at 2 s and 3 s), the master still sending audio
    send(r, clock, 1500, 3100, { video: true, masterLevel: 100 });
    await r.stop();

    const codecs = written.map((w) => w.tracks.tracks.map((t) => t.codecId).join('+'));
    // the fragment open when the encoder died still carries its audio; the ones after say they have none
    expect(codecs).toEqual(['V_MPEG4/ISO/AVC+A_AAC', 'V_MPEG4/ISO/AVC+A_AAC', 'V_MPEG4/ISO/AVC', 'V_MPEG4/ISO/AVC']);
    expect(written.slice(2).every((w) => parseClusterBlocks(w.f.clusterBytes).blocks.every((b) => b.track === 1))).toBe(true);
    expect(r.stats).toMatchObject({ audioEncoderFailures: 1, videoWaitsExpired: 0 });
  });
});
