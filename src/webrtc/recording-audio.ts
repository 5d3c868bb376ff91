// A recording's audio path: every participant's Opus → the mixer → one AAC encoder for the session → timed AAC
// frames for the fragments. KVS stores WebRTC ingestion as H.264 + AAC (kvs-api.md §5.3 item 5), which is what
// HLS, DASH and GetClip can play; Opus a producer uploads through PutMedia is stored as it is (ingest/).

import type { AacEncoder, AacEncoderFactory } from './aac-encoder.js';
import { aacFrameSpan, type FrameSpan } from './aac-timing.js';
import { AudioMixer, MIX_CHANNELS, MIX_RATE, type MixerStats, type PcmDecoder } from './audio-mixer.js';

/** Reordered packets up to this late are still mixed in; the fragments wait this long (plus the encoder) for audio. */
const JITTER_MS = 100;
/** When nobody is sending, silence is released this far behind the wall clock. */
const MAX_LAG_MS = 250;
/** A participant whose RTP clock lands this far off is anchored again (a restarted sender, a big jump). */
const RESYNC_MS = 2000;
/**
 * An encoder that dies (starved of CPU on a loaded machine, killed) is replaced this many times per session; the
 * audio it had not encoded is lost, the rest of the call is not. Past this the session goes on video-only.
 */
export const MAX_ENCODER_RESTARTS = 3;

export type RecordingAudioDeps = {
  encoder: AacEncoderFactory;
  decoder: () => PcmDecoder;
  /** An AAC-LC frame (raw, no ADTS header) and the wall-clock span it plays; in time order. */
  frame: (raw: Uint8Array, span: FrameSpan) => void;
  /** The encoder died for good (after MAX_ENCODER_RESTARTS replacements): no more frames will come. Told once. */
  failed: (reason: string) => void;
  /** An encoder died and was replaced; frames go on from the audio given to the new one. */
  restarted?: (reason: string) => void;
};

export type RecordingAudioStats = MixerStats & { aacFrames: number; encoderRestarts: number };

export class RecordingAudio {
  readonly #d: RecordingAudioDeps;
  readonly #mixer: AudioMixer;
  #encoder: AacEncoder;
  /** Frames out of the current encoder, and the mixed samples given to earlier ones (where its input starts). */
  #framesOut = 0;
  #aacFrames = 0;
  #samplesIn = 0;
  #encoderStartSample = 0;
  #restarts = 0;
  #failed: string | null = null;
  #stopped = false;

  constructor(deps: RecordingAudioDeps) {
    this.#d = deps;
    this.#mixer = new AudioMixer({ decoder: deps.decoder, jitterMs: JITTER_MS, maxLagMs: MAX_LAG_MS, resyncMs: RESYNC_MS });
    this.#encoder = this.#newEncoder();
  }

  get stats(): RecordingAudioStats {
    return { ...this.#mixer.stats, aacFrames: this.#aacFrames, encoderRestarts: this.#restarts };
  }

  /** Why the encoder failed, once it has. */
  get failure(): string | null {
    return this.#failed;
  }

  /** Wall-clock ms the audio starts at: the first packet of any participant. */
  get startMs(): number | null {
    return this.#mixer.startMs;
  }

  /** Taken into the mix; released by the next pump(). */
  packet(participant: string, rtpTimestamp: number, payload: Uint8Array, nowMs: number): void {
    if (this.#failed === null && !this.#stopped) {
      this.#mixer.packet(participant, rtpTimestamp, nowMs, payload);
    }
  }

  leave(participant: string): void {
    this.#mixer.leave(participant);
  }

  /** Hands the encoder what the mixer has released by now. */
  pump(nowMs: number): void {
    if (this.#failed === null && !this.#stopped) {
      this.#write(this.#mixer.mix(nowMs));
    }
  }

  /** The session's end: everything received is mixed and encoded; resolves once the last frame has been told. */
  async stop(): Promise<void> {
    if (this.#stopped) {
      return;
    }
    this.#stopped = true;
    if (this.#failed === null) {
      this.#write(this.#mixer.flush());
    }
    await this.#encoder.end();
    this.#mixer.close();
  }

  #newEncoder(): AacEncoder {
    let current = true;
    const encoder = this.#d.encoder({
      frame: (raw) => {
        if (current) {
          this.#frame(raw);
        }
      },
      failed: (reason) => {
        if (current) {
          current = false;
          this.#encoderFailed(reason);
        }
      },
    });
    return encoder;
  }

  #write(pcm: Int16Array): void {
    this.#samplesIn += pcm.length / MIX_CHANNELS;
    this.#encoder.write(pcm);
  }

  #frame(raw: Uint8Array): void {
    const index = this.#framesOut;
    const start = this.#mixer.startMs;
    if (this.#failed !== null || start === null) {
      return;
    }
    this.#framesOut++;
    this.#aacFrames++;
    const span = aacFrameSpan(index, start + (this.#encoderStartSample * 1000) / MIX_RATE, MIX_RATE);
    if (span !== null) {
      this.#d.frame(raw, span);
    }
  }

  #encoderFailed(reason: string): void {
    if (this.#failed !== null) {
      return;
    }
    if (this.#restarts >= MAX_ENCODER_RESTARTS || this.#stopped) {
      this.#failed = reason;
      this.#mixer.close();
      this.#d.failed(reason);
      return;
    }
    this.#restarts++;
    this.#encoder.kill();
    // the new encoder starts at the next mixed sample: what the old one had not encoded is a gap, not a shift
    this.#encoderStartSample = this.#samplesIn;
    this.#framesOut = 0;
    this.#encoder = this.#newEncoder();
    this.#d.restarted?.(reason);
  }
}
