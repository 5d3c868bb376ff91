import type { TrackSet } from './track.js';

// What an ingest container parser (MKV, or MP4 converted to MKV) hands to the ingest session.
// All byte arrays are owned by the receiver (parsers never hand out views they will reuse).

export type SimpleTag = { name: string; value: string };

export type ParsedHeader = TrackSet & {
  /**
   * Bytes to replay in front of any stored cluster so it forms a valid Matroska file:
   * EBML header + Segment start (unknown size) + Info + Tracks (+ other level-1 header elements).
   */
  bytes: Uint8Array;
};

export type ParsedFragment = {
  /** Cluster Timecode exactly as received, in TimecodeScale units. */
  timecode: number;
  /** The complete Cluster element (header + children) as stored and served. */
  bytes: Uint8Array;
  blockCount: number;
  /** Smallest and largest absolute block timecode (TimecodeScale units); equal to timecode when empty. */
  minBlockTimecode: number;
  maxBlockTimecode: number;
  /** Track numbers that had at least one block in this cluster. */
  trackNumbers: number[];
  /** True when the first block of the first video track (or the first block, if there is no video) is a keyframe. */
  startsWithKeyframe: boolean;
};

export type ParseEvent =
  | { kind: 'header'; header: ParsedHeader }
  /** The first bytes of a cluster arrived and its Timecode is known (drives the BUFFERING ack). */
  | { kind: 'fragment-start'; timecode: number }
  | { kind: 'fragment'; fragment: ParsedFragment }
  /** A level-1 Tags element outside any cluster. */
  | { kind: 'tags'; bytes: Uint8Array; tags: SimpleTag[] };

/** An incremental container parser: push() returns what completed so far, end() flushes. */
export type IngestParser = {
  push(chunk: Uint8Array): ParseEvent[];
  end(): ParseEvent[];
};
