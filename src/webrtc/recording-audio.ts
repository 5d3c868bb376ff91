// A recording's audio path: every participant's Opus → the mixer → one AAC encoder for the session → timed AAC
// frames for the fragments. KVS stores WebRTC ingestion as H.264 + AAC (kvs-api.md §5.3 item 5), which is what
// HLS, DASH and GetClip can play; Opus a producer uploads through PutMedia is stored as it is (ingest/).

import type { AacEncoder, AacEncoderFactory } from './aac-encoder.js';
import { aacFrameSpan, type FrameSpan } from './aac-timing.js';
import { AudioMixer, MIX_RATE, type MixerStats, type PcmDecoder } from './audio-mixer.js';

/** Reordered packets up to this late are still mixed in; the fragments wait this long (plus the encoder) for audio. */
const JITTER_MS = 100;
/** When nobody is sending, silence is released this far behind the wall clock. */
const MAX_LAG_MS = 250;
/** A participant whose RTP clock lands this far off is anchored again (a restarted sender, a big jump). */
const RESYNC_MS = 2000;

export type RecordingAudioDeps = {
  encoder: AacEncoderFactory;
  decoder: () => PcmDecoder;
  /** An AAC-LC frame (raw, no ADTS header) and the wall-clock span it plays; in time order. */
  frame: (raw: Uint8Array, span: FrameSpan) => void;
  /** The encoder died: no more frames will come. Told once. */
  failed: (reason: string) => void;
};

export type RecordingAudioStats = MixerStats & { aacFrames: number };

export class RecordingAudio {
  readonly #d: RecordingAudioDeps;
  readonly #mixer: AudioMixer;
  readonly #encoder: AacEncoder;
  #framesOut = 0;
  #failed: string | null = null;
  #stopped = false;

  constructor(deps: RecordingAudioDeps) {
    this.#d = deps;
    this.#mixer = new AudioMixer({ decoder: deps.decoder, jitterMs: JITTER_MS, maxLagMs: MAX_LAG_MS, resyncMs: RESYNC_MS });
    this.#encoder = deps.encoder({ frame: (raw) => this.#frame(raw), failed: (reason) => this.#fail(reason) });
  }

  get stats(): RecordingAudioStats {
    return { ...this.#mixer.stats, aacFrames: this.#framesOut };
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
      this.#encoder.write(this.#mixer.mix(nowMs));
    }
  }

  /** The session's end: everything received is mixed and encoded; resolves once the last frame has been told. */
  async stop(): Promise<void> {
    if (this.#stopped) {
      return;
    }
    this.#stopped = true;
    if (this.#failed === null) {
      this.#encoder.write(this.#mixer.flush());
    }
    await this.#encoder.end();
    this.#mixer.close();
  }

  #frame(raw: Uint8Array): void {
    const index = this.#framesOut;
    const start = this.#mixer.startMs;
    if (this.#failed !== null || start === null) {
      return;
    }
    this.#framesOut++;
    const span = aacFrameSpan(index, start, MIX_RATE);
    if (span !== null) {
      this.#d.frame(raw, span);
    }
  }

  #fail(reason: string): void {
    if (this.#failed === null) {
      this.#failed = reason;
      this.#mixer.close();
      this.#d.failed(reason);
    }
  }
}
