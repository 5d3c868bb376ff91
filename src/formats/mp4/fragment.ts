// One movie fragment (ISO/IEC 14496-12 8.8): a moof with one traf per track, then the mdat holding every
// traf's sample data in traf order. Times are already in each track's timescale.

import { BoxWriter } from './box-writer.js';

/** sample_depends_on = 2 (depends on no other sample), sample_is_non_sync_sample = 0. */
export const SYNC_SAMPLE_FLAGS = 0x02000000;
/** sample_depends_on = 1 (depends on others), sample_is_non_sync_sample = 1. */
export const NON_SYNC_SAMPLE_FLAGS = 0x01010000;

export type FragmentSample = {
  /** Ticks until the next sample's decode time. */
  duration: number;
  flags: number;
  /** Presentation minus decode time in ticks; negative for frames shown before later-decoded ones. */
  compositionOffset: number;
  data: Uint8Array;
};

export type TrackFragment = {
  trackId: number;
  /** Decode time of the first sample in ticks (written as tfdt version 1, so it may exceed 32 bits). */
  baseMediaDecodeTime: number;
  samples: FragmentSample[];
};

const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_SAMPLE_DURATION = 0x000100;
const TRUN_SAMPLE_SIZE = 0x000200;
const TRUN_SAMPLE_FLAGS = 0x000400;
const TRUN_SAMPLE_CTO = 0x000800;
const TRUN_FLAGS = TRUN_DATA_OFFSET | TRUN_SAMPLE_DURATION | TRUN_SAMPLE_SIZE | TRUN_SAMPLE_FLAGS | TRUN_SAMPLE_CTO;
const MDAT_HEADER = 8;

/**
 * moof + mdat. Each traf's data offset is counted from the moof's first byte (default-base-is-moof). A traf
 * without samples has no trun (a traf holds zero or more, 8.8.8): the track's time moves on with nothing in it.
 */
export function writeFragment(sequenceNumber: number, trafs: TrackFragment[]): Uint8Array {
  if (trafs.length === 0) {
    throw new RangeError('a fragment needs at least one track fragment');
  }
  let dataBytes = 0;
  let sampleCount = 0;
  for (const t of trafs) {
    for (const s of t.samples) {
      dataBytes += s.data.length;
      sampleCount++;
    }
  }
  const w = new BoxWriter(dataBytes + sampleCount * 16 + trafs.length * 64 + 64);
  const offsetFields: number[] = [];
  w.box('moof', (moof) => {
    moof.fullBox('mfhd', 0, 0, (b) => b.u32(sequenceNumber));
    for (const t of trafs) {
      moof.box('traf', (traf) => {
        traf.fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, (b) => b.u32(t.trackId));
        traf.fullBox('tfdt', 1, 0, (b) => b.u64(t.baseMediaDecodeTime));
        if (t.samples.length === 0) {
          offsetFields.push(-1);
          return;
        }
        // Version 1: signed composition offsets, so a frame may be presented before its decode time (as
        // CMAF writes B-frames, keeping the first presentation time at tfdt).
        traf.fullBox('trun', 1, TRUN_FLAGS, (b) => {
          b.u32(t.samples.length);
          offsetFields.push(b.length);
          b.i32(0);
          for (const s of t.samples) {
            b.u32(s.duration);
            b.u32(s.data.length);
            b.u32(s.flags);
            b.i32(s.compositionOffset);
          }
        });
      });
    }
  });
  const moofSize = w.length;
  let dataOffset = moofSize + MDAT_HEADER;
  trafs.forEach((t, i) => {
    if (dataOffset > 0x7fffffff) {
      throw new RangeError(`trun data offset ${dataOffset} does not fit its signed 32-bit field`);
    }
    if (offsetFields[i]! >= 0) {
      w.patchU32(offsetFields[i]!, dataOffset);
    }
    for (const s of t.samples) {
      dataOffset += s.data.length;
    }
  });
  w.box('mdat', (mdat) => {
    for (const t of trafs) {
      for (const s of t.samples) {
        mdat.bytes(s.data);
      }
    }
  });
  return w.finish();
}
