import { concatBytes, encodeId, encodeUnknownSizeMasterStart, encodeVintSize } from '../ebml/ebml-writer.js';
import { EbmlId } from '../ebml/ids.js';
import { writeEbmlHeader } from './mkv-writer.js';

// The Tags elements KVS wraps around each fragment in GetMedia / GetMediaForFragmentList output, in the byte
// layout of the real captures (kvs-getmedia/*.mkv): Tags > Tag > SimpleTag{TagName, TagString}, no Targets, and
// every element size written as a 4-byte vint (`10 00 00 xx`).

export const KvsTag = {
  FRAGMENT_NUMBER: 'AWS_KINESISVIDEO_FRAGMENT_NUMBER',
  SERVER_TIMESTAMP: 'AWS_KINESISVIDEO_SERVER_TIMESTAMP',
  PRODUCER_TIMESTAMP: 'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP',
  MILLIS_BEHIND_NOW: 'AWS_KINESISVIDEO_MILLIS_BEHIND_NOW',
  CONTINUATION_TOKEN: 'AWS_KINESISVIDEO_CONTINUATION_TOKEN',
  ERROR_CODE: 'AWS_KINESISVIDEO_ERROR_CODE',
  ERROR_ID: 'AWS_KINESISVIDEO_ERROR_ID',
} as const;

const text = new TextEncoder();

function element4(id: number, payload: Uint8Array): Uint8Array {
  return concatBytes([encodeId(id), encodeVintSize(payload.length, 4), payload]);
}

/** One Tags element holding one Tag with the given name/value SimpleTags, sizes as 4-byte vints. */
export function kvsTags(pairs: readonly (readonly [string, string])[]): Uint8Array {
  const simpleTags = pairs.map(([name, value]) =>
    element4(EbmlId.SimpleTag, concatBytes([element4(EbmlId.TagName, text.encode(name)), element4(EbmlId.TagString, text.encode(value))])),
  );
  return element4(EbmlId.Tags, element4(EbmlId.Tag, concatBytes(simpleTags)));
}

/** Epoch milliseconds as KVS writes timestamps in fragment tags: seconds with exactly three decimals. */
export function kvsTimestamp(ms: number): string {
  const whole = Math.floor(ms / 1000);
  return `${whole}.${String(Math.round(ms - whole * 1000)).padStart(3, '0')}`;
}

export type FragmentTagValues = { fragmentNumber: string; serverTimestampMs: number; producerTimestampMs: number };

/** The Tags element that precedes a fragment's Cluster. */
export function leadingFragmentTags(v: FragmentTagValues): Uint8Array {
  return kvsTags([
    [KvsTag.FRAGMENT_NUMBER, v.fragmentNumber],
    [KvsTag.SERVER_TIMESTAMP, kvsTimestamp(v.serverTimestampMs)],
    [KvsTag.PRODUCER_TIMESTAMP, kvsTimestamp(v.producerTimestampMs)],
  ]);
}

/** The Tags element that follows a fragment in GetMedia output. */
export function trailingFragmentTags(millisBehindNow: number, continuationToken: string): Uint8Array {
  return kvsTags([
    [KvsTag.MILLIS_BEHIND_NOW, String(Math.max(0, Math.round(millisBehindNow)))],
    [KvsTag.CONTINUATION_TOKEN, continuationToken],
  ]);
}

/** The Tags element sent instead of a fragment that cannot be served. */
export function errorTags(errorCode: string, errorId: number, continuationToken?: string): Uint8Array {
  const pairs: [string, string][] = [
    [KvsTag.ERROR_CODE, errorCode],
    [KvsTag.ERROR_ID, String(errorId)],
  ];
  if (continuationToken !== undefined) {
    pairs.push([KvsTag.CONTINUATION_TOKEN, continuationToken]);
  }
  return kvsTags(pairs);
}

/**
 * One fragment as GetMedia / GetMediaForFragmentList deliver it: a self-contained Matroska document made of the
 * producer's header (EBML header, unknown-size Segment, Info, Tracks), the KVS fragment Tags, the Cluster and the
 * producer's own Tags for the fragment; GetMedia appends trailingFragmentTags() after these parts.
 * `stored` is the fragment as stored: producer Tags (`tagsSize` bytes) followed by the Cluster.
 */
export function kvsChunkParts(header: Uint8Array, stored: Uint8Array, tagsSize: number, values: FragmentTagValues, leading = leadingFragmentTags(values)): Uint8Array[] {
  return [header, leading, stored.subarray(tagsSize), stored.subarray(0, tagsSize)];
}

/**
 * A chunk that stands in for a fragment that cannot be served: EBML header, unknown-size Segment and a Tags
 * element with the fragment number and AWS_KINESISVIDEO_ERROR_CODE / _ERROR_ID — the shape the KVS parser
 * library turns into an error fragment (it requires FRAGMENT_NUMBER without SERVER_TIMESTAMP, then both error tags).
 */
export function errorChunk(fragmentNumber: string, errorCode: string, errorId: number): Uint8Array {
  return concatBytes([
    writeEbmlHeader(),
    encodeUnknownSizeMasterStart(EbmlId.Segment),
    kvsTags([
      [KvsTag.FRAGMENT_NUMBER, fragmentNumber],
      [KvsTag.ERROR_CODE, errorCode],
      [KvsTag.ERROR_ID, String(errorId)],
    ]),
  ]);
}
