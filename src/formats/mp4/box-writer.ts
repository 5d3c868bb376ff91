// A growable big-endian writer for ISO BMFF boxes. Box sizes are patched in when a box closes, so callers
// write fields in order and never compute a size by hand.

const MAX_U32 = 0xffffffff;

export class BoxWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  /** Start offsets of the boxes still open, innermost last. */
  private readonly open: number[] = [];

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  /** A box: its 32-bit size is filled in from what `body` wrote. */
  box(type: string, body: (w: BoxWriter) => void): void {
    this.start(type);
    body(this);
    this.end();
  }

  /** A full box: a box whose payload starts with a version byte and 24 bits of flags. */
  fullBox(type: string, version: number, flags: number, body: (w: BoxWriter) => void): void {
    this.box(type, (w) => {
      w.u8(version);
      w.u24(flags);
      body(w);
    });
  }

  u8(v: number): void {
    checkInteger(v, 0, 0xff, 'u8');
    this.ensure(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }

  u16(v: number): void {
    checkInteger(v, 0, 0xffff, 'u16');
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u24(v: number): void {
    this.u8((v >>> 16) & 0xff);
    this.u16(v & 0xffff);
  }

  u32(v: number): void {
    checkInteger(v, 0, MAX_U32, 'u32');
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  i32(v: number): void {
    checkInteger(v, -0x80000000, 0x7fffffff, 'i32');
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  /** A 64-bit unsigned field from a JavaScript number (exact up to 2^53 - 1, which media times stay under). */
  u64(v: number): void {
    checkInteger(v, 0, Number.MAX_SAFE_INTEGER, 'u64');
    this.u32(Math.floor(v / 2 ** 32));
    this.u32(v % 2 ** 32);
  }

  fourcc(s: string): void {
    if (s.length !== 4) {
      throw new RangeError(`a four-character code must have 4 characters: "${s}"`);
    }
    for (let i = 0; i < 4; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        throw new RangeError(`a four-character code must be ASCII: "${s}"`);
      }
      this.u8(c);
    }
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Overwrites a 32-bit field written earlier (e.g. a data offset known only once the moof is complete). */
  patchU32(at: number, v: number): void {
    checkInteger(v, 0, MAX_U32, 'u32');
    if (at < 0 || at + 4 > this.pos) {
      throw new RangeError(`patch at ${at} is outside the ${this.pos} bytes written`);
    }
    this.view.setUint32(at, v);
  }

  /** The bytes written so far (a copy the writer no longer touches). */
  finish(): Uint8Array {
    if (this.open.length > 0) {
      throw new Error(`${this.open.length} box(es) left open`);
    }
    return this.buf.slice(0, this.pos);
  }

  private start(type: string): void {
    this.open.push(this.pos);
    this.u32(0);
    this.fourcc(type);
  }

  private end(): void {
    const at = this.open.pop();
    if (at === undefined) {
      throw new Error('no box is open');
    }
    const size = this.pos - at;
    if (size > MAX_U32) {
      // 64-bit box sizes are never needed: fragments are capped far below 4 GiB.
      throw new RangeError(`box of ${size} bytes does not fit a 32-bit size`);
    }
    this.view.setUint32(at, size);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) {
      return;
    }
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) {
      cap *= 2;
    }
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

function checkInteger(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`${v} does not fit a ${what} field`);
  }
}
