// RTP packets of one H.264 stream (RFC 6184 packetization-mode 1) → access units, for recording a WebRTC
// session into a stream. Packets arrive over UDP: some are lost, and a sender can send anything, so:
//  - a unit is only ever emitted whole; an FU-A run with a sequence gap, a missing start or a missing end
//    is dropped, and so (by default) is its access unit: a picture with a slice missing would be stored
//    as if it were good, and every frame predicted from it would decode wrong;
//  - reordering is not undone (WebRTC on a LAN rarely reorders; a late packet counts as lost and is ignored);
//  - memory is bounded by named caps, over which the access unit is dropped rather than the process grown.

import { ParseError } from '../errors.js';
import { H264NalType, h264NalType } from './h264-nal.js';
import { parseH264Payload } from './h264-payload.js';
import type { ParameterSets } from './h264-packetizer.js';
import type { RtpPacket } from './rtp-packet.js';

/** Far above a 4K IDR at broadcast bitrates; a larger "frame" is a broken or hostile sender. */
export const MAX_H264_ACCESS_UNIT_BYTES = 8 * 1024 * 1024;
/** One NAL unit reassembled from FU-A fragments. */
export const MAX_H264_FU_A_NAL_BYTES = 4 * 1024 * 1024;
/** Real pictures have a few slices plus parameter sets and SEI; thousands of tiny STAP-A units would cost more in objects than in bytes. */
export const MAX_H264_NAL_UNITS_PER_ACCESS_UNIT = 1024;

/** RFC 3550 A.1's MAX_MISORDER: a packet at most this far behind the expected one is late, not a restart. */
const MAX_LATE_DISTANCE = 100;

export type RtpPacketLike = Pick<RtpPacket, 'payload' | 'marker' | 'sequenceNumber' | 'timestamp'>;

export type H264AccessUnit = {
  /** RTP timestamp shared by the access unit's packets. */
  timestamp: number;
  /** Copies, in decoding order, without start codes or lengths (see joinAnnexB / joinAvcc). */
  nalUnits: Uint8Array[];
  /** An IDR slice is present: a decoder can start here. */
  keyframe: boolean;
  /** Packets of this access unit were lost or invalid; only emitted with `keepDamaged`. */
  damaged: boolean;
};

export type H264DepacketizerOptions = {
  /** Emit access units that lost packets, with their complete units only. Default false. */
  keepDamaged?: boolean;
  maxAccessUnitBytes?: number;
  maxFuANalBytes?: number;
};

export type H264DepacketizerStats = {
  packets: number;
  /** Sequence numbers skipped over. */
  lostPackets: number;
  /** Behind the expected sequence number (late or duplicate); ignored. */
  latePackets: number;
  /** Not a valid mode-1 payload (see parseH264Payload). */
  invalidPackets: number;
  /** FU-A packets thrown away because their unit could not be completed. */
  droppedFragments: number;
  /** Damaged (unless kept) or over a cap. */
  droppedAccessUnits: number;
};

type OpenUnit = { timestamp: number; nals: Uint8Array[]; bytes: number; damaged: boolean; overCap: boolean };
type FuRun = { nalHeader: number; parts: Uint8Array[]; bytes: number };

export class H264Depacketizer {
  readonly stats: H264DepacketizerStats = { packets: 0, lostPackets: 0, latePackets: 0, invalidPackets: 0, droppedFragments: 0, droppedAccessUnits: 0 };
  private readonly keepDamaged: boolean;
  private readonly maxAuBytes: number;
  private readonly maxFuBytes: number;
  private expectedSequence: number | undefined;
  private au: OpenUnit | undefined;
  private fu: FuRun | undefined;
  /** A gap was seen and no packet with media has come since: the next access unit may have lost its start. */
  private lossPending = false;
  private sets: ParameterSets = { sps: [], pps: [] };

  constructor(opts: H264DepacketizerOptions = {}) {
    this.keepDamaged = opts.keepDamaged ?? false;
    this.maxAuBytes = Math.min(opts.maxAccessUnitBytes ?? MAX_H264_ACCESS_UNIT_BYTES, MAX_H264_ACCESS_UNIT_BYTES);
    this.maxFuBytes = Math.min(opts.maxFuANalBytes ?? MAX_H264_FU_A_NAL_BYTES, MAX_H264_FU_A_NAL_BYTES);
  }

  /** The SPS and PPS of the last access unit that carried any: what a recording's avcC needs. */
  get parameterSets(): ParameterSets {
    return this.sets;
  }

  /** Access units completed by this packet: by its marker bit, or the previous one by its new timestamp. */
  push(p: RtpPacketLike): H264AccessUnit[] {
    const out: H264AccessUnit[] = [];
    this.stats.packets++;
    let gap = false;
    if (this.expectedSequence !== undefined) {
      const ahead = (p.sequenceNumber - this.expectedSequence) & 0xffff;
      if (ahead !== 0 && ((this.expectedSequence - p.sequenceNumber) & 0xffff) <= MAX_LATE_DISTANCE) {
        this.stats.latePackets++;
        return out;
      }
      // Further behind than that is a sender that restarted its sequence: follow it, as after a gap.
      gap = ahead !== 0;
      this.stats.lostPackets += ahead < 0x8000 ? ahead : 0;
    }
    this.expectedSequence = (p.sequenceNumber + 1) & 0xffff;
    if (gap) {
      // The lost packets belonged to the open unit, the next one, or both: neither can be trusted.
      this.damage();
      this.lossPending = true;
    }
    if (p.payload.length === 0) {
      // Padding-only packets (bandwidth probing) use the stream's sequence numbers but carry no media.
      return out;
    }
    if (this.au !== undefined && this.au.timestamp !== p.timestamp) {
      this.finish(out);
    }
    this.au ??= { timestamp: p.timestamp, nals: [], bytes: 0, damaged: this.lossPending, overCap: false };
    this.lossPending = false;
    this.take(p.payload);
    if (p.marker) {
      this.finish(out);
    }
    return out;
  }

  /** At the end of the stream: the open access unit, if it has anything to give. */
  flush(): H264AccessUnit[] {
    const out: H264AccessUnit[] = [];
    this.finish(out);
    return out;
  }

  private take(payload: Uint8Array): void {
    let parsed;
    try {
      parsed = parseH264Payload(payload);
    } catch (e) {
      if (!(e instanceof ParseError)) {
        throw e;
      }
      this.stats.invalidPackets++;
      this.damage();
      return;
    }
    if (parsed.kind !== 'fu-a') {
      if (this.fu !== undefined) {
        this.damage();
      }
      for (const nal of parsed.kind === 'nal' ? [parsed.nal] : parsed.nals) {
        this.add(nal.slice());
      }
      return;
    }
    if (parsed.start) {
      if (this.fu !== undefined) {
        this.damage();
      }
      this.fu = { nalHeader: parsed.nalHeader, parts: [], bytes: 1 };
    }
    const fu = this.fu;
    if (fu === undefined || fu.nalHeader !== parsed.nalHeader || fu.bytes + parsed.fragment.length > this.maxFuBytes) {
      this.stats.droppedFragments++;
      this.damage();
      return;
    }
    fu.parts.push(parsed.fragment.slice());
    fu.bytes += parsed.fragment.length;
    if (parsed.end) {
      this.fu = undefined;
      const nal = new Uint8Array(fu.bytes);
      nal[0] = fu.nalHeader;
      let at = 1;
      for (const part of fu.parts) {
        nal.set(part, at);
        at += part.length;
      }
      this.add(nal);
    }
  }

  private add(nal: Uint8Array): void {
    const au = this.au;
    if (au === undefined || au.overCap) {
      return;
    }
    if (au.bytes + nal.length > this.maxAuBytes || au.nals.length >= MAX_H264_NAL_UNITS_PER_ACCESS_UNIT) {
      // Keep counting packets into this unit (so it ends where it should) but hold no more of its bytes.
      au.overCap = true;
      au.damaged = true;
      au.nals = [];
      return;
    }
    au.nals.push(nal);
    au.bytes += nal.length;
  }

  /** Something of the open access unit is missing: its fragment run cannot complete, and the unit is not whole. */
  private damage(): void {
    if (this.fu !== undefined) {
      this.stats.droppedFragments += this.fu.parts.length;
      this.fu = undefined;
    }
    if (this.au !== undefined) {
      this.au.damaged = true;
    }
  }

  private finish(out: H264AccessUnit[]): void {
    const au = this.au;
    if (au === undefined) {
      return;
    }
    if (this.fu !== undefined) {
      this.damage();
    }
    this.au = undefined;
    const sps = au.nals.filter((n) => h264NalType(n) === H264NalType.SPS);
    const pps = au.nals.filter((n) => h264NalType(n) === H264NalType.PPS);
    this.sets = { sps: sps.length > 0 ? sps : this.sets.sps, pps: pps.length > 0 ? pps : this.sets.pps };
    if (au.nals.length === 0 || au.overCap || (au.damaged && !this.keepDamaged)) {
      this.stats.droppedAccessUnits++;
      return;
    }
    const keyframe = au.nals.some((n) => h264NalType(n) === H264NalType.IDR);
    out.push({ timestamp: au.timestamp, nalUnits: au.nals, keyframe, damaged: au.damaged });
  }
}
