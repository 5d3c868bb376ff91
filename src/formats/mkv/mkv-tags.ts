// Matroska Tags → flat name/value pairs. KVS uses them for producer fragment metadata
// (putFragmentMetadata) and for its own AWS_KINESISVIDEO_* tags.

import { EbmlId } from '../ebml/ids.js';
import { ByteReader } from '../bits/byte-reader.js';
import { forEachChild, openElement, validateElement } from './mkv-elements.js';
import { MAX_MASTER_DEPTH } from './mkv-limits.js';
import { invalid } from '../errors.js';
import type { SimpleTag } from './mkv-types.js';

/**
 * Parses a complete Tags element (header included) into its SimpleTags in document order, nested SimpleTags
 * following their parent. Only string tags are returned: a SimpleTag without TagName or TagString (e.g. one
 * carrying TagBinary) is left out, but its nested SimpleTags are still collected. The whole element is
 * validated structurally, as everywhere else.
 */
export function parseSimpleTags(tagsElementBytes: Uint8Array): SimpleTag[] {
  return parseSimpleTagsAt(tagsElementBytes, 0);
}

/** The SimpleTags of several Tags elements stored back to back (a fragment's producer metadata), in order. */
export function parseTagsRun(bytes: Uint8Array): SimpleTag[] {
  const out: SimpleTag[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const r = new ByteReader(bytes.subarray(pos), pos);
    r.readId();
    const size = r.readSize('the size of Tags');
    if (size.unknown || size.value > r.remaining) {
      throw invalid(pos, 'Tags element runs past the end of the stored tags');
    }
    const end = r.offset + size.value;
    out.push(...parseSimpleTagsAt(bytes.subarray(pos, end), pos));
    pos = end;
  }
  return out;
}

/** parseSimpleTags with error offsets relative to `baseOffset` (the element's position in the stream). */
export function parseSimpleTagsAt(bytes: Uint8Array, baseOffset: number): SimpleTag[] {
  const r = openElement(bytes, EbmlId.Tags, baseOffset);
  const out: SimpleTag[] = [];
  forEachChild(r, EbmlId.Tags, (id, tag, start) => {
    if (id !== EbmlId.Tag) {
      validateElement(id, tag, start, 2);
      return;
    }
    forEachChild(tag, id, (childId, child, childStart) => {
      if (childId === EbmlId.SimpleTag) {
        readSimpleTag(child, childStart, out, 3);
      } else {
        validateElement(childId, child, childStart, 3);
      }
    });
  });
  return out;
}

function readSimpleTag(r: ByteReader, start: number, out: SimpleTag[], depth: number): void {
  if (depth >= MAX_MASTER_DEPTH) {
    throw invalid(start, `SimpleTags nested deeper than ${MAX_MASTER_DEPTH} levels`);
  }
  let name: string | undefined;
  let value: string | undefined;
  // Reserve this tag's slot so that it precedes its nested tags even though its own fields may follow them.
  const slot = out.length;
  out.push({ name: '', value: '' });
  forEachChild(r, EbmlId.SimpleTag, (id, data, childStart) => {
    switch (id) {
      case EbmlId.TagName:
        name = data.readString(data.remaining, 'TagName');
        break;
      case EbmlId.TagString:
        value = data.readString(data.remaining, 'TagString');
        break;
      case EbmlId.SimpleTag:
        readSimpleTag(data, childStart, out, depth + 1);
        break;
      default:
        validateElement(id, data, childStart, depth + 1);
        break;
    }
  });
  if (name !== undefined && value !== undefined) {
    out[slot] = { name, value };
  } else {
    out.splice(slot, 1);
  }
}
