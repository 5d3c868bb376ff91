import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KEY_FRAME_INTERVAL_MS, KeyFrameRequests } from '../../../src/webrtc/key-frame-requests.js';

describe('KeyFrameRequests', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first request at once and coalesces those inside the interval into one at its end', () => {
    let sent = 0;
    const k = new KeyFrameRequests(() => sent++);
    k.request();
    expect(sent).toBe(1);
    for (let i = 0; i < 20; i++) {
      k.request();
    }
    expect(sent).toBe(1);
    vi.advanceTimersByTime(KEY_FRAME_INTERVAL_MS);
    expect(sent).toBe(2);
    expect(k.sent).toBe(2);
    vi.advanceTimersByTime(10 * KEY_FRAME_INTERVAL_MS);
    expect(sent).toBe(2);
  });

  it('drops a waiting request when cancelled (the sender went away)', () => {
    let sent = 0;
    const k = new KeyFrameRequests(() => sent++);
    k.request();
    k.request();
    k.cancel();
    vi.advanceTimersByTime(10 * KEY_FRAME_INTERVAL_MS);
    expect(sent).toBe(1);
  });
});
