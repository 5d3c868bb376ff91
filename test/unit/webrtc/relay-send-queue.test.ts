import { describe, expect, it } from 'vitest';
import { MAX_IN_FLIGHT, SendQueue } from '../../../src/webrtc/relay-send-queue.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('relay send queue', () => {
  it('sends everything in order when the transport keeps up', async () => {
    const got: number[] = [];
    const q = new SendQueue<number>(async (x) => void got.push(x), 4);
    for (let i = 0; i < 100; i++) {
      q.push(i);
      await tick();
    }
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(q.stats).toEqual({ sent: 100, dropped: 0, queued: 0 });
  });

  it('drops and counts for a stalled transport while another queue fed the same packets gets them all', async () => {
    const fast: number[] = [];
    const stalled = new SendQueue<number>(() => new Promise(() => undefined), 8);
    const healthy = new SendQueue<number>(async (x) => void fast.push(x), 8);
    for (let i = 0; i < 1000; i++) {
      stalled.push(i);
      healthy.push(i);
      await tick();
    }
    expect(fast).toHaveLength(1000);
    // MAX_IN_FLIGHT sends in flight forever, 8 waiting, the rest dropped
    expect(stalled.stats).toEqual({ sent: 0, dropped: 1000 - MAX_IN_FLIGHT - 8, queued: 8 });
  });

  it('starts sends without waiting for the ones in flight, in push order, up to its limit', async () => {
    const started: number[] = [];
    const settle: (() => void)[] = [];
    const q = new SendQueue<number>((x) => new Promise<void>((r) => { started.push(x); settle.push(r); }), 100, 3);
    for (let i = 0; i < 10; i++) {
      q.push(i);
    }
    // a whole frame's packets go out in one turn, not one per settled send
    expect(started).toEqual([0, 1, 2]);
    expect(q.stats).toEqual({ sent: 0, dropped: 0, queued: 7 });
    settle.shift()!();
    settle.shift()!();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    while (settle.length > 0) {
      settle.shift()!();
      await tick();
    }
    expect(started).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(q.stats).toEqual({ sent: 10, dropped: 0, queued: 0 });
  });

  it('counts a failed send as a drop and keeps going; a closed queue takes nothing', async () => {
    const q = new SendQueue<number>(async (x) => {
      if (x === 1) {
        throw new Error('transport gone');
      }
    });
    q.push(0);
    q.push(1);
    q.push(2);
    await tick();
    expect(q.stats).toEqual({ sent: 2, dropped: 1, queued: 0 });
    q.close();
    expect(q.push(3)).toBe(false);
  });
});
