import { describe, expect, it } from 'vitest';
import { AudioFloor, FLOOR_HOLD_MS, isTalking } from '../../../src/webrtc/relay-audio-floor.js';

describe('relay audio floor', () => {
  it('gives the floor to the first viewer heard and keeps it while that viewer talks', () => {
    const f = new AudioFloor();
    expect(f.take('a', { sequenceNumber: 10, timestamp: 1000 }, true, 0)).toEqual({ sequenceNumber: 10, timestamp: 1000 });
    expect(f.take('b', { sequenceNumber: 500, timestamp: 9000 }, true, 20)).toBeNull();
    expect(f.take('a', { sequenceNumber: 11, timestamp: 1960 }, true, 20)).toEqual({ sequenceNumber: 11, timestamp: 1960 });
    expect(f.holder).toBe('a');
  });

  it('passes to the viewer who spoke most recently once the holder has been quiet, continuing the sequence', () => {
    const f = new AudioFloor();
    f.take('a', { sequenceNumber: 65_535, timestamp: 2 ** 32 - 960 }, true, 0);
    // a goes quiet (still sending DTX frames): b cannot take the floor within the hold time, then can
    f.take('a', { sequenceNumber: 0, timestamp: 0 }, false, 20);
    expect(f.take('b', { sequenceNumber: 7, timestamp: 70 }, true, FLOOR_HOLD_MS - 10)).toBeNull();
    expect(f.take('b', { sequenceNumber: 8, timestamp: 1030 }, true, FLOOR_HOLD_MS + 20)).toEqual({ sequenceNumber: 1, timestamp: (FLOOR_HOLD_MS + 20 - 20) * 48 });
    expect(f.take('b', { sequenceNumber: 9, timestamp: 1990 }, true, FLOOR_HOLD_MS + 40)).toEqual({ sequenceNumber: 2, timestamp: (FLOOR_HOLD_MS + 20 - 20) * 48 + 960 });
    expect(f.take('a', { sequenceNumber: 1, timestamp: 960 }, false, FLOOR_HOLD_MS + 40)).toBeNull();
  });

  it('frees the floor when the holder leaves; talking is the audio level when sent, else more than a DTX frame', () => {
    const f = new AudioFloor();
    f.take('a', { sequenceNumber: 1, timestamp: 1 }, true, 0);
    f.release('a');
    expect(f.take('b', { sequenceNumber: 5, timestamp: 5 }, false, 10)).not.toBeNull();
    expect([isTalking(80, 30), isTalking(80, 90), isTalking(1, undefined), isTalking(60, undefined)]).toEqual([true, false, false, true]);
  });
});
