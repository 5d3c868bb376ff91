// Non-streaming EBML walking over complete elements held in memory (the buffered EBML header, Info, Tracks
// and Tags of the stream parser, and the stored clusters and tags given to the helper functions).

import { ByteReader } from '../bits/byte-reader.js';
import { invalid } from '../errors.js';
import { EbmlId } from '../ebml/ids.js';
import { MAX_MASTER_DEPTH } from './mkv-limits.js';
import { checkLeafSize, elementName, elementType, isTopLevelId } from './mkv-schema.js';

/** Called for each child: `data` is a reader over exactly the child's data, `start` its absolute offset. */
export type ChildVisitor = (id: number, data: ByteReader, start: number) => void;

/**
 * Visits the children of a master element whose data spans `r.pos..r.end`, checking that each child header
 * and body lies inside the parent, that no child claims an unknown size, and that no level-1 element is
 * nested. Advances `r` to its end.
 */
export function forEachChild(r: ByteReader, parentId: number, visit: ChildVisitor): void {
  while (r.remaining > 0) {
    const start = r.offset;
    const what = `a child of ${elementName(parentId)}`;
    const id = r.readId(`the ID of ${what}`);
    const size = r.readSize(`the size of ${elementName(id)} in ${elementName(parentId)}`);
    if (size.unknown) {
      throw invalid(start, `${elementName(id)} in ${elementName(parentId)} has an unknown size; only Segment and Cluster may`);
    }
    if (size.value > r.remaining) {
      throw invalid(
        start,
        `${elementName(id)} (${size.value} bytes) extends beyond its parent ${elementName(parentId)} (${r.remaining} bytes left)`,
      );
    }
    if (isTopLevelId(id)) {
      throw invalid(start, `${elementName(id)} cannot be nested inside ${elementName(parentId)}`);
    }
    const data = r.sub(size.value, elementName(id));
    r.pos += size.value;
    visit(id, data, start);
  }
}

/**
 * Structurally validates one child: known masters are walked recursively, known leaves get the size check
 * of their type, unknown IDs are accepted as opaque. Does not advance `data`, so the caller can still read it.
 */
export function validateElement(id: number, data: ByteReader, start: number, depth: number): void {
  const type = elementType(id);
  if (type === 'master') {
    if (depth >= MAX_MASTER_DEPTH) {
      throw invalid(start, `master elements nested deeper than ${MAX_MASTER_DEPTH} levels`);
    }
    forEachChild(data.sub(data.remaining, elementName(id)), id, (childId, childData, childStart) =>
      validateElement(childId, childData, childStart, depth + 1),
    );
  } else if (type !== undefined) {
    checkLeafSize(id, type, data.remaining, start);
  }
}

/**
 * Opens a complete element of the expected ID held in `bytes` (header included) and returns a reader over its
 * data. The element must fill `bytes` exactly; `allowUnknownSize` lets an unknown-size Cluster run to the
 * end of the buffer.
 */
export function openElement(bytes: Uint8Array, expectedId: number, baseOffset: number, allowUnknownSize = false): ByteReader {
  const r = new ByteReader(bytes, baseOffset);
  const id = r.readId();
  if (id !== expectedId) {
    throw invalid(baseOffset, `expected ${elementName(expectedId)}, found ${elementName(id)}`);
  }
  const size = r.readSize(`the size of ${elementName(id)}`);
  if (size.unknown) {
    if (!allowUnknownSize) {
      throw invalid(baseOffset, `${elementName(id)} has an unknown size; only Segment and Cluster may`);
    }
    return r.sub(r.remaining, elementName(id));
  }
  if (size.value !== r.remaining) {
    throw invalid(baseOffset, `${elementName(id)} declares ${size.value} data bytes but ${r.remaining} were given`);
  }
  return r.sub(size.value, elementName(id));
}

/** Reads a uint leaf (0 to 8 bytes). */
export function readUint(data: ByteReader, id: number): number {
  return data.readUintBE(data.remaining, elementName(id));
}

export type EbmlHeaderInfo = { docType: string; docTypeVersion: number };

/** Doc types whose content this parser understands; WebM is a Matroska subset. */
const DOC_TYPES: ReadonlySet<string> = new Set(['matroska', 'webm']);

/** Validates a complete EBML header element and checks that it announces a Matroska document. */
export function parseEbmlHeader(bytes: Uint8Array, baseOffset: number): EbmlHeaderInfo {
  const r = openElement(bytes, EbmlId.EBML, baseOffset);
  // RFC 8794 defaults: DocType has none in the RFC, but Matroska readers traditionally assume "matroska".
  let docType = 'matroska';
  let docTypeVersion = 1;
  forEachChild(r, EbmlId.EBML, (id, data, start) => {
    validateElement(id, data, start, 1);
    switch (id) {
      case EbmlId.DocType:
        docType = data.readString(data.remaining, 'DocType');
        break;
      case EbmlId.DocTypeVersion:
        docTypeVersion = readUint(data, id);
        break;
      case EbmlId.EBMLReadVersion: {
        // A reader must not parse a document that needs a newer EBML reader than version 1.
        const v = readUint(data, id);
        if (v > 1) {
          throw invalid(start, `EBMLReadVersion ${v} is not supported (only 1)`);
        }
        break;
      }
      default:
        break;
    }
  });
  if (!DOC_TYPES.has(docType)) {
    throw invalid(baseOffset, `EBML DocType "${docType}" is not matroska or webm`);
  }
  return { docType, docTypeVersion };
}
