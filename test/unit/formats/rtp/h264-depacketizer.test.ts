import { describe, expect, it } from 'vitest';
import { H264Depacketizer, MAX_H264_NAL_UNITS_PER_ACCESS_UNIT, type H264AccessUnit } from '../../../../src/formats/rtp/h264-depacketizer.js';
import { parseH264Payload } from '../../../../src/formats/rtp/h264-payload.js';
import { H264Packetizer } from '../../../../src/formats/rtp/h264-packetizer.js';
import type { RtpPacket } from '../../../../src/formats/rtp/rtp-packet.js';
import { errorOf } from '../../../helpers/parse-error.js';
import { prng } from '../../../helpers/prng.js';
import { hex, randomNal, sequence, toHex } from './rtp-helpers.js';

function depacketize(packets: RtpPacket[], d = new H264Depacketizer()): H264AccessUnit[] {
  return [...packets.flatMap((p) => d.push(p)), ...d.flush()];
}

const hexes = (aus: H264AccessUnit[]): string[][] => aus.map((au) => au.nalUnits.map(toHex));

describe('parseH264Payload', () => {
  const VALID: [string, string, unknown][] = [
    ['a single NAL unit', '41aabb', { kind: 'nal' }],
    ['STAP-A', '78 0002 6742 0001 68', { kind: 'stap-a', count: 2 }],
    ['FU-A start', '7c 85 aabb', { kind: 'fu-a', start: true, end: false, nalHeader: 0x65 }],
    ['FU-A middle', '5c 01 aa', { kind: 'fu-a', start: false, end: false, nalHeader: 0x41 }],
    ['FU-A end', '1c 46 aa', { kind: 'fu-a', start: false, end: true, nalHeader: 0x06 }],
  ];
  it.each(VALID)('reads %s', (_name, bytes, expected) => {
    const p = parseH264Payload(hex(bytes));
    const summary = p.kind === 'stap-a' ? { kind: p.kind, count: p.nals.length } : p.kind === 'fu-a' ? { kind: p.kind, start: p.start, end: p.end, nalHeader: p.nalHeader } : { kind: p.kind };
    expect(summary).toEqual(expected);
  });

  const INVALID: [string, string, RegExp][] = [
    ['an empty payload', '', /payload header/],
    ['the forbidden_zero_bit', 'c1aa', /forbidden_zero_bit/],
    ['type 0', '00aa', /type 0 is not used/],
    ['STAP-B', '19 0000 0002 6742', /type 25/],
    ['MTAP16', '1a', /type 26/],
    ['FU-B', '1d 85 0000 aa', /type 29/],
    ['type 30', '1e', /type 30/],
    ['a STAP-A unit size past the end', '78 0005 6742', /STAP-A NAL unit/],
    ['a STAP-A size cut in half', '78 0002 6742 00', /STAP-A NAL unit size/],
    ['a STAP-A of nothing', '78', /STAP-A has no NAL units/],
    ['a STAP-A with an empty unit', '78 0000', /empty NAL unit/],
    ['an FU-A without its header', '7c', /FU-A header/],
    ['an FU-A without data', '7c 85', /carries no data/],
    ['an FU-A with S and E', '7c c5 aa', /both the start and the end/],
    ['an FU-A of a STAP-A', '7c 98 aa', /FU-A carries a NAL unit with header byte 0x78/],
    ['an FU-A of type 0', '7c 80 aa', /FU-A carries a NAL unit with header byte 0x60/],
    ['a STAP-A inside a STAP-A', '78 0003 780001', /STAP-A carries a NAL unit with header byte 0x78/],
    ['a STAP-A unit with the forbidden_zero_bit', '78 0002 e1aa', /STAP-A carries a NAL unit with header byte 0xe1/],
  ];
  it.each(INVALID)('rejects %s', (_name, bytes, message) => {
    expect(errorOf(() => parseH264Payload(hex(bytes))).message).toMatch(message);
  });
});

describe('packetize → depacketize round trips', () => {
  it('gives back every access unit for random unit sizes around the MTU', () => {
    const rnd = prng(0x6184);
    for (const mtu of [3, 50, 1200]) {
      for (const aggregate of [true, false]) {
        const pk = new H264Packetizer({ mtu, aggregate });
        const aus: Uint8Array[][] = [];
        for (let i = 0; i < 60; i++) {
          const near = [1, 2, mtu - 3, mtu - 2, mtu - 1, mtu, mtu + 1, mtu + 2, 2 * mtu - 2, 2 * mtu + 1].filter((s) => s >= 1);
          const count = 1 + Math.floor(rnd() * 4);
          aus.push(Array.from({ length: count }, () => randomNal(rnd, [1, 6, 7, 8][Math.floor(rnd() * 4)]!, rnd() < 0.7 ? near[Math.floor(rnd() * near.length)]! : 1 + Math.floor(rnd() * 5 * mtu))));
        }
        const packets = sequence(aus.map((au) => pk.packetize(au)));
        expect(packets.every((p) => p.payload.length <= mtu)).toBe(true);
        const d = new H264Depacketizer();
        const out = depacketize(packets, d);
        expect(hexes(out)).toEqual(aus.map((au) => au.map(toHex)));
        expect(new Set(out.map((au) => au.timestamp)).size).toBe(60);
        expect(out.every((au) => !au.damaged && !au.keyframe)).toBe(true);
        expect(d.stats).toEqual({ packets: packets.length, lostPackets: 0, latePackets: 0, invalidPackets: 0, droppedFragments: 0, droppedAccessUnits: 0 });
      }
    }
  });

  it('reports key frames and the parameter sets seen', () => {
    const rnd = prng(9);
    const sps = hex('6742001f' + 'aa'.repeat(8));
    const pps = hex('68ce3c80');
    const pk = new H264Packetizer({ parameterSets: { sps: [sps], pps: [pps] } });
    const d = new H264Depacketizer();
    expect(d.parameterSets).toEqual({ sps: [], pps: [] });
    const out = depacketize(sequence([pk.packetize([randomNal(rnd, 5, 4000)]), pk.packetize([randomNal(rnd, 1, 900)])]), d);
    expect(out.map((au) => au.keyframe)).toEqual([true, false]);
    expect(out[0]!.nalUnits.map((n) => n[0]! & 0x1f)).toEqual([7, 8, 5]);
    expect(d.parameterSets.sps.map(toHex)).toEqual([toHex(sps)]);
    expect(d.parameterSets.pps.map(toHex)).toEqual([toHex(pps)]);
  });

  it('emits copies: the caller may reuse its packet buffers', () => {
    const pk = new H264Packetizer({ mtu: 10 });
    const nals = [hex('6742001e'), hex('68ce'), hex('41' + 'ab'.repeat(30))];
    const packets = sequence([pk.packetize(nals)]);
    const d = new H264Depacketizer();
    const out: H264AccessUnit[] = [];
    for (const p of packets) {
      const copy = { ...p, payload: p.payload.slice() };
      out.push(...d.push(copy));
      copy.payload.fill(0);
    }
    expect(hexes(out)).toEqual([nals.map(toHex)]);
  });
});

describe('H264Depacketizer: loss and bad input', () => {
  const rnd = prng(42);
  /** Four access units: 5 FU-A fragments + a single unit; 3 fragments; a single unit; 3 + 2 fragments. */
  const aus = [
    [randomNal(rnd, 1, 5000), randomNal(rnd, 6, 20)],
    [randomNal(rnd, 1, 3000)],
    [randomNal(rnd, 1, 300)],
    [randomNal(rnd, 1, 3000), randomNal(rnd, 1, 2000)],
  ];
  const pk = new H264Packetizer();
  const payloads = aus.map((au) => pk.packetize(au));
  const all = (): RtpPacket[] => sequence(payloads);
  const expected = aus.map((au) => au.map(toHex));
  /** Index of each access unit's first packet: 0, 6, 9, 10. */
  const first = payloads.map((_p, i) => payloads.slice(0, i).reduce((n, p) => n + p.length, 0));

  it('starts from the expected packet layout', () => {
    expect(payloads.map((p) => p.length)).toEqual([6, 3, 1, 5]);
    expect(first).toEqual([0, 6, 9, 10]);
  });

  it('drops the access unit whose FU-A middle packet is lost; the next one is fine', () => {
    const packets = all().filter((_p, i) => i !== first[1]! + 1);
    const d = new H264Depacketizer();
    expect(hexes(depacketize(packets, d))).toEqual([expected[0], expected[2], expected[3]]);
    expect(d.stats).toMatchObject({ lostPackets: 1, droppedFragments: 2, droppedAccessUnits: 1, invalidPackets: 0 });
  });

  it('with keepDamaged, emits that access unit marked damaged with its complete units only', () => {
    const packets = all().filter((_p, i) => i !== 2);
    const out = depacketize(packets, new H264Depacketizer({ keepDamaged: true }));
    expect(out.map((au) => au.damaged)).toEqual([true, false, false, false]);
    expect(hexes(out)).toEqual([[expected[0]![1]], expected[1], expected[2], expected[3]]);
  });

  it('drops a run whose start is lost, even at the very beginning of the stream', () => {
    expect(hexes(depacketize(all().slice(1)))).toEqual([expected[1], expected[2], expected[3]]);
    const packets = all().filter((_p, i) => i !== first[3]!);
    expect(hexes(depacketize(packets))).toEqual([expected[0], expected[1], expected[2]]);
  });

  it('ends an access unit whose marker packet is lost at the next timestamp, and drops it and the next', () => {
    // The lost packet may have been the end of the one or the start of the other: neither is trusted.
    const packets = all().filter((_p, i) => i !== first[2]! - 1);
    const d = new H264Depacketizer();
    expect(hexes(depacketize(packets, d))).toEqual([expected[0], expected[3]]);
    expect(d.stats).toMatchObject({ lostPackets: 1, droppedAccessUnits: 2 });
  });

  it('ends an access unit at the next timestamp when only its marker is missing, and keeps it', () => {
    const packets = all().map((p, i) => (i === first[2]! - 1 ? { ...p, marker: false } : p));
    expect(hexes(depacketize(packets))).toEqual(expected);
  });

  it('drops the access unit after a gap between access units: the lost packets may have been its start', () => {
    const packets = all().filter((_p, i) => i !== first[2]!);
    const d = new H264Depacketizer();
    expect(hexes(depacketize(packets, d))).toEqual([expected[0], expected[1]]);
    expect(d.stats).toMatchObject({ lostPackets: 1, droppedAccessUnits: 1 });
  });

  it('ends access units at a timestamp change when the sender sets no marker bits', () => {
    const packets = all().map((p) => ({ ...p, marker: false }));
    expect(hexes(depacketize(packets))).toEqual(expected);
  });

  it('ignores late and duplicate packets, and follows a sender that restarts its sequence', () => {
    const p = all();
    const d = new H264Depacketizer();
    const withLate = [...p.slice(0, 8), p[7]!, p[3]!, ...p.slice(8)];
    expect(hexes(depacketize(withLate, d))).toEqual(expected);
    expect(d.stats).toMatchObject({ latePackets: 2, lostPackets: 0, droppedAccessUnits: 0 });

    const restarted = sequence(payloads, 40_000);
    const d2 = new H264Depacketizer();
    expect(hexes(depacketize([...p, ...restarted.map((r) => ({ ...r, timestamp: r.timestamp + 1 }))], d2))).toEqual([...expected, ...expected.slice(1)]);
    expect(d2.stats).toMatchObject({ latePackets: 0, lostPackets: 0, droppedAccessUnits: 1 });
  });

  it('drops the access unit after a gap even when a padding-only packet came between', () => {
    const p = all();
    const padding = { ...p[first[2]! - 1]!, sequenceNumber: (p[first[2]!]!.sequenceNumber + 1) & 0xffff, marker: false, payload: new Uint8Array(0) };
    const rest = p.slice(first[2]! + 1).map((x) => ({ ...x, sequenceNumber: (x.sequenceNumber + 1) & 0xffff }));
    const d = new H264Depacketizer();
    // Access unit 2 is lost whole, then padding, then access unit 3: which may have lost its start.
    expect(hexes(depacketize([...p.slice(0, first[2]!), padding, ...rest], d))).toEqual([expected[0], expected[1]]);
    expect(d.stats).toMatchObject({ lostPackets: 1, droppedAccessUnits: 1 });
  });

  it('counts no loss across the sequence number wrap, nor for padding-only packets', () => {
    const p = all();
    expect(p[5]!.sequenceNumber).toBe(65_535);
    expect(p[6]!.sequenceNumber).toBe(0);
    // A padding-only packet takes a sequence number inside an access unit, with the timestamp of the previous one.
    const renumbered = p.map((x, i) => ({ ...x, sequenceNumber: (x.sequenceNumber + (i > 7 ? 1 : 0)) & 0xffff }));
    const padding = { ...p[7]!, sequenceNumber: (p[7]!.sequenceNumber + 1) & 0xffff, timestamp: p[7]!.timestamp, marker: false, payload: new Uint8Array(0) };
    const d = new H264Depacketizer();
    expect(hexes(depacketize([...renumbered.slice(0, 8), padding, ...renumbered.slice(8)], d))).toEqual(expected);
    expect(d.stats).toMatchObject({ lostPackets: 0, droppedAccessUnits: 0 });
  });

  it('drops the access unit of an invalid payload and counts it', () => {
    const p = all();
    p[first[2]!] = { ...p[first[2]!]!, payload: hex('19000000026742') };
    const d = new H264Depacketizer();
    expect(hexes(depacketize(p, d))).toEqual([expected[0], expected[1], expected[3]]);
    expect(d.stats).toMatchObject({ invalidPackets: 1, droppedAccessUnits: 1 });
  });

  it('drops a run when a fragment of another unit type or a second start arrives', () => {
    const p = all();
    const mid = p[first[1]! + 1]!;
    p[first[1]! + 1] = { ...mid, payload: Uint8Array.from([mid.payload[0]!, (mid.payload[1]! & 0xe0) | 5, ...mid.payload.subarray(2)]) };
    expect(hexes(depacketize(p))).toEqual([expected[0], expected[2], expected[3]]);
    const q = all();
    const m2 = q[first[3]! + 1]!;
    q[first[3]! + 1] = { ...m2, payload: Uint8Array.from([m2.payload[0]!, m2.payload[1]! | 0x80, ...m2.payload.subarray(2)]) };
    expect(hexes(depacketize(q))).toEqual([expected[0], expected[1], expected[2]]);
  });
});

describe('H264Depacketizer: memory caps', () => {
  it('drops an access unit over maxAccessUnitBytes and keeps going', () => {
    const rnd = prng(11);
    const aus = [[randomNal(rnd, 1, 600), randomNal(rnd, 1, 600)], [randomNal(rnd, 1, 1000)]];
    const pk = new H264Packetizer();
    const d = new H264Depacketizer({ maxAccessUnitBytes: 1100 });
    expect(hexes(depacketize(sequence(aus.map((au) => pk.packetize(au))), d))).toEqual([aus[1]!.map(toHex)]);
    expect(d.stats.droppedAccessUnits).toBe(1);
  });

  it('drops a unit whose FU-A reassembly would exceed maxFuANalBytes', () => {
    const rnd = prng(12);
    const aus = [[randomNal(rnd, 1, 5000)], [randomNal(rnd, 1, 3000)]];
    const pk = new H264Packetizer();
    const d = new H264Depacketizer({ maxFuANalBytes: 4000 });
    expect(hexes(depacketize(sequence(aus.map((au) => pk.packetize(au))), d))).toEqual([aus[1]!.map(toHex)]);
    expect(d.stats.droppedAccessUnits).toBe(1);
  });

  it(`drops an access unit of more than ${MAX_H264_NAL_UNITS_PER_ACCESS_UNIT} units`, () => {
    const tiny = Array.from({ length: MAX_H264_NAL_UNITS_PER_ACCESS_UNIT + 1 }, () => hex('06'));
    const pk = new H264Packetizer();
    const ok = Array.from({ length: MAX_H264_NAL_UNITS_PER_ACCESS_UNIT }, () => hex('06'));
    const d = new H264Depacketizer();
    const out = depacketize(sequence([pk.packetize(tiny), pk.packetize(ok)]), d);
    expect(out.map((au) => au.nalUnits.length)).toEqual([MAX_H264_NAL_UNITS_PER_ACCESS_UNIT]);
    expect(d.stats.droppedAccessUnits).toBe(1);
  });
});
