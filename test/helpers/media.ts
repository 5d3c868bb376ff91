import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MkvStreamParser } from '../../src/formats/mkv/mkv-stream-parser.js';
import type { ParsedFragment } from '../../src/media/parse-events.js';

/** Third-party media shared next to the repository; read at run time, never copied in. */
export const REAL_MEDIA = resolve(process.cwd(), '../shared/real-media');
export const FIXTURES = resolve(process.cwd(), 'media-fixtures');

export const realMedia = (rel: string): Uint8Array => new Uint8Array(readFileSync(resolve(REAL_MEDIA, rel)));
export const fixture = (rel: string): Uint8Array => new Uint8Array(readFileSync(resolve(FIXTURES, rel)));

/** The complete clusters of an MKV file, as the ingest parser sees them (to predict what the server must store). */
export function clustersOf(bytes: Uint8Array): ParsedFragment[] {
  const p = new MkvStreamParser();
  const events = p.push(bytes);
  try {
    events.push(...p.end());
  } catch {
    // a capture that ends mid-cluster: the clusters before the cut are still complete
  }
  return events.flatMap((ev) => (ev.kind === 'fragment' ? [ev.fragment] : []));
}
