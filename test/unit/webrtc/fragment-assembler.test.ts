import { describe, expect, it } from 'vitest';
import { parseClusterBlocks } from '../../../src/formats/mkv/mkv-blocks.js';
import { FragmentAssembler, KEYFRAME_WANTED_AFTER_MS, type AssembledFragment } from '../../../src/webrtc/fragment-assembler.js';
import { RtpClock } from '../../../src/webrtc/rtp-clock.js';

const LIMITS = { maxDurationMs: 20_000, maxBytes: 1024 * 1024, minDurationMs: 200, audioFragmentMs: 2000 };
const T0 = 1_700_000_000_000;
const frame = (n: number): Uint8Array => new Uint8Array([0, 0, 0, 1, n & 0xff]);

/** (track, offset from the cluster, keyframe) of each block. */
const blocksOf = (f: AssembledFragment): [number, number, boolean][] => {
  const { timecode, blocks } = parseClusterBlocks(f.clusterBytes);
  return blocks.map((b) => [b.track, b.timecode - timecode, b.keyframe]);
};

describe('FragmentAssembler', () => {
  it('starts at the first key frame and cuts one fragment per key frame, audio in the same clusters', () => {
    const a = new FragmentAssembler({ video: 1, audio: 2 }, LIMITS);
    const out: AssembledFragment[] = [];
    const push = (f: AssembledFragment | null): void => void (f !== null && out.push(f));
    push(a.video(T0 - 66, false, frame(0)));
    push(a.audio(T0 - 50, frame(1)));
    expect(a.droppedBeforeKeyframe).toBe(1);
    push(a.video(T0, true, frame(2)));
    push(a.audio(T0 - 5, frame(3)));
    push(a.audio(T0 + 20, frame(4)));
    push(a.video(T0 + 33.4, false, frame(5)));
    push(a.video(T0 + 1000, true, frame(6)));
    push(a.video(T0 + 1033, false, frame(7)));
    push(a.flush());
    expect(out.map((f) => [f.timecode, f.durationMs, f.startsWithKeyframe])).toEqual([
      [T0, 1000, true],
      [T0 + 1000, 66, true],
    ]);
    // the audio sent just before the key frame sits at the cluster's start; blocks in time order
    expect(blocksOf(out[0]!)).toEqual([
      [1, 0, true],
      [2, 0, true],
      [2, 20, true],
      [1, 33, false],
    ]);
    expect(out[1]!.blockCount).toBe(2);
  });

  it('keeps a key frame sooner than minDurationMs in the open fragment, and cuts at maxDurationMs without one', () => {
    const a = new FragmentAssembler({ video: 1, audio: null }, { ...LIMITS, maxDurationMs: 1000 });
    expect(a.video(T0, true, frame(0))).toBeNull();
    expect(a.video(T0 + 100, true, frame(1))).toBeNull();
    expect(a.wantsKeyframe).toBe(false);
    expect(a.video(T0 + 700, false, frame(2))).toBeNull();
    expect(a.wantsKeyframe).toBe(true);
    const cut = a.video(T0 + 1000, false, frame(3));
    expect(cut).toMatchObject({ timecode: T0, durationMs: 1000, blockCount: 3, startsWithKeyframe: true });
    expect(a.flush()).toMatchObject({ timecode: T0 + 1000, startsWithKeyframe: false });
  });

  it(`asks for a key frame once a fragment passes ${KEYFRAME_WANTED_AFTER_MS} ms, however long fragments may be`, () => {
    const a = new FragmentAssembler({ video: 1, audio: null }, { ...LIMITS, maxDurationMs: 18_000 });
    a.video(T0, true, frame(0));
    a.video(T0 + KEYFRAME_WANTED_AFTER_MS, false, frame(1));
    expect(a.wantsKeyframe).toBe(false);
    a.video(T0 + KEYFRAME_WANTED_AFTER_MS + 33, false, frame(2));
    expect(a.wantsKeyframe).toBe(true);
    a.video(T0 + KEYFRAME_WANTED_AFTER_MS + 66, true, frame(3));
    expect(a.wantsKeyframe).toBe(false);
  });

  it('cuts an audio-only session every audioFragmentMs and before a frame would pass maxBytes', () => {
    const a = new FragmentAssembler({ video: null, audio: 1 }, LIMITS);
    const cuts: AssembledFragment[] = [];
    for (let t = 0; t <= 4000; t += 20) {
      const f = a.audio(T0 + t, frame(t));
      if (f !== null) {
        cuts.push(f);
      }
    }
    expect(cuts.map((f) => [f.timecode - T0, f.durationMs, f.blockCount])).toEqual([
      [0, 2000, 100],
      [2000, 2000, 100],
    ]);
    const small = new FragmentAssembler({ video: null, audio: 1 }, { ...LIMITS, maxBytes: 200 });
    const sizes: number[] = [];
    for (let t = 0; t < 200; t += 20) {
      const f = small.audio(T0 + t, new Uint8Array(40));
      if (f !== null) {
        sizes.push(f.clusterBytes.length);
      }
    }
    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes.every((s) => s <= 200)).toBe(true);
  });
});

describe('RtpClock', () => {
  it('anchors the first timestamp at its arrival and unwraps at 2^32', () => {
    const c = new RtpClock(90_000);
    expect(c.toMs(2 ** 32 - 900, T0)).toBe(T0);
    expect(c.toMs(2 ** 32 - 450, T0 + 999)).toBe(T0 + 5);
    expect(c.toMs(900, T0 + 999)).toBe(T0 + 20);
    expect(c.toMs(0, T0 + 999)).toBe(T0 + 10);
  });
});
