// Groups MP4 samples into Matroska clusters: decides where a cluster starts, which timecode it gets, and
// turns a finished group into the ParsedFragment the ingest session stores.
import { fragmentTooLarge } from '../../formats/errors.js';
import { writeCluster } from '../../formats/mkv/mkv-writer.js';
import type { ParsedFragment } from '../../media/parse-events.js';

export type PendingBlock = {
  track: number;
  /** Presentation timecode in milliseconds (what a Matroska block carries), never negative. */
  pts: number;
  /** Decode time in seconds, only used to order blocks of different tracks. */
  order: number;
  keyframe: boolean;
  size: number;
  /** Absolute stream offset of the sample data. */
  offset: number;
  /** The sample bytes, once read. */
  data?: Uint8Array;
};

export type BlockGroup = { timecode: number; blocks: PendingBlock[]; bytes: number };

// SimpleBlock timecodes are int16 offsets from the cluster timecode.
const MIN_RELATIVE = -0x8000;
const MAX_RELATIVE = 0x7fff;
/**
 * How far ahead (in blocks) to look for a presentation time below the first block's, e.g. B-frames or
 * audio interleaved just behind a video keyframe, so the cluster timecode can cover them.
 */
const TIMECODE_LOOKAHEAD = 64;
/** Only blocks this close below the first block may pull the cluster timecode down. */
const TIMECODE_WINDOW_MS = 10_000;

/**
 * Most blocks in one cluster. A cluster spans at most 32.767 s (the int16 block offset) and media has at
 * most a few hundred samples a second, so real clusters hold a few thousand. The byte cap alone does not
 * bound them: samples of size 0 cost no bytes but an object and a block each, and consecutive moofs that
 * continue a GOP all go into one cluster.
 */
export const MAX_BLOCKS_PER_FRAGMENT = 1 << 16;

export function ticksToMs(ticks: number, timescale: number): number {
  // Split into whole seconds and remainder so large decode times (epoch-based tfdt) stay exact.
  const seconds = Math.floor(ticks / timescale);
  const rest = ticks - seconds * timescale;
  return seconds * 1000 + Math.round((rest * 1000) / timescale);
}

/** Sorts blocks into decode order across tracks (stable for equal times). */
export function sortByDecodeOrder(blocks: PendingBlock[]): PendingBlock[] {
  return blocks.sort((a, b) => a.order - b.order || a.track - b.track);
}

/**
 * Feeds runs of blocks (each in decode order) into clusters. A cluster closes when the caller says the
 * next block starts a new one, or when a block's timecode would not fit the int16 offset.
 */
export class ClusterAssembler {
  private current: BlockGroup | undefined;

  constructor(
    private readonly maxFragmentBytes: number,
    private readonly onOpen: (timecode: number) => void,
    private readonly onClose: (group: BlockGroup) => void,
  ) {}

  get open(): BlockGroup | undefined {
    return this.current;
  }

  add(run: readonly PendingBlock[], startsNew: (block: PendingBlock, index: number, current: BlockGroup) => boolean): void {
    for (let i = 0; i < run.length; i++) {
      const block = run[i];
      if (block === undefined) {
        continue;
      }
      let group = this.current;
      if (group === undefined || startsNew(block, i, group) || !fits(group, block)) {
        this.close();
        group = { timecode: clusterTimecode(run, i), blocks: [], bytes: 0 };
        this.current = group;
        this.onOpen(group.timecode);
      }
      if (group.blocks.length >= MAX_BLOCKS_PER_FRAGMENT) {
        throw fragmentTooLarge(block.offset, `fragment grows beyond ${MAX_BLOCKS_PER_FRAGMENT} blocks`);
      }
      if (group.bytes + block.size > this.maxFragmentBytes) {
        throw fragmentTooLarge(block.offset, `fragment grows beyond ${this.maxFragmentBytes} bytes of sample data`);
      }
      group.blocks.push(block);
      group.bytes += block.size;
    }
  }

  close(): void {
    const group = this.current;
    this.current = undefined;
    if (group !== undefined) {
      this.onClose(group);
    }
  }
}

function fits(group: BlockGroup, block: PendingBlock): boolean {
  const relative = block.pts - group.timecode;
  return relative >= MIN_RELATIVE && relative <= MAX_RELATIVE;
}

function clusterTimecode(run: readonly PendingBlock[], start: number): number {
  const first = run[start]?.pts ?? 0;
  let timecode = first;
  const end = Math.min(run.length, start + TIMECODE_LOOKAHEAD);
  for (let j = start + 1; j < end; j++) {
    const pts = run[j]?.pts ?? first;
    if (pts < timecode && pts >= first - TIMECODE_WINDOW_MS) {
      timecode = pts;
    }
  }
  return timecode;
}

/** The stored form of a finished group. Every block must carry its data. */
export function buildFragment(group: BlockGroup, firstVideoTrack: number | undefined): ParsedFragment {
  const blocks = group.blocks.map((b) => {
    if (b.data === undefined) {
      throw new Error(`block at offset ${b.offset} has no data`);
    }
    return { track: b.track, timecode: b.pts, keyframe: b.keyframe, data: b.data };
  });
  let min = group.timecode;
  let max = group.timecode;
  if (blocks.length > 0) {
    min = Infinity;
    max = -Infinity;
    for (const b of blocks) {
      min = Math.min(min, b.timecode);
      max = Math.max(max, b.timecode);
    }
  }
  // Same rule as the MKV parser: with a video track, only its first block counts (a cluster without
  // video does not start with a keyframe); otherwise the first block does.
  const leading = firstVideoTrack !== undefined ? blocks.find((b) => b.track === firstVideoTrack) : blocks[0];
  return {
    timecode: group.timecode,
    bytes: writeCluster(group.timecode, blocks),
    blockCount: blocks.length,
    minBlockTimecode: min,
    maxBlockTimecode: max,
    trackNumbers: [...new Set(blocks.map((b) => b.track))].sort((a, b) => a - b),
    startsWithKeyframe: leading?.keyframe ?? false,
  };
}
