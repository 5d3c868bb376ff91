// One stored fragment as one MPEG-TS segment (HLS with ContainerFormat MPEG_TS, GetTSFragment). Every
// segment stands alone: it opens with PAT and PMT, and each keyframe carries its parameter sets, so a
// player can start at any segment. Timestamps are the producer clock in 90 kHz ticks, so consecutive
// segments continue each other without knowing about each other.

import { ParseError } from '../formats/errors.js';
import { parseAudioSpecificConfig } from '../formats/codec/aac-config.js';
import { parseAvcConfig } from '../formats/codec/avc-config.js';
import { parseHevcConfig } from '../formats/codec/hevc-config.js';
import { adtsFrame, adtsParams } from '../formats/ts/adts.js';
import { toAnnexB, type NalCodec } from '../formats/ts/annexb.js';
import { absoluteTicks, wrapTicks } from '../formats/ts/clock.js';
import { PMT_PID, TsMuxer, type TsStream } from '../formats/ts/muxer.js';
import type { ContinuityCounters } from '../formats/ts/packets.js';
import { PesStreamId } from '../formats/ts/pes.js';
import { StreamType } from '../formats/ts/psi.js';
import type { TrackInfo } from '../media/track.js';
import type { Sample, TrackRun } from './fragment-samples.js';

export { ContinuityCounters } from '../formats/ts/packets.js';

export type TsSegmentErrorKind =
  /** A codec MPEG-TS cannot carry here (VP8/VP9, Opus, MJPEG, …), or an AAC configuration ADTS cannot express. */
  | 'unsupported'
  /** An H.264/H.265/AAC track without CodecPrivate. */
  | 'missing-cpd'
  /** CodecPrivate that is not a valid avcC / hvcC / AudioSpecificConfig. */
  | 'invalid-cpd'
  /** A frame that does not match its codec configuration (NAL lengths past the end, an oversized AAC frame). */
  | 'invalid-frame';

export class TsSegmentError extends Error {
  override readonly name = 'TsSegmentError';
  readonly kind: TsSegmentErrorKind;
  readonly trackNumber: number;

  constructor(kind: TsSegmentErrorKind, track: TrackInfo, message: string, cause?: unknown) {
    super(`track ${track.number} (${track.codecId}): ${message}`, cause === undefined ? undefined : { cause });
    this.kind = kind;
    this.trackNumber = track.number;
  }
}

export type TsSegmentOptions = {
  /**
   * Continuity counters carried from the previous segment of the same stream and advanced past this one.
   * Without it every segment starts its counters at 0, which is what a segment fetched on its own needs.
   */
  continuity?: ContinuityCounters;
};

/** Elementary stream PIDs are 0x100 + track number, so a track keeps its PID from segment to segment. */
const FIRST_ES_PID = 0x100;
const MAX_TRACK_NUMBER = PMT_PID - FIRST_ES_PID - 1;
/** stream_id 0xE0..0xEF are video, 0xC0..0xDF audio. */
const MAX_VIDEO_STREAMS = 16;
const MAX_AUDIO_STREAMS = 32;

const CodecId = { H264: 'V_MPEG4/ISO/AVC', H265: 'V_MPEGH/ISO/HEVC', AAC: 'A_AAC' } as const;

/** A track ready to mux: its PMT entry and how its frames become elementary stream bytes. */
type Elementary = TsStream & { video: boolean; encode: (s: Sample) => Uint8Array };

type Unit = { stream: Elementary; sample: Sample; pts: number; dts: number };

/**
 * The TS segment of one fragment's sample runs: PAT, PMT, then every track's access units interleaved by
 * decode time. Throws TsSegmentError for a track it cannot carry or whose data does not parse.
 */
export function tsSegment(runs: TrackRun[], opts: TsSegmentOptions = {}): Uint8Array {
  const streams: Elementary[] = [];
  const units: Unit[] = [];
  for (const run of runs) {
    const stream = elementary(run.track, streams);
    streams.push(stream);
    units.push(...timed(stream, run.samples));
  }
  // Stable: at equal decode times the earlier run (fragmentSamples: the lower track number) goes first.
  units.sort((a, b) => a.dts - b.dts);
  const pcrStream = streams.find((s) => s.video) ?? streams[0];
  const mux = new TsMuxer(streams, pcrStream?.pid, opts.continuity);
  mux.writeTables();
  for (const u of units) {
    mux.writeAccessUnit(u.stream.pid, {
      pts: wrapTicks(u.pts),
      dts: wrapTicks(u.dts),
      data: u.stream.encode(u.sample),
      randomAccess: u.sample.keyframe,
    });
  }
  return mux.bytes();
}

/**
 * Decode and presentation times in unwrapped ticks. TS forbids a DTS after its PTS; fragmentSamples already
 * hands out decode times shifted back by the reorder depth, and runs from anywhere else get the same shift
 * here (by the largest DTS-over-PTS lead), which a steady GOP structure keeps equal from segment to segment.
 */
function timed(stream: Elementary, samples: Sample[]): Unit[] {
  const units = samples.map((sample) => ({ stream, sample, pts: absoluteTicks(sample.ptsMs), dts: absoluteTicks(sample.dtsMs) }));
  const lead = units.reduce((m, u) => Math.max(m, u.dts - u.pts), 0);
  for (const u of units) {
    u.dts -= lead;
  }
  return units;
}

function elementary(track: TrackInfo, before: readonly Elementary[]): Elementary {
  if (!Number.isInteger(track.number) || track.number < 1 || track.number > MAX_TRACK_NUMBER) {
    throw new TsSegmentError('unsupported', track, `track numbers above ${MAX_TRACK_NUMBER} have no PID here`);
  }
  const pid = FIRST_ES_PID + track.number;
  if (before.some((s) => s.pid === pid)) {
    throw new TsSegmentError('unsupported', track, 'the track appears twice');
  }
  const videos = before.filter((s) => s.video).length;
  const audios = before.length - videos;
  switch (baseCodecId(track.codecId)) {
    case CodecId.H264:
    case CodecId.H265: {
      if (videos >= MAX_VIDEO_STREAMS) {
        throw new TsSegmentError('unsupported', track, `more than ${MAX_VIDEO_STREAMS} video tracks`);
      }
      const h264 = track.codecId === CodecId.H264;
      const encode = nalEncoder(track, h264 ? 'h264' : 'h265');
      return { pid, video: true, streamType: h264 ? StreamType.H264 : StreamType.H265, streamId: PesStreamId.VIDEO + videos, encode };
    }
    case CodecId.AAC: {
      if (audios >= MAX_AUDIO_STREAMS) {
        throw new TsSegmentError('unsupported', track, `more than ${MAX_AUDIO_STREAMS} audio tracks`);
      }
      return { pid, video: false, streamType: StreamType.AAC_ADTS, streamId: PesStreamId.AUDIO + audios, encode: aacEncoder(track) };
    }
    default:
      throw new TsSegmentError('unsupported', track, 'MPEG-TS segments carry H.264, H.265 and AAC only');
  }
}

/** A_AAC/MPEG4/LC and the other old profile-suffixed AAC ids name the same codec as A_AAC. */
function baseCodecId(codecId: string): string {
  return codecId.startsWith(`${CodecId.AAC}/`) ? CodecId.AAC : codecId;
}

function nalEncoder(track: TrackInfo, codec: NalCodec): (s: Sample) => Uint8Array {
  const cpd = codecPrivate(track);
  let lengthSize: number;
  let parameterSets: Uint8Array[];
  try {
    if (codec === 'h264') {
      const c = parseAvcConfig(cpd);
      lengthSize = c.lengthSize;
      parameterSets = [...c.sps, ...c.pps];
    } else {
      const c = parseHevcConfig(cpd);
      lengthSize = c.lengthSize;
      parameterSets = [...c.vps, ...c.sps, ...c.pps];
    }
  } catch (e) {
    throw asTrackError(e, 'invalid-cpd', track);
  }
  return (s) => {
    try {
      return toAnnexB(s.data, { codec, lengthSize, keyframe: s.keyframe, parameterSets });
    } catch (e) {
      throw asTrackError(e, 'invalid-frame', track);
    }
  };
}

function aacEncoder(track: TrackInfo): (s: Sample) => Uint8Array {
  const cpd = codecPrivate(track);
  let config;
  try {
    config = parseAudioSpecificConfig(cpd);
  } catch (e) {
    throw asTrackError(e, 'invalid-cpd', track);
  }
  const params = adtsParams(config);
  if ('unsupported' in params) {
    throw new TsSegmentError('unsupported', track, params.unsupported);
  }
  return (s) => {
    try {
      return adtsFrame(params, s.data);
    } catch (e) {
      throw asTrackError(e, 'invalid-frame', track);
    }
  };
}

function codecPrivate(track: TrackInfo): Uint8Array {
  if (track.codecPrivate === undefined || track.codecPrivate.length === 0) {
    throw new TsSegmentError('missing-cpd', track, 'no CodecPrivate');
  }
  return track.codecPrivate;
}

/** Bad input (a ParseError, or a RangeError from a size limit) becomes the track's error; anything else is a bug. */
function asTrackError(e: unknown, kind: TsSegmentErrorKind, track: TrackInfo): unknown {
  return e instanceof ParseError || e instanceof RangeError ? new TsSegmentError(kind, track, e.message, e) : e;
}
