import { describe, expect, it } from 'vitest';
import { KEY_FRAME_RETRY_MS, SOURCE_QUIET_MS, VideoSource } from '../../../src/webrtc/relay-video-source.js';

const KEY = Uint8Array.of(0x65, 0x88); // an IDR slice
const DELTA = Uint8Array.of(0x41, 0x9a); // a non-IDR slice
const pkt = (sequenceNumber: number, timestamp: number, payload = DELTA) => ({ sequenceNumber, timestamp, payload });

function source(): { v: VideoSource; asked: string[] } {
  const asked: string[] = [];
  return { v: new VideoSource((id) => asked.push(id)), asked };
}

describe('relay video source', () => {
  it('shows the first viewer sending video from its key frame on, asking it for one at once', () => {
    const { v, asked } = source();
    expect(v.take('a', pkt(100, 9000), null, 0)).toBeNull();
    expect(asked).toEqual(['a']);
    expect(v.take('a', pkt(101, 12_000, KEY), null, 40)).toEqual({ sequenceNumber: 101, timestamp: 12_000 });
    expect(v.take('a', pkt(102, 15_000), null, 73)).toEqual({ sequenceNumber: 102, timestamp: 15_000 });
    expect(v.take('b', pkt(7, 70, KEY), null, 80)).toBeNull();
    expect(v.source).toBe('a');
  });

  it('asks again while the key frame does not come', () => {
    const { v, asked } = source();
    v.take('a', pkt(1, 0), null, 0);
    v.take('a', pkt(2, 3000), null, KEY_FRAME_RETRY_MS - 1);
    v.take('a', pkt(3, 6000), null, KEY_FRAME_RETRY_MS);
    expect(asked).toEqual(['a', 'a']);
  });

  it('follows the audio floor to a viewer that sends video, splicing it on at its key frame', () => {
    const { v, asked } = source();
    v.take('a', pkt(65_535, 2 ** 32 - 3000, KEY), null, 0);
    v.take('a', pkt(0, 0), null, 33);
    // b has the floor now: it is asked for a key frame, and its packets wait for it; a is no longer shown
    expect(v.take('b', pkt(500, 77_000), 'b', 50)).toBeNull();
    expect(v.take('a', pkt(1, 3000), 'b', 66)).toBeNull();
    expect(asked).toEqual(['a', 'b']);
    expect(v.take('b', pkt(501, 80_000, KEY), 'b', 100)).toEqual({ sequenceNumber: 1, timestamp: (100 - 33) * 90 });
    expect(v.take('b', pkt(502, 83_000), 'b', 133)).toEqual({ sequenceNumber: 2, timestamp: (100 - 33) * 90 + 3000 });
  });

  it('gives way when the source stops sending or leaves, and passes key-frame requests to it', () => {
    const { v, asked } = source();
    v.take('a', pkt(1, 0, KEY), null, 0);
    expect(v.take('b', pkt(1, 0, KEY), null, SOURCE_QUIET_MS)).toBeNull();
    expect(v.take('b', pkt(2, 3000, KEY), null, SOURCE_QUIET_MS + 1)).not.toBeNull();
    v.keyFrameRequested();
    v.release('b');
    expect(v.take('c', pkt(9, 9, KEY), null, SOURCE_QUIET_MS + 2)).not.toBeNull();
    expect(asked).toEqual(['a', 'b', 'b', 'c']);
  });
});
