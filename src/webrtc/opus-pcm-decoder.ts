// One participant's Opus packets → 48 kHz stereo s16 for the mixer, in process: libopus compiled to wasm
// (opus-decoder), so a recording needs no ffmpeg per participant and no native addon. One decoder per
// participant, since Opus decoding carries state from packet to packet.

import { OpusDecoder } from 'opus-decoder';
import { MIX_CHANNELS, type PcmDecoder } from './audio-mixer.js';

/**
 * A decoder that is usable once its wasm instance is ready (a few ms after creation; the compiled module is
 * shared): packets handed to it before then decode to nothing, which the mixer records as silence.
 */
export function opusPcmDecoder(): PcmDecoder {
  const decoder = new OpusDecoder({ channels: MIX_CHANNELS });
  let ready = false;
  let freed = false;
  decoder.ready.then(
    () => {
      ready = true;
      if (freed) {
        decoder.free();
      }
    },
    () => undefined,
  );
  return {
    decode(packet: Uint8Array): Int16Array | null {
      if (!ready || freed) {
        return null;
      }
      let decoded;
      try {
        decoded = decoder.decodeFrame(packet);
      } catch {
        return null;
      }
      const [left, right] = decoded.channelData;
      if (decoded.samplesDecoded === 0 || left === undefined) {
        return null;
      }
      const r = right ?? left;
      const out = new Int16Array(decoded.samplesDecoded * MIX_CHANNELS);
      for (let i = 0; i < decoded.samplesDecoded; i++) {
        out[i * 2] = toS16(left[i] ?? 0);
        out[i * 2 + 1] = toS16(r[i] ?? 0);
      }
      return out;
    },
    free(): void {
      if (!freed) {
        freed = true;
        if (ready) {
          decoder.free();
        }
      }
    },
  };
}

const toS16 = (x: number): number => (x >= 1 ? 32767 : x <= -1 ? -32768 : Math.round(x * 32767));
