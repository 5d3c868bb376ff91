// Cuts the producer's byte stream into what the client must be able to send again after a reconnect: the document
// header (EBML header + Segment + Info + Tracks) and one unit per fragment (the producer Tags that precede a
// cluster, then the cluster). It runs the server's own ingest parsers, so fragment boundaries are exactly the
// ones the server acknowledges; MP4 input comes out as the Matroska the server would have made of it.
import { concatBytes, encodeId, encodeVintSize } from '../formats/ebml/ebml-writer.js';
import { readElementId, readElementSize } from '../formats/ebml/vint.js';
import { MkvStreamParser } from '../formats/mkv/mkv-stream-parser.js';
import { Mp4IngestParser, looksLikeMp4 } from '../ingest/mp4/mp4-ingest-parser.js';
import type { IngestParser, ParseEvent } from '../media/parse-events.js';

export type MediaUnit =
  | { kind: 'header'; bytes: Uint8Array }
  /** `bytes` = the preceding producer Tags elements (if any) followed by the Cluster. */
  | { kind: 'fragment'; timecode: number; bytes: Uint8Array };

export type MediaUnitSplitterOptions = {
  /** Largest fragment accepted from the input (default 50 MiB, the KVS limit). */
  maxFragmentBytes?: number;
};

/** Bytes needed to tell MKV from MP4 (what the server sniffs too). */
const SNIFF_BYTES = 12;
const EBML_MAGIC = [0x1a, 0x45, 0xdf, 0xa3] as const;

export class MediaUnitSplitter {
  readonly #maxFragmentBytes: number;
  #parser: IngestParser | null = null;
  #head: Uint8Array[] = [];
  #headBytes = 0;
  #tags: Uint8Array[] = [];
  #inputSinceUnit = 0;
  /** Producer Tags left after the last cluster of the input: the server would store them with no fragment. */
  danglingTagsBytes = 0;
  format: 'mkv' | 'mp4' | undefined;

  constructor(options: MediaUnitSplitterOptions = {}) {
    this.#maxFragmentBytes = options.maxFragmentBytes ?? 50 * 1024 * 1024;
  }

  /**
   * An estimate of the input held and not yet part of a returned unit (a cluster still arriving, an MP4 moov…):
   * the bytes of the pushes since the one that completed the last fragment, plus producer Tags waiting for their
   * cluster. It misses at most the tail of that one push.
   */
  get pendingInputBytes(): number {
    return this.#inputSinceUnit + this.#tags.reduce((n, t) => n + t.length, 0);
  }

  /** Throws the parser's ParseError for input that is not valid MKV/MP4. */
  push(chunk: Uint8Array): MediaUnit[] {
    this.#inputSinceUnit += chunk.length;
    if (this.#parser === null) {
      this.#head.push(chunk.slice());
      this.#headBytes += chunk.length;
      if (this.#headBytes < SNIFF_BYTES) {
        return [];
      }
      const head = concat(this.#takeHead());
      return this.#units(this.#start(head).push(head));
    }
    return this.#units(this.#parser.push(chunk));
  }

  end(): MediaUnit[] {
    const events: ParseEvent[] = [];
    if (this.#parser === null) {
      if (this.#headBytes === 0) {
        return [];
      }
      const head = concat(this.#takeHead());
      events.push(...this.#start(head).push(head));
    }
    const parser = this.#parser;
    if (parser !== null) {
      events.push(...parser.end());
    }
    const units = this.#units(events);
    this.#inputSinceUnit = 0;
    this.danglingTagsBytes = this.#tags.reduce((n, t) => n + t.length, 0);
    this.#tags = [];
    return units;
  }

  #takeHead(): Uint8Array[] {
    const head = this.#head;
    this.#head = [];
    return head;
  }

  #start(head: Uint8Array): IngestParser {
    const isEbml = EBML_MAGIC.every((b, i) => head[i] === b);
    if (!isEbml && looksLikeMp4(head)) {
      this.format = 'mp4';
      this.#parser = new Mp4IngestParser({ maxFragmentBytes: this.#maxFragmentBytes });
    } else {
      this.format = 'mkv';
      this.#parser = new MkvStreamParser({ maxClusterBytes: this.#maxFragmentBytes });
    }
    return this.#parser;
  }

  #units(events: ParseEvent[]): MediaUnit[] {
    const out: MediaUnit[] = [];
    for (const ev of events) {
      switch (ev.kind) {
        case 'header':
          out.push({ kind: 'header', bytes: ev.header.bytes });
          break;
        case 'tags':
          this.#tags.push(ev.bytes);
          break;
        case 'fragment': {
          const cluster = sealCluster(ev.fragment.bytes);
          out.push({ kind: 'fragment', timecode: ev.fragment.timecode, bytes: this.#tags.length === 0 ? cluster : concat([...this.#tags, cluster]) });
          this.#tags = [];
          this.#inputSinceUnit = 0;
          break;
        }
        case 'fragment-start':
          break;
      }
    }
    return out;
  }
}

/**
 * A Cluster with its real size in the header. Live producers (kvssink, the KVS producer SDKs) write clusters of
 * unknown size, which a receiver can only close when the next level-1 element arrives; as the client holds whole
 * clusters anyway, sealing them lets the server acknowledge each fragment as soon as it is sent instead of one
 * fragment later (and not lose the last one when the server closes an idle upload). The payload is unchanged.
 */
export function sealCluster(cluster: Uint8Array): Uint8Array {
  const id = readElementId(cluster, 0, cluster.length, 0);
  const size = id === null ? null : readElementSize(cluster, id.length, cluster.length, id.length);
  if (id === null || size === null || !size.unknown) {
    return cluster;
  }
  const payload = cluster.subarray(id.length + size.length);
  return concat([encodeId(id.id), encodeVintSize(payload.length), payload]);
}

/** Joins parts; a single part is returned as is (no copy). */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 && parts[0] !== undefined ? parts[0] : concatBytes(parts);
}
