// The shared ingest contract lives in src/media. Only its types cross into src/formats (they are erased at
// compile time, so src/formats keeps no runtime dependency); this file is the one place that reaches out.

export type { IngestParser, ParseEvent, ParsedFragment, ParsedHeader, SimpleTag } from '../../media/parse-events.js';
export type { TrackInfo, TrackKind, TrackSet } from '../../media/track.js';
