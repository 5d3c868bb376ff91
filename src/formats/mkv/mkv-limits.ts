// Size caps of the streaming MKV parser. Each one is checked against the size an element announces, before
// anything is buffered, so a hostile or broken producer cannot make the server allocate without bound.

/**
 * Largest Cluster accepted, header included. KVS documents 50 MB as the maximum fragment (= Cluster) size
 * for PutMedia, so a larger cluster would be rejected by the real service too. Clusters are buffered whole
 * because they are stored and served as one fragment.
 */
export const DEFAULT_MAX_CLUSTER_BYTES = 50 * 1024 * 1024;

/**
 * Largest document header kept in memory: the EBML header, the Segment header, Info and Tracks, plus any
 * clusters and tags held back while a file puts Tracks after its first Cluster. The header is replayed in
 * front of every GetMedia chunk, and real ones are a few kilobytes (CodecPrivate dominates); 16 MiB leaves
 * room for unusual codec configurations while bounding per-session memory.
 */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * Largest single level-1 element other than a Cluster (Tags, Cues, Chapters, Attachments, SeekHead, Void,
 * unknown extensions). Tags are buffered whole to be parsed; the others are walked or skipped as they
 * stream by, but no real file needs a bigger one and the cap stops a bogus size from stalling the stream.
 */
export const DEFAULT_MAX_ELEMENT_BYTES = 64 * 1024 * 1024;

/**
 * Deepest nesting of master elements accepted (Segment > Cluster > BlockGroup > BlockAdditions > BlockMore
 * is 5; nested Chapters and SimpleTags go deeper, but not this deep). Bounds the recursion of the
 * non-streaming walkers on crafted input.
 */
export const MAX_MASTER_DEPTH = 64;
