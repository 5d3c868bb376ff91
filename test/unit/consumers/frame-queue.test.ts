import { describe, expect, it } from 'vitest';
import { FrameQueue } from '../../../src/consumers/frame-queue.js';

/** Resolves on the next macrotask: long enough for any already-settled promise chain to run. */
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('FrameQueue', () => {
  it('hands items out oldest first', async () => {
    const q = new FrameQueue<number>(8);
    for (const n of [1, 2, 3]) {
      expect(q.push(n)).toEqual([]);
    }
    expect(q.length).toBe(3);
    expect([await q.take(), await q.take(), await q.take()]).toEqual([1, 2, 3]);
    expect(q.length).toBe(0);
    expect(q.dropped).toBe(0);
  });

  it.each([
    // capacity, pushed, dropped by each push (in push order), what is left
    [1, [1, 2, 3], [[], [1], [2]], [3]],
    [3, [1, 2, 3], [[], [], []], [1, 2, 3]],
    [3, [1, 2, 3, 4, 5], [[], [], [], [1], [2]], [3, 4, 5]],
    [2, [1, 2, 3, 4, 5, 6, 7], [[], [], [1], [2], [3], [4], [5]], [6, 7]],
  ])('capacity %i: pushing %j drops the oldest at capacity', async (capacity, pushed, droppedPerPush, left) => {
    const q = new FrameQueue<number>(capacity);
    expect(pushed.map((n) => q.push(n))).toEqual(droppedPerPush);
    expect(q.dropped).toBe(droppedPerPush.flat().length);
    expect(q.length).toBe(left.length);
    const out: (number | undefined)[] = [];
    for (let i = 0; i < left.length; i++) {
      out.push(await q.take());
    }
    expect(out).toEqual(left);
  });

  it('a take waiting on an empty queue gets the next push', async () => {
    const q = new FrameQueue<string>(4);
    let got: string | undefined | null = null;
    const taking = q.take().then((v) => (got = v));
    await tick();
    expect(got).toBeNull();
    q.push('a');
    await taking;
    expect(got).toBe('a');
  });

  it('close wakes a waiting take with undefined', async () => {
    const q = new FrameQueue<string>(4);
    let got: string | undefined | null = null;
    const taking = q.take().then((v) => (got = v));
    await tick();
    expect(got).toBeNull();
    q.close();
    await taking;
    expect(got).toBeUndefined();
  });

  it('close discards what is queued; later takes answer undefined and pushes are refused, uncounted', async () => {
    const q = new FrameQueue<number>(4);
    q.push(1);
    q.push(2);
    q.close();
    expect(q.length).toBe(0);
    expect(await q.take()).toBeUndefined();
    expect(q.push(3)).toEqual([3]);
    expect(q.length).toBe(0);
    expect(q.dropped).toBe(0);
    expect(await q.take()).toBeUndefined();
  });
});
