// A single-program MPEG-TS muxer: PAT and PMT, then one PES per access unit, with the PCR riding on the
// first packet of each access unit of the PCR stream.

import { wrapTicks } from './clock.js';
import type { ContinuityCounters } from './packets.js';
import { TsPacketWriter } from './packets.js';
import { pesPacket } from './pes.js';
import { NO_PCR_PID, PAT_PID, patSection, pmtSection } from './psi.js';

export const PMT_PID = 0x1000;

/**
 * How far the PCR runs ahead of the decode time of the access unit it arrives with: the decoder model
 * needs each unit in the buffer before its DTS; 100 ms is well within the buffer sizes of every level.
 */
export const PCR_LEAD_TICKS = 9000;

export type TsStream = {
  pid: number;
  /** StreamType of psi.ts. */
  streamType: number;
  /** PesStreamId of pes.ts. */
  streamId: number;
};

export type AccessUnit = {
  /** 90 kHz ticks, 0 .. 2^33 - 1. */
  pts: number;
  dts: number;
  /** The elementary stream bytes, starting with the access unit: an Annex-B unit led by its AUD, or an ADTS frame. */
  data: Uint8Array;
  /** A keyframe: marked random_access_indicator in the adaptation field. */
  randomAccess: boolean;
};

export class TsMuxer {
  readonly #streams: Map<number, TsStream>;
  readonly #pcrPid: number;
  readonly #writer: TsPacketWriter;

  /** `pcrPid` must be one of the streams' PIDs (or undefined for a program without streams). */
  constructor(streams: readonly TsStream[], pcrPid: number | undefined, counters?: ContinuityCounters) {
    this.#streams = new Map(streams.map((s) => [s.pid, s]));
    if (this.#streams.size !== streams.length || this.#streams.has(PMT_PID) || this.#streams.has(PAT_PID)) {
      throw new RangeError('stream PIDs must be distinct and differ from the PAT and PMT PIDs');
    }
    if (pcrPid !== undefined && !this.#streams.has(pcrPid)) {
      throw new RangeError(`PCR PID ${pcrPid} is not one of the streams`);
    }
    this.#pcrPid = pcrPid ?? NO_PCR_PID;
    this.#writer = new TsPacketWriter(counters);
  }

  writeTables(): void {
    this.#writer.writeSection(PAT_PID, patSection(PMT_PID));
    this.#writer.writeSection(PMT_PID, pmtSection(this.#pcrPid, [...this.#streams.values()]));
  }

  writeAccessUnit(pid: number, au: AccessUnit): void {
    const stream = this.#streams.get(pid);
    if (stream === undefined) {
      throw new RangeError(`PID ${pid} is not in the PMT`);
    }
    const pes = pesPacket({ streamId: stream.streamId, pts: au.pts, dts: au.dts, dataAligned: true }, au.data);
    this.#writer.writePes(pid, pes, {
      randomAccess: au.randomAccess,
      ...(pid === this.#pcrPid ? { pcr: wrapTicks(au.dts - PCR_LEAD_TICKS) } : {}),
    });
  }

  bytes(): Uint8Array {
    return this.#writer.bytes();
  }
}
