// The stream parser's input buffer: one contiguous, growable copy of the bytes not yet released, addressed
// by absolute stream offset. Contiguity keeps element parsing simple (a ByteReader over a range), and a
// Cluster is copied only twice: into this buffer as it arrives, and out as its fragment.

/** Starting capacity; grows by doubling to the largest cluster seen and shrinks back when idle. */
const INITIAL_CAPACITY = 64 * 1024;

export class StreamBuffer {
  private buf = new Uint8Array(INITIAL_CAPACITY);
  /** Absolute stream offset of buf[0]. */
  private base = 0;
  /** Number of valid bytes in buf. */
  private len = 0;
  /** Largest number of bytes retained at once since the last reallocation or compaction. */
  private peak = 0;

  /** Absolute offset one past the last received byte. */
  get end(): number {
    return this.base + this.len;
  }

  /** The backing array; absolute offset `o` is at index `o - this.start`. Only valid until the next append. */
  get bytes(): Uint8Array {
    return this.buf;
  }

  /** Absolute offset of bytes[0]. */
  get start(): number {
    return this.base;
  }

  /** Bytes allocated. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Copies `chunk` in; bytes before `keepFrom` (an absolute offset ≤ end) may be dropped to make room. */
  append(chunk: Uint8Array, keepFrom: number): void {
    if (this.len + chunk.length > this.buf.length) {
      this.makeRoom(keepFrom, chunk.length);
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    this.peak = Math.max(this.peak, this.base + this.len - keepFrom);
  }

  /** A fresh copy of the absolute range [from, to). */
  slice(from: number, to: number): Uint8Array {
    return this.buf.slice(from - this.base, to - this.base);
  }

  /** Drops everything (the parser is dead or finished). */
  clear(): void {
    this.buf = new Uint8Array(0);
    this.base = this.end;
    this.len = 0;
  }

  private makeRoom(keepFrom: number, incoming: number): void {
    const drop = keepFrom - this.base;
    const live = this.len - drop;
    const need = live + incoming;
    const cap = this.buf.length;
    let newCap = cap;
    if (need > cap) {
      newCap = Math.max(cap * 2, need);
    } else if (live > cap / 2) {
      // Moving a large live region to gain little room would repeat on every append; grow instead.
      newCap = cap * 2;
    } else if (cap > INITIAL_CAPACITY && Math.max(need, this.peak) * 8 < cap) {
      // After a burst (one huge cluster) give the memory back rather than holding it per session. The
      // peak keeps the buffer from shrinking between ordinary clusters, which would only regrow it.
      newCap = Math.max(INITIAL_CAPACITY, Math.max(need, this.peak) * 4);
    }
    this.peak = need;
    if (newCap !== cap) {
      const next = new Uint8Array(newCap);
      next.set(this.buf.subarray(drop, this.len));
      this.buf = next;
    } else {
      this.buf.copyWithin(0, drop, this.len);
    }
    this.base = keepFrom;
    this.len = live;
  }
}
