// Deterministic byte mutations for the fuzz harness. Every decision comes from the seeded PRNG, so an input is
// fully determined by (seed, target, index) and a crasher can be regenerated from the figures the runner prints.

import { prng } from '../helpers/prng.js';

export type Rng = {
  /** In [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
};

export function rng(seed: number): Rng {
  const next = prng(seed);
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) {
        throw new Error('pick from an empty list');
      }
      return items[int(items.length)] as T;
    },
  };
}

/** FNV-1a over a few 32-bit words: one independent PRNG seed per (run seed, target, input index). */
export function mixSeed(...words: number[]): number {
  let h = 0x811c9dc5;
  for (const w of words) {
    for (let s = 0; s < 32; s += 8) {
      h ^= (w >>> s) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h;
}

/** FNV-1a of bytes, hex: the crasher file name, so one crasher found twice is written once. */
export function hashBytes(bytes: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b9;
  for (const b of bytes) {
    h1 = Math.imul(h1 ^ b, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ b, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/**
 * Values that sit on the edges parsers compare against (sign bits, all-ones, one-off-the-end), and counts
 * large enough that a parser building an object per counted item takes seconds.
 */
const INTERESTING_8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x20, 0x10, 0x08];
const INTERESTING_32 = [0, 1, 7, 8, 16, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x100000, 0x1000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/**
 * EBML size vints (one per length, including the reserved all-ones "unknown size") and their neighbours:
 * how a length field in a Matroska element header is most usefully wrong.
 */
const EBML_SIZES: readonly number[][] = [
  [0x80],
  [0xff],
  [0x81],
  [0xfe],
  [0x40, 0x00],
  [0x7f, 0xff],
  [0x20, 0x00, 0x01],
  [0x1f, 0xff, 0xff, 0xff],
  [0x10, 0x00, 0x00, 0x00],
  [0x08, 0x00, 0x00, 0x00, 0x10],
  [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01],
  [0x01, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x00],
];

export type MutateOptions = {
  /** Other inputs of the same target, for splicing. */
  donors: readonly Uint8Array[];
  /** Upper bound on the output length; inserts and splices stop growing past it. */
  maxBytes: number;
};

type Mutation = (r: Rng, b: Uint8Array, o: MutateOptions) => Uint8Array;

const pos = (r: Rng, b: Uint8Array): number => r.int(Math.max(1, b.length));

/** A position near a place parsers read: half the time within the first 4 KiB, where headers live. */
const hotPos = (r: Rng, b: Uint8Array): number => (r.chance(0.5) ? r.int(Math.max(1, Math.min(b.length, 4096))) : pos(r, b));

const copy = (b: Uint8Array): Uint8Array => b.slice();

function replace(b: Uint8Array, at: number, removed: number, inserted: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - removed + inserted.length);
  out.set(b.subarray(0, at));
  out.set(inserted, at);
  out.set(b.subarray(at + removed), at + inserted.length);
  return out;
}

const MUTATIONS: readonly [string, Mutation][] = [
  [
    'bit-flip',
    (r, b) => {
      const out = copy(b);
      const n = 1 + r.int(4);
      for (let i = 0; i < n && out.length > 0; i++) {
        const at = hotPos(r, out);
        out[at] = (out[at] ?? 0) ^ (1 << r.int(8));
      }
      return out;
    },
  ],
  [
    'byte-set',
    (r, b) => {
      const out = copy(b);
      if (out.length > 0) {
        out[hotPos(r, out)] = r.chance(0.5) ? r.pick(INTERESTING_8) : r.int(256);
      }
      return out;
    },
  ],
  [
    'insert',
    (r, b, o) => {
      if (b.length >= o.maxBytes) {
        return copy(b);
      }
      const n = r.chance(0.7) ? 1 + r.int(4) : 1 + r.int(64);
      const bytes = new Uint8Array(n);
      const fill = r.chance(0.3) ? r.pick(INTERESTING_8) : -1;
      for (let i = 0; i < n; i++) {
        bytes[i] = fill >= 0 ? fill : r.int(256);
      }
      return replace(b, pos(r, b), 0, bytes);
    },
  ],
  [
    'delete',
    (r, b) => {
      const at = pos(r, b);
      const n = Math.min(b.length - at, r.chance(0.7) ? 1 + r.int(4) : 1 + r.int(256));
      return replace(b, at, Math.max(0, n), new Uint8Array(0));
    },
  ],
  [
    'duplicate',
    (r, b, o) => {
      if (b.length === 0 || b.length >= o.maxBytes) {
        return copy(b);
      }
      const from = pos(r, b);
      const n = Math.min(b.length - from, 1 + r.int(r.chance(0.5) ? 16 : 4096));
      return replace(b, pos(r, b), 0, b.slice(from, from + n));
    },
  ],
  [
    'splice',
    (r, b, o) => {
      if (o.donors.length === 0) {
        return copy(b);
      }
      const donor = r.pick(o.donors);
      const from = pos(r, donor);
      const n = Math.min(donor.length - from, 1 + r.int(r.chance(0.5) ? 64 : 16384), Math.max(0, o.maxBytes - b.length) + 64);
      const at = pos(r, b);
      const removed = r.chance(0.5) ? Math.min(b.length - at, r.int(n + 1)) : 0;
      return replace(b, at, removed, donor.slice(from, from + n));
    },
  ],
  [
    'length-be32',
    (r, b) => {
      const out = copy(b);
      if (out.length >= 4) {
        const at = r.int(out.length - 3);
        let v = r.pick(INTERESTING_32);
        if (r.chance(0.4)) {
          // near the current value: off-by-a-few lengths are what bounds checks get wrong
          v = ((((out[at] ?? 0) << 24) | ((out[at + 1] ?? 0) << 16) | ((out[at + 2] ?? 0) << 8) | (out[at + 3] ?? 0)) + r.int(17) - 8) >>> 0;
        }
        new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(at, v >>> 0);
      }
      return out;
    },
  ],
  [
    'length-be16',
    (r, b) => {
      const out = copy(b);
      if (out.length >= 2) {
        const at = r.int(out.length - 1);
        const v = r.chance(0.5) ? r.pick([0, 1, 0x7fff, 0x8000, 0xffff, 0xfffe]) : ((((out[at] ?? 0) << 8) | (out[at + 1] ?? 0)) + r.int(9) - 4) & 0xffff;
        out[at] = v >> 8;
        out[at + 1] = v & 0xff;
      }
      return out;
    },
  ],
  [
    'ebml-size',
    (r, b) => {
      // Overwrites a byte with a size vint of some length; the bytes after it shift, as when a muxer
      // writes a different size coding.
      const at = hotPos(r, b);
      const vint = Uint8Array.from(r.pick(EBML_SIZES));
      const removed = Math.min(b.length - at, r.int(vint.length + 1));
      return replace(b, at, removed, vint);
    },
  ],
  [
    'truncate',
    (r, b) => b.slice(0, r.int(b.length + 1)),
  ],
  [
    'cut-front',
    (r, b) => {
      // Everything but the first bytes: a stream joined in the middle keeps its header, loses a piece after it.
      const keep = r.int(Math.min(b.length, 512) + 1);
      const drop = r.int(b.length - keep + 1);
      return replace(b, keep, drop, new Uint8Array(0));
    },
  ],
];

export const MUTATION_NAMES: readonly string[] = MUTATIONS.map(([name]) => name);

/** One to a few stacked mutations of `input`, never longer than `o.maxBytes` plus one splice. */
export function mutate(r: Rng, input: Uint8Array, o: MutateOptions): Uint8Array {
  let out = input;
  const rounds = r.chance(0.6) ? 1 : 2 + r.int(4);
  for (let i = 0; i < rounds; i++) {
    const [, m] = r.pick(MUTATIONS);
    out = m(r, out, o);
  }
  return out === input ? input.slice() : out;
}

/** Chunk sizes for feeding a streaming parser: mostly small and ragged, sometimes everything at once. */
export function chunkSizes(r: Rng, total: number): number[] {
  const sizes: number[] = [];
  const style = r.int(4);
  for (let left = total; left > 0; ) {
    const n =
      style === 0 ? left : style === 1 ? 1 + r.int(16) : style === 2 ? 1 + r.int(4096) : r.chance(0.9) ? 1 + r.int(1500) : 1 + r.int(65536);
    const take = Math.min(left, n);
    sizes.push(take);
    left -= take;
  }
  return sizes;
}
