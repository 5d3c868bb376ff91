import { describe, expect, it } from 'vitest';
import { joinAnnexB } from '../../../../src/formats/rtp/h264-nal.js';
import { parseH264Payload } from '../../../../src/formats/rtp/h264-payload.js';
import { DEFAULT_RTP_PAYLOAD_MTU, H264Packetizer } from '../../../../src/formats/rtp/h264-packetizer.js';
import { errorOf } from '../../../helpers/parse-error.js';
import { prng } from '../../../helpers/prng.js';
import { AVCC_KVSSINK, KVSSINK_PPS, KVSSINK_SPS, hex, randomNal, toHex } from './rtp-helpers.js';

const SPS = hex('6742001f' + 'aa'.repeat(8));
const PPS = hex('68ce3c80');
const AUD = hex('09f0');
const SEI = hex('0605' + 'bb'.repeat(10));

/** The NAL types each payload carries, e.g. "7+8" for a STAP-A, "28:5S" for the FU-A start of an IDR. */
function shape(payloads: { payload: Uint8Array }[]): string[] {
  return payloads.map(({ payload }) => {
    const p = parseH264Payload(payload);
    if (p.kind === 'nal') {
      return String(p.nal[0]! & 0x1f);
    }
    if (p.kind === 'stap-a') {
      return p.nals.map((n) => n[0]! & 0x1f).join('+');
    }
    return `28:${p.nalHeader & 0x1f}${p.start ? 'S' : ''}${p.end ? 'E' : ''}`;
  });
}

describe('H264Packetizer: single NAL units and FU-A', () => {
  it('sends a unit of exactly the MTU as itself, one byte more as two FU-A fragments', () => {
    const rnd = prng(1);
    const pk = new H264Packetizer({ aggregate: false });
    const fits = randomNal(rnd, 1, DEFAULT_RTP_PAYLOAD_MTU);
    const out = pk.packetize([fits]);
    expect(out).toHaveLength(1);
    expect(out[0]!.payload).toBe(fits);
    expect(out[0]!.marker).toBe(true);

    const over = randomNal(rnd, 1, DEFAULT_RTP_PAYLOAD_MTU + 1);
    const frags = pk.packetize([over]);
    expect(shape(frags)).toEqual(['28:1S', '28:1E']);
    expect(frags.map((f) => f.marker)).toEqual([false, true]);
  });

  it('carries F and NRI in the FU indicator and the type in the FU header, in fragments of equal size', () => {
    const nal = randomNal(prng(2), 5, 3000);
    nal[0] = 0x65; // NRI 3, IDR
    const frags = new H264Packetizer({ mtu: 1000 }).packetize([nal]);
    expect(frags.map((f) => f.payload[0])).toEqual([0x7c, 0x7c, 0x7c, 0x7c]);
    expect(frags.map((f) => f.payload[1])).toEqual([0x85, 0x05, 0x05, 0x45]);
    // 2999 body bytes over 4 fragments: 750, 750, 750, 749 — never a runt at the end.
    expect(frags.map((f) => f.payload.length - 2)).toEqual([750, 750, 750, 749]);
    expect(toHex(Buffer.concat(frags.map((f) => f.payload.subarray(2))))).toBe(toHex(nal.subarray(1)));
  });

  it('keeps every payload within the MTU and marks only the last, for sizes around the MTU', () => {
    const rnd = prng(3);
    for (const mtu of [3, 4, 100, 1200]) {
      const pk = new H264Packetizer({ mtu });
      for (const size of [1, 2, mtu - 2, mtu - 1, mtu, mtu + 1, mtu + 2, 2 * mtu - 4, 2 * mtu - 3, 2 * mtu, 7 * mtu + 5]) {
        if (size < 1) {
          continue;
        }
        const out = pk.packetize([randomNal(rnd, 1, size), randomNal(rnd, 1, 1 + Math.floor(rnd() * 3 * mtu))]);
        expect(out.every((p) => p.payload.length <= mtu)).toBe(true);
        expect(out.map((p) => p.marker)).toEqual(out.map((_p, i) => i === out.length - 1));
      }
    }
  });

  it('throws RangeError for an MTU below 3', () => {
    expect(() => new H264Packetizer({ mtu: 2 })).toThrow(RangeError);
    expect(() => new H264Packetizer({ mtu: 1200.5 })).toThrow(RangeError);
  });

  const BAD_NALS: [string, string][] = [
    ['type 0', '00aa'],
    ['type 24 (STAP-A)', '18aa'],
    ['type 28 (FU-A)', '7caa'],
    ['type 31', '1faa'],
    ['the forbidden_zero_bit', 'e1aa'],
  ];
  it.each(BAD_NALS)('rejects a unit with %s', (_name, nal) => {
    expect(errorOf(() => new H264Packetizer().packetize([hex('4100'), hex(nal)])).message).toMatch(/NAL unit 1 has header byte/);
  });

  it('takes Annex-B bytes as well as units, and skips empty units', () => {
    const rnd = prng(4);
    const nals = [AUD, randomNal(rnd, 1, 2500), randomNal(rnd, 1, 40)];
    const a = new H264Packetizer().packetize(nals);
    const b = new H264Packetizer().packetize(joinAnnexB(nals));
    const c = new H264Packetizer().packetize([new Uint8Array(0), ...nals, new Uint8Array(0)]);
    expect(b.map((p) => toHex(p.payload))).toEqual(a.map((p) => toHex(p.payload)));
    expect(c.map((p) => toHex(p.payload))).toEqual(a.map((p) => toHex(p.payload)));
    expect(new H264Packetizer().packetize([])).toEqual([]);
  });
});

describe('H264Packetizer: STAP-A', () => {
  it('aggregates consecutive small units that fit together, with the highest NRI in the STAP-A header', () => {
    const rnd = prng(5);
    const idr = randomNal(rnd, 5, 3000);
    idr[0] = 0x25; // NRI 1
    const out = new H264Packetizer().packetize([SPS, PPS, SEI, idr]);
    expect(shape(out)).toEqual(['7+8+6', '28:5S', '28:5', '28:5E']);
    expect(out[0]!.payload[0]).toBe(0x78); // NRI 3 from the SPS, type 24
    expect(toHex(out[0]!.payload)).toBe('78' + '000c' + toHex(SPS) + '0004' + toHex(PPS) + '000c' + toHex(SEI));
  });

  it('puts a small IDR into the same STAP-A, and starts a new one when the MTU is reached', () => {
    const rnd = prng(6);
    expect(shape(new H264Packetizer().packetize([SPS, PPS, randomNal(rnd, 5, 500)]))).toEqual(['7+8+5']);
    const mtu = 1 + 2 + SPS.length + 2 + PPS.length; // exactly SPS + PPS
    expect(shape(new H264Packetizer({ mtu }).packetize([SPS, PPS, SEI, PPS]))).toEqual(['7+8', '6+8']);
  });

  it('sends a lone small unit as itself, not as a STAP-A of one', () => {
    const rnd = prng(7);
    expect(shape(new H264Packetizer().packetize([randomNal(rnd, 1, 3000), SEI]))).toEqual(['28:1S', '28:1', '28:1E', '6']);
  });

  it('does not aggregate with aggregate: false', () => {
    expect(shape(new H264Packetizer({ aggregate: false }).packetize([SPS, PPS, SEI]))).toEqual(['7', '8', '6']);
  });
});

describe('H264Packetizer: in-band parameter sets', () => {
  const idrAu = (): Uint8Array[] => [hex('6588' + 'cc'.repeat(20))];
  const nalsOf = (pk: H264Packetizer, au: Uint8Array[]): string[] =>
    pk.packetize(au).flatMap(({ payload }) => {
      const p = parseH264Payload(payload);
      return p.kind === 'nal' ? [toHex(p.nal)] : p.kind === 'stap-a' ? p.nals.map(toHex) : ['fu'];
    });

  it('puts the avcC SPS and PPS in front of an IDR that lacks them, and not in front of other frames', () => {
    const pk = new H264Packetizer({ avcC: AVCC_KVSSINK });
    expect(pk.parameterSets.sps.map(toHex)).toEqual([KVSSINK_SPS]);
    expect(nalsOf(pk, idrAu())).toEqual([KVSSINK_SPS, KVSSINK_PPS, toHex(idrAu()[0]!)]);
    expect(nalsOf(pk, [hex('41aa')])).toEqual(['41aa']);
  });

  it('keeps an access unit delimiter first', () => {
    const pk = new H264Packetizer({ parameterSets: { sps: [SPS], pps: [PPS] } });
    expect(nalsOf(pk, [AUD, SEI, ...idrAu()])).toEqual([AUD, SPS, PPS, SEI, ...idrAu()].map(toHex));
  });

  it('leaves an IDR that carries its own alone, and remembers them for the next IDR', () => {
    const pk = new H264Packetizer({ avcC: AVCC_KVSSINK });
    const sps2 = hex('6742001e' + 'dd'.repeat(4));
    const pps2 = hex('68ee3c80');
    expect(nalsOf(pk, [sps2, pps2, ...idrAu()])).toEqual([sps2, pps2, ...idrAu()].map(toHex));
    expect(nalsOf(pk, idrAu())).toEqual([sps2, pps2, ...idrAu()].map(toHex));
  });

  it('adds only what is missing: a PPS after the access unit own SPS', () => {
    const pk = new H264Packetizer({ parameterSets: { sps: [SPS], pps: [PPS] } });
    const sps2 = hex('6742001e' + 'dd'.repeat(4));
    expect(nalsOf(pk, [AUD, sps2, SEI, ...idrAu()])).toEqual([AUD, sps2, PPS, SEI, ...idrAu()].map(toHex));
  });

  it('learns them from the stream when it has no avcC', () => {
    const pk = new H264Packetizer();
    expect(nalsOf(pk, idrAu())).toEqual(idrAu().map(toHex));
    nalsOf(pk, [SPS, PPS, hex('41aa')]);
    expect(nalsOf(pk, idrAu())).toEqual([SPS, PPS, ...idrAu()].map(toHex));
  });

  it('keeps copies, so a caller reusing its buffer does not change them', () => {
    const pk = new H264Packetizer();
    const buf = Uint8Array.from([...SPS, ...PPS]);
    pk.packetize([buf.subarray(0, SPS.length), buf.subarray(SPS.length)]);
    buf.fill(0x41);
    expect(nalsOf(pk, idrAu())).toEqual([SPS, PPS, ...idrAu()].map(toHex));
  });
});
