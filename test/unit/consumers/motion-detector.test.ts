import { describe, expect, it } from 'vitest';
import type { LumaThumbnail } from '../../../src/consumers/frame.js';
import { DEFAULT_MOTION_THRESHOLD, MotionDetector, motionBetween } from '../../../src/consumers/hooks/motion-detector.js';
import { makeFrame } from './make-frame.js';

/** A w×h thumbnail filled with `base`, with the pixels inside [x0, x1) × [y0, y1) set to `value`. */
function thumb(w: number, h: number, base: number, rect?: { x0: number; y0: number; x1: number; y1: number; value: number }): LumaThumbnail {
  const data = new Uint8Array(w * h).fill(base);
  if (rect !== undefined) {
    for (let y = rect.y0; y < rect.y1; y++) {
      for (let x = rect.x0; x < rect.x1; x++) {
        data[y * w + x] = rect.value;
      }
    }
  }
  return { width: w, height: h, data };
}

describe('motionBetween', () => {
  it('identical thumbnails: share 0, no box', () => {
    expect(motionBetween(thumb(10, 8, 100), thumb(10, 8, 100))).toEqual({ share: 0, box: undefined });
  });

  it.each([
    // rectangle (exclusive ends), share, box
    [{ x0: 2, y0: 1, x1: 5, y1: 5 }, 12 / 80, { x: 0.2, y: 0.125, width: 0.3, height: 0.5 }],
    [{ x0: 0, y0: 0, x1: 1, y1: 1 }, 1 / 80, { x: 0, y: 0, width: 0.1, height: 0.125 }],
    [{ x0: 9, y0: 7, x1: 10, y1: 8 }, 1 / 80, { x: 0.9, y: 0.875, width: 0.1, height: 0.125 }],
    [{ x0: 0, y0: 0, x1: 10, y1: 8 }, 1, { x: 0, y: 0, width: 1, height: 1 }],
    [{ x0: 5, y0: 0, x1: 10, y1: 8 }, 0.5, { x: 0.5, y: 0, width: 0.5, height: 1 }],
  ])('a changed rectangle %j: share %f and its box exactly', (rect, share, box) => {
    expect(motionBetween(thumb(10, 8, 100), thumb(10, 8, 100, { ...rect, value: 200 }))).toEqual({ share, box });
  });

  it('the box spans every changed pixel, the share counts only the changed ones', () => {
    const cur = thumb(10, 8, 50);
    cur.data[1 * 10 + 1] = 0; // (1,1) darker by 50
    cur.data[6 * 10 + 8] = 255; // (8,6) brighter
    expect(motionBetween(thumb(10, 8, 50), cur)).toEqual({ share: 2 / 80, box: { x: 0.1, y: 0.125, width: 0.8, height: 0.75 } });
  });

  it.each([
    [25, 0],
    [26, 1 / 80],
    [-25, 0],
    [-26, 1 / 80],
  ])('a luma change of %i counts as motion share %f (more than 25 needed)', (delta, share) => {
    const cur = thumb(10, 8, 100);
    cur.data[0] = 100 + delta;
    expect(motionBetween(thumb(10, 8, 100), cur)?.share).toBe(share);
  });

  it.each([
    ['widths differ', thumb(10, 8, 0), thumb(8, 10, 0)],
    ['heights differ', thumb(10, 8, 0), thumb(10, 9, 0)],
    ['data shorter than width×height', thumb(10, 8, 0), { width: 10, height: 8, data: new Uint8Array(79) }],
    ['zero width', { width: 0, height: 0, data: new Uint8Array(0) }, { width: 0, height: 0, data: new Uint8Array(0) }],
  ])('%s → null', (_name, prev, cur) => {
    expect(motionBetween(prev, cur)).toBeNull();
  });
});

describe('MotionDetector', () => {
  const still = thumb(10, 8, 100);
  const moved = thumb(10, 8, 100, { x0: 2, y0: 1, x1: 5, y1: 5, value: 200 }); // 12/80 = 0.15 of the picture

  it('default threshold is 0.02', () => {
    expect(DEFAULT_MOTION_THRESHOLD).toBe(0.02);
  });

  it('never emits on the first frame, however different it is from nothing', async () => {
    const m = new MotionDetector('motion', 0);
    expect(await m.deliver(makeFrame({ luma: moved }))).toEqual([]);
    expect(m.name).toBe('motion');
    expect(m.type).toBe('MOTION');
  });

  it.each([
    ['below the threshold', 0.16, []],
    ['exactly at the threshold', 0.15, [{ label: 'motion', confidence: 0.15, box: { x: 0.2, y: 0.125, width: 0.3, height: 0.5 } }]],
    ['above the threshold', 0.02, [{ label: 'motion', confidence: 0.15, box: { x: 0.2, y: 0.125, width: 0.3, height: 0.5 } }]],
  ])('a 0.15 change %s (%f)', async (_name, threshold, expected) => {
    const m = new MotionDetector('motion', threshold);
    await m.deliver(makeFrame({ luma: still }));
    expect(await m.deliver(makeFrame({ luma: moved }))).toEqual(expected);
  });

  it('compares each frame with the one just before it', async () => {
    const m = new MotionDetector('motion', 0.02);
    const seq = [still, still, moved, moved, still, thumb(8, 8, 0), thumb(8, 8, 0), thumb(8, 8, 255)];
    const out: number[] = [];
    for (const luma of seq) {
      out.push((await m.deliver(makeFrame({ luma }))).length);
    }
    // a resolution change (10x8 → 8x8) is no motion; the next comparison is on the new size
    expect(out).toEqual([0, 0, 1, 0, 1, 0, 0, 1]);
  });

  it('at the smallest threshold the API allows (0.0001) an unchanged frame is still no motion', async () => {
    const m = new MotionDetector('m', 0.0001);
    await m.deliver(makeFrame({ luma: still }));
    expect(await m.deliver(makeFrame({ luma: still }))).toEqual([]);
  });
});
