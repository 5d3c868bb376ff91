import { describe, expect, it } from 'vitest';
import { StreamBuffer } from '../../../../src/formats/mkv/mkv-buffer.js';
import { prng } from './real-media.js';

describe('StreamBuffer', () => {
  it('keeps every byte from keepFrom on, across compactions and growth', () => {
    const rnd = prng(7);
    const source = Uint8Array.from({ length: 3_000_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
    const buf = new StreamBuffer();
    let written = 0;
    let keepFrom = 0;
    while (written < source.length) {
      const n = Math.min(source.length - written, 1 + Math.floor(rnd() * 70_000));
      buf.append(source.subarray(written, written + n), keepFrom);
      written += n;
      expect(buf.end).toBe(written);
      expect(buf.start).toBeLessThanOrEqual(keepFrom);
      // Retained regions ("clusters") of up to ~300 KB, released as parsing moves on.
      const from = keepFrom + Math.floor(rnd() * Math.min(2000, written - keepFrom));
      expect(Buffer.compare(buf.slice(from, written), source.subarray(from, written))).toBe(0);
      if (rnd() < 0.3 || written - keepFrom > 300_000) {
        keepFrom = written - Math.floor(rnd() * Math.min(1000, written - keepFrom));
      }
      // Memory stays within a small multiple of what is retained.
      expect(buf.capacity).toBeLessThanOrEqual(Math.max(64 * 1024, 8 * (written - buf.start) + 2 * 70_000));
    }
  });

  it('returns copies from slice()', () => {
    const buf = new StreamBuffer();
    buf.append(Uint8Array.of(1, 2, 3), 0);
    const s = buf.slice(0, 3);
    buf.append(Uint8Array.of(4), 0);
    s[0] = 9;
    expect([...buf.slice(0, 4)]).toEqual([1, 2, 3, 4]);
  });

  it('gives memory back after a burst, but not between ordinary clusters', () => {
    const buf = new StreamBuffer();
    const chunk = new Uint8Array(64 * 1024);
    let end = 0;
    // One 8 MB cluster retained whole.
    for (let i = 0; i < 128; i++) {
      buf.append(chunk, 0);
      end += chunk.length;
    }
    const burst = buf.capacity;
    expect(burst).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    // Then 256 KB clusters: the buffer shrinks once and stays put.
    const sizes: number[] = [];
    for (let c = 0; c < 60; c++) {
      const start = end;
      for (let i = 0; i < 4; i++) {
        buf.append(chunk, start);
        end += chunk.length;
      }
      sizes.push(buf.capacity);
    }
    expect(sizes[sizes.length - 1]).toBeLessThan(burst / 4);
    expect(new Set(sizes.slice(-20)).size).toBe(1);
  });
});
