import { describe, expect, it } from 'vitest';
import { AAC_FRAME_SAMPLES, FFMPEG_AAC_DELAY_SAMPLES, aacFrameSpan, aacFramesFor } from '../../../src/webrtc/aac-timing.js';

const START = 1_700_000_000_000;
const FRAME_MS = (AAC_FRAME_SAMPLES * 1000) / 48_000;

describe('aacFrameSpan', () => {
  it.each([
    // [name, frame index, encoder delay in samples, expected span from START in ms (null: priming, left out)]
    ['the first frame of ffmpeg’s aac is priming', 0, FFMPEG_AAC_DELAY_SAMPLES, null],
    ['the second frame plays the first input sample', 1, FFMPEG_AAC_DELAY_SAMPLES, [0, FRAME_MS]],
    ['frame 48 starts 47 frames (1002.67 ms) in', 48, FFMPEG_AAC_DELAY_SAMPLES, [47 * FRAME_MS, 48 * FRAME_MS]],
    ['without a delay frame 0 starts at the input', 0, 0, [0, FRAME_MS]],
    ['a delay of 2112 (other AAC encoders) leaves out the first three frames', 2, 2112, null],
    ['and the fourth starts 960 samples in', 3, 2112, [20, 20 + FRAME_MS]],
  ] as [string, number, number, [number, number] | null][])('%s', (_name, index, delay, expected) => {
    const span = aacFrameSpan(index, START, 48_000, delay);
    if (expected === null) {
      expect(span).toBeNull();
    } else {
      expect(span!.ms - START).toBeCloseTo(expected[0], 3);
      expect(span!.endMs - START).toBeCloseTo(expected[1], 3);
    }
  });

  it('makes each frame end where the next one starts, so the audio has no gaps or overlaps', () => {
    for (let i = 1; i < 5000; i++) {
      expect(aacFrameSpan(i + 1, START, 48_000)!.ms).toBe(aacFrameSpan(i, START, 48_000)!.endMs);
    }
  });

  it('counts the frames a flushed encoder writes: the input plus the delay, the last frame padded', () => {
    expect(aacFramesFor(48_000)).toBe(48);
    expect(aacFramesFor(1024)).toBe(2);
    expect(aacFramesFor(1025)).toBe(3);
  });
});
