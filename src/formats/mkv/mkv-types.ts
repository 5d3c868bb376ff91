// The shared ingest contract lives in src/media. Only types cross that boundary (they are erased at
// compile time), so src/formats stays free of runtime dependencies; this file is the single place that
// reaches out, which is why the import rule is relaxed here and nowhere else.

// eslint-disable-next-line no-restricted-imports -- type-only re-export of the shared parse-event contract
export type { IngestParser, ParseEvent, ParsedFragment, ParsedHeader, SimpleTag } from '../../media/parse-events.js';
// eslint-disable-next-line no-restricted-imports -- type-only re-export of the shared track description
export type { TrackInfo, TrackKind, TrackSet } from '../../media/track.js';
