// The element types of the EBML header and of Matroska (RFC 8794, RFC 9559), used to validate structure
// generically: every known master is walked, every known leaf gets the size check of its type, and every
// unknown ID is skipped (Matroska is extensible). Matroska IDs are unique across the whole schema, so a
// type can be looked up by ID alone, whatever the parent.

import { invalid } from '../errors.js';
import { EbmlId, LEVEL1_IDS } from '../ebml/ids.js';

export type ElementType = 'master' | 'uint' | 'int' | 'float' | 'date' | 'string' | 'utf8' | 'binary';

type Entry = readonly [id: number, name: string, type: ElementType];

const ENTRIES: readonly Entry[] = [
  // EBML header and global elements
  [EbmlId.EBML, 'EBML', 'master'],
  [EbmlId.EBMLVersion, 'EBMLVersion', 'uint'],
  [EbmlId.EBMLReadVersion, 'EBMLReadVersion', 'uint'],
  [EbmlId.EBMLMaxIDLength, 'EBMLMaxIDLength', 'uint'],
  [EbmlId.EBMLMaxSizeLength, 'EBMLMaxSizeLength', 'uint'],
  [EbmlId.DocType, 'DocType', 'string'],
  [EbmlId.DocTypeVersion, 'DocTypeVersion', 'uint'],
  [EbmlId.DocTypeReadVersion, 'DocTypeReadVersion', 'uint'],
  [0x4281, 'DocTypeExtension', 'master'],
  [0x4283, 'DocTypeExtensionName', 'string'],
  [0x4284, 'DocTypeExtensionVersion', 'uint'],
  [EbmlId.Void, 'Void', 'binary'],
  [EbmlId.CRC32, 'CRC-32', 'binary'],

  [EbmlId.Segment, 'Segment', 'master'],

  // SeekHead
  [EbmlId.SeekHead, 'SeekHead', 'master'],
  [0x4dbb, 'Seek', 'master'],
  [0x53ab, 'SeekID', 'binary'],
  [0x53ac, 'SeekPosition', 'uint'],

  // Info
  [EbmlId.Info, 'Info', 'master'],
  [EbmlId.SegmentUID, 'SegmentUUID', 'binary'],
  [0x7384, 'SegmentFilename', 'utf8'],
  [0x3cb923, 'PrevUUID', 'binary'],
  [0x3c83ab, 'PrevFilename', 'utf8'],
  [0x3eb923, 'NextUUID', 'binary'],
  [0x3e83bb, 'NextFilename', 'utf8'],
  [0x4444, 'SegmentFamily', 'binary'],
  [0x6924, 'ChapterTranslate', 'master'],
  [0x69a5, 'ChapterTranslateID', 'binary'],
  [0x69bf, 'ChapterTranslateCodec', 'uint'],
  [0x69fc, 'ChapterTranslateEditionUID', 'uint'],
  [EbmlId.TimecodeScale, 'TimestampScale', 'uint'],
  [EbmlId.Duration, 'Duration', 'float'],
  [EbmlId.DateUTC, 'DateUTC', 'date'],
  [EbmlId.Title, 'Title', 'utf8'],
  [EbmlId.MuxingApp, 'MuxingApp', 'utf8'],
  [EbmlId.WritingApp, 'WritingApp', 'utf8'],

  // Cluster
  [EbmlId.Cluster, 'Cluster', 'master'],
  [EbmlId.Timecode, 'Timestamp', 'uint'],
  [0x5854, 'SilentTracks', 'master'],
  [0x58d7, 'SilentTrackNumber', 'uint'],
  [EbmlId.Position, 'Position', 'uint'],
  [EbmlId.PrevSize, 'PrevSize', 'uint'],
  [EbmlId.SimpleBlock, 'SimpleBlock', 'binary'],
  [EbmlId.BlockGroup, 'BlockGroup', 'master'],
  [EbmlId.Block, 'Block', 'binary'],
  [0xa2, 'BlockVirtual', 'binary'],
  [EbmlId.BlockAdditions, 'BlockAdditions', 'master'],
  [0xa6, 'BlockMore', 'master'],
  [0xa5, 'BlockAdditional', 'binary'],
  [0xee, 'BlockAddID', 'uint'],
  [EbmlId.BlockDuration, 'BlockDuration', 'uint'],
  [0xfa, 'ReferencePriority', 'uint'],
  [EbmlId.ReferenceBlock, 'ReferenceBlock', 'int'],
  [0xfd, 'ReferenceVirtual', 'int'],
  [0xa4, 'CodecState', 'binary'],
  [EbmlId.DiscardPadding, 'DiscardPadding', 'int'],
  [0x8e, 'Slices', 'master'],
  [0xe8, 'TimeSlice', 'master'],
  [0xcc, 'LaceNumber', 'uint'],
  [0xcd, 'FrameNumber', 'uint'],
  [0xcb, 'BlockAdditionID', 'uint'],
  [0xce, 'Delay', 'uint'],
  [0xcf, 'SliceDuration', 'uint'],
  [0xc8, 'ReferenceFrame', 'master'],
  [0xc9, 'ReferenceOffset', 'uint'],
  [0xca, 'ReferenceTimestamp', 'uint'],
  [0xaf, 'EncryptedBlock', 'binary'],

  // Tracks
  [EbmlId.Tracks, 'Tracks', 'master'],
  [EbmlId.TrackEntry, 'TrackEntry', 'master'],
  [EbmlId.TrackNumber, 'TrackNumber', 'uint'],
  [EbmlId.TrackUID, 'TrackUID', 'uint'],
  [EbmlId.TrackType, 'TrackType', 'uint'],
  [EbmlId.FlagEnabled, 'FlagEnabled', 'uint'],
  [EbmlId.FlagDefault, 'FlagDefault', 'uint'],
  [0x55aa, 'FlagForced', 'uint'],
  [0x55ab, 'FlagHearingImpaired', 'uint'],
  [0x55ac, 'FlagVisualImpaired', 'uint'],
  [0x55ad, 'FlagTextDescriptions', 'uint'],
  [0x55ae, 'FlagOriginal', 'uint'],
  [0x55af, 'FlagCommentary', 'uint'],
  [EbmlId.FlagLacing, 'FlagLacing', 'uint'],
  [0x6de7, 'MinCache', 'uint'],
  [0x6df8, 'MaxCache', 'uint'],
  [EbmlId.DefaultDuration, 'DefaultDuration', 'uint'],
  [0x234e7a, 'DefaultDecodedFieldDuration', 'uint'],
  [0x23314f, 'TrackTimestampScale', 'float'],
  [0x537f, 'TrackOffset', 'int'],
  [0x55ee, 'MaxBlockAdditionID', 'uint'],
  [0x41e4, 'BlockAdditionMapping', 'master'],
  [0x41f0, 'BlockAddIDValue', 'uint'],
  [0x41a4, 'BlockAddIDName', 'string'],
  [0x41e7, 'BlockAddIDType', 'uint'],
  [0x41ed, 'BlockAddIDExtraData', 'binary'],
  [EbmlId.Name, 'Name', 'utf8'],
  [EbmlId.Language, 'Language', 'string'],
  [0x22b59d, 'LanguageBCP47', 'string'],
  [EbmlId.CodecID, 'CodecID', 'string'],
  [EbmlId.CodecPrivate, 'CodecPrivate', 'binary'],
  [EbmlId.CodecName, 'CodecName', 'utf8'],
  [0x7446, 'AttachmentLink', 'uint'],
  [0x3a9697, 'CodecSettings', 'utf8'],
  [0x3b4040, 'CodecInfoURL', 'string'],
  [0x26b240, 'CodecDownloadURL', 'string'],
  [0xaa, 'CodecDecodeAll', 'uint'],
  [0x6fab, 'TrackOverlay', 'uint'],
  [EbmlId.CodecDelay, 'CodecDelay', 'uint'],
  [EbmlId.SeekPreRoll, 'SeekPreRoll', 'uint'],
  [0x6624, 'TrackTranslate', 'master'],
  [0x66a5, 'TrackTranslateTrackID', 'binary'],
  [0x66bf, 'TrackTranslateCodec', 'uint'],
  [0x66fc, 'TrackTranslateEditionUID', 'uint'],
  [EbmlId.Video, 'Video', 'master'],
  [0x9a, 'FlagInterlaced', 'uint'],
  [0x9d, 'FieldOrder', 'uint'],
  [0x53b8, 'StereoMode', 'uint'],
  [0x53c0, 'AlphaMode', 'uint'],
  [0x53b9, 'OldStereoMode', 'uint'],
  [EbmlId.PixelWidth, 'PixelWidth', 'uint'],
  [EbmlId.PixelHeight, 'PixelHeight', 'uint'],
  [0x54aa, 'PixelCropBottom', 'uint'],
  [0x54bb, 'PixelCropTop', 'uint'],
  [0x54cc, 'PixelCropLeft', 'uint'],
  [0x54dd, 'PixelCropRight', 'uint'],
  [0x54b0, 'DisplayWidth', 'uint'],
  [0x54ba, 'DisplayHeight', 'uint'],
  [0x54b2, 'DisplayUnit', 'uint'],
  [0x54b3, 'AspectRatioType', 'uint'],
  [0x2eb524, 'UncompressedFourCC', 'binary'],
  [0x2fb523, 'GammaValue', 'float'],
  [0x2383e3, 'FrameRate', 'float'],
  [0x55b0, 'Colour', 'master'],
  [0x55b1, 'MatrixCoefficients', 'uint'],
  [0x55b2, 'BitsPerChannel', 'uint'],
  [0x55b3, 'ChromaSubsamplingHorz', 'uint'],
  [0x55b4, 'ChromaSubsamplingVert', 'uint'],
  [0x55b5, 'CbSubsamplingHorz', 'uint'],
  [0x55b6, 'CbSubsamplingVert', 'uint'],
  [0x55b7, 'ChromaSitingHorz', 'uint'],
  [0x55b8, 'ChromaSitingVert', 'uint'],
  [0x55b9, 'Range', 'uint'],
  [0x55ba, 'TransferCharacteristics', 'uint'],
  [0x55bb, 'Primaries', 'uint'],
  [0x55bc, 'MaxCLL', 'uint'],
  [0x55bd, 'MaxFALL', 'uint'],
  [0x55d0, 'MasteringMetadata', 'master'],
  [0x55d1, 'PrimaryRChromaticityX', 'float'],
  [0x55d2, 'PrimaryRChromaticityY', 'float'],
  [0x55d3, 'PrimaryGChromaticityX', 'float'],
  [0x55d4, 'PrimaryGChromaticityY', 'float'],
  [0x55d5, 'PrimaryBChromaticityX', 'float'],
  [0x55d6, 'PrimaryBChromaticityY', 'float'],
  [0x55d7, 'WhitePointChromaticityX', 'float'],
  [0x55d8, 'WhitePointChromaticityY', 'float'],
  [0x55d9, 'LuminanceMax', 'float'],
  [0x55da, 'LuminanceMin', 'float'],
  [0x7670, 'Projection', 'master'],
  [0x7671, 'ProjectionType', 'uint'],
  [0x7672, 'ProjectionPrivate', 'binary'],
  [0x7673, 'ProjectionPoseYaw', 'float'],
  [0x7674, 'ProjectionPosePitch', 'float'],
  [0x7675, 'ProjectionPoseRoll', 'float'],
  [EbmlId.Audio, 'Audio', 'master'],
  [EbmlId.SamplingFrequency, 'SamplingFrequency', 'float'],
  [0x78b5, 'OutputSamplingFrequency', 'float'],
  [EbmlId.Channels, 'Channels', 'uint'],
  [0x7d7b, 'ChannelPositions', 'binary'],
  [EbmlId.BitDepth, 'BitDepth', 'uint'],
  [0x52f1, 'Emphasis', 'uint'],
  [0xe2, 'TrackOperation', 'master'],
  [0xe3, 'TrackCombinePlanes', 'master'],
  [0xe4, 'TrackPlane', 'master'],
  [0xe5, 'TrackPlaneUID', 'uint'],
  [0xe6, 'TrackPlaneType', 'uint'],
  [0xe9, 'TrackJoinBlocks', 'master'],
  [0xed, 'TrackJoinUID', 'uint'],
  [0xc0, 'TrickTrackUID', 'uint'],
  [0xc1, 'TrickTrackSegmentUID', 'binary'],
  [0xc6, 'TrickTrackFlag', 'uint'],
  [0xc7, 'TrickMasterTrackUID', 'uint'],
  [0xc4, 'TrickMasterTrackSegmentUID', 'binary'],
  [0x6d80, 'ContentEncodings', 'master'],
  [0x6240, 'ContentEncoding', 'master'],
  [0x5031, 'ContentEncodingOrder', 'uint'],
  [0x5032, 'ContentEncodingScope', 'uint'],
  [0x5033, 'ContentEncodingType', 'uint'],
  [0x5034, 'ContentCompression', 'master'],
  [0x4254, 'ContentCompAlgo', 'uint'],
  [0x4255, 'ContentCompSettings', 'binary'],
  [0x5035, 'ContentEncryption', 'master'],
  [0x47e1, 'ContentEncAlgo', 'uint'],
  [0x47e2, 'ContentEncKeyID', 'binary'],
  [0x47e7, 'ContentEncAESSettings', 'master'],
  [0x47e8, 'AESSettingsCipherMode', 'uint'],
  [0x47e3, 'ContentSignature', 'binary'],
  [0x47e4, 'ContentSigKeyID', 'binary'],
  [0x47e5, 'ContentSigAlgo', 'uint'],
  [0x47e6, 'ContentSigHashAlgo', 'uint'],

  // Cues
  [EbmlId.Cues, 'Cues', 'master'],
  [0xbb, 'CuePoint', 'master'],
  [0xb3, 'CueTime', 'uint'],
  [0xb7, 'CueTrackPositions', 'master'],
  [0xf7, 'CueTrack', 'uint'],
  [0xf1, 'CueClusterPosition', 'uint'],
  [0xf0, 'CueRelativePosition', 'uint'],
  [0xb2, 'CueDuration', 'uint'],
  [0x5378, 'CueBlockNumber', 'uint'],
  [0xea, 'CueCodecState', 'uint'],
  [0xdb, 'CueReference', 'master'],
  [0x96, 'CueRefTime', 'uint'],
  [0x97, 'CueRefCluster', 'uint'],
  [0x535f, 'CueRefNumber', 'uint'],
  [0xeb, 'CueRefCodecState', 'uint'],

  // Attachments
  [EbmlId.Attachments, 'Attachments', 'master'],
  [0x61a7, 'AttachedFile', 'master'],
  [0x467e, 'FileDescription', 'utf8'],
  [0x466e, 'FileName', 'utf8'],
  [0x4660, 'FileMediaType', 'string'],
  [0x465c, 'FileData', 'binary'],
  [0x46ae, 'FileUID', 'uint'],
  [0x4675, 'FileReferral', 'binary'],
  [0x4661, 'FileUsedStartTime', 'uint'],
  [0x4662, 'FileUsedEndTime', 'uint'],

  // Chapters
  [EbmlId.Chapters, 'Chapters', 'master'],
  [0x45b9, 'EditionEntry', 'master'],
  [0x45bc, 'EditionUID', 'uint'],
  [0x45bd, 'EditionFlagHidden', 'uint'],
  [0x45db, 'EditionFlagDefault', 'uint'],
  [0x45dd, 'EditionFlagOrdered', 'uint'],
  [0x4520, 'EditionDisplay', 'master'],
  [0x4521, 'EditionString', 'utf8'],
  [0x45e4, 'EditionLanguageIETF', 'string'],
  [0xb6, 'ChapterAtom', 'master'],
  [0x73c4, 'ChapterUID', 'uint'],
  [0x5654, 'ChapterStringUID', 'utf8'],
  [0x91, 'ChapterTimeStart', 'uint'],
  [0x92, 'ChapterTimeEnd', 'uint'],
  [0x98, 'ChapterFlagHidden', 'uint'],
  [0x4598, 'ChapterFlagEnabled', 'uint'],
  [0x6e67, 'ChapterSegmentUUID', 'binary'],
  [0x4588, 'ChapterSkipType', 'uint'],
  [0x6ebc, 'ChapterSegmentEditionUID', 'uint'],
  [0x63c3, 'ChapterPhysicalEquiv', 'uint'],
  [0x8f, 'ChapterTrack', 'master'],
  [0x89, 'ChapterTrackUID', 'uint'],
  [0x80, 'ChapterDisplay', 'master'],
  [0x85, 'ChapString', 'utf8'],
  [0x437c, 'ChapLanguage', 'string'],
  [0x437d, 'ChapLanguageBCP47', 'string'],
  [0x437e, 'ChapCountry', 'string'],
  [0x6944, 'ChapProcess', 'master'],
  [0x6955, 'ChapProcessCodecID', 'uint'],
  [0x450d, 'ChapProcessPrivate', 'binary'],
  [0x6911, 'ChapProcessCommand', 'master'],
  [0x6922, 'ChapProcessTime', 'uint'],
  [0x6933, 'ChapProcessData', 'binary'],

  // Tags
  [EbmlId.Tags, 'Tags', 'master'],
  [EbmlId.Tag, 'Tag', 'master'],
  [EbmlId.Targets, 'Targets', 'master'],
  [EbmlId.TargetTypeValue, 'TargetTypeValue', 'uint'],
  [EbmlId.TargetType, 'TargetType', 'string'],
  [0x63c5, 'TagTrackUID', 'uint'],
  [0x63c9, 'TagEditionUID', 'uint'],
  [0x63c4, 'TagChapterUID', 'uint'],
  [0x63c6, 'TagAttachmentUID', 'uint'],
  [EbmlId.SimpleTag, 'SimpleTag', 'master'],
  [EbmlId.TagName, 'TagName', 'utf8'],
  [EbmlId.TagLanguage, 'TagLanguage', 'string'],
  [0x447b, 'TagLanguageBCP47', 'string'],
  [EbmlId.TagDefault, 'TagDefault', 'uint'],
  [0x44b4, 'TagDefaultBogus', 'uint'],
  [EbmlId.TagString, 'TagString', 'utf8'],
  [EbmlId.TagBinary, 'TagBinary', 'binary'],
];

const TYPES = new Map<number, ElementType>();
const NAMES = new Map<number, string>();
for (const [id, name, type] of ENTRIES) {
  TYPES.set(id, type);
  NAMES.set(id, name);
}

/** The type of a known element, `undefined` for IDs this schema does not know (they are skipped). */
export function elementType(id: number): ElementType | undefined {
  return TYPES.get(id);
}

/** A readable element name for error messages. */
export function elementName(id: number): string {
  return NAMES.get(id) ?? `element 0x${id.toString(16)}`;
}

/**
 * IDs that only ever open a document, a segment or a level-1 element. Seeing one below level 1 means the
 * parent's size is wrong, except as the terminator of an unknown-size Cluster.
 */
export function isTopLevelId(id: number): boolean {
  return id === EbmlId.EBML || id === EbmlId.Segment || LEVEL1_IDS.has(id);
}

/**
 * Size rules of the EBML leaf types (RFC 8794 §7): integers hold at most 8 bytes, floats exactly 0, 4 or 8,
 * dates 0 or 8. Strings and binaries have no intrinsic limit.
 */
export function checkLeafSize(id: number, type: ElementType, size: number, offset: number): void {
  switch (type) {
    case 'uint':
    case 'int':
      if (size > 8) {
        throw invalid(offset, `${elementName(id)} is an integer of ${size} bytes; integers are at most 8 bytes`);
      }
      return;
    case 'float':
      if (size !== 0 && size !== 4 && size !== 8) {
        throw invalid(offset, `${elementName(id)} is a float of ${size} bytes; floats are 0, 4 or 8 bytes`);
      }
      return;
    case 'date':
      if (size !== 0 && size !== 8) {
        throw invalid(offset, `${elementName(id)} is a date of ${size} bytes; dates are 0 or 8 bytes`);
      }
      return;
    default:
      return;
  }
}
