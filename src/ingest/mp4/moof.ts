// Movie fragment (moof) parsing: the samples each track fragment run describes, with absolute data offsets.
//
//   moof
//   ├── mfhd
//   └── traf (one per track)
//       ├── tfhd   track ID, base data offset, per-fragment sample defaults
//       ├── tfdt   decode time of the first sample (optional)
//       └── trun+  sample count, data offset, per-sample duration/size/flags/composition offset
import { invalid, tooLarge } from '../../formats/errors.js';
import { BoxCursor, childBoxes } from './boxes.js';

/** Sample defaults for one track from moov/mvex/trex; used when neither tfhd nor trun give a value. */
export type TrackExtends = { defaultDuration: number; defaultSize: number; defaultFlags: number };

export type FragmentSample = {
  trackId: number;
  /** Decode time in the track's timescale. */
  dts: number;
  /** Composition time offset in the track's timescale (may be negative with version 1 truns). */
  cto: number;
  duration: number;
  size: number;
  /** Absolute stream offset of the sample data. */
  offset: number;
  sync: boolean;
};

// tfhd flags
const TFHD_BASE_DATA_OFFSET = 0x000001;
const TFHD_SAMPLE_DESCRIPTION_INDEX = 0x000002;
const TFHD_DEFAULT_DURATION = 0x000008;
const TFHD_DEFAULT_SIZE = 0x000010;
const TFHD_DEFAULT_FLAGS = 0x000020;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
// trun flags
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_FIRST_SAMPLE_FLAGS = 0x000004;
const TRUN_DURATION = 0x000100;
const TRUN_SIZE = 0x000200;
const TRUN_FLAGS = 0x000400;
const TRUN_CTO = 0x000800;
/**
 * Far above real fragments (a 10 s KVS fragment of 60 fps video and 48 kHz AAC is ~1 100 samples) but keeps
 * a forged sample count in a trun without per-sample fields from allocating entries by the million: each
 * sample becomes a few objects and a Matroska block, and 2^20 of them from a 76-byte moof took 14 s and
 * 770 MB (found by the fuzz harness).
 */
export const MAX_SAMPLES_PER_MOOF = 1 << 16;
/** sample_is_non_sync_sample in the sample flags word. */
const SAMPLE_FLAG_NON_SYNC = 0x00010000;

/**
 * Parses a complete moof box. `nextDecodeTime` holds, per track ID, the decode time following the last
 * sample seen so far; it is used for trafs without tfdt and updated in place.
 */
export function parseMoof(
  moofPayload: Uint8Array,
  moofStart: number,
  payloadStart: number,
  trex: ReadonlyMap<number, TrackExtends>,
  nextDecodeTime: Map<number, number>,
): FragmentSample[] {
  const samples: FragmentSample[] = [];
  // Without default-base-is-moof or an explicit base, later trafs continue where the previous one's data ended.
  let previousTrafDataEnd = moofStart;
  let firstTraf = true;
  for (const traf of childBoxes(moofPayload, payloadStart)) {
    if (traf.type !== 'traf') {
      continue;
    }
    const children = childBoxes(traf.payload, traf.payloadStart);
    const tfhdBox = children.find((c) => c.type === 'tfhd');
    if (tfhdBox === undefined) {
      throw invalid(traf.start, 'traf without tfhd');
    }
    const tfhd = new BoxCursor(tfhdBox.payload, tfhdBox.payloadStart);
    const { flags: tfhdFlags } = tfhd.fullBoxHeader();
    const trackId = tfhd.u32();
    const defaults = trex.get(trackId) ?? { defaultDuration: 0, defaultSize: 0, defaultFlags: 0 };
    let baseDataOffset: number;
    if (tfhdFlags & TFHD_BASE_DATA_OFFSET) {
      baseDataOffset = tfhd.u64();
    } else if (tfhdFlags & TFHD_DEFAULT_BASE_IS_MOOF || firstTraf) {
      baseDataOffset = moofStart;
    } else {
      baseDataOffset = previousTrafDataEnd;
    }
    if (tfhdFlags & TFHD_SAMPLE_DESCRIPTION_INDEX) {
      tfhd.u32();
    }
    const defaultDuration = tfhdFlags & TFHD_DEFAULT_DURATION ? tfhd.u32() : defaults.defaultDuration;
    const defaultSize = tfhdFlags & TFHD_DEFAULT_SIZE ? tfhd.u32() : defaults.defaultSize;
    const defaultFlags = tfhdFlags & TFHD_DEFAULT_FLAGS ? tfhd.u32() : defaults.defaultFlags;

    const tfdtBox = children.find((c) => c.type === 'tfdt');
    let dts: number;
    if (tfdtBox !== undefined) {
      const tfdt = new BoxCursor(tfdtBox.payload, tfdtBox.payloadStart);
      const { version } = tfdt.fullBoxHeader();
      dts = version === 1 ? tfdt.u64() : tfdt.u32();
    } else {
      dts = nextDecodeTime.get(trackId) ?? 0;
    }

    let dataPos = baseDataOffset;
    for (const trunBox of children) {
      if (trunBox.type !== 'trun') {
        continue;
      }
      const trun = new BoxCursor(trunBox.payload, trunBox.payloadStart);
      const { version, flags } = trun.fullBoxHeader();
      const count = trun.u32();
      const perSample =
        (flags & TRUN_DURATION ? 4 : 0) + (flags & TRUN_SIZE ? 4 : 0) + (flags & TRUN_FLAGS ? 4 : 0) + (flags & TRUN_CTO ? 4 : 0);
      // Checked before looping so a forged count cannot make us spin: the table must fit in the box.
      const fixed = (flags & TRUN_DATA_OFFSET ? 4 : 0) + (flags & TRUN_FIRST_SAMPLE_FLAGS ? 4 : 0);
      if (fixed + count * perSample > trun.remaining) {
        throw invalid(trunBox.start, `trun declares ${count} samples but its table does not fit in the box`);
      }
      if (samples.length + count > MAX_SAMPLES_PER_MOOF) {
        throw tooLarge(trunBox.start, `moof declares more than ${MAX_SAMPLES_PER_MOOF} samples`);
      }
      if (flags & TRUN_DATA_OFFSET) {
        dataPos = baseDataOffset + trun.i32();
      }
      const firstFlags = flags & TRUN_FIRST_SAMPLE_FLAGS ? trun.u32() : undefined;
      for (let i = 0; i < count; i++) {
        const duration = flags & TRUN_DURATION ? trun.u32() : defaultDuration;
        const size = flags & TRUN_SIZE ? trun.u32() : defaultSize;
        let sampleFlags = flags & TRUN_FLAGS ? trun.u32() : defaultFlags;
        if (i === 0 && firstFlags !== undefined) {
          sampleFlags = firstFlags;
        }
        const cto = flags & TRUN_CTO ? (version === 0 ? trun.u32() : trun.i32()) : 0;
        if (dataPos < 0) {
          throw invalid(trunBox.start, 'trun data offset points before the start of the stream');
        }
        samples.push({ trackId, dts, cto, duration, size, offset: dataPos, sync: (sampleFlags & SAMPLE_FLAG_NON_SYNC) === 0 });
        dts += duration;
        dataPos += size;
      }
    }
    nextDecodeTime.set(trackId, dts);
    previousTrafDataEnd = dataPos;
    firstTraf = false;
  }
  return samples;
}
