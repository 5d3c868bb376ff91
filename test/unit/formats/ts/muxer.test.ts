import { describe, expect, it } from 'vitest';
import { PCR_LEAD_TICKS, PMT_PID, TsMuxer } from '../../../../src/formats/ts/muxer.js';
import { ContinuityCounters } from '../../../../src/formats/ts/packets.js';
import { PesStreamId } from '../../../../src/formats/ts/pes.js';
import { StreamType } from '../../../../src/formats/ts/psi.js';
import { packetsOf, pesUnitsOf, sectionOf } from './ts-demux.js';

const VIDEO = { pid: 0x101, streamType: StreamType.H264, streamId: PesStreamId.VIDEO };
const AUDIO = { pid: 0x102, streamType: StreamType.AAC_ADTS, streamId: PesStreamId.AUDIO };
const au = (pts: number, dts: number, size: number, randomAccess = false): { pts: number; dts: number; data: Uint8Array; randomAccess: boolean } => ({
  pts,
  dts,
  data: new Uint8Array(size).fill(0x42),
  randomAccess,
});

describe('TsMuxer', () => {
  it('writes PAT and PMT, then PES with the PCR on the PCR PID only', () => {
    const mux = new TsMuxer([VIDEO, AUDIO], VIDEO.pid);
    mux.writeTables();
    mux.writeAccessUnit(VIDEO.pid, au(6000, 3000, 1000, true));
    mux.writeAccessUnit(AUDIO.pid, au(3500, 3500, 300, true));
    mux.writeAccessUnit(VIDEO.pid, au(9000, 6000, 500));
    const ts = mux.bytes();
    const packets = packetsOf(ts);
    expect(packets[0]?.pid).toBe(0);
    expect(packets[1]?.pid).toBe(PMT_PID);
    expect(sectionOf(packets[0]!)[0]).toBe(0x00);
    expect(sectionOf(packets[1]!)[0]).toBe(0x02);
    const starts = packets.filter((p) => p.unitStart && p.pid !== 0 && p.pid !== PMT_PID);
    expect(starts.map((p) => [p.pid, p.adaptation?.pcr, p.adaptation?.randomAccess ?? false])).toEqual([
      [VIDEO.pid, 3000 - PCR_LEAD_TICKS + 2 ** 33, true],
      [AUDIO.pid, undefined, true],
      [VIDEO.pid, 6000 - PCR_LEAD_TICKS + 2 ** 33, false],
    ]);
    const units = pesUnitsOf(ts);
    expect(units.map((u) => [u.pid, u.streamId, u.pts, u.dts, u.hasDts, u.data.length])).toEqual([
      [VIDEO.pid, 0xe0, 6000, 3000, true, 1000],
      [AUDIO.pid, 0xc0, 3500, 3500, false, 300],
      [VIDEO.pid, 0xe0, 9000, 6000, true, 500],
    ]);
  });

  it('keeps the PCR within 33 bits when the decode time is below the lead', () => {
    const mux = new TsMuxer([AUDIO], AUDIO.pid);
    mux.writeAccessUnit(AUDIO.pid, au(10, 10, 10));
    expect(packetsOf(mux.bytes())[0]?.adaptation?.pcr).toBe(2 ** 33 + 10 - PCR_LEAD_TICKS);
  });

  it('continues the counters it is given', () => {
    const counters = new ContinuityCounters();
    for (let i = 0; i < 2; i++) {
      const mux = new TsMuxer([VIDEO], VIDEO.pid, counters);
      mux.writeTables();
      mux.writeAccessUnit(VIDEO.pid, au(0, 0, 400));
      expect(packetsOf(mux.bytes()).map((p) => p.cc)).toEqual([i, i, 3 * i, 3 * i + 1, 3 * i + 2]);
    }
  });

  it('refuses PIDs that clash or are not in the PMT', () => {
    expect(() => new TsMuxer([VIDEO, { ...AUDIO, pid: VIDEO.pid }], VIDEO.pid)).toThrow(RangeError);
    expect(() => new TsMuxer([{ ...VIDEO, pid: PMT_PID }], PMT_PID)).toThrow(RangeError);
    expect(() => new TsMuxer([VIDEO], AUDIO.pid)).toThrow(RangeError);
    expect(() => new TsMuxer([VIDEO], VIDEO.pid).writeAccessUnit(AUDIO.pid, au(0, 0, 1))).toThrow(RangeError);
  });
});
