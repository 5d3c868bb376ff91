// Access to the shared third-party media (../shared/real-media, described in its README). The files are
// read in place and never copied into the repository.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { MkvStreamParser, type MkvParserOptions } from '../../../../src/formats/mkv/mkv-stream-parser.js';
import { ParseError } from '../../../../src/formats/errors.js';
import type { ParseEvent } from '../../../../src/media/parse-events.js';
import { prng } from '../../../helpers/prng.js';

export const REAL_MEDIA = path.resolve(process.cwd(), '../shared/real-media');

if (!existsSync(path.join(REAL_MEDIA, 'README.md'))) {
  throw new Error(`shared real media not found at ${REAL_MEDIA}`);
}

const cache = new Map<string, Uint8Array>();

export function readMedia(rel: string): Uint8Array {
  let data = cache.get(rel);
  if (data === undefined) {
    const buf = readFileSync(path.join(REAL_MEDIA, rel));
    data = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    cache.set(rel, data);
  }
  return data;
}

function walk(rel: string): string[] {
  const abs = path.join(REAL_MEDIA, rel);
  return readdirSync(abs)
    .sort()
    .flatMap((name) => {
      const child = path.posix.join(rel, name);
      return statSync(path.join(abs, name)).isDirectory() ? walk(child) : [child];
    });
}

const isMatroska = (f: string): boolean => f.endsWith('.mkv') || f.endsWith('.webm');

/** Every Matroska file the README describes as valid (fmp4/ and elementary/ are not Matroska). */
export const VALID_FILES: string[] = ['kvs-producer', 'mkv-inputs', 'kvs-getmedia', 'matroska-edge-cases']
  .flatMap(walk)
  .filter((f) => isMatroska(f) && !f.startsWith('matroska-edge-cases/libwebm/invalid/'));

export const INVALID_FILES: string[] = walk('matroska-edge-cases/libwebm/invalid').filter(isMatroska);

/**
 * Valid recordings whose last cluster is cut off by the end of the file (the upstream test resources are
 * truncated): end() must reject them, after every complete fragment has been emitted.
 */
export const TRUNCATED_FILES: ReadonlySet<string> = new Set([
  'kvs-getmedia/output-get-media-equal-timecode.mkv',
  'kvs-getmedia/output-get-media-non-increasing-timecode.mkv',
]);

export { prng };

export type FeedResult = { events: ParseEvent[]; error?: ParseError; pushes: number };

/**
 * Feeds `data` in chunks of `chunkSize()` bytes and then calls end(), collecting the events and the
 * ParseError, if any. Any other exception propagates (and fails the test).
 */
export function feed(data: Uint8Array, chunkSize: () => number = () => data.length, options?: MkvParserOptions): FeedResult {
  const parser = new MkvStreamParser(options);
  const events: ParseEvent[] = [];
  let pushes = 0;
  try {
    for (let at = 0; at < data.length; ) {
      const n = Math.max(1, Math.min(chunkSize(), data.length - at));
      events.push(...parser.push(data.subarray(at, at + n)));
      at += n;
      pushes++;
    }
    events.push(...parser.end());
  } catch (e) {
    if (e instanceof ParseError) {
      return { events, error: e, pushes };
    }
    throw e;
  }
  return { events, pushes };
}

export function randomChunks(seed: number, max = 4096): () => number {
  const rnd = prng(seed);
  return () => 1 + Math.floor(rnd() * max);
}

/**
 * The events with every byte array replaced by its length and SHA-1, for fast deep comparison (vitest's
 * generic equality walks typed arrays element by element, far too slow for megabytes of clusters).
 */
export function digest(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    return { bytes: value.length, sha1: createHash('sha1').update(value).digest('hex') };
  }
  if (Array.isArray(value)) {
    return value.map(digest);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, digest(v)]));
  }
  return value;
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.compare(a, b) === 0;
}
