// PutMedia accepts MP4 as well as MKV. This parser converts an MP4 upload into the events the MKV parser
// emits (a header with the TrackSet, then one Matroska cluster per fragment), so everything downstream
// stores and serves MP4 uploads exactly like MKV ones.
//
// Fragmented MP4: one cluster per moof, or per run of moofs up to the next one that opens with a video
//   keyframe; emitted as soon as the next group begins (the last one at end()).
// Progressive MP4: the moov's sample tables are cut at video keyframes (audio-only: about every 2 s).
//   With the moov first, clusters go out as the mdat bytes they need arrive; with the moov last, the
//   whole file is held (up to maxBufferedBytes) until the moov says what it contains.
import { ParseError, invalid, fragmentTooLarge, tooLarge } from '../../formats/errors.js';
import { writeMkvHeader } from '../../formats/mkv/mkv-writer.js';
import type { IngestParser, ParseEvent } from '../../media/parse-events.js';
import type { TrackSet } from '../../media/track.js';
import { ByteStore } from './byte-store.js';
import { MAX_BOX_HEADER_SIZE, fourcc, isAsciiFourcc, readBoxHeader } from './boxes.js';
import { ClusterAssembler, buildFragment, sortByDecodeOrder, ticksToMs } from './cluster-assembler.js';
import type { BlockGroup, PendingBlock } from './cluster-assembler.js';
import { parseMoof } from './moof.js';
import type { TrackExtends } from './moof.js';
import { parseMovie } from './movie.js';
import type { Movie, MovieTrack } from './movie.js';

export type Mp4IngestParserOptions = {
  /** Cap on bytes held at once; a progressive MP4 with its moov at the end is held whole. Default 200 MiB. */
  maxBufferedBytes?: number;
  /** Cap on one fragment (a moof's data, or the sample data of one cluster). Default 50 MiB. */
  maxFragmentBytes?: number;
};

const DEFAULT_MAX_BUFFERED_BYTES = 200 * 1024 * 1024;
const DEFAULT_MAX_FRAGMENT_BYTES = 50 * 1024 * 1024;
/** Progressive video: a keyframe closer than this to the cluster start does not open a new cluster. */
const MIN_VIDEO_FRAGMENT_MS = 500;
/** Progressive audio-only files have no keyframes to cut at; clusters are cut after this long. */
const AUDIO_ONLY_FRAGMENT_MS = 2000;
const TIMECODE_SCALE_NS = 1_000_000;

/** Box types an MP4 stream can open with (ftyp normally; the rest appear in segments and old QuickTime files). */
const FIRST_BOX_TYPES: ReadonlySet<string> = new Set(['ftyp', 'styp', 'moov', 'moof', 'mdat', 'free', 'skip', 'wide', 'pdin', 'sidx']);
/** Boxes that may run to the end of the stream (size 0) because nothing needs to be read after them. */
const TO_EOF_BOX_TYPES: ReadonlySet<string> = new Set(['mdat', 'free', 'skip', 'mfra']);

const PROBE_TYPES: ReadonlySet<string> = new Set(['ftyp', 'styp', 'moov', 'moof']);

/**
 * Probe for the ingest's container sniffing: the stream opens with an ftyp/styp/moov/moof box of a
 * plausible size. Needs at least 8 bytes; from 12 on, an ftyp/styp major brand must be ASCII too.
 */
export function looksLikeMp4(head: Uint8Array): boolean {
  if (head.length < 8) {
    return false;
  }
  const type = fourcc(head, 4);
  if (!PROBE_TYPES.has(type)) {
    return false;
  }
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const size = view.getUint32(0);
  if (type === 'ftyp' || type === 'styp') {
    // major_brand + minor_version + a whole number of 4-byte compatible brands; brands are ASCII.
    return size >= 16 && size <= 4096 && (size - 16) % 4 === 0 && (head.length < 12 || isAsciiFourcc(fourcc(head, 8)));
  }
  // size 1 announces a 64-bit size; moov and moof always hold at least one child header.
  return size === 1 || size >= 16;
}

type FragmentUnit = { blocks: PendingBlock[]; minOffset: number; maxEnd: number };

type ProgressivePlan = {
  groups: { group: BlockGroup; maxEnd: number }[];
  /** suffixMinOffset[i] = smallest sample offset in groups[i..]. */
  suffixMinOffset: number[];
  next: number;
};

/**
 * Incremental MP4 → Matroska converter. Errors are ParseErrors and sticky: once a call has thrown, every
 * later call throws the same error, and the events of the call that threw are lost with it.
 */
export class Mp4IngestParser implements IngestParser {
  private readonly maxBufferedBytes: number;
  private readonly maxFragmentBytes: number;
  private readonly store = new ByteStore();
  /** Absolute offset of the next top-level box header. */
  private pos = 0;
  private boxCount = 0;
  /** The last box declared size 0: everything from here on belongs to it. */
  private runsToEof = false;
  private movie: Movie | undefined;
  private tracksById = new Map<number, MovieTrack>();
  private firstVideoTrack: number | undefined;
  private trex = new Map<number, TrackExtends>();
  private nextDecodeTime = new Map<number, number>();
  private plan: ProgressivePlan | undefined;
  private units: FragmentUnit[] = [];
  private assembler: ClusterAssembler | undefined;
  /** Events produced by assembler callbacks during the current call. */
  private out: ParseEvent[] = [];
  private failure: ParseError | undefined;
  private ended = false;

  constructor(options: Mp4IngestParserOptions = {}) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.maxFragmentBytes = options.maxFragmentBytes ?? DEFAULT_MAX_FRAGMENT_BYTES;
  }

  push(chunk: Uint8Array): ParseEvent[] {
    return this.run(() => {
      this.store.append(chunk);
      this.drive();
    });
  }

  end(): ParseEvent[] {
    return this.run(() => {
      this.ended = true;
      this.finish();
    });
  }

  /** Runs one step; any failure is sticky and always surfaces as a ParseError. */
  private run(step: () => void): ParseEvent[] {
    if (this.failure !== undefined) {
      throw this.failure;
    }
    if (this.ended) {
      throw new Error('Mp4IngestParser: push() or end() after end()');
    }
    this.out = [];
    try {
      step();
      this.store.discardBefore(this.lowWatermark());
      if (this.store.heldBytes > this.maxBufferedBytes) {
        throw tooLarge(this.store.start, `more than ${this.maxBufferedBytes} bytes would have to be buffered`);
      }
    } catch (e) {
      if (e instanceof ParseError) {
        this.failure = e;
      } else {
        this.failure = invalid(this.pos, `MP4 could not be converted: ${e instanceof Error ? e.message : String(e)}`);
        // Kept so a bug of ours (a TypeError, say) is not mistaken for bad input: the fuzz harness checks it.
        this.failure.cause = e;
      }
      throw this.failure;
    }
    const events = this.out;
    this.out = [];
    return events;
  }

  private drive(): void {
    while (!this.runsToEof && this.pos + 8 <= this.store.end) {
      const head = this.store.read(this.pos, Math.min(MAX_BOX_HEADER_SIZE, this.store.end - this.pos));
      const header = readBoxHeader(head, this.pos);
      if (header === undefined) {
        break;
      }
      if (!isAsciiFourcc(header.type)) {
        throw invalid(this.pos, 'not an MP4 box: the type is not a four-character code');
      }
      if (this.boxCount === 0 && !FIRST_BOX_TYPES.has(header.type)) {
        throw invalid(this.pos, `not an MP4 stream: it starts with a '${header.type}' box`);
      }
      if (header.size === undefined) {
        if (!TO_EOF_BOX_TYPES.has(header.type)) {
          throw invalid(this.pos, `'${header.type}' box with size 0 (to end of stream) is not supported`);
        }
        this.runsToEof = true;
        this.boxCount++;
        break;
      }
      if (header.type === 'moov' || header.type === 'moof') {
        const cap = header.type === 'moov' ? this.maxBufferedBytes : this.maxFragmentBytes;
        if (header.size > cap) {
          throw tooLarge(this.pos, `'${header.type}' box of ${header.size} bytes exceeds ${cap}`);
        }
        if (this.store.end < header.start + header.size) {
          break;
        }
        const box = this.store.read(header.start, header.size);
        if (header.type === 'moov') {
          this.onMoov(box, header.start);
        } else {
          this.onMoof(box.subarray(header.headerSize), header.start, header.start + header.headerSize);
        }
      }
      this.pos = header.start + header.size;
      this.boxCount++;
    }
    this.emitPlanned();
    this.completeUnits();
  }

  private onMoov(box: Uint8Array, start: number): void {
    if (this.movie !== undefined) {
      throw invalid(start, 'second moov box');
    }
    const movie = parseMovie(box, start);
    this.movie = movie;
    for (const t of movie.tracks) {
      this.tracksById.set(t.trackId, t);
      this.trex.set(t.trackId, t.extends);
      const last = t.samples[t.samples.length - 1];
      if (last !== undefined) {
        this.nextDecodeTime.set(t.trackId, last.dts + last.duration);
      }
    }
    this.firstVideoTrack = movie.tracks.find((t) => t.info.kind === 'video')?.info.number;
    const set: TrackSet = { timecodeScaleNs: TIMECODE_SCALE_NS, tracks: movie.tracks.map((t) => t.info) };
    this.out.push({ kind: 'header', header: { ...set, bytes: writeMkvHeader(set) } });
    this.assembler = new ClusterAssembler(
      this.maxFragmentBytes,
      (timecode) => this.out.push({ kind: 'fragment-start', timecode }),
      (group) => this.out.push({ kind: 'fragment', fragment: buildFragment(group, this.firstVideoTrack) }),
    );
    if (movie.tracks.some((t) => t.samples.length > 0)) {
      this.plan = this.planProgressive(movie);
    }
  }

  /** Cuts the moov's samples into clusters up front; they are emitted once their bytes have arrived. */
  private planProgressive(movie: Movie): ProgressivePlan {
    const blocks: PendingBlock[] = [];
    for (const track of movie.tracks) {
      for (const s of track.samples) {
        blocks.push(toBlock(track, s.dts, s.cto, s.sync, s.size, s.offset));
      }
    }
    sortByDecodeOrder(blocks);
    const primary = this.firstVideoTrack ?? movie.tracks[0]?.info.number;
    const video = this.firstVideoTrack !== undefined;
    const groups: BlockGroup[] = [];
    const planner = new ClusterAssembler(this.maxFragmentBytes, () => undefined, (g) => groups.push(g));
    planner.add(blocks, (b, _i, current) =>
      video
        ? b.track === primary && b.keyframe && b.pts - current.timecode >= MIN_VIDEO_FRAGMENT_MS
        : b.track === primary && b.pts - current.timecode >= AUDIO_ONLY_FRAGMENT_MS,
    );
    planner.close();
    const planned: ProgressivePlan['groups'] = [];
    const minOffsets: number[] = [];
    for (const group of groups) {
      let minOffset = Infinity;
      let maxEnd = 0;
      for (const b of group.blocks) {
        minOffset = Math.min(minOffset, b.offset);
        maxEnd = Math.max(maxEnd, b.offset + b.size);
      }
      planned.push({ group, maxEnd });
      minOffsets.push(minOffset);
    }
    const suffixMinOffset: number[] = new Array<number>(planned.length + 1).fill(Infinity);
    for (let i = planned.length - 1; i >= 0; i--) {
      suffixMinOffset[i] = Math.min(minOffsets[i] ?? Infinity, suffixMinOffset[i + 1] ?? Infinity);
    }
    return { groups: planned, suffixMinOffset, next: 0 };
  }

  private emitPlanned(): void {
    const plan = this.plan;
    if (plan === undefined) {
      return;
    }
    for (; plan.next < plan.groups.length; plan.next++) {
      const planned = plan.groups[plan.next];
      if (planned === undefined || planned.maxEnd > this.store.end) {
        return;
      }
      for (const b of planned.group.blocks) {
        b.data = this.store.read(b.offset, b.size);
      }
      this.out.push({ kind: 'fragment-start', timecode: planned.group.timecode });
      this.out.push({ kind: 'fragment', fragment: buildFragment(planned.group, this.firstVideoTrack) });
      // Emitted groups no longer pin their sample data.
      planned.group.blocks = [];
    }
  }

  private onMoof(payload: Uint8Array, moofStart: number, payloadStart: number): void {
    if (this.movie === undefined) {
      throw invalid(moofStart, 'moof before moov');
    }
    const blocks: PendingBlock[] = [];
    let minOffset = Infinity;
    let maxEnd = -Infinity;
    for (const s of parseMoof(payload, moofStart, payloadStart, this.trex, this.nextDecodeTime)) {
      const track = this.tracksById.get(s.trackId);
      if (track === undefined) {
        continue;
      }
      blocks.push(toBlock(track, s.dts, s.cto, s.sync, s.size, s.offset));
      minOffset = Math.min(minOffset, s.offset);
      maxEnd = Math.max(maxEnd, s.offset + s.size);
    }
    if (blocks.length === 0) {
      return;
    }
    // The data of a fragment follows its moof; requiring that keeps the result independent of how the
    // upload was chunked (earlier bytes may already be released).
    if (minOffset < moofStart) {
      throw invalid(moofStart, 'moof refers to sample data before itself');
    }
    if (maxEnd - minOffset > this.maxFragmentBytes) {
      throw fragmentTooLarge(moofStart, `moof refers to ${maxEnd - minOffset} bytes of sample data, more than ${this.maxFragmentBytes}`);
    }
    this.units.push({ blocks: sortByDecodeOrder(blocks), minOffset, maxEnd });
  }

  /** Moofs whose sample data has fully arrived become blocks, grouped into clusters. */
  private completeUnits(): void {
    const assembler = this.assembler;
    if (assembler === undefined || (this.plan !== undefined && this.plan.next < this.plan.groups.length)) {
      return;
    }
    while (this.units.length > 0) {
      const unit = this.units[0];
      if (unit === undefined || unit.maxEnd > this.store.end) {
        return;
      }
      this.units.shift();
      for (const b of unit.blocks) {
        b.data = this.store.read(b.offset, b.size);
      }
      const video = this.firstVideoTrack;
      const firstVideo = unit.blocks.find((b) => b.track === video);
      // A moof opens a new cluster unless it continues a GOP: video without a leading keyframe, or no
      // video at all in a stream that has video (audio between video moofs).
      const opensCluster = video === undefined || (firstVideo !== undefined && firstVideo.keyframe);
      assembler.add(unit.blocks, (_b, i) => i === 0 && opensCluster);
    }
  }

  private lowWatermark(): number {
    if (this.movie === undefined) {
      // Until the moov arrives nothing says which bytes are samples, so nothing can be dropped.
      return 0;
    }
    let low = this.pos;
    for (const u of this.units) {
      low = Math.min(low, u.minOffset);
    }
    if (this.plan !== undefined) {
      low = Math.min(low, this.plan.suffixMinOffset[this.plan.next] ?? Infinity);
    }
    return low;
  }

  private finish(): void {
    if (!this.runsToEof && this.pos !== this.store.end) {
      throw invalid(
        Math.min(this.pos, this.store.end),
        this.pos > this.store.end
          ? `stream ends ${this.pos - this.store.end} bytes short of the end of the last box`
          : 'stream ends inside a box',
      );
    }
    if (this.movie === undefined) {
      throw invalid(this.store.end, this.store.end === 0 ? 'empty stream' : 'stream ended without a moov box');
    }
    if (this.plan !== undefined && this.plan.next < this.plan.groups.length) {
      throw invalid(this.store.end, 'stream ended before all samples listed in the moov arrived');
    }
    if (this.units.length > 0) {
      throw invalid(this.store.end, 'stream ended before all samples of the last moof arrived');
    }
    this.assembler?.close();
  }
}

function toBlock(track: MovieTrack, dts: number, cto: number, sync: boolean, size: number, offset: number): PendingBlock {
  const decode = dts - track.mediaTimeShift;
  const pts = ticksToMs(decode + cto, track.timescale) + track.emptyEditMs;
  return {
    track: track.info.number,
    // Samples before the start of the edit would be negative; Matroska readers expect none.
    pts: Math.max(0, pts),
    order: decode / track.timescale + track.emptyEditMs / 1000,
    // Every audio frame is a random access point; MP4 writers do not always flag them so.
    keyframe: track.info.kind === 'audio' ? true : sync,
    size,
    offset,
  };
}
