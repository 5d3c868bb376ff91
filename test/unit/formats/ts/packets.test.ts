import { describe, expect, it } from 'vitest';
import { ContinuityCounters, TS_PACKET_SIZE, TsPacketWriter } from '../../../../src/formats/ts/packets.js';
import { patSection } from '../../../../src/formats/ts/psi.js';
import { packetsOf, sectionOf } from './ts-demux.js';

const unit = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 1) & 0xff);

describe('TsPacketWriter', () => {
  // Unit sizes around the boundaries: one byte, exactly one packet payload with and without
  // adaptation fields, one byte over, and a multi-packet unit.
  const sizes = [1, 2, 175, 176, 177, 182, 183, 184, 185, 367, 368, 369, 5000];
  const options = [{}, { randomAccess: true }, { pcr: 123_456_789 }, { pcr: 2 ** 33 - 1, randomAccess: true }];

  describe.each(options)('with %o', (opts) => {
    it.each(sizes)('packs a %i-byte PES into 188-byte packets and gets it back intact', (size) => {
      const w = new TsPacketWriter();
      const data = unit(size);
      w.writePes(0x101, data, opts);
      const bytes = w.bytes();
      expect(bytes.length % TS_PACKET_SIZE).toBe(0);
      expect(w.length).toBe(bytes.length);
      const packets = packetsOf(bytes);
      expect(packets.every((p) => p.sync === 0x47 && p.pid === 0x101)).toBe(true);
      expect(packets.map((p) => p.unitStart)).toEqual(packets.map((_, i) => i === 0));
      expect(packets.map((p) => p.cc)).toEqual(packets.map((_, i) => i % 16));
      expect(Buffer.concat(packets.map((p) => p.payload))).toEqual(Buffer.from(data));
      // No more packets than needed: all but the last are full of payload after the first's fields.
      const fields = (opts.pcr !== undefined ? 8 : opts.randomAccess === true ? 2 : 0);
      expect(packets.length).toBe(size <= 184 - fields ? 1 : 1 + Math.ceil((size - (184 - fields)) / 184));
      const first = packets[0]!;
      if (opts.pcr !== undefined) {
        expect(first.adaptation?.pcr).toBe(opts.pcr);
      }
      expect(first.adaptation?.randomAccess ?? false).toBe(opts.randomAccess === true);
      for (const p of packets.slice(1)) {
        expect(p.adaptation?.pcr).toBeUndefined();
        expect(p.adaptation?.randomAccess ?? false).toBe(false);
      }
      // Every packet after the first is exactly full: payload plus any stuffing.
      const last = packets[packets.length - 1]!;
      if (packets.length > 1) {
        expect(last.payload.length + (last.adaptation === undefined ? 0 : last.adaptation.length + 1)).toBe(184);
      }
    });
  });

  it('stuffs a single spare byte with an adaptation field of length 0', () => {
    const w = new TsPacketWriter();
    w.writePes(0x101, unit(183));
    const [p] = packetsOf(w.bytes());
    expect(p?.afc).toBe(3);
    expect(p?.adaptation?.length).toBe(0);
    expect(p?.payload.length).toBe(183);
  });

  it('stuffs two or more spare bytes with flags 0 and 0xFF bytes', () => {
    const w = new TsPacketWriter();
    w.writePes(0x101, unit(100));
    const bytes = w.bytes();
    expect(bytes[4]).toBe(83);
    expect(bytes[5]).toBe(0x00);
    expect([...bytes.subarray(6, 88)].every((b) => b === 0xff)).toBe(true);
    expect(bytes[88]).toBe(1);
  });

  it('writes a section after pointer_field 0 and pads it with 0xFF, without an adaptation field', () => {
    const w = new TsPacketWriter();
    const pat = patSection(0x1000);
    w.writeSection(0, pat);
    const [p] = packetsOf(w.bytes());
    expect(p?.unitStart).toBe(true);
    expect(p?.afc).toBe(1);
    expect(p?.payload[0]).toBe(0);
    expect(sectionOf(p!)).toEqual(pat);
    expect([...p!.payload.subarray(1 + pat.length)].every((b) => b === 0xff)).toBe(true);
  });

  it('counts each PID on its own, mod 16, and carries counters across writers when shared', () => {
    const counters = new ContinuityCounters();
    const seen = new Map<number, number[]>();
    for (let segment = 0; segment < 3; segment++) {
      const w = new TsPacketWriter(counters);
      w.writeSection(0, patSection(0x1000));
      for (let i = 0; i < 7; i++) {
        w.writePes(0x101, unit(400));
        w.writePes(0x102, unit(150));
      }
      for (const p of packetsOf(w.bytes())) {
        seen.set(p.pid, [...(seen.get(p.pid) ?? []), p.cc]);
      }
    }
    for (const [pid, ccs] of seen) {
      expect(ccs, `PID ${pid}`).toEqual(ccs.map((_, i) => i % 16));
    }
    expect(seen.get(0x101)?.length).toBe(3 * 7 * 3);
    expect(counters.peek(0x101)).toBe((3 * 7 * 3) % 16);
  });

  it('starts every writer at 0 without shared counters', () => {
    for (let i = 0; i < 2; i++) {
      const w = new TsPacketWriter();
      w.writePes(0x101, unit(400));
      expect(packetsOf(w.bytes()).map((p) => p.cc)).toEqual([0, 1, 2]);
    }
  });

  it('refuses PIDs outside 13 bits and the null PID, and empty units', () => {
    const w = new TsPacketWriter();
    expect(() => w.writePes(0x1fff, unit(1))).toThrow(RangeError);
    expect(() => w.writePes(-1, unit(1))).toThrow(RangeError);
    expect(() => w.writePes(0x101, new Uint8Array(0))).toThrow(RangeError);
    expect(() => w.writePes(0x101, unit(1), { pcr: 2 ** 33 })).toThrow(RangeError);
  });
});
