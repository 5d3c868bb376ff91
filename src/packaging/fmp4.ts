// Fragmented MP4 for HLS, DASH and GetClip: an init segment (ftyp + moov) for a stream's tracks, and one
// media segment (moof + mdat) per stored fragment. Decode times are absolute (producer clock), so the
// segments of consecutive fragments line up without any state carried between calls.

import { Box, createFile, DataStream, FullBox } from 'mp4box';
import type { ISOFile, SampleEntry } from 'mp4box';
import { ParseError } from '../formats/errors.js';
import { aacChannelCount, parseAudioSpecificConfig } from '../formats/codec/aac-config.js';
import { parseAvcConfig } from '../formats/codec/avc-config.js';
import { aacCodecString, avcCodecString, hevcCodecString } from '../formats/codec/codec-strings.js';
import { parseHevcConfig } from '../formats/codec/hevc-config.js';
import { aacEsDescriptor } from '../formats/mp4/esds.js';
import { NON_SYNC_SAMPLE_FLAGS, SYNC_SAMPLE_FLAGS, writeFragment } from '../formats/mp4/fragment.js';
import type { FragmentSample, TrackFragment } from '../formats/mp4/fragment.js';
import type { TrackInfo } from '../media/track.js';
import type { Sample, TrackRun } from './fragment-samples.js';

/**
 * Why a track cannot be packaged; callers answer with UnsupportedStreamMediaTypeException,
 * MissingCodecPrivateDataException and InvalidCodecPrivateDataException respectively.
 */
export type PackagingRefusal = 'unsupported' | 'missing-cpd' | 'invalid-cpd';

export class UnsupportedCodecError extends Error {
  override readonly name = 'UnsupportedCodecError';

  constructor(
    readonly kind: PackagingRefusal,
    readonly trackNumber: number,
    readonly codecId: string,
    message: string,
  ) {
    super(message);
  }
}

export const VIDEO_TIMESCALE = 90000;

/** The parts of a track the MP4 boxes need, checked once. */
type Packaged =
  | { entry: 'avc1' | 'hvc1'; configBox: 'avcC' | 'hvcC'; record: Uint8Array; timescale: number; codec: string }
  | { entry: 'mp4a'; asc: Uint8Array; timescale: number; channels: number; codec: string };

/** RFC 6381 codec string for HLS CODECS and DASH @codecs, e.g. avc1.64001F, hvc1.1.6.L93.B0, mp4a.40.2. */
export function codecString(track: TrackInfo): string {
  return packaged(track).codec;
}

/** Ticks per second of the track in the MP4 output: 90000 for video, the sampling rate for audio. */
export function timescaleOf(track: TrackInfo): number {
  return packaged(track).timescale;
}

/**
 * ftyp + moov for the given tracks (track IDs = Matroska track numbers), with mvex/trex so that the media
 * segments can follow. Throws UnsupportedCodecError if any track cannot be packaged.
 */
export function initSegment(tracks: TrackInfo[]): Uint8Array {
  if (tracks.length === 0) {
    throw new RangeError('an init segment needs at least one track');
  }
  const sorted = [...tracks].sort((a, b) => a.number - b.number);
  sorted.forEach((t, i) => {
    if (!Number.isInteger(t.number) || t.number < 1 || t.number > 0xffffffff || sorted[i - 1]?.number === t.number) {
      throw new RangeError(`track number ${t.number} is not a usable, unique MP4 track ID`);
    }
  });
  const plans = sorted.map((t) => ({ track: t, p: packaged(t) }));
  const file: ISOFile = createFile();
  for (const { track, p } of plans) {
    addTrack(file, track, p);
  }
  const moov = file.moov;
  const mvhd = moov.mvhd;
  // mp4box writes volume << 8 into a 16-bit field and starts from 256, which comes out as 0.
  mvhd.volume = 1;
  mvhd.timescale = 1000;
  mvhd.next_track_id = (sorted[sorted.length - 1]?.number ?? 0) + 1;
  // mp4box puts mvex first; ISO/IEC 14496-12 lists mvhd first and mvex after the traks, as players expect.
  const boxes = moov.boxes ?? [];
  moov.boxes = [...boxes.filter((b) => b.type === 'mvhd'), ...boxes.filter((b) => b.type === 'trak'), ...boxes.filter((b) => b.type === 'mvex')];
  const stream = new DataStream();
  file.ftyp.write(stream);
  moov.write(stream);
  return new Uint8Array(stream.buffer, 0, stream.getPosition()).slice();
}

/**
 * One moof + mdat for a fragment's runs (one traf per run, in the order given). tfdt is the first decode
 * time in the track's timescale; every duration is the difference of two rounded absolute times, so
 * rounding never accumulates across samples or fragments. Decode times must not be negative (RangeError).
 *
 * `emptyAtMs`: when no run has a sample, the segment is one traf without samples at that time for the first
 * run's track — a fragment in which a track has nothing (an audio track that starts late, a microphone that
 * stopped) still has a segment in that track's playlist, and players move on past it.
 */
export function mediaSegment(runs: TrackRun[], sequenceNumber: number, emptyAtMs?: number): Uint8Array {
  const trafs: TrackFragment[] = [];
  for (const run of runs) {
    if (run.samples.length === 0) {
      continue;
    }
    const p = packaged(run.track);
    trafs.push(trackFragment(run.track.number, run.track.kind === 'audio', p.timescale, run.samples));
  }
  const first = runs[0];
  if (trafs.length === 0 && first !== undefined && emptyAtMs !== undefined && emptyAtMs >= 0) {
    const timescale = packaged(first.track).timescale;
    trafs.push({ trackId: first.track.number, baseMediaDecodeTime: Math.round((emptyAtMs * timescale) / 1000), samples: [] });
  }
  if (trafs.length === 0) {
    throw new RangeError('a media segment needs at least one sample');
  }
  return writeFragment(sequenceNumber, trafs);
}

function trackFragment(trackId: number, allSync: boolean, timescale: number, samples: Sample[]): TrackFragment {
  const ticks = (ms: number): number => Math.round((ms * timescale) / 1000);
  const dts = samples.map((s) => ticks(s.dtsMs));
  if (dts[0]! < 0) {
    // tfdt is unsigned. Decode times run ahead of presentation times with B-frames, so a timeline moved to
    // start at presentation time 0 must be moved by its first decode time instead.
    throw new RangeError(`track ${trackId}: decode time ${samples[0]!.dtsMs} ms is before 0, which tfdt cannot hold`);
  }
  const last = samples[samples.length - 1]!;
  const endTicks = Math.max(ticks(runEndMs(samples)), ticks(last.dtsMs));
  const out: FragmentSample[] = samples.map((s, i) => {
    const d = dts[i]!;
    const next = i + 1 < samples.length ? dts[i + 1]! : endTicks;
    return {
      duration: Math.max(0, next - d),
      flags: allSync || s.keyframe ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS,
      compositionOffset: ticks(s.ptsMs) - d,
      data: s.data,
    };
  });
  return { trackId, baseMediaDecodeTime: dts[0]!, samples: out };
}

/**
 * Where the run's last sample ends, in milliseconds. Block times are whole timecode units (1 ms in
 * practice) from the fragment start, and the next fragment's first block is on the same grid; a last
 * frame lasting a fractional frame duration (33.333 ms) would end between grid points, so the next
 * segment's tfdt would overlap this one by a fraction of a millisecond. When every decode time of the
 * run is on a whole-millisecond grid, the end is put on that grid too.
 */
function runEndMs(samples: Sample[]): number {
  const first = samples[0]!.dtsMs;
  const last = samples[samples.length - 1]!;
  const end = last.dtsMs + Math.max(0, last.durationMs);
  if (samples.every((s) => isWhole(s.dtsMs - first))) {
    const snapped = first + Math.round(end - first);
    if (snapped > last.dtsMs) {
      return snapped;
    }
  }
  return end;
}

function isWhole(ms: number): boolean {
  return Math.abs(ms - Math.round(ms)) < 1e-3;
}

function packaged(track: TrackInfo): Packaged {
  const id = track.codecId;
  const refuse = (kind: PackagingRefusal, why: string): UnsupportedCodecError =>
    new UnsupportedCodecError(kind, track.number, id, `track ${track.number} (${id}): ${why}`);
  const video = id === 'V_MPEG4/ISO/AVC' || id === 'V_MPEGH/ISO/HEVC';
  const aac = id === 'A_AAC' || id.startsWith('A_AAC/');
  if (!video && !aac) {
    throw refuse('unsupported', 'only H.264, H.265 and AAC can be packaged as MP4');
  }
  const cpd = track.codecPrivate;
  if (cpd === undefined || cpd.length === 0) {
    throw refuse('missing-cpd', 'the track has no codec private data');
  }
  try {
    if (id === 'V_MPEG4/ISO/AVC') {
      return { entry: 'avc1', configBox: 'avcC', record: cpd, timescale: VIDEO_TIMESCALE, codec: avcCodecString(parseAvcConfig(cpd)) };
    }
    if (id === 'V_MPEGH/ISO/HEVC') {
      return { entry: 'hvc1', configBox: 'hvcC', record: cpd, timescale: VIDEO_TIMESCALE, codec: hevcCodecString(parseHevcConfig(cpd)) };
    }
    const asc = parseAudioSpecificConfig(cpd);
    // Matroska's SamplingFrequency is the output rate (twice the ASC's for implicit HE-AAC); either works
    // as a timescale as long as init and media segments agree, and both come from here.
    const rate = track.sampleRate !== undefined && track.sampleRate >= 1 ? Math.round(track.sampleRate) : asc.sampleRate;
    const channels = aacChannelCount(asc) ?? track.channels ?? 2;
    return { entry: 'mp4a', asc: cpd, timescale: rate, channels, codec: aacCodecString(asc) };
  } catch (e) {
    if (e instanceof ParseError) {
      throw refuse('invalid-cpd', `invalid codec private data: ${e.message}`);
    }
    throw e;
  }
}

function addTrack(file: ISOFile, track: TrackInfo, p: Packaged): void {
  const isVideo = p.entry !== 'mp4a';
  const id = file.addTrack({
    id: track.number,
    type: p.entry,
    timescale: p.timescale,
    hdlr: isVideo ? 'vide' : 'soun',
    name: handlerName(track, isVideo),
    brands: ['iso6', 'mp41'],
    ...(isVideo
      ? { width: track.width ?? 0, height: track.height ?? 0 }
      : // The 16.16 sample rate field cannot hold rates above 65535; 0 then, as ffmpeg writes, and the
        // decoder takes the rate from the AudioSpecificConfig.
        { channel_count: p.channels, samplesize: 16, samplerate: p.timescale <= 0xffff ? p.timescale : 0 }),
  });
  const trak = file.getTrackById(id);
  const tkhd = trak.tkhd;
  // mp4box gives every track volume 1 and at least 320x320; video has no volume, audio no size.
  tkhd.volume = isVideo ? 0 : 1;
  tkhd.width = isVideo ? (track.width ?? 0) * 65536 : 0;
  tkhd.height = isVideo ? (track.height ?? 0) * 65536 : 0;
  const mdia = trak.mdia;
  // mp4box writes the mdhd language string into a 16-bit field (as 0); it must be packed ISO 639-2/T.
  mdia.mdhd.language = packedLanguage(track.language);
  // mp4box adds an elng defaulting to "fr-FR" and writes it without its terminating NUL; the mdhd
  // language is enough.
  mdia.boxes = (mdia.boxes ?? []).filter((b) => b.type !== 'elng');
  const entry: SampleEntry | undefined = mdia.minf.stbl.stsd.entries[0];
  if (entry === undefined) {
    throw new Error(`mp4box created no ${p.entry} sample entry`);
  }
  if (p.entry === 'mp4a') {
    // mp4box has no esds writer: its esds box only parses. The descriptor is built here and written as
    // the payload of a plain full box.
    const esds = new FullBox();
    esds.type = 'esds';
    esds.data = aacEsDescriptor(track.number & 0xffff, new Uint8Array(p.asc));
    entry.addBox(esds);
  } else {
    if ('compressorname' in entry) {
      entry.compressorname = '';
    }
    // The record goes in byte for byte rather than through mp4box's avcC/hvcC boxes: its avcC reader
    // drops the High-profile extension (chroma format, bit depths) and its hvcC round trip masks
    // numTemporalLayers wrongly and zeroes reserved bits.
    const config = new Box();
    config.type = p.configBox;
    config.data = new Uint8Array(p.record);
    entry.addBox(config);
  }
}

function handlerName(track: TrackInfo, isVideo: boolean): string {
  // hdlr names are written one byte per character.
  const ascii = (track.name ?? '').replace(/[^\x20-\x7e]/g, '');
  return ascii.length > 0 ? ascii : isVideo ? 'VideoHandler' : 'SoundHandler';
}

function packedLanguage(language: string | undefined): number {
  const code = language !== undefined && /^[a-z]{3}$/.test(language) ? language : 'und';
  return ((code.charCodeAt(0) - 0x60) << 10) | ((code.charCodeAt(1) - 0x60) << 5) | (code.charCodeAt(2) - 0x60);
}
