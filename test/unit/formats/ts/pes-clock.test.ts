import { describe, expect, it } from 'vitest';
import { TIMESTAMP_MODULUS, absoluteTicks, msToTicks, wrapTicks } from '../../../../src/formats/ts/clock.js';
import { PesStreamId, pesPacket, readTimestamp, writeTimestamp } from '../../../../src/formats/ts/pes.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('90 kHz clock', () => {
  it.each([
    [0, 0],
    [1, 90],
    [1000 / 30, 3000],
    [21.333333, 1920],
    // An epoch-millisecond producer time (2023-12-21), far past one 2^33 period.
    [1703120790149, (1703120790149 * 90) % 2 ** 33],
  ])('%s ms is %s ticks', (ms, ticks) => {
    expect(msToTicks(ms)).toBe(ticks);
  });

  it('wraps at 2^33 ticks (about 26.5 hours)', () => {
    const periodMs = TIMESTAMP_MODULUS / 90;
    expect(msToTicks(periodMs)).toBe(0);
    expect(msToTicks(periodMs - 1 / 90)).toBe(TIMESTAMP_MODULUS - 1);
    expect(msToTicks(periodMs + 1)).toBe(90);
    expect(wrapTicks(-1)).toBe(TIMESTAMP_MODULUS - 1);
    expect(wrapTicks(-TIMESTAMP_MODULUS)).toBe(0);
  });

  it('rounds absolute times, so consecutive segments meet exactly', () => {
    // Frames of 1001/30 ms cut into segments at arbitrary points still differ by 3003 ticks each.
    const t0 = 1_700_000_000_000;
    const ticks = Array.from({ length: 100 }, (_, i) => absoluteTicks(t0 + (i * 1001) / 30));
    const steps = new Set(ticks.slice(1).map((t, i) => t - ticks[i]!));
    expect(steps).toEqual(new Set([3003]));
  });
});

describe('PES timestamps', () => {
  it.each([
    // [prefix, ticks, encoded] — the marker bits are the low bit of bytes 0, 2 and 4.
    [0b0010, 0, '2100010001'],
    [0b0010, 1, '2100010003'],
    [0b0011, 90000, '310005bf21'],
    [0b0001, 2 ** 32, '1900010001'],
    [0b0010, 2 ** 33 - 1, '2fffffffff'],
    [0b0010, 2 ** 30, '2300010001'],
    [0b0010, 2 ** 15, '2100030001'],
  ])('prefix %s, %s ticks → %s', (prefix, ticks, encoded) => {
    const out = new Uint8Array(5);
    writeTimestamp(out, 0, prefix, ticks);
    expect(hex(out)).toBe(encoded);
    expect(readTimestamp(out, 0)).toBe(ticks);
  });

  it.each([-1, 2 ** 33, 1.5, Number.NaN])('refuses %s, which is not a 33-bit tick count', (ticks) => {
    expect(() => writeTimestamp(new Uint8Array(5), 0, 2, ticks)).toThrow(RangeError);
  });
});

describe('pesPacket', () => {
  const payload = Uint8Array.of(0xaa, 0xbb, 0xcc);

  it('writes a PTS alone when the DTS is absent or equal', () => {
    for (const dts of [undefined, 900]) {
      const pes = pesPacket({ streamId: PesStreamId.AUDIO, pts: 900, ...(dts === undefined ? {} : { dts }), dataAligned: true }, payload);
      expect(hex(pes.subarray(0, 9))).toBe('000001c0000b848005');
      expect(readTimestamp(pes, 9)).toBe(900);
      expect(pes[9]! >> 4).toBe(0b0010);
      expect(hex(pes.subarray(14))).toBe('aabbcc');
    }
  });

  it('writes PTS then DTS with their prefixes when they differ', () => {
    const pes = pesPacket({ streamId: PesStreamId.VIDEO, pts: 2 ** 33 - 3000, dts: 2 ** 33 - 6000 }, payload);
    expect(hex(pes.subarray(0, 9))).toBe('000001e0001080c00a');
    expect(pes[9]! >> 4).toBe(0b0011);
    expect(pes[14]! >> 4).toBe(0b0001);
    expect(readTimestamp(pes, 9)).toBe(2 ** 33 - 3000);
    expect(readTimestamp(pes, 14)).toBe(2 ** 33 - 6000);
    expect(hex(pes.subarray(19))).toBe('aabbcc');
  });

  it('declares length 0 (unbounded) for video over 65535 bytes, and refuses that for audio', () => {
    const big = new Uint8Array(70_000);
    const video = pesPacket({ streamId: PesStreamId.VIDEO, pts: 0 }, big);
    expect(video[4]).toBe(0);
    expect(video[5]).toBe(0);
    expect(video.length).toBe(14 + big.length);
    expect(() => pesPacket({ streamId: PesStreamId.AUDIO, pts: 0 }, big)).toThrow(RangeError);
  });

  it('declares the exact length after the length field when it fits', () => {
    const pes = pesPacket({ streamId: PesStreamId.VIDEO, pts: 1, dts: 0 }, new Uint8Array(65535 - 13));
    expect((pes[4]! << 8) | pes[5]!).toBe(65535);
    expect(pes.length - 6).toBe(65535);
  });
});
