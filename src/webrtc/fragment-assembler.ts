// Received frames → the Matroska clusters a recording stores, one per key frame (as a KVS producer SDK cuts
// them). Times are wall-clock milliseconds (RtpClock), written with TimecodeScale 1 ms, so a cluster's Timecode
// is its absolute producer timestamp. Pure: no I/O, no clock.

import { writeCluster, type MkvWriteBlock } from '../formats/mkv/mkv-writer.js';

export type AssembledFragment = {
  /** Cluster Timecode: the fragment's producer timestamp in epoch milliseconds. */
  timecode: number;
  clusterBytes: Uint8Array;
  durationMs: number;
  blockCount: number;
  /** Begins with a video key frame (always true without video); false only for a fragment cut by a limit. */
  startsWithKeyframe: boolean;
};

export type AssemblerLimits = {
  /** Cut even without a key frame: the stream's maxFragmentDurationMs (block offsets are int16 ms, so ≤ 32 s). */
  maxDurationMs: number;
  /** Cut before a frame would take the cluster over the stream's maxFragmentBytes. */
  maxBytes: number;
  /** A key frame this soon after the fragment's start stays inside it: the stream's fragment-rate cap. */
  minDurationMs: number;
  /** Fragment length of an audio-only session (every audio frame can start one). */
  audioFragmentMs: number;
};

/** Largest block offset from its cluster's Timecode a SimpleBlock can hold (int16), in ms at TimecodeScale 1 ms. */
const MAX_BLOCK_OFFSET_MS = 0x7fff;
/** SimpleBlock framing around a frame: ID, size, track, offset, flags. */
const BLOCK_OVERHEAD = 16;
/** The Cluster element's own header and Timecode. */
const CLUSTER_OVERHEAD = 32;
/** Share of the longest fragment after which a key frame is asked for, so the limit rarely has to cut. */
const KEYFRAME_REQUEST_SHARE = 0.6;
/**
 * A fragment this long asks for a key frame anyway: a browser sends one only when asked, and fragments of 10 s
 * and more put live HLS half a minute behind (players stay three fragments from the edge). The recorder spaces
 * the requests (session-recorder.ts), so a browser master's fragments come out a few seconds long.
 */
export const KEYFRAME_WANTED_AFTER_MS = 2000;

type Open = { startMs: number; timecode: number; blocks: MkvWriteBlock[]; bytes: number; startsWithKeyframe: boolean };

export class FragmentAssembler {
  readonly #videoTrack: number | null;
  readonly #audioTrack: number | null;
  readonly #limits: AssemblerLimits;
  #open: Open | null = null;
  /** Video frames dropped while waiting for the first key frame. */
  droppedBeforeKeyframe = 0;

  constructor(tracks: { video: number | null; audio: number | null }, limits: AssemblerLimits) {
    this.#videoTrack = tracks.video;
    this.#audioTrack = tracks.audio;
    this.#limits = { ...limits, maxDurationMs: Math.min(limits.maxDurationMs, MAX_BLOCK_OFFSET_MS) };
  }

  /** The open fragment has gone long without a key frame: the sender should be asked for one (PLI). */
  get wantsKeyframe(): boolean {
    return this.#videoTrack !== null && (this.#open === null || this.#spanOf(this.#open) > Math.min(KEYFRAME_WANTED_AFTER_MS, this.#limits.maxDurationMs * KEYFRAME_REQUEST_SHARE));
  }

  /** One H.264 access unit (length-prefixed NAL units); returns the fragment it closed, if any. */
  video(ms: number, keyframe: boolean, data: Uint8Array): AssembledFragment | null {
    if (this.#videoTrack === null) {
      return null;
    }
    let closed: AssembledFragment | null = null;
    const open = this.#open;
    if (open === null) {
      if (!keyframe) {
        // a decoder cannot start here: the first fragment begins at the first key frame
        this.droppedBeforeKeyframe++;
        return null;
      }
    } else if (keyframe && ms - open.startMs >= this.#limits.minDurationMs) {
      closed = this.#close(ms);
    } else if (this.#overLimit(open, ms, data.length)) {
      closed = this.#close(ms);
    }
    this.#add(this.#videoTrack, ms, keyframe, data, keyframe || closed === null);
    return closed;
  }

  /** One audio frame (the recording's AAC, in time order after the video before it); returns the fragment it closed, if any. */
  audio(ms: number, data: Uint8Array): AssembledFragment | null {
    if (this.#audioTrack === null) {
      return null;
    }
    const open = this.#open;
    if (open === null && this.#videoTrack !== null) {
      // audio waits for the video's first key frame, so every fragment can be played from its start
      return null;
    }
    let closed: AssembledFragment | null = null;
    if (open !== null) {
      const cutAudioOnly = this.#videoTrack === null && ms - open.startMs >= this.#limits.audioFragmentMs;
      if (cutAudioOnly || this.#overLimit(open, ms, data.length)) {
        closed = this.#close(ms);
      }
    }
    this.#add(this.#audioTrack, ms, true, data, this.#videoTrack === null);
    return closed;
  }

  /** The open fragment, closed (session end). */
  flush(): AssembledFragment | null {
    return this.#open === null ? null : this.#close(null);
  }

  #overLimit(open: Open, ms: number, bytes: number): boolean {
    return ms - open.startMs >= this.#limits.maxDurationMs || open.bytes + bytes + BLOCK_OVERHEAD > this.#limits.maxBytes;
  }

  #add(track: number, ms: number, keyframe: boolean, data: Uint8Array, startsWithKeyframe: boolean): void {
    if (this.#open === null) {
      const timecode = Math.round(ms);
      this.#open = { startMs: ms, timecode, blocks: [], bytes: CLUSTER_OVERHEAD, startsWithKeyframe };
    }
    const open = this.#open;
    // a packet timed a little before the cluster (audio captured just before the key frame) is placed at its start
    const timecode = Math.max(open.timecode, Math.round(ms));
    open.blocks.push({ track, timecode, keyframe, data });
    open.bytes += data.length + BLOCK_OVERHEAD;
  }

  #close(nextStartMs: number | null): AssembledFragment {
    const open = this.#open!;
    this.#open = null;
    // audio and video arrive interleaved by the network; a cluster keeps its blocks in time order
    const blocks = [...open.blocks].sort((a, b) => a.timecode - b.timecode);
    const last = blocks[blocks.length - 1]!.timecode;
    const durationMs = nextStartMs !== null ? Math.max(Math.round(nextStartMs) - open.timecode, last - open.timecode) : last - open.timecode + this.#typicalFrameMs(blocks);
    return { timecode: open.timecode, clusterBytes: writeCluster(open.timecode, blocks), durationMs, blockCount: blocks.length, startsWithKeyframe: open.startsWithKeyframe };
  }

  #spanOf(open: Open): number {
    const last = open.blocks[open.blocks.length - 1];
    return last === undefined ? 0 : last.timecode - open.timecode;
  }

  /** The last frame's length when no later frame says: the average spacing of the main track's frames. */
  #typicalFrameMs(blocks: MkvWriteBlock[]): number {
    const main = blocks.filter((b) => b.track === (this.#videoTrack ?? this.#audioTrack));
    if (main.length < 2) {
      return 0;
    }
    return Math.round((main[main.length - 1]!.timecode - main[0]!.timecode) / (main.length - 1));
  }
}
