import { MkvStreamParser } from '../formats/mkv/mkv-stream-parser.js';
import type { IngestParser } from '../media/parse-events.js';
import { Mp4IngestParser, looksLikeMp4 } from './mp4/mp4-ingest-parser.js';

/**
 * Probe order: MKV is what KVS producers send, so anything that is not recognisably MP4 (by Content-Type or by
 * its first box) goes to the Matroska parser — which answers garbage with INVALID_MKV_DATA, as KVS does.
 */
export function chooseParser(head: Uint8Array, contentType: string | undefined, maxFragmentBytes: number): IngestParser {
  const ct = contentType?.split(';')[0]?.trim().toLowerCase();
  const isEbml = head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3;
  if (!isEbml && (ct === 'video/mp4' || ct === 'audio/mp4' || looksLikeMp4(head))) {
    return new Mp4IngestParser({ maxFragmentBytes });
  }
  return new MkvStreamParser({ maxClusterBytes: maxFragmentBytes });
}
