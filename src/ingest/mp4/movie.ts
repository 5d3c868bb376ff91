// The moov box, parsed by mp4box: which tracks there are, how to time them, and (for progressive files)
// every sample with its absolute file offset.
import { createFile, MP4BoxBuffer } from 'mp4box';
import type { ISOFile } from 'mp4box';
import { invalid, tooLarge } from '../../formats/errors.js';
import type { TrackInfo } from '../../media/track.js';
import { childBoxes, isAsciiFourcc } from './boxes.js';
import type { ChildBox } from './boxes.js';
import { codecConfigFor } from './codec-config.js';
import type { LocatedBox, SampleEntryLike } from './codec-config.js';
import type { TrackExtends } from './moof.js';

export type MovieSample = {
  dts: number;
  cto: number;
  duration: number;
  size: number;
  offset: number;
  sync: boolean;
};

export type MovieTrack = {
  /** tkhd track_ID, which trafs refer to. */
  trackId: number;
  /** The Matroska track; numbered 1.. in moov order over the tracks openkvs carries. */
  info: TrackInfo;
  timescale: number;
  /**
   * Media time (track timescale) at which presentation starts. Applied to video only: it is how MP4
   * writers hide the B-frame reorder delay. Audio edits cut encoder priming, which Matroska keeps in the
   * stream (decoders drop it), so audio timestamps stay untouched.
   */
  mediaTimeShift: number;
  /** Presentation delay in milliseconds from leading empty edits. */
  emptyEditMs: number;
  extends: TrackExtends;
  /** Samples described by the moov sample tables; empty for fragmented files. */
  samples: MovieSample[];
};

export type Movie = { tracks: MovieTrack[] };

/** The mp4box fields read from a trak that its typings leave loose or out. */
type TrakView = {
  tkhd?: { track_id: number };
  edts?: { elst?: { entries?: { segment_duration: number; media_time: number }[] } };
  mdia?: {
    mdhd?: { timescale: number; languageString?: string };
    minf?: { stbl?: { stsd?: { entries?: unknown[] } } };
  };
  samples?: { dts: number; cts: number; duration: number; size: number; offset: number; is_sync: boolean }[];
};
type VisualEntryView = { width?: number; height?: number };
type AudioEntryView = { getSampleRate?: () => number; getChannelCount?: () => number };

/**
 * Parses a complete moov box. `moovStart` is its absolute offset, used for error positions only:
 * sample offsets in the sample tables are absolute already.
 */
export function parseMovie(moov: Uint8Array, moovStart: number): Movie {
  // mp4box reads whole ArrayBuffers (ignoring view offsets) tagged with their position in the "file"
  // it parses, so it gets a fresh buffer. Handing it the moov alone, as a file of its own, keeps the
  // mdat out of its hands: the sample tables' offsets are absolute and need no data to be computed.
  const standalone = prunedMoov(moov, moovStart);
  const file: ISOFile = createFile();
  const errors: string[] = [];
  file.onError = (module: string, message: string) => {
    errors.push(`${module}: ${message}`);
  };
  try {
    file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(standalone.buffer, 0), true);
    file.flush();
  } catch (e) {
    throw invalid(moovStart, `moov could not be parsed: ${e instanceof Error ? e.message : String(e)}`);
  }
  // mp4box parses the sample tables when it reaches the end of the moov; a short or inconsistent
  // moov leaves it without one.
  const moovBox = (file as { moov?: { traks?: unknown[]; mvhd?: { timescale?: number }; mvex?: unknown } }).moov;
  if (moovBox?.traks === undefined || errors.length > 0) {
    throw invalid(moovStart, `moov could not be parsed${errors.length > 0 ? `: ${errors.join('; ')}` : ''}`);
  }
  const movieTimescale = moovBox.mvhd?.timescale || 1000;
  const trexById = new Map<number, TrackExtends>();
  type TrexView = { track_id: number; default_sample_duration: number; default_sample_size: number; default_sample_flags: number };
  const mvex = moovBox.mvex as { trexs?: TrexView[] } | undefined;
  for (const t of mvex?.trexs ?? []) {
    trexById.set(t.track_id, {
      defaultDuration: t.default_sample_duration,
      defaultSize: t.default_sample_size,
      defaultFlags: t.default_sample_flags,
    });
  }

  const payload = (box: LocatedBox): Uint8Array => {
    const start = box.start ?? -1;
    const header = box.hdr_size ?? 8;
    const type = String.fromCharCode(...standalone.subarray(start + 4, start + 8));
    if (start < 0 || start + box.size > standalone.length || box.size < header || type !== box.type) {
      throw invalid(moovStart, `'${box.type}' box could not be located in the moov`);
    }
    return standalone.slice(start + header, start + box.size);
  };

  const tracks: MovieTrack[] = [];
  for (const trakUnknown of moovBox.traks) {
    const trak = trakUnknown as TrakView;
    const trackId = trak.tkhd?.track_id;
    const timescale = trak.mdia?.mdhd?.timescale;
    const entry = trak.mdia?.minf?.stbl?.stsd?.entries?.[0] as (SampleEntryLike & VisualEntryView & AudioEntryView) | undefined;
    if (trackId === undefined || !timescale || entry === undefined) {
      throw invalid(moovStart, 'trak without track ID, timescale or sample description');
    }
    const codec = codecConfigFor(entry, payload, moovStart);
    if (codec === undefined) {
      continue;
    }
    const info: TrackInfo = {
      number: tracks.length + 1,
      // The MP4 track_ID is unique and non-zero, as a Matroska TrackUID must be.
      ...(trackId > 0 ? { uid: BigInt(trackId) } : {}),
      kind: codec.kind,
      codecId: codec.codecId,
      ...(codec.codecPrivate ? { codecPrivate: codec.codecPrivate } : {}),
    };
    const language = trak.mdia?.mdhd?.languageString;
    if (language && /^[a-z]{3}$/.test(language)) {
      info.language = language;
    }
    if (codec.kind === 'video' && entry.width && entry.height) {
      info.width = entry.width;
      info.height = entry.height;
    }
    if (codec.kind === 'audio') {
      const rate = entry.getSampleRate?.();
      if (rate) {
        info.sampleRate = rate;
      }
      const channels = codec.channels || entry.getChannelCount?.();
      if (channels) {
        info.channels = channels;
      }
    }
    const edit = editOffsets(trak, movieTimescale);
    tracks.push({
      trackId,
      info,
      timescale,
      mediaTimeShift: codec.kind === 'video' ? edit.mediaTime : 0,
      emptyEditMs: edit.emptyMs,
      extends: trexById.get(trackId) ?? { defaultDuration: 0, defaultSize: 0, defaultFlags: 0 },
      samples: (trak.samples ?? []).map((s, i) => checkedSample(s, i, trackId, moovStart)),
    });
  }
  if (tracks.length === 0) {
    throw invalid(moovStart, 'moov has no H.264, H.265, AAC or Opus track');
  }
  return { tracks };
}

type Mp4boxSample = NonNullable<TrakView['samples']>[number];

/**
 * mp4box fills in what inconsistent sample tables leave out (a ctts, stts or stco shorter than the stsz)
 * with NaN or undefined rather than reporting it; such a sample would reach the Matroska writer.
 */
function checkedSample(s: Mp4boxSample, index: number, trackId: number, moovStart: number): MovieSample {
  const cto = s.cts - s.dts;
  const whole = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
  if (!whole(s.dts) || !whole(s.duration) || !whole(s.size) || !whole(s.offset) || !Number.isSafeInteger(cto)) {
    throw invalid(moovStart, `the sample tables of track ${trackId} do not describe its sample ${index} (stts, ctts, stsc or stco too short)`);
  }
  return { dts: s.dts, cto, duration: s.duration, size: s.size, offset: s.offset, sync: s.is_sync };
}

/**
 * Most samples a moov may declare, over all its tracks: about two hours of 30 fps video with AAC. mp4box
 * makes objects per sample before anything can be checked, and a constant-size stsz declares any count in
 * 20 bytes (10 million took 76 s and 3.4 GB, one million still 3 s; found by the fuzz harness).
 */
export const MAX_MOVIE_SAMPLES = 1 << 19;

/**
 * The boxes kept, per container, on the way from moov to the sample tables and codec configurations.
 * Everything else (udta, meta, dinf, sample groups, ...) is dropped before mp4box sees the moov.
 */
const KEEP: Readonly<Record<string, ReadonlySet<string>>> = {
  moov: new Set(['mvhd', 'trak', 'mvex']),
  trak: new Set(['tkhd', 'edts', 'mdia']),
  edts: new Set(['elst']),
  mdia: new Set(['mdhd', 'hdlr', 'minf']),
  minf: new Set(['stbl']),
  stbl: new Set(['stsd', 'stts', 'ctts', 'stss', 'stsc', 'stsz', 'stz2', 'stco', 'co64']),
  mvex: new Set(['mehd', 'trex']),
};
const VISUAL_ENTRIES: ReadonlySet<string> = new Set(['avc1', 'avc3', 'hvc1', 'hev1']);
const AUDIO_ENTRIES: ReadonlySet<string> = new Set(['mp4a', 'Opus']);

/**
 * A copy of the moov holding only what the conversion needs, after checking that every box on the way
 * fits its parent and has an ASCII type. mp4box reports such damage on the console rather than to its
 * caller, so it is caught here and becomes a ParseError; the less mp4box has to parse, the less it can
 * trip over.
 */
function prunedMoov(moov: Uint8Array, moovStart: number): Uint8Array {
  const [box] = childBoxes(moov, moovStart);
  if (box === undefined || box.type !== 'moov') {
    throw invalid(moovStart, 'not a moov box');
  }
  return rebuild(box, { samples: 0 });
}

function rebuild(box: ChildBox, declared: { samples: number }): Uint8Array {
  if (!isAsciiFourcc(box.type)) {
    throw invalid(box.start, 'moov holds a box whose type is not a four-character code');
  }
  const keep = KEEP[box.type];
  if (keep === undefined) {
    if (box.type === 'stsd') {
      checkSampleEntries(box);
    }
    if (box.type === 'stsz' || box.type === 'stz2') {
      // Both have the sample_count after the FullBox header and one 32-bit field.
      declared.samples += box.payload.length >= 12 ? new DataView(box.payload.buffer, box.payload.byteOffset + 8, 4).getUint32(0) : 0;
      if (declared.samples > MAX_MOVIE_SAMPLES) {
        throw tooLarge(box.start, `the moov declares more than ${MAX_MOVIE_SAMPLES} samples`);
      }
    }
    return withHeader(box.type, [box.payload]);
  }
  const children = childBoxes(box.payload, box.payloadStart).filter((c) => {
    if (!isAsciiFourcc(c.type)) {
      throw invalid(c.start, 'moov holds a box whose type is not a four-character code');
    }
    return keep.has(c.type);
  });
  return withHeader(box.type, children.map((c) => rebuild(c, declared)));
}

/** Sample entries carry fixed fields and then child boxes (avcC, esds, ...), which must tile the entry. */
function checkSampleEntries(stsd: ChildBox): void {
  // FullBox header + entry_count precede the entries.
  if (stsd.payload.length < 8) {
    throw invalid(stsd.start, 'stsd box is too short');
  }
  const entries = childBoxes(stsd.payload.subarray(8), stsd.payloadStart + 8);
  const declared = new DataView(stsd.payload.buffer, stsd.payload.byteOffset + 4, 4).getUint32(0);
  if (declared !== entries.length) {
    throw invalid(stsd.start, `stsd declares ${declared} sample entries but holds ${entries.length}`);
  }
  for (const entry of entries) {
    if (!isAsciiFourcc(entry.type)) {
      throw invalid(entry.start, 'stsd holds a sample entry whose type is not a four-character code');
    }
    let fixed: number;
    if (VISUAL_ENTRIES.has(entry.type)) {
      fixed = 78;
    } else if (AUDIO_ENTRIES.has(entry.type)) {
      // QuickTime sound description versions 1 and 2 append 16 and 36 bytes to the 28 of version 0.
      const version = ((entry.payload[8] ?? 0) << 8) | (entry.payload[9] ?? 0);
      fixed = 28 + (version === 1 ? 16 : version === 2 ? 36 : 0);
    } else {
      continue;
    }
    if (entry.payload.length < fixed) {
      throw invalid(entry.start, `'${entry.type}' sample entry is shorter than its fixed fields`);
    }
    for (const child of childBoxes(entry.payload.subarray(fixed), entry.payloadStart + fixed)) {
      if (!isAsciiFourcc(child.type)) {
        throw invalid(child.start, `'${entry.type}' sample entry holds a box whose type is not a four-character code`);
      }
    }
  }
}

function withHeader(type: string, parts: readonly Uint8Array[]): Uint8Array {
  let size = 8;
  for (const p of parts) {
    size += p.length;
  }
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  for (let i = 0; i < 4; i++) {
    out[4 + i] = type.charCodeAt(i);
  }
  let pos = 8;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** The leading empty edits (a start delay) and the media time of the first real edit. */
function editOffsets(trak: TrakView, movieTimescale: number): { emptyMs: number; mediaTime: number } {
  let emptyMs = 0;
  for (const e of trak.edts?.elst?.entries ?? []) {
    if (e.media_time === -1) {
      emptyMs += Math.round((e.segment_duration * 1000) / movieTimescale);
      continue;
    }
    return { emptyMs, mediaTime: Math.max(0, e.media_time) };
  }
  return { emptyMs, mediaTime: 0 };
}
