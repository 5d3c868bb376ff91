// When each AAC frame of a recording plays. The encoder is given one continuous PCM stream from the session's
// audio start, so a frame's time is its sample count — 1024 samples per AAC-LC frame — minus the encoder's delay:
// ffmpeg's native AAC encoder puts one frame of priming before the input (initial_padding 1024), so its first
// output frame decodes to the silence before the start and frame i ≥ 1 to input samples (i − 1)·1024 onwards.
// Timing frames by their index alone would put the audio 21 ms late against the video.

export const AAC_FRAME_SAMPLES = 1024;
/** ffmpeg's `aac` encoder (libavcodec/aacenc.c `initial_padding`); pinned by test/unit/webrtc/aac-encoder.test.ts. */
export const FFMPEG_AAC_DELAY_SAMPLES = 1024;

export type FrameSpan = { ms: number; endMs: number };

/**
 * Wall-clock span of the encoder's `index`-th output frame (0-based) for input starting at `startMs`, or null for
 * a frame that begins before the input (priming: it is left out, the recording starts with real audio).
 */
export function aacFrameSpan(index: number, startMs: number, sampleRate: number, delaySamples = FFMPEG_AAC_DELAY_SAMPLES): FrameSpan | null {
  const first = index * AAC_FRAME_SAMPLES - delaySamples;
  if (first < 0) {
    return null;
  }
  return { ms: startMs + (first * 1000) / sampleRate, endMs: startMs + ((first + AAC_FRAME_SAMPLES) * 1000) / sampleRate };
}

/** Frames an encoder with this delay writes for `samples` input samples once flushed (the last one padded). */
export const aacFramesFor = (samples: number, delaySamples = FFMPEG_AAC_DELAY_SAMPLES): number => Math.ceil((samples + delaySamples) / AAC_FRAME_SAMPLES);
