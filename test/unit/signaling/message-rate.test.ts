import { describe, expect, it } from 'vitest';
import { MESSAGE_BURST_FACTOR, MESSAGE_RATES, MessageRate } from '../../../src/signaling/message-rate.js';
import { ManualClock } from '../../../src/util/clock.js';

describe('MessageRate (KVS per-connection message quotas)', () => {
  it.each(Object.entries(MESSAGE_RATES) as [keyof typeof MESSAGE_RATES, number][])('%s: a burst of %i × 2 at once, then the rate per second', (action, rate) => {
    const clock = new ManualClock(0);
    const r = new MessageRate(clock);
    const burst = rate * MESSAGE_BURST_FACTOR;
    const first = Array.from({ length: burst + 5 }, () => r.allow(action));
    expect(first.filter(Boolean)).toHaveLength(burst);
    expect(first.slice(burst)).toEqual([false, false, false, false, false]);
    expect(r.refused).toBe(5);
    clock.advance(1000);
    const next = Array.from({ length: rate + 1 }, () => r.allow(action));
    expect(next.filter(Boolean)).toHaveLength(rate);
  });

  it('counts each action on its own: ICE candidates past their quota do not hold back an answer', () => {
    const r = new MessageRate(new ManualClock(0));
    while (r.allow('ICE_CANDIDATE')) {
      // spend the candidates' burst
    }
    expect(r.allow('SDP_ANSWER')).toBe(true);
    expect(r.allow('SDP_OFFER')).toBe(true);
  });
});
