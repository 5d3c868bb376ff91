// One storage session's media → fragments: H.264 RTP through the loss-aware depacketizer, Opus packets as they
// are, both timed by their RTP clocks, cut into one fragment per key frame and written into the stream.

import { writeOpusHead, opusPacketChannels } from '../formats/codec/opus-head.js';
import { H264Depacketizer, type H264AccessUnit, type RtpPacketLike } from '../formats/rtp/h264-depacketizer.js';
import { H264NalType, h264NalType, joinAvcc } from '../formats/rtp/h264-nal.js';
import type { TrackInfo } from '../media/track.js';
import { buildAvcDecoderConfig } from '../sdk/h264.js';
import type { Logger } from '../util/logger.js';
import { FragmentAssembler, type AssembledFragment } from './fragment-assembler.js';
import type { RecordingWriter } from './recording-writer.js';
import { RtpClock } from './rtp-clock.js';

/** H.264 over RTP always uses a 90 kHz clock (RFC 6184 §5.1); Opus 48 kHz (RFC 7587 §4.1). */
const VIDEO_CLOCK_RATE = 90_000;
const AUDIO_CLOCK_RATE = 48_000;
/** While no key frame has come, the sender is asked again this often (a PLI can be lost too). */
const FIRST_KEYFRAME_REQUEST_MS = 1000;
/** After losses, at most one request per this long: each answer is a large key frame the link must carry. */
const KEYFRAME_REQUEST_INTERVAL_MS = 3000;
/** An audio-only session is cut into fragments of this length. */
const AUDIO_FRAGMENT_MS = 2000;
/** Fragments are cut this far under the stream's longest allowed fragment, so the last frame still fits. */
const DURATION_MARGIN = 0.9;

export type RecorderDeps = {
  /** Which tracks the master's answer agreed to send. */
  tracks: { video: boolean; audio: boolean };
  writer: RecordingWriter;
  now: () => number;
  /** Ask the master for a key frame (RTCP PLI). */
  requestKeyframe: () => void;
  log: Logger;
};

export type RecorderStats = { videoFrames: number; audioFrames: number; skippedVideoFrames: number; keyframeRequests: number };

export class SessionRecorder {
  readonly #d: RecorderDeps;
  readonly #videoTrack: number | null;
  readonly #audioTrack: number | null;
  readonly #depacketizer = new H264Depacketizer();
  readonly #videoClock = new RtpClock(VIDEO_CLOCK_RATE);
  readonly #audioClock = new RtpClock(AUDIO_CLOCK_RATE);
  readonly #assembler: FragmentAssembler;
  #avcC: Uint8Array | null = null;
  #audioChannels: 1 | 2 = 2;
  /** A picture was lost: frames predicted from it would decode wrong, so none are kept until the next key frame. */
  #awaitingKeyframe = true;
  #droppedSeen = 0;
  #lastRequestMs = -Infinity;
  #stopped = false;
  readonly stats: RecorderStats = { videoFrames: 0, audioFrames: 0, skippedVideoFrames: 0, keyframeRequests: 0 };

  constructor(deps: RecorderDeps) {
    this.#d = deps;
    this.#videoTrack = deps.tracks.video ? 1 : null;
    this.#audioTrack = deps.tracks.audio ? (deps.tracks.video ? 2 : 1) : null;
    const capacity = deps.writer.stream()?.capacity;
    this.#assembler = new FragmentAssembler(
      { video: this.#videoTrack, audio: this.#audioTrack },
      {
        maxDurationMs: Math.floor((capacity?.maxFragmentDurationMs ?? 20_000) * DURATION_MARGIN),
        maxBytes: capacity?.maxFragmentBytes ?? 50 * 1024 * 1024,
        minDurationMs: 1000 / (capacity?.fragmentsPerSecond ?? 5),
        audioFragmentMs: AUDIO_FRAGMENT_MS,
      },
    );
    this.#updateTracks();
  }

  videoPacket(p: RtpPacketLike): void {
    if (this.#stopped || this.#videoTrack === null) {
      return;
    }
    const arrivalMs = this.#d.now();
    for (const au of this.#depacketizer.push(p)) {
      this.#accessUnit(au, arrivalMs);
    }
    this.#maybeRequestKeyframe(arrivalMs);
  }

  audioPacket(p: RtpPacketLike): void {
    if (this.#stopped || this.#audioTrack === null || p.payload.length === 0) {
      return;
    }
    const ms = this.#audioClock.toMs(p.timestamp, this.#d.now());
    if (this.stats.audioFrames === 0) {
      this.#audioChannels = opusPacketChannels(p.payload);
      this.#updateTracks();
    }
    this.stats.audioFrames++;
    this.#emit(this.#assembler.audio(ms, p.payload.slice()));
  }

  /** End of the session: the last fragment is closed and everything is stored before this resolves. */
  async stop(): Promise<void> {
    if (!this.#stopped) {
      this.#stopped = true;
      const arrivalMs = this.#d.now();
      for (const au of this.#depacketizer.flush()) {
        this.#accessUnit(au, arrivalMs);
      }
      this.#emit(this.#assembler.flush());
    }
    await this.#d.writer.settled();
  }

  #accessUnit(au: H264AccessUnit, arrivalMs: number): void {
    const ms = this.#videoClock.toMs(au.timestamp, arrivalMs);
    const dropped = this.#depacketizer.stats.droppedAccessUnits;
    if (dropped !== this.#droppedSeen) {
      this.#droppedSeen = dropped;
      this.#awaitingKeyframe = true;
    }
    let keyframe = au.keyframe;
    if (keyframe) {
      const sets = this.#depacketizer.parameterSets;
      if (sets.sps.length > 0 && sets.pps.length > 0) {
        this.#setAvcC(buildAvcDecoderConfig(sets.sps, sets.pps));
      } else {
        // an IDR before any SPS/PPS cannot be described in the track header, so it cannot start a fragment
        keyframe = false;
      }
    }
    if (keyframe) {
      this.#awaitingKeyframe = false;
    } else if (this.#awaitingKeyframe) {
      this.stats.skippedVideoFrames++;
      return;
    }
    const nals = au.nalUnits.filter((n) => h264NalType(n) !== H264NalType.AUD);
    this.stats.videoFrames++;
    this.#emit(this.#assembler.video(ms, keyframe, joinAvcc(nals)));
  }

  #setAvcC(avcC: Uint8Array): void {
    const same = this.#avcC !== null && this.#avcC.length === avcC.length && this.#avcC.every((b, i) => b === avcC[i]);
    if (!same) {
      this.#avcC = avcC;
      this.#updateTracks();
    }
  }

  #updateTracks(): void {
    const tracks: TrackInfo[] = [];
    if (this.#videoTrack !== null && this.#avcC !== null) {
      tracks.push({ number: this.#videoTrack, kind: 'video', codecId: 'V_MPEG4/ISO/AVC', codecPrivate: this.#avcC, name: 'video' });
    }
    if (this.#audioTrack !== null) {
      tracks.push({ number: this.#audioTrack, kind: 'audio', codecId: 'A_OPUS', codecPrivate: writeOpusHead(this.#audioChannels), name: 'audio', sampleRate: AUDIO_CLOCK_RATE, channels: this.#audioChannels });
    }
    this.#d.writer.setTracks({ timecodeScaleNs: 1_000_000, tracks });
  }

  #maybeRequestKeyframe(nowMs: number): void {
    const wanted = this.#awaitingKeyframe || this.#assembler.wantsKeyframe;
    const interval = this.#avcC === null ? FIRST_KEYFRAME_REQUEST_MS : KEYFRAME_REQUEST_INTERVAL_MS;
    if (wanted && nowMs - this.#lastRequestMs >= interval) {
      this.#lastRequestMs = nowMs;
      this.stats.keyframeRequests++;
      this.#d.requestKeyframe();
    }
  }

  #emit(f: AssembledFragment | null): void {
    if (f !== null) {
      this.#d.writer.write(f);
    }
  }
}
