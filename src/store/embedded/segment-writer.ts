import type { promises as fsp } from 'node:fs';
import { join } from 'node:path';

/** Segments roll at this size so retention can reclaim disk in small steps. */
export const SEGMENT_MAX_BYTES = 16 * 1024 * 1024;
/** …and at this age, so a slow stream's expired bytes are reclaimed within about a minute of expiry. */
export const SEGMENT_MAX_AGE_MS = 30_000;

export type OpenSegment = {
  id: number;
  fd: fsp.FileHandle;
  size: number;
  createdMs: number;
  /** Appends written but not yet committed; the file is closed only when this drops to 0 after a roll. */
  inFlight: number;
  retired: boolean;
  /** Whether its segments-table row has committed (it commits with the segment's first fragment). */
  rowCommitted: boolean;
};

export function segmentPath(dataDir: string, streamId: number, segmentId: number): string {
  return join(streamDir(dataDir, streamId), `${String(segmentId).padStart(10, '0')}.seg`);
}

export function streamDir(dataDir: string, streamId: number): string {
  return join(dataDir, 'streams', String(streamId));
}

/** Append one buffer list at the segment's end; returns the offset it starts at. */
export async function appendToSegment(seg: OpenSegment, parts: Uint8Array[]): Promise<number> {
  const offset = seg.size;
  const total = parts.reduce((n, p) => n + p.length, 0);
  // Reserve the range before the await so concurrent appends to one segment never overlap.
  seg.size += total;
  let pos = offset;
  for (const p of parts) {
    let written = 0;
    while (written < p.length) {
      const { bytesWritten } = await seg.fd.write(p, written, p.length - written, pos + written);
      written += bytesWritten;
    }
    pos += p.length;
  }
  return offset;
}
