import { describe, expect, it } from 'vitest';
import { RATE_WINDOW_SECONDS, RateWindow } from '../../../src/metrics/rate-window.js';

describe('RateWindow', () => {
  it('averages what was added over the window and forgets seconds that left it', () => {
    let now = 1_000_000;
    const w = new RateWindow(() => now);
    w.add(100);
    now += 1000;
    w.add(50);
    expect(w.perSecond()).toBe(150 / RATE_WINDOW_SECONDS);
    now += (RATE_WINDOW_SECONDS - 1) * 1000;
    expect(w.perSecond()).toBe(50 / RATE_WINDOW_SECONDS);
    now += 1000;
    expect(w.perSecond()).toBe(0);
  });

  it('is empty after a long silence', () => {
    let now = 5_000;
    const w = new RateWindow(() => now);
    w.add(10);
    now += 3_600_000;
    w.add(1);
    expect(w.perSecond()).toBe(1 / RATE_WINDOW_SECONDS);
  });
});
