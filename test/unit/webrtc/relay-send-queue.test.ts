import { describe, expect, it } from 'vitest';
import { SendQueue } from '../../../src/webrtc/relay-send-queue.js';

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
    // one send in flight forever, 8 waiting, the rest dropped
    expect(stalled.stats).toEqual({ sent: 0, dropped: 991, queued: 8 });
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
