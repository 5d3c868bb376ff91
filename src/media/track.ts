// The canonical description of a stream's tracks, shared by the MKV and MP4 ingest paths and every reader.

export type TrackKind = 'video' | 'audio' | 'subtitle' | 'other';

export type TrackInfo = {
  /** Matroska TrackNumber (1-based), also the track number blocks refer to. */
  number: number;
  uid?: bigint;
  kind: TrackKind;
  /** Matroska CodecID, e.g. V_MPEG4/ISO/AVC, A_AAC. */
  codecId: string;
  /** AVCDecoderConfigurationRecord for H.264, AudioSpecificConfig for AAC, … */
  codecPrivate?: Uint8Array;
  name?: string;
  language?: string;
  defaultDurationNs?: number;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
};

export type TrackSet = {
  /** Nanoseconds per timecode unit (Matroska TimecodeScale, default 1_000_000 = 1 ms). */
  timecodeScaleNs: number;
  tracks: TrackInfo[];
};
