// H.264 access units → RTP payloads, RFC 6184 packetization-mode 1 (what WebRTC negotiates). werift has
// depacketizers but no H.264 packetizer, so relaying stored or recorded video to viewers needs this one.
//
// A viewer may join at any IDR and WebRTC carries no avcC, so the parameter sets travel in-band: an IDR
// access unit that lacks them gets the ones from the avcC, or the last ones the stream itself carried.

import { parseAvcConfig } from '../codec/avc-config.js';
import { invalid } from '../errors.js';
import { H264NalType, h264NalType, splitAnnexB } from './h264-nal.js';
import { FuFlag, H264PayloadType } from './h264-payload.js';

/** Leaves room for IP/UDP, SRTP and RTP header extensions inside a 1500-byte Ethernet MTU (libwebrtc's figure). */
export const DEFAULT_RTP_PAYLOAD_MTU = 1200;

/** An FU-A needs its 2 header bytes plus at least one byte of the unit. */
const MIN_MTU = 3;

/** One RTP payload; the caller adds sequence number, timestamp and SSRC (see RtpSequencer). */
export type RtpPayload = {
  payload: Uint8Array;
  /** Set on the last payload of an access unit (RFC 6184 §5.1). */
  marker: boolean;
};

export type ParameterSets = { sps: readonly Uint8Array[]; pps: readonly Uint8Array[] };

export type H264PacketizerOptions = {
  /** Largest RTP payload in bytes; default DEFAULT_RTP_PAYLOAD_MTU. */
  mtu?: number;
  /** Put consecutive small units (SPS, PPS, SEI) into one STAP-A; default true. */
  aggregate?: boolean;
  /** An AVCDecoderConfigurationRecord whose SPS/PPS go in front of IDRs until the stream sends its own. */
  avcC?: Uint8Array;
  /** The same from already parsed parameter sets; used when `avcC` is absent. */
  parameterSets?: ParameterSets;
};

export class H264Packetizer {
  readonly mtu: number;
  private readonly aggregate: boolean;
  private sps: readonly Uint8Array[];
  private pps: readonly Uint8Array[];

  constructor(opts: H264PacketizerOptions = {}) {
    this.mtu = opts.mtu ?? DEFAULT_RTP_PAYLOAD_MTU;
    if (!Number.isInteger(this.mtu) || this.mtu < MIN_MTU) {
      throw new RangeError(`RTP payload MTU must be an integer of at least ${MIN_MTU}, got ${this.mtu}`);
    }
    this.aggregate = opts.aggregate ?? true;
    const sets = opts.avcC !== undefined ? parseAvcConfig(opts.avcC) : opts.parameterSets;
    this.sps = (sets?.sps ?? []).map((n) => n.slice());
    this.pps = (sets?.pps ?? []).map((n) => n.slice());
  }

  /** The SPS/PPS that will be put in front of the next IDR that lacks them. */
  get parameterSets(): ParameterSets {
    return { sps: this.sps, pps: this.pps };
  }

  /**
   * The payloads of one access unit: NAL units, or Annex-B bytes. Payloads may be views into the input
   * units, so the caller must not reuse those buffers until the payloads are sent. Throws a ParseError for
   * a unit whose type RTP cannot carry as itself (0 and 24..31) or whose forbidden_zero_bit is set.
   */
  packetize(accessUnit: readonly Uint8Array[] | Uint8Array): RtpPayload[] {
    const nals = (accessUnit instanceof Uint8Array ? splitAnnexB(accessUnit) : accessUnit).filter((n) => n.length > 0);
    nals.forEach(checkNal);
    const units = this.withParameterSets(nals);
    const payloads: Uint8Array[] = [];
    for (let i = 0; i < units.length; ) {
      const run = this.aggregate ? this.stapRun(units, i) : 1;
      if (run >= 2) {
        payloads.push(stapA(units.slice(i, i + run)));
      } else {
        const nal = units[i] ?? new Uint8Array(0);
        payloads.push(...(nal.length <= this.mtu ? [nal] : fuA(nal, this.mtu)));
      }
      i += Math.max(run, 1);
    }
    return payloads.map((payload, i) => ({ payload, marker: i === payloads.length - 1 }));
  }

  /** Remembers the stream's own parameter sets and fills in whichever an IDR access unit is missing. */
  private withParameterSets(nals: readonly Uint8Array[]): Uint8Array[] {
    const own = { sps: nals.filter((n) => h264NalType(n) === H264NalType.SPS), pps: nals.filter((n) => h264NalType(n) === H264NalType.PPS) };
    // Copies: the input may be a view into a buffer the caller reuses, and these are kept for later IDRs.
    this.sps = own.sps.length > 0 ? own.sps.map((n) => n.slice()) : this.sps;
    this.pps = own.pps.length > 0 ? own.pps.map((n) => n.slice()) : this.pps;
    const out = [...nals];
    if (!nals.some((n) => h264NalType(n) === H264NalType.IDR)) {
      return out;
    }
    // An access unit delimiter must stay first (H.264 §7.4.1.2.3); SPS before PPS, since a decoder parses a PPS against its SPS.
    const afterAud = out[0] !== undefined && h264NalType(out[0]) === H264NalType.AUD ? 1 : 0;
    if (own.sps.length === 0) {
      out.splice(afterAud, 0, ...this.sps);
    }
    if (own.pps.length === 0) {
      const lastSps = out.findLastIndex((n) => h264NalType(n) === H264NalType.SPS);
      out.splice(lastSps >= 0 ? lastSps + 1 : afterAud, 0, ...this.pps);
    }
    return out;
  }

  /** How many units from `i` on fit into one STAP-A (1 byte header, 2 bytes of size per unit). */
  private stapRun(units: readonly Uint8Array[], i: number): number {
    let bytes = 1;
    let n = 0;
    for (let k = i; k < units.length; k++) {
      const size = units[k]?.length ?? 0;
      if (bytes + 2 + size > this.mtu || size > 0xffff) {
        break;
      }
      bytes += 2 + size;
      n++;
    }
    return n;
  }
}

function checkNal(nal: Uint8Array, i: number): void {
  const first = nal[0] ?? 0;
  const type = first & 0x1f;
  if ((first & 0x80) !== 0 || type === 0 || type >= H264PayloadType.STAP_A) {
    throw invalid(0, `NAL unit ${i} has header byte 0x${first.toString(16)}: RTP cannot carry it as a NAL unit`);
  }
}

/** The STAP-A header takes the highest NRI of its units and the F bit of any (RFC 6184 §5.7.1). */
function stapA(units: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + units.reduce((n, u) => n + 2 + u.length, 0));
  let header = 0;
  let at = 1;
  for (const u of units) {
    const h = u[0] ?? 0;
    header = (header & 0x80) | (h & 0x80) | Math.max(header & 0x60, h & 0x60);
    out[at] = u.length >> 8;
    out[at + 1] = u.length & 0xff;
    out.set(u, at + 2);
    at += 2 + u.length;
  }
  out[0] = header | H264PayloadType.STAP_A;
  return out;
}

/** Fragments of equal size (±1 byte), so a unit just over the MTU does not leave a tiny trailing packet. */
function fuA(nal: Uint8Array, mtu: number): Uint8Array[] {
  const header = nal[0] ?? 0;
  const body = nal.subarray(1);
  const count = Math.ceil(body.length / (mtu - 2));
  const out: Uint8Array[] = [];
  let at = 0;
  for (let k = 0; k < count; k++) {
    const size = Math.ceil((body.length - at) / (count - k));
    const frag = new Uint8Array(2 + size);
    frag[0] = (header & 0xe0) | H264PayloadType.FU_A;
    frag[1] = (k === 0 ? FuFlag.START : 0) | (k === count - 1 ? FuFlag.END : 0) | (header & 0x1f);
    frag.set(body.subarray(at, at + size), 2);
    out.push(frag);
    at += size;
  }
  return out;
}
