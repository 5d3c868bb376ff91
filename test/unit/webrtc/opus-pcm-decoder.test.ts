import { describe, expect, it } from 'vitest';
import { opusPcmDecoder } from '../../../src/webrtc/opus-pcm-decoder.js';
import { fixture } from '../../helpers/media.js';
import { fixtureMedia } from '../../helpers/webrtc-media.js';

// The fixture's audio: 5 s of a 440 Hz sine (amplitude 1/8) as mono Opus, 20 ms frames (media-fixtures/README.md).
const { opus } = fixtureMedia(fixture('mkv/h264-opus-5s.mkv'));

describe('opusPcmDecoder', () => {
  it('decodes nothing before its wasm instance is ready (the mixer records that as silence), then every packet', async () => {
    const d = opusPcmDecoder();
    expect(d.decode(opus[0]!.frame)).toBeNull();
    for (let i = 0; i < 100 && d.decode(opus[0]!.frame) === null; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const pcm = opus.slice(1).map((o) => d.decode(o.frame));
    d.free();
    expect(pcm.every((p) => p?.length === 960 * 2)).toBe(true);
    // mono Opus comes out on both channels; a sine of amplitude 1/8 has an RMS of 4096 / √2 ≈ 2896
    let squares = 0;
    let samples = 0;
    let differing = 0;
    for (const p of pcm.slice(50)) {
      for (let i = 0; i < p!.length; i += 2) {
        squares += p![i]! ** 2;
        samples++;
        differing += p![i] === p![i + 1] ? 0 : 1;
      }
    }
    expect(differing).toBe(0);
    const rms = Math.sqrt(squares / samples);
    expect(rms).toBeGreaterThan(2600);
    expect(rms).toBeLessThan(3200);
    // freed: no more decoding
    expect(d.decode(opus[0]!.frame)).toBeNull();
  });

  it('gives null for a packet libopus refuses', async () => {
    const d = opusPcmDecoder();
    for (let i = 0; i < 100 && d.decode(opus[0]!.frame) === null; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    // TOC of a code-3 packet announcing 0 frames: invalid (RFC 6716 §3.2.5)
    expect(d.decode(new Uint8Array([0x03, 0x00]))).toBeNull();
    d.free();
  });
});
