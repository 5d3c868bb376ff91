import type { ParsedHeader } from '../media/parse-events.js';
import type { TrackSet } from '../media/track.js';

// The fragment store seam: the embedded default (segment files + SQLite index) implements it now; an
// object-storage + PostgreSQL backend is meant to implement the same interface later.

export type FragmentRecord = {
  streamId: number;
  /** Decimal string, strictly increasing per stream. */
  fragmentNumber: string;
  producerTimestampMs: number;
  serverTimestampMs: number;
  durationMs: number;
  /** Cluster Timecode as received. */
  timecode: number;
  /** Stored bytes: producer Tags that preceded the cluster, then the Cluster element. */
  size: number;
  tagsSize: number;
  trackInfoId: number;
};

export type NewFragment = Omit<FragmentRecord, 'size' | 'tagsSize'> & {
  tagsBytes: Uint8Array | null;
  clusterBytes: Uint8Array;
};

export type StoredTrackInfo = TrackSet & { id: number; streamId: number; header: Uint8Array };

export type FragmentQuery = {
  streamId: number;
  /** Fragments older than this (server time) are expired and never returned. */
  notBeforeServerMs: number;
  timestampKind?: 'server' | 'producer';
  fromMs?: number;
  toMs?: number;
  afterFragmentNumber?: string;
  limit?: number;
  /**
   * Order: with a timestampKind, by that timestamp then fragment number (the index's order); without, by fragment
   * number. newestFirst reverses it (NOW selectors, "the fragment at or before a time").
   */
  newestFirst?: boolean;
};

/** append() of a fragment whose stream was deleted while it was being written: nothing of it is kept. */
export class StreamDroppedError extends Error {
  constructor(readonly streamId: number) {
    super(`stream ${streamId} was deleted while a fragment of it was being stored`);
    this.name = 'StreamDroppedError';
  }
}

export interface FragmentStore {
  /** Record a stream's header (tracks) once per distinct content; returns its id. */
  saveTrackInfo(streamId: number, header: ParsedHeader): number;
  trackInfo(id: number): StoredTrackInfo | undefined;
  /** Next fragment number for the stream; strictly increasing even if the clock steps back. */
  nextFragmentNumber(streamId: number, serverMs: number): string;
  /** Resolves once bytes and index entry are durable (fsync'd): only then may PERSISTED be sent. */
  append(fragment: NewFragment): Promise<FragmentRecord>;
  list(query: FragmentQuery): FragmentRecord[];
  get(streamId: number, fragmentNumber: string): FragmentRecord | undefined;
  readBytes(fragment: FragmentRecord): Promise<Uint8Array>;
  /**
   * The bytes of several fragments of one stream (in the given order; undefined for any that is gone), read in as
   * few I/O calls as their layout allows — fragments stored back to back come off disk in one read.
   */
  readMany(fragments: readonly FragmentRecord[]): Promise<(Uint8Array | undefined)[]>;
  /** Drop index entries older than the cutoff at once; their bytes are reclaimed by reclaim(). */
  expire(streamId: number, cutoffServerMs: number): number;
  /** Remove every fragment of a stream (stream deleted); appends still in flight for it fail with StreamDroppedError. */
  dropStream(streamId: number): void;
  /** Delete storage no index entry refers to any more. */
  reclaim(): Promise<{ segmentsDeleted: number; bytesFreed: number }>;
  /** Bytes currently held for a stream (for the optional per-stream budget). */
  storedBytes(streamId: number): number;
  close(): Promise<void>;
}
