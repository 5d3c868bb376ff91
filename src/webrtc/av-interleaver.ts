// Video frames and the recording's AAC frames → one time-ordered stream for the fragment assembler. The AAC comes
// out of the mixer and encoder a few hundred ms after the video of the same moment, and a key frame closes its
// fragment: so each video frame waits until the audio has reached its time — every audio frame that starts before
// a key frame then lands in the fragment the key frame closes, and none after it. The wait is bounded: a frame
// that has waited `maxWaitMs` goes on without the audio (and the audio for before it that comes later is
// dropped), and once the audio is gone for good nothing waits. Pure: times come from the caller.

export type TimedFrame =
  | { kind: 'video'; ms: number; keyframe: boolean; data: Uint8Array }
  | { kind: 'audio'; ms: number; data: Uint8Array };

export type InterleaverStats = {
  /** Video frames released because the audio did not reach them within maxWaitMs. */
  videoWaitsExpired: number;
  /** Audio frames dropped because they came after a key frame later than their time had been released. */
  lateAudioFrames: number;
};

type Waiting = { frame: TimedFrame & { kind: 'video' }; arrivedMs: number };

export class AvInterleaver {
  readonly #maxWaitMs: number;
  /** The audio has been released up to here: no audio frame to come starts before it. Null until audio starts. */
  #audioUntil: number | null = null;
  #gone = false;
  #queue: Waiting[] = [];
  /** Time of the last key frame released: audio that starts before it belongs to a fragment already closed. */
  #lastKeyframeMs = -Infinity;
  readonly stats: InterleaverStats = { videoWaitsExpired: 0, lateAudioFrames: 0 };

  constructor(maxWaitMs: number) {
    this.#maxWaitMs = maxWaitMs;
  }

  /** Video frames waiting for audio. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** The audio starts at `ms` (its first packet): from now on video waits for it. */
  audioStarted(ms: number): void {
    if (this.#audioUntil === null && !this.#gone) {
      this.#audioUntil = ms;
    }
  }

  video(ms: number, keyframe: boolean, data: Uint8Array, nowMs: number): TimedFrame[] {
    this.#queue.push({ frame: { kind: 'video', ms, keyframe, data }, arrivedMs: nowMs });
    return this.#drain(nowMs);
  }

  /** An audio frame and the end of its span (where the next one starts). */
  audio(ms: number, endMs: number, data: Uint8Array, nowMs: number): TimedFrame[] {
    const out: TimedFrame[] = [];
    // video at the frame's own start goes first: a key frame there opens the fragment the frame belongs to
    while (this.#queue.length > 0 && this.#queue[0]!.frame.ms <= ms) {
      out.push(this.#release());
    }
    if (ms < this.#lastKeyframeMs) {
      this.stats.lateAudioFrames++;
    } else {
      out.push({ kind: 'audio', ms, data });
    }
    this.#audioUntil = Math.max(this.#audioUntil ?? endMs, endMs);
    out.push(...this.#drain(nowMs));
    return out;
  }

  /** Frames whose wait is over by now. */
  tick(nowMs: number): TimedFrame[] {
    return this.#drain(nowMs);
  }

  /** No more audio (the encoder died, or the session ended): everything waiting goes, and nothing waits again. */
  audioGone(): TimedFrame[] {
    this.#gone = true;
    this.#audioUntil = null;
    const out: TimedFrame[] = [];
    while (this.#queue.length > 0) {
      out.push(this.#release());
    }
    return out;
  }

  #drain(nowMs: number): TimedFrame[] {
    const out: TimedFrame[] = [];
    for (;;) {
      const head = this.#queue[0];
      if (head === undefined) {
        return out;
      }
      const until = this.#audioUntil;
      if (until === null || head.frame.ms <= until) {
        out.push(this.#release());
      } else if (nowMs - head.arrivedMs >= this.#maxWaitMs) {
        this.stats.videoWaitsExpired++;
        out.push(this.#release());
      } else {
        return out;
      }
    }
  }

  #release(): TimedFrame {
    const { frame } = this.#queue.shift()!;
    if (frame.keyframe) {
      this.#lastKeyframeMs = Math.max(this.#lastKeyframeMs, frame.ms);
    }
    return frame;
  }
}
