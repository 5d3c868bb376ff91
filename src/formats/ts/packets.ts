// 188-byte transport stream packets (ISO/IEC 13818-1 §2.4.3.2): a PES packet or a PSI section is cut into
// packet payloads, the first one flagged payload_unit_start; the adaptation field carries the PCR and the
// random access flag, and pads the last packet of a unit (stuffing bytes belong in the adaptation field
// for PES, and after the section for PSI).

import { TIMESTAMP_MODULUS } from './clock.js';

export const TS_PACKET_SIZE = 188;
export const SYNC_BYTE = 0x47;
const HEADER_BYTES = 4;
const MAX_PAYLOAD = TS_PACKET_SIZE - HEADER_BYTES;
/** PIDs are 13 bits; 0x1FFF is the null packet PID. */
const MAX_PID = 0x1ffe;
/** adaptation_field_length byte + flags byte. */
const ADAPTATION_HEADER_BYTES = 2;
const PCR_BYTES = 6;
const STUFFING = 0xff;

const AdaptationFlag = {
  RANDOM_ACCESS: 0x40,
  PCR: 0x10,
} as const;

/** adaptation_field_control: payload only, adaptation field then payload. */
const AFC_PAYLOAD = 0x10;
const AFC_ADAPTATION_AND_PAYLOAD = 0x30;

/**
 * The next continuity_counter of each PID. Shared by consecutive segments, it keeps the counters running
 * on across segment boundaries, so the concatenation of segments has no continuity errors.
 */
export class ContinuityCounters {
  readonly #next = new Map<number, number>();

  /** The counter for the next packet of `pid` (packets with a payload advance it, mod 16). */
  take(pid: number): number {
    const cc = this.#next.get(pid) ?? 0;
    this.#next.set(pid, (cc + 1) & 0x0f);
    return cc;
  }

  peek(pid: number): number {
    return this.#next.get(pid) ?? 0;
  }
}

export type UnitOptions = {
  /** PCR base in 90 kHz ticks (0 .. 2^33 - 1), placed in the unit's first packet. */
  pcr?: number;
  /** Sets random_access_indicator in the unit's first packet: a keyframe (with its parameter sets) starts here. */
  randomAccess?: boolean;
};

/** Collects packets into one buffer. */
export class TsPacketWriter {
  readonly #counters: ContinuityCounters;
  readonly #chunks: Uint8Array[] = [];
  #length = 0;

  constructor(counters: ContinuityCounters = new ContinuityCounters()) {
    this.#counters = counters;
  }

  /** One PSI section, pointer_field 0, padded with 0xFF after the section. */
  writeSection(pid: number, section: Uint8Array): void {
    const unit = new Uint8Array(1 + section.length);
    unit.set(section, 1);
    this.#writeUnit(pid, unit, {}, 'section');
  }

  /** One PES packet. */
  writePes(pid: number, pes: Uint8Array, opts: UnitOptions = {}): void {
    this.#writeUnit(pid, pes, opts, 'pes');
  }

  get length(): number {
    return this.#length;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  #writeUnit(pid: number, unit: Uint8Array, opts: UnitOptions, kind: 'section' | 'pes'): void {
    if (!Number.isInteger(pid) || pid < 0 || pid > MAX_PID) {
      throw new RangeError(`PID ${pid} is outside 0..${MAX_PID}`);
    }
    if (unit.length === 0) {
      throw new RangeError('an empty unit has no packet to start');
    }
    if (opts.pcr !== undefined && (!Number.isInteger(opts.pcr) || opts.pcr < 0 || opts.pcr >= TIMESTAMP_MODULUS)) {
      throw new RangeError(`PCR base ${opts.pcr} is not a 33-bit tick count`);
    }
    const packetCount = countPackets(unit.length, adaptationBytes(opts));
    const out = new Uint8Array(packetCount * TS_PACKET_SIZE);
    let from = 0;
    for (let p = 0; p < packetCount; p++) {
      const packet = out.subarray(p * TS_PACKET_SIZE, (p + 1) * TS_PACKET_SIZE);
      const first = p === 0;
      const fields = first ? adaptationBytes(opts) : 0;
      const left = unit.length - from;
      // PES pads through the adaptation field; a section ends in 0xFF bytes the demuxer skips.
      const stuffing = kind === 'pes' ? Math.max(0, MAX_PAYLOAD - fields - left) : 0;
      const adaptation = fields + stuffing;
      const take = Math.min(left, MAX_PAYLOAD - adaptation);
      packet[0] = SYNC_BYTE;
      packet[1] = (first ? 0x40 : 0) | (pid >> 8);
      packet[2] = pid & 0xff;
      packet[3] = (adaptation > 0 ? AFC_ADAPTATION_AND_PAYLOAD : AFC_PAYLOAD) | this.#counters.take(pid);
      if (adaptation > 0) {
        writeAdaptation(packet.subarray(HEADER_BYTES, HEADER_BYTES + adaptation), first ? opts : {});
      }
      const payloadAt = HEADER_BYTES + adaptation;
      packet.set(unit.subarray(from, from + take), payloadAt);
      packet.fill(STUFFING, payloadAt + take);
      from += take;
    }
    this.#chunks.push(out);
    this.#length += out.length;
  }
}

/** Bytes of adaptation field the unit's first packet needs for its flags (0 when it needs none). */
function adaptationBytes(opts: UnitOptions): number {
  if (opts.pcr === undefined && opts.randomAccess !== true) {
    return 0;
  }
  return ADAPTATION_HEADER_BYTES + (opts.pcr !== undefined ? PCR_BYTES : 0);
}

function countPackets(unitLength: number, firstAdaptation: number): number {
  const firstPayload = MAX_PAYLOAD - firstAdaptation;
  return unitLength <= firstPayload ? 1 : 1 + Math.ceil((unitLength - firstPayload) / MAX_PAYLOAD);
}

/**
 * Fills `field` (the whole adaptation field, length byte included) with the flags of `opts` and stuffing.
 * A one-byte field is just adaptation_field_length = 0, the standard's way to stuff a single byte.
 */
function writeAdaptation(field: Uint8Array, opts: UnitOptions): void {
  field[0] = field.length - 1;
  if (field.length === 1) {
    return;
  }
  let flags = 0;
  let at = ADAPTATION_HEADER_BYTES;
  if (opts.randomAccess === true) {
    flags |= AdaptationFlag.RANDOM_ACCESS;
  }
  if (opts.pcr !== undefined) {
    flags |= AdaptationFlag.PCR;
    writePcr(field, at, opts.pcr);
    at += PCR_BYTES;
  }
  field[1] = flags;
  field.fill(STUFFING, at);
}

/** program_clock_reference: 33-bit base, 6 reserved bits, 9-bit extension (always 0 here: 90 kHz precision). */
function writePcr(out: Uint8Array, at: number, base: number): void {
  const high = Math.floor(base / 2); // the top 32 bits, so the shifts below stay within 32-bit range
  out[at] = (high >>> 24) & 0xff;
  out[at + 1] = (high >>> 16) & 0xff;
  out[at + 2] = (high >>> 8) & 0xff;
  out[at + 3] = high & 0xff;
  out[at + 4] = ((base % 2) << 7) | 0x7e;
  out[at + 5] = 0x00;
}
