import { describe, expect, it } from 'vitest';
import { AvInterleaver, type TimedFrame } from '../../../src/webrtc/av-interleaver.js';

const AAC_MS = 1024 / 48;
const bytes = new Uint8Array(1);
/** 'V1000k' for a key frame at 1000 ms, 'V1033' for a delta frame, 'A1000' for an audio frame. */
const names = (frames: TimedFrame[]): string[] => frames.map((f) => (f.kind === 'video' ? `V${Math.round(f.ms)}${f.keyframe ? 'k' : ''}` : `A${Math.round(f.ms)}`));

describe('AvInterleaver', () => {
  it('holds video until the audio reaches its time, so the audio before a key frame stays in front of it', () => {
    const g = new AvInterleaver(500);
    const out: TimedFrame[] = [];
    // before any audio, nothing waits
    out.push(...g.video(990, false, bytes, 990));
    g.audioStarted(1000);
    out.push(...g.video(1000, true, bytes, 1000));
    out.push(...g.video(1033, false, bytes, 1033));
    out.push(...g.video(1066, true, bytes, 1066));
    expect(names(out)).toEqual(['V990', 'V1000k']);
    expect(g.waiting).toBe(2);
    // audio frames of 21.3 ms from 1000 ms, coming out of the encoder later
    for (let i = 0; i < 4; i++) {
      const ms = 1000 + i * AAC_MS;
      out.push(...g.audio(ms, ms + AAC_MS, bytes, 1200));
    }
    // A1043 ends at 1064 < 1066: the key frame at 1066 waited for A1064, which starts before it
    expect(names(out)).toEqual(['V990', 'V1000k', 'A1000', 'A1021', 'V1033', 'A1043', 'A1064', 'V1066k']);
    expect(g.waiting).toBe(0);
    expect(names(g.audio(1000 + 4 * AAC_MS, 1000 + 5 * AAC_MS, bytes, 1210))).toEqual(['A1085']);
    expect(g.stats).toEqual({ videoWaitsExpired: 0, lateAudioFrames: 0 });
  });

  it('puts a key frame at exactly an audio frame’s start before that frame', () => {
    const g = new AvInterleaver(500);
    g.audioStarted(0);
    expect(g.video(2 * AAC_MS, true, bytes, 50)).toEqual([]);
    const out = [...g.audio(0, AAC_MS, bytes, 100), ...g.audio(AAC_MS, 2 * AAC_MS, bytes, 100), ...g.audio(2 * AAC_MS, 3 * AAC_MS, bytes, 100)];
    expect(names(out)).toEqual(['A0', 'A21', 'V43k', 'A43']);
  });

  it('lets a video frame go after maxWaitMs without the audio, and drops the audio that then comes too late', () => {
    const g = new AvInterleaver(500);
    g.audioStarted(1000);
    expect(g.video(1100, true, bytes, 1100)).toEqual([]);
    expect(g.tick(1599)).toEqual([]);
    expect(names(g.tick(1600))).toEqual(['V1100k']);
    // audio for before the key frame has a fragment that is already closed; from the key frame on it is kept
    expect(names(g.audio(1000, 1000 + AAC_MS, bytes, 1700))).toEqual([]);
    expect(names(g.audio(1100, 1100 + AAC_MS, bytes, 1700))).toEqual(['A1100']);
    expect(g.stats).toEqual({ videoWaitsExpired: 1, lateAudioFrames: 1 });
  });

  it('once the audio is gone, releases everything waiting and never holds video again', () => {
    const g = new AvInterleaver(500);
    g.audioStarted(0);
    g.video(10, true, bytes, 10);
    g.video(43, false, bytes, 43);
    expect(names(g.audioGone())).toEqual(['V10k', 'V43']);
    expect(names(g.video(76, false, bytes, 76))).toEqual(['V76']);
    g.audioStarted(0);
    expect(names(g.video(109, false, bytes, 109))).toEqual(['V109']);
  });
});
