import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Pacer } from '../../../src/util/pacer.js';

describe('Pacer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets one second of bytes through at once, then holds the sender to the rate', async () => {
    const pace = new Pacer();
    const signal = new AbortController().signal;
    let sent = 0;
    const send = async (n: number) => {
      await pace.before(n, 1000, signal);
      sent += n;
    };
    await send(1000); // the burst
    const second = send(500);
    await vi.advanceTimersByTimeAsync(499);
    expect(sent).toBe(1000);
    await vi.advanceTimersByTimeAsync(1);
    await second;
    expect(sent).toBe(1500);
  });

  it('stops waiting when the client goes away', async () => {
    const pace = new Pacer();
    const ac = new AbortController();
    await pace.before(1000, 1000, ac.signal);
    let done = false;
    const waiting = pace.before(5000, 1000, ac.signal).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toBe(false);
    ac.abort();
    await waiting;
    expect(done).toBe(true);
  });
});
