// SimpleBlock / Block headers and lacing (RFC 9559 §10), and the non-streaming parse of a stored Cluster.

import type { ByteReader } from '../bits/byte-reader.js';
import { invalid } from '../errors.js';
import { EbmlId } from '../ebml/ids.js';
import { readSignedVint } from '../ebml/vint.js';
import { forEachChild, openElement, readUint, validateElement } from './mkv-elements.js';
import { checkLeafSize } from './mkv-schema.js';

/** Flag bits of the byte after the relative timecode. */
export const BlockFlags = {
  /** SimpleBlock only: the frame can be decoded without earlier frames. */
  KEYFRAME: 0x80,
  INVISIBLE: 0x08,
  LACING_MASK: 0x06,
  LACING_NONE: 0x00,
  LACING_XIPH: 0x02,
  LACING_FIXED: 0x04,
  LACING_EBML: 0x06,
  /** SimpleBlock only: the frame may be dropped under load. */
  DISCARDABLE: 0x01,
} as const;

export type BlockHeader = {
  track: number;
  /** Signed 16-bit offset from the cluster Timecode (negative for B-frames shown before their cluster). */
  relativeTimecode: number;
  flags: number;
  /** Size of each frame after de-lacing, in order; they add up exactly to the data after the header. */
  frameSizes: number[];
};

/**
 * Reads a block header and its lacing from `r`, which must span exactly the block element's data.
 * Leaves `r` at the first frame byte. Throws INVALID for track number 0 and for lace sizes that do not
 * add up exactly to the block's data.
 */
export function parseBlockHeader(r: ByteReader, what: 'SimpleBlock' | 'Block'): BlockHeader {
  const start = r.offset;
  const track = r.readVint(`${what} track number`);
  if (track === 0) {
    throw invalid(start, `${what} has track number 0`);
  }
  const relativeTimecode = r.readI16BE(`${what} relative timecode`);
  const flags = r.readU8(`${what} flags`);
  const lacing = flags & BlockFlags.LACING_MASK;
  if (lacing === BlockFlags.LACING_NONE) {
    return { track, relativeTimecode, flags, frameSizes: [r.remaining] };
  }
  const count = r.readU8(`${what} lace count`) + 1;
  const frameSizes: number[] = [];
  let sum = 0;
  if (lacing === BlockFlags.LACING_FIXED) {
    if (r.remaining % count !== 0) {
      throw invalid(start, `${what} uses fixed lacing but its ${r.remaining} data bytes do not divide into ${count} frames`);
    }
    const each = r.remaining / count;
    for (let i = 0; i < count; i++) {
      frameSizes.push(each);
    }
    return { track, relativeTimecode, flags, frameSizes };
  }
  if (lacing === BlockFlags.LACING_XIPH) {
    for (let i = 0; i < count - 1; i++) {
      // Xiph lacing: a size is a run of 255s ended by a byte below 255, all added together.
      let size = 0;
      let b: number;
      do {
        b = r.readU8(`${what} Xiph lace size`);
        size += b;
      } while (b === 255);
      frameSizes.push(size);
      sum += size;
    }
  } else {
    // EBML lacing: the first size is an unsigned vint, each next one a signed vint delta from the previous.
    let size = r.readVint(`${what} EBML lace size`);
    frameSizes.push(size);
    sum = size;
    for (let i = 1; i < count - 1; i++) {
      const lacePos = r.offset;
      const delta = readSignedVint(r.bytes, r.pos, r.end, lacePos, `${what} EBML lace size delta`);
      if (delta === null) {
        throw invalid(lacePos, `${what} EBML lace size delta is cut off by the end of the block`);
      }
      r.pos += delta.length;
      size += delta.value;
      if (size < 0) {
        throw invalid(lacePos, `${what} EBML lacing gives frame ${i} a negative size`);
      }
      frameSizes.push(size);
      sum += size;
    }
  }
  if (sum > r.remaining) {
    throw invalid(start, `${what} lace sizes add up to ${sum} bytes but only ${r.remaining} follow the lace header`);
  }
  frameSizes.push(r.remaining - sum);
  return { track, relativeTimecode, flags, frameSizes };
}

export type MkvBlock = {
  track: number;
  /** Absolute: cluster Timecode + relative timecode, in TimecodeScale units. */
  timecode: number;
  keyframe: boolean;
  invisible: boolean;
  discardable: boolean;
  /** The frames after de-lacing, as views into the cluster bytes given to parseClusterBlocks. */
  frames: Uint8Array[];
  /** BlockDuration, when a BlockGroup has one. */
  duration?: number;
};

/**
 * Parses the blocks of one complete Cluster element (header included; known size, or unknown size running
 * to the end of the buffer), as stored from a `fragment` event. Frames are views, not copies.
 */
export function parseClusterBlocks(clusterBytes: Uint8Array): { timecode: number; blocks: MkvBlock[] } {
  const r = openElement(clusterBytes, EbmlId.Cluster, 0, true);
  let timecode: number | undefined;
  const blocks: MkvBlock[] = [];
  const needTimecode = (start: number): number => {
    if (timecode === undefined) {
      throw invalid(start, 'Cluster has no Timecode before its first block');
    }
    return timecode;
  };
  forEachChild(r, EbmlId.Cluster, (id, data, start) => {
    switch (id) {
      case EbmlId.Timecode:
        if (timecode !== undefined) {
          throw invalid(start, 'Cluster has two Timecode elements');
        }
        checkLeafSize(id, 'uint', data.remaining, start);
        timecode = readUint(data, id);
        break;
      case EbmlId.SimpleBlock: {
        const clusterTc = needTimecode(start);
        const h = parseBlockHeader(data, 'SimpleBlock');
        blocks.push({
          track: h.track,
          timecode: clusterTc + h.relativeTimecode,
          keyframe: (h.flags & BlockFlags.KEYFRAME) !== 0,
          invisible: (h.flags & BlockFlags.INVISIBLE) !== 0,
          discardable: (h.flags & BlockFlags.DISCARDABLE) !== 0,
          frames: sliceFrames(data, h.frameSizes),
        });
        break;
      }
      case EbmlId.BlockGroup:
        blocks.push(parseBlockGroup(data, start, needTimecode(start)));
        break;
      default:
        validateElement(id, data, start, 2);
        break;
    }
  });
  if (timecode === undefined) {
    throw invalid(0, 'Cluster has no Timecode');
  }
  return { timecode, blocks };
}

function parseBlockGroup(r: ByteReader, groupStart: number, clusterTc: number): MkvBlock {
  let block: MkvBlock | undefined;
  let hasReference = false;
  let duration: number | undefined;
  forEachChild(r, EbmlId.BlockGroup, (id, data, start) => {
    switch (id) {
      case EbmlId.Block: {
        if (block !== undefined) {
          throw invalid(start, 'BlockGroup has two Block elements');
        }
        const h = parseBlockHeader(data, 'Block');
        block = {
          track: h.track,
          timecode: clusterTc + h.relativeTimecode,
          keyframe: false,
          invisible: (h.flags & BlockFlags.INVISIBLE) !== 0,
          discardable: false,
          frames: sliceFrames(data, h.frameSizes),
        };
        break;
      }
      case EbmlId.ReferenceBlock:
        validateElement(id, data, start, 3);
        hasReference = true;
        break;
      case EbmlId.BlockDuration:
        checkLeafSize(id, 'uint', data.remaining, start);
        duration = readUint(data, id);
        break;
      default:
        validateElement(id, data, start, 3);
        break;
    }
  });
  if (block === undefined) {
    throw invalid(groupStart, 'BlockGroup has no Block');
  }
  // A Block is a keyframe exactly when nothing it depends on is referenced (RFC 9559 §10.2).
  const out: MkvBlock = { ...(block as MkvBlock), keyframe: !hasReference };
  if (duration !== undefined) {
    out.duration = duration;
  }
  return out;
}

function sliceFrames(r: ByteReader, sizes: readonly number[]): Uint8Array[] {
  return sizes.map((size) => r.readBytes(size, 'a laced frame'));
}
