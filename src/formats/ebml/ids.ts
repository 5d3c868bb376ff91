// Matroska / EBML element IDs (RFC 8794 for EBML, RFC 9559 for Matroska).
// IDs are kept with their length-marker bits, as they appear on the wire.

export const EbmlId = {
  EBML: 0x1a45dfa3,
  EBMLVersion: 0x4286,
  EBMLReadVersion: 0x42f7,
  EBMLMaxIDLength: 0x42f2,
  EBMLMaxSizeLength: 0x42f3,
  DocType: 0x4282,
  DocTypeVersion: 0x4287,
  DocTypeReadVersion: 0x4285,
  Void: 0xec,
  CRC32: 0xbf,

  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Info: 0x1549a966,
  Tracks: 0x1654ae6b,
  Cluster: 0x1f43b675,
  Cues: 0x1c53bb6b,
  Chapters: 0x1043a770,
  Tags: 0x1254c367,
  Attachments: 0x1941a469,

  // Info children
  TimecodeScale: 0x2ad7b1,
  Duration: 0x4489,
  SegmentUID: 0x73a4,
  Title: 0x7ba9,
  MuxingApp: 0x4d80,
  WritingApp: 0x5741,
  DateUTC: 0x4461,

  // Tracks children
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  FlagEnabled: 0xb9,
  FlagDefault: 0x88,
  FlagLacing: 0x9c,
  DefaultDuration: 0x23e383,
  Name: 0x536e,
  Language: 0x22b59c,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  CodecName: 0x258688,
  CodecDelay: 0x56aa,
  SeekPreRoll: 0x56bb,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  BitDepth: 0x6264,

  // Cluster children
  Timecode: 0xe7,
  Position: 0xa7,
  PrevSize: 0xab,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
  BlockDuration: 0x9b,
  ReferenceBlock: 0xfb,
  BlockAdditions: 0x75a1,
  DiscardPadding: 0x75a2,

  // Tags children
  Tag: 0x7373,
  Targets: 0x63c0,
  TargetTypeValue: 0x68ca,
  TargetType: 0x63ca,
  SimpleTag: 0x67c8,
  TagName: 0x45a3,
  TagLanguage: 0x447a,
  TagDefault: 0x4484,
  TagString: 0x4487,
  TagBinary: 0x4485,
} as const;

export type EbmlIdName = keyof typeof EbmlId;

/** Level-1 children of Segment: seeing one of these ends an unknown-size Cluster. */
export const LEVEL1_IDS: ReadonlySet<number> = new Set([
  EbmlId.SeekHead,
  EbmlId.Info,
  EbmlId.Tracks,
  EbmlId.Cluster,
  EbmlId.Cues,
  EbmlId.Chapters,
  EbmlId.Tags,
  EbmlId.Attachments,
]);

/** Matroska codec IDs openkvs understands for playback paths. */
export const CodecId = {
  H264: 'V_MPEG4/ISO/AVC',
  H265: 'V_MPEGH/ISO/HEVC',
  AAC: 'A_AAC',
  OPUS: 'A_OPUS',
  VP8: 'V_VP8',
  VP9: 'V_VP9',
} as const;

export const TrackType = { VIDEO: 1, AUDIO: 2, COMPLEX: 3, SUBTITLE: 0x11 } as const;
