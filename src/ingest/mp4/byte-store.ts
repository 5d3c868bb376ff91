// The retained window of an incoming byte stream, addressed by absolute stream offsets.
// MP4 sample tables point into the file by absolute offset, so chunks are kept as received and only
// copied when a range is read out; the window's start moves forward as data stops being referenced.

export class ByteStore {
  private chunks: Uint8Array[] = [];
  /** starts[i] = absolute offset of chunks[i][0]. */
  private starts: number[] = [];
  /** Index of the first live chunk; released chunks before it are compacted away lazily. */
  private head = 0;
  /** Absolute offset of the first retained byte (may lie inside the head chunk). */
  private retainedStart = 0;
  private total = 0;

  /** Absolute offset one past the last byte received. */
  get end(): number {
    return this.total;
  }

  /** Absolute offset of the first byte still retained. */
  get start(): number {
    return this.retainedStart;
  }

  /** Bytes actually kept in memory (whole chunks, so slightly more than end - start). */
  get heldBytes(): number {
    const first = this.starts[this.head];
    return first === undefined ? 0 : this.total - first;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) {
      return;
    }
    // Copy: the caller may reuse its buffer once push() returns.
    this.chunks.push(new Uint8Array(chunk));
    this.starts.push(this.total);
    this.total += chunk.length;
  }

  has(offset: number, length: number): boolean {
    return offset >= this.retainedStart && length >= 0 && offset + length <= this.total;
  }

  /** A standalone copy of [offset, offset + length); the range must be retained. */
  read(offset: number, length: number): Uint8Array {
    if (!this.has(offset, length)) {
      throw new RangeError(`bytes [${offset}, ${offset + length}) are not retained ([${this.retainedStart}, ${this.total}))`);
    }
    const out = new Uint8Array(length);
    let written = 0;
    for (let i = this.chunkIndexOf(offset); written < length; i++) {
      const chunk = this.chunks[i];
      const chunkStart = this.starts[i];
      if (chunk === undefined || chunkStart === undefined) {
        break;
      }
      const from = offset + written - chunkStart;
      const n = Math.min(chunk.length - from, length - written);
      out.set(chunk.subarray(from, from + n), written);
      written += n;
    }
    return out;
  }

  /** Forgets everything before `offset`; a chunk is released once no retained byte lies in it. */
  discardBefore(offset: number): void {
    this.retainedStart = Math.min(Math.max(offset, this.retainedStart), this.total);
    while (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head];
      const chunkStart = this.starts[this.head];
      if (chunk === undefined || chunkStart === undefined || chunkStart + chunk.length > this.retainedStart) {
        break;
      }
      this.chunks[this.head] = EMPTY;
      this.head++;
    }
    // Compact once the dead prefix dominates, keeping discards amortised O(1).
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.starts = this.starts.slice(this.head);
      this.head = 0;
    }
  }

  /** Index of the live chunk holding `offset` (binary search over chunk starts). */
  private chunkIndexOf(offset: number): number {
    let lo = this.head;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? Infinity) <= offset) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
}

const EMPTY = new Uint8Array(0);
