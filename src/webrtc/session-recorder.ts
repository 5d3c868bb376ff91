// One storage session's media → fragments: H.264 RTP through the loss-aware depacketizer, timed by its RTP clock;
// the master's and every viewer's Opus mixed and encoded to AAC (recording-audio.ts), as KVS stores WebRTC
// ingestion; video held until the audio has caught up with it (av-interleaver.ts), then cut into one fragment per
// key frame and written into the stream.

import { writeAudioSpecificConfig } from '../formats/codec/aac-config.js';
import { H264Depacketizer, type H264AccessUnit, type RtpPacketLike } from '../formats/rtp/h264-depacketizer.js';
import { H264NalType, h264NalType, joinAvcc } from '../formats/rtp/h264-nal.js';
import type { TrackInfo } from '../media/track.js';
import { buildAvcDecoderConfig } from '../sdk/h264.js';
import type { Logger } from '../util/logger.js';
import { ffmpegAacEncoder, type AacEncoderFactory } from './aac-encoder.js';
import type { FrameSpan } from './aac-timing.js';
import { MIX_CHANNELS, MIX_RATE, type PcmDecoder } from './audio-mixer.js';
import { AvInterleaver, type TimedFrame } from './av-interleaver.js';
import { FragmentAssembler, type AssembledFragment } from './fragment-assembler.js';
import { opusPcmDecoder } from './opus-pcm-decoder.js';
import { RecordingAudio } from './recording-audio.js';
import type { RecordingWriter } from './recording-writer.js';
import { RtpClock } from './rtp-clock.js';

/** H.264 over RTP always uses a 90 kHz clock (RFC 6184 §5.1). */
const VIDEO_CLOCK_RATE = 90_000;
/** AAC-LC (audioObjectType 2) at the mixer's rate and channels. */
const AAC_LC = 2;
/** Longest a video frame waits for the audio of its time (the mixer's jitter allowance plus the encoder's lag). */
const MAX_AUDIO_WAIT_MS = 500;
/**
 * The mix is released to the encoder, and waiting video let go, on a timer only — never from a packet's handler:
 * after the event loop was held up, timers run before the packets that queued meanwhile are handed in, and a
 * release from the first of them would make the rest late. One step of the mixer's release.
 */
const PUMP_INTERVAL_MS = 20;
/** Mixer participant id of the master; viewers' ids are prefixed, so no client id can take it. */
const MASTER = 'master';
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
  /** The session's AAC encoder (aac-encoder.ts); without one the session is recorded without audio. */
  aacEncoder?: AacEncoderFactory;
  /** One Opus decoder per participant (default: opus-decoder's wasm libopus). */
  opusDecoder?: () => PcmDecoder;
  /** Runs `fn` every `ms` until the returned function is called (default: an unref'd setInterval). */
  every?: (ms: number, fn: () => void) => () => void;
};

const everyInterval = (ms: number, fn: () => void): (() => void) => {
  const timer = setInterval(fn, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export type RecorderStats = {
  videoFrames: number;
  /** AAC frames handed to the fragments. */
  audioFrames: number;
  /** Opus packets received from the master and from viewers. */
  audioPackets: number;
  viewerAudioPackets: number;
  /** Opus packets that arrived after their time had been mixed (silence in the recording). */
  lateAudioPackets: number;
  skippedVideoFrames: number;
  keyframeRequests: number;
  /** Video frames stored without waiting longer for the audio of their time. */
  videoWaitsExpired: number;
  /** 1 once the AAC encoder has died: the rest of the session is recorded without audio. */
  audioEncoderFailures: number;
  /** Encoders that died and were replaced (recording-audio.ts MAX_ENCODER_RESTARTS); a failure is the last one's. */
  audioEncoderRestarts: number;
};

/** The counters of a session that has recorded nothing (yet). */
export const NO_RECORDER_STATS: Readonly<RecorderStats> = {
  videoFrames: 0,
  audioFrames: 0,
  audioPackets: 0,
  viewerAudioPackets: 0,
  lateAudioPackets: 0,
  skippedVideoFrames: 0,
  keyframeRequests: 0,
  videoWaitsExpired: 0,
  audioEncoderFailures: 0,
  audioEncoderRestarts: 0,
};

export class SessionRecorder {
  readonly #d: RecorderDeps;
  readonly #videoTrack: number | null;
  readonly #audioTrack: number | null;
  readonly #depacketizer = new H264Depacketizer();
  readonly #videoClock = new RtpClock(VIDEO_CLOCK_RATE);
  readonly #assembler: FragmentAssembler;
  readonly #interleaver = new AvInterleaver(MAX_AUDIO_WAIT_MS);
  /** Null without an audio track. */
  #audio: RecordingAudio | null = null;
  #stopPump: (() => void) | null = null;
  #avcC: Uint8Array | null = null;
  /**
   * The track header declares the audio track from the first audio frame on (a master that agreed to send audio
   * but never does must not get an audio track without a sample: players would wait for it), until the encoder has
   * died and the last fragment with audio is out.
   */
  #audioTrackLive = false;
  #audioTrackEnds = false;
  /** A picture was lost: frames predicted from it would decode wrong, so none are kept until the next key frame. */
  #awaitingKeyframe = true;
  #droppedSeen = 0;
  #lastRequestMs = -Infinity;
  #stopped = false;
  #stopping: Promise<void> | null = null;
  /** lateAudioPackets and videoWaitsExpired are read from the audio path and the interleaver (stats). */
  readonly #stats: RecorderStats = { ...NO_RECORDER_STATS };

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
    if (this.#audioTrack !== null) {
      this.#audio = new RecordingAudio({
        encoder: deps.aacEncoder ?? ffmpegAacEncoder(null),
        decoder: deps.opusDecoder ?? opusPcmDecoder,
        frame: (raw, span) => this.#audioFrame(raw, span),
        failed: (reason) => this.#audioFailed(reason),
        restarted: (reason) => {
          this.#stats.audioEncoderRestarts++;
          this.#d.log.warn('recording | the AAC encoder failed and was replaced: the audio it had not encoded is lost', { reason });
        },
      });
      this.#stopPump = (deps.every ?? everyInterval)(PUMP_INTERVAL_MS, () => this.#pump());
    }
    this.#updateTracks();
  }

  get stats(): RecorderStats {
    const audio = this.#audio?.stats;
    return { ...this.#stats, lateAudioPackets: audio?.latePackets ?? 0, videoWaitsExpired: this.#interleaver.stats.videoWaitsExpired };
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

  /** The master's Opus. */
  audioPacket(p: RtpPacketLike): void {
    if (this.#participantAudio(MASTER, p)) {
      this.#stats.audioPackets++;
    }
  }

  /**
   * A viewer's Opus (JoinStorageSessionAsViewer), mixed with the master's: its first packet is placed at the
   * session's audio time when it arrives, the rest by its own RTP clock.
   */
  viewerAudioPacket(viewerId: string, p: RtpPacketLike): void {
    if (this.#participantAudio(`viewer:${viewerId}`, p)) {
      this.#stats.audioPackets++;
      this.#stats.viewerAudioPackets++;
    }
  }

  /** The viewer left: what it said is still mixed; the same id joining again is heard on its new clock. */
  viewerLeft(viewerId: string): void {
    this.#audio?.leave(`viewer:${viewerId}`);
  }

  /** End of the session: the last fragment is closed and everything is stored before this resolves. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopped = true;
      this.#stopPump?.();
      const arrivalMs = this.#d.now();
      for (const au of this.#depacketizer.flush()) {
        this.#accessUnit(au, arrivalMs);
      }
      // the audio up to the session's end still comes out of the encoder, into the fragments around it
      await this.#audio?.stop();
      this.#assemble(this.#interleaver.audioGone());
      this.#emit(this.#assembler.flush());
      await this.#d.writer.settled();
    })();
    return this.#stopping;
  }

  /** True when the packet went to the mixer. */
  #participantAudio(participant: string, p: RtpPacketLike): boolean {
    const audio = this.#audio;
    if (this.#stopped || audio === null || audio.failure !== null || p.payload.length === 0) {
      return false;
    }
    const nowMs = this.#d.now();
    audio.packet(participant, p.timestamp, p.payload, nowMs);
    const start = audio.startMs;
    if (start !== null) {
      this.#interleaver.audioStarted(start);
    }
    return true;
  }

  #pump(): void {
    const nowMs = this.#d.now();
    if (this.#audio !== null && !this.#stopped) {
      this.#audio.pump(nowMs);
      this.#assemble(this.#interleaver.tick(nowMs));
    }
  }

  #audioFrame(raw: Uint8Array, span: FrameSpan): void {
    this.#assemble(this.#interleaver.audio(span.ms, span.endMs, raw, this.#d.now()));
  }

  #audioFailed(reason: string): void {
    this.#stats.audioEncoderFailures++;
    this.#d.log.warn('recording | the AAC encoder failed: the session goes on without audio', { reason });
    this.#assemble(this.#interleaver.audioGone());
    // the fragment open now still carries audio; the ones after it say they carry none (a declared track without
    // a frame is an empty track to players)
    this.#audioTrackEnds = this.#videoTrack !== null;
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
      this.#stats.skippedVideoFrames++;
      return;
    }
    const nals = au.nalUnits.filter((n) => h264NalType(n) !== H264NalType.AUD);
    this.#stats.videoFrames++;
    this.#assemble(this.#interleaver.video(ms, keyframe, joinAvcc(nals), arrivalMs));
  }

  #assemble(frames: TimedFrame[]): void {
    for (const f of frames) {
      if (f.kind === 'video') {
        this.#emit(this.#assembler.video(f.ms, f.keyframe, f.data));
      } else {
        this.#stats.audioFrames++;
        this.#emit(this.#assembler.audio(f.ms, f.data));
        if (!this.#audioTrackLive && this.#stats.audioEncoderFailures === 0) {
          // before the fragment holding this frame is written
          this.#audioTrackLive = true;
          this.#updateTracks();
        }
      }
    }
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
    if (this.#audioTrack !== null && this.#audioTrackLive) {
      const asc = writeAudioSpecificConfig(AAC_LC, MIX_RATE, MIX_CHANNELS);
      tracks.push({ number: this.#audioTrack, kind: 'audio', codecId: 'A_AAC', codecPrivate: asc, name: 'audio', sampleRate: MIX_RATE, channels: MIX_CHANNELS });
    }
    this.#d.writer.setTracks({ timecodeScaleNs: 1_000_000, tracks });
  }

  #maybeRequestKeyframe(nowMs: number): void {
    const wanted = this.#awaitingKeyframe || this.#assembler.wantsKeyframe;
    const interval = this.#avcC === null ? FIRST_KEYFRAME_REQUEST_MS : KEYFRAME_REQUEST_INTERVAL_MS;
    if (wanted && nowMs - this.#lastRequestMs >= interval) {
      this.#lastRequestMs = nowMs;
      this.#stats.keyframeRequests++;
      this.#d.requestKeyframe();
    }
  }

  #emit(f: AssembledFragment | null): void {
    if (f !== null) {
      this.#d.writer.write(f);
      if (this.#audioTrackEnds) {
        this.#audioTrackEnds = false;
        this.#audioTrackLive = false;
        this.#updateTracks();
      }
    }
  }
}
