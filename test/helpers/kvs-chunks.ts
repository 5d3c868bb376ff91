import { MkvStreamParser } from '../../src/formats/mkv/mkv-stream-parser.js';
import type { ParsedFragment, SimpleTag } from '../../src/media/parse-events.js';

/** One GetMedia chunk, split the way the KVS parser library reads it. */
export type KvsChunk = {
  kvs: Record<string, string>;
  cluster: ParsedFragment | null;
  producerTags: SimpleTag[];
  trailing: Record<string, string>;
};

/** Incrementally splits a GetMedia / GetMediaForFragmentList byte stream into chunks. */
export class KvsChunkReader {
  readonly #parser = new MkvStreamParser();
  readonly chunks: KvsChunk[] = [];

  push(bytes: Uint8Array): void {
    for (const ev of this.#parser.push(bytes)) {
      if (ev.kind === 'header') {
        // the header event of a document comes when its first cluster starts; chunks open on KVS tags instead
        continue;
      }
      if (ev.kind === 'tags') {
        const tags = ev.tags;
        if (tags.some((t) => t.name === 'AWS_KINESISVIDEO_FRAGMENT_NUMBER')) {
          this.chunks.push({ kvs: Object.fromEntries(tags.map((t) => [t.name, t.value])), cluster: null, producerTags: [], trailing: {} });
        } else if (tags.some((t) => t.name === 'AWS_KINESISVIDEO_CONTINUATION_TOKEN' || t.name === 'AWS_KINESISVIDEO_MILLIS_BEHIND_NOW')) {
          const c = this.chunks.at(-1);
          if (c !== undefined) {
            c.trailing = Object.fromEntries(tags.map((t) => [t.name, t.value]));
          }
        } else {
          this.chunks.at(-1)?.producerTags.push(...tags);
        }
      } else if (ev.kind === 'fragment') {
        const c = this.chunks.at(-1);
        if (c !== undefined) {
          c.cluster = ev.fragment;
        }
      }
    }
  }

  /** Chunks whose trailing tags have arrived (the parser library's notion of a complete fragment). */
  get complete(): KvsChunk[] {
    return this.chunks.filter((c) => c.cluster !== null && c.trailing['AWS_KINESISVIDEO_CONTINUATION_TOKEN'] !== undefined);
  }
}

/** Read a streaming GetMedia payload until `count` complete chunks arrived, then stop reading (disconnect). */
export async function readChunks(payload: AsyncIterable<Uint8Array> & { destroy?: () => void }, count: number, timeoutMs = 20_000): Promise<{ chunks: KvsChunk[]; bytes: Uint8Array }> {
  const reader = new KvsChunkReader();
  const parts: Uint8Array[] = [];
  const deadline = setTimeout(() => payload.destroy?.(), timeoutMs);
  try {
    for await (const part of payload) {
      parts.push(part);
      reader.push(part);
      if (reader.complete.length >= count) {
        break;
      }
    }
  } finally {
    clearTimeout(deadline);
    payload.destroy?.();
  }
  if (reader.complete.length < count) {
    throw new Error(`GetMedia delivered ${reader.complete.length} complete chunks, expected ${count}`);
  }
  return { chunks: reader.complete.slice(0, count), bytes: new Uint8Array(Buffer.concat(parts)) };
}
