import type { FragmentRecord, NewFragment } from './fragment-store.js';

/** KVS keeps fragments of a stream with no retention in a host buffer of 5 minutes… */
export const BUFFER_MAX_AGE_MS = 5 * 60 * 1000;
/** …and at most 200 MB. */
export const BUFFER_MAX_BYTES = 200 * 1024 * 1024;

type Entry = { record: FragmentRecord; bytes: Uint8Array };

/** The rolling in-memory buffer of a retention-0 stream: consumable for a while, never persisted. */
export class MemoryBuffer {
  readonly #streams = new Map<number, { entries: Entry[]; bytes: number }>();

  add(f: NewFragment): FragmentRecord {
    const tags = f.tagsBytes ?? new Uint8Array(0);
    const bytes = new Uint8Array(tags.length + f.clusterBytes.length);
    bytes.set(tags, 0);
    bytes.set(f.clusterBytes, tags.length);
    const { tagsBytes: _t, clusterBytes: _c, ...meta } = f;
    const record: FragmentRecord = { ...meta, size: bytes.length, tagsSize: tags.length };
    let s = this.#streams.get(f.streamId);
    if (s === undefined) {
      s = { entries: [], bytes: 0 };
      this.#streams.set(f.streamId, s);
    }
    s.entries.push({ record, bytes });
    s.bytes += bytes.length;
    this.#trim(s, f.serverTimestampMs);
    return record;
  }

  list(streamId: number, nowMs: number): FragmentRecord[] {
    const s = this.#streams.get(streamId);
    if (s === undefined) {
      return [];
    }
    this.#trim(s, nowMs);
    return s.entries.map((e) => e.record);
  }

  read(streamId: number, fragmentNumber: string): Uint8Array | undefined {
    return this.#streams.get(streamId)?.entries.find((e) => e.record.fragmentNumber === fragmentNumber)?.bytes;
  }

  dropStream(streamId: number): void {
    this.#streams.delete(streamId);
  }

  #trim(s: { entries: Entry[]; bytes: number }, nowMs: number): void {
    while (s.entries.length > 0) {
      const first = s.entries[0];
      if (first === undefined || (s.bytes <= BUFFER_MAX_BYTES && first.record.serverTimestampMs >= nowMs - BUFFER_MAX_AGE_MS)) {
        break;
      }
      s.entries.shift();
      s.bytes -= first.bytes.length;
    }
  }
}
