// Incremental Matroska parser for PutMedia ingest. Bytes arrive in chunks of any size; the parser keeps a
// stack of the open elements (Segment, Cluster, BlockGroup, and any master it walks for validation), reads
// one element header at a time, and only buffers what it must hand out whole: the EBML header, Info, Tracks,
// Tags and Clusters. Everything else is validated as it streams by and then dropped.

import { ByteReader } from '../bits/byte-reader.js';
import { ParseError, invalid, fragmentTooLarge, tooLarge } from '../errors.js';
import { EbmlId, LEVEL1_IDS } from '../ebml/ids.js';
import { readElementId, readElementSize } from '../ebml/vint.js';
import { BlockFlags, parseBlockHeader } from './mkv-blocks.js';
import { StreamBuffer } from './mkv-buffer.js';
import { parseEbmlHeader, readUint } from './mkv-elements.js';
import { DEFAULT_MAX_CLUSTER_BYTES, DEFAULT_MAX_ELEMENT_BYTES, DEFAULT_MAX_HEADER_BYTES, MAX_MASTER_DEPTH } from './mkv-limits.js';
import { checkLeafSize, elementName, elementType, isTopLevelId } from './mkv-schema.js';
import { parseSimpleTagsAt } from './mkv-tags.js';
import { DEFAULT_TIMECODE_SCALE_NS, parseInfo, parseTracks } from './mkv-tracks.js';
import type { IngestParser, ParseEvent, ParsedFragment, TrackInfo } from './mkv-types.js';
import { concatBytes } from '../ebml/ebml-writer.js';

export { parseClusterBlocks, type MkvBlock } from './mkv-blocks.js';
export { parseSimpleTags, parseTagsRun } from './mkv-tags.js';

export type MkvParserOptions = {
  /** Largest Cluster (header included) accepted; default 50 MiB, the KVS maximum fragment size. */
  maxClusterBytes?: number;
  /** Largest document header (EBML header + Segment header + Info + Tracks) kept; default 16 MiB. */
  maxHeaderBytes?: number;
  /** Largest level-1 element other than a Cluster; default 64 MiB. */
  maxElementBytes?: number;
};

/** Segment ID + the 8-byte unknown size: the header replayed in front of stored clusters. */
const UNKNOWN_SIZE_SEGMENT_HEADER = Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

const enum Kind {
  /** The stream itself: a sequence of EBML documents. */
  Top,
  Segment,
  Cluster,
  BlockGroup,
  /** A master walked only to validate its structure (SeekHead, Cues, Chapters, BlockAdditions, …). */
  Walk,
}

type Frame = {
  kind: Kind;
  id: number;
  /** Absolute offset one past the element's last byte, or the parent's limit for an unknown size. */
  limit: number;
  unknownSize: boolean;
};

type SegmentState = {
  timecodeScaleNs: number;
  tracks: TrackInfo[];
  /** Info and Tracks elements as received, replayed in the header. */
  headerElements: Uint8Array[];
  headerEmitted: boolean;
  /**
   * Set when a Cluster arrived before any TrackEntry: events are held back until Tracks shows up (some
   * muxers write Tracks at the end of a file) and the segment is rejected if it never does.
   */
  heldBack: HeldEvent[] | undefined;
  /** Bytes counted against maxHeaderBytes: the header elements and everything held back. */
  headerBytes: number;
};

/** A held-back event; a fragment's keyframe flag can only be computed once the tracks are known. */
type HeldEvent = { event: ParseEvent; stats?: ClusterStats };

type ClusterStats = {
  firstBlockKeyframe: boolean | undefined;
  /** Keyframe flag of the first block of each track, in order of first appearance. */
  firstKeyframeByTrack: Map<number, boolean>;
};

type ClusterState = {
  start: number;
  /** Cap on this cluster's total size (smaller than maxClusterBytes while events are held back). */
  cap: number;
  timecode: number | undefined;
  blockCount: number;
  minBlockTimecode: number;
  maxBlockTimecode: number;
  stats: ClusterStats;
};

type GroupState = {
  start: number;
  block: { track: number; timecode: number } | undefined;
  hasReference: boolean;
};

type Header = { id: number; idLength: number; size: number; sizeLength: number; unknownSize: boolean };

export class MkvStreamParser implements IngestParser {
  private readonly maxClusterBytes: number;
  private readonly maxHeaderBytes: number;
  private readonly maxElementBytes: number;

  private readonly buffer = new StreamBuffer();
  /** Absolute offset of the next byte to parse. */
  private pos = 0;
  /** Bytes of the current leaf still to skip; they need not have arrived yet. */
  private skip = 0;
  private readonly stack: Frame[] = [{ kind: Kind.Top, id: 0, limit: Infinity, unknownSize: true }];
  private topState: 'expect-ebml' | 'expect-segment' | 'between-segments' = 'expect-ebml';
  private ebmlHeader: Uint8Array | undefined;
  private segment: SegmentState | undefined;
  private cluster: ClusterState | undefined;
  private group: GroupState | undefined;
  private out: ParseEvent[] = [];
  private failure: unknown;
  /** An error found after some events of the same push(): those are returned, the error waits. */
  private pendingError: ParseError | undefined;
  private ended = false;

  constructor(options: MkvParserOptions = {}) {
    this.maxClusterBytes = options.maxClusterBytes ?? DEFAULT_MAX_CLUSTER_BYTES;
    this.maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.maxElementBytes = options.maxElementBytes ?? DEFAULT_MAX_ELEMENT_BYTES;
  }

  /** Bytes parsed so far (element headers and data the parser has moved past), out of those pushed. */
  get bytesConsumed(): number {
    return this.pos;
  }

  /** The error that stopped the parser, if any; also set while a ParseError waits for the next call. */
  get error(): ParseError | undefined {
    const e = this.pendingError ?? this.failure;
    return e instanceof ParseError ? e : undefined;
  }

  /**
   * Feeds the next bytes of the stream (any size; the chunk is copied, the caller may reuse it) and returns
   * the events they completed. If the chunk completes some events and then turns out to be invalid, those
   * events are returned and the ParseError is thrown by the next push() or end(). After a ParseError the
   * parser is dead: every further call throws it again.
   */
  push(chunk: Uint8Array): ParseEvent[] {
    this.checkUsable();
    if (chunk.length === 0) {
      return [];
    }
    return this.guard(true, () => {
      this.buffer.append(chunk, this.keepFrom());
      this.run();
    });
  }

  /**
   * Signals the end of the stream. Closes unknown-size elements still open (emitting a last unknown-size
   * Cluster) and throws ParseError('INVALID') if the stream stops inside an element.
   */
  end(): ParseEvent[] {
    this.checkUsable();
    this.ended = true;
    const events = this.guard(false, () => this.finish());
    this.buffer.clear();
    return events;
  }

  private checkUsable(): void {
    if (this.pendingError !== undefined) {
      this.failure = this.pendingError;
      this.pendingError = undefined;
      this.buffer.clear();
    }
    if (this.failure !== undefined) {
      throw this.failure;
    }
    if (this.ended) {
      throw new Error('MkvStreamParser: push() or end() called after end()');
    }
  }

  /** Runs `work`, collecting its events. `deferError`: return the events before a ParseError, throw it later. */
  private guard(deferError: boolean, work: () => void): ParseEvent[] {
    this.out = [];
    try {
      work();
    } catch (e) {
      const events = this.out;
      this.out = [];
      if (deferError && e instanceof ParseError && events.length > 0) {
        this.pendingError = e;
        return events;
      }
      this.failure = e;
      this.buffer.clear();
      throw e;
    }
    const events = this.out;
    this.out = [];
    return events;
  }

  /** Bytes before this offset are no longer needed: an open Cluster is kept whole, otherwise from pos. */
  private keepFrom(): number {
    return this.cluster?.start ?? this.pos;
  }

  private get available(): number {
    return this.buffer.end - this.pos;
  }

  private top(): Frame {
    // The Top frame is never popped.
    return this.stack[this.stack.length - 1] as Frame;
  }

  private run(): void {
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, this.available);
        this.pos += n;
        this.skip -= n;
        if (this.skip > 0) {
          return;
        }
      }
      const frame = this.top();
      if (this.pos === frame.limit) {
        this.close(frame);
        continue;
      }
      if (!this.step(frame)) {
        return;
      }
    }
  }

  /** Reads the element ID at pos; null when its bytes have not all arrived. */
  private peekId(): { id: number; length: number } | null {
    const base = this.buffer.start;
    return readElementId(this.buffer.bytes, this.pos - base, this.buffer.end - base, this.pos);
  }

  private readHeader(id: number, idLength: number): Header | null {
    const base = this.buffer.start;
    const sizeAt = this.pos + idLength;
    const size = readElementSize(this.buffer.bytes, sizeAt - base, this.buffer.end - base, sizeAt);
    if (size === null) {
      return null;
    }
    return { id, idLength, size: size.value, sizeLength: size.length, unknownSize: size.unknown };
  }

  /** Handles the next child of `frame`. Returns false when more bytes are needed. */
  private step(frame: Frame): boolean {
    const idRead = this.peekId();
    if (idRead === null) {
      return false;
    }
    const id = idRead.id;
    if (frame.unknownSize && this.endsUnknownSize(frame, id)) {
      this.close(frame);
      return true;
    }
    const h = this.readHeader(id, idRead.length);
    if (h === null) {
      return false;
    }
    const start = this.pos;
    const dataStart = start + h.idLength + h.sizeLength;
    if (frame.kind === Kind.Top) {
      return this.topChild(h, start, dataStart);
    }
    if (h.unknownSize && !(id === EbmlId.Cluster && frame.kind === Kind.Segment)) {
      throw invalid(start, `${elementName(id)} in ${elementName(frame.id)} has an unknown size; only Segment and Cluster may`);
    }
    const end = h.unknownSize ? frame.limit : dataStart + h.size;
    if (end > frame.limit || dataStart > frame.limit) {
      throw invalid(start, `${elementName(id)} (${h.size} bytes) extends beyond its parent ${elementName(frame.id)}`);
    }
    switch (frame.kind) {
      case Kind.Segment:
        return this.segmentChild(h, start, dataStart);
      case Kind.Cluster:
        return this.clusterChild(frame, h, start, dataStart);
      case Kind.BlockGroup:
        return this.groupChild(h, start, dataStart);
      default:
        this.genericChild(frame, h, start, dataStart);
        return true;
    }
  }

  /** Whether element `id` starting at pos terminates the unknown-size `frame` (it is then a sibling). */
  private endsUnknownSize(frame: Frame, id: number): boolean {
    if (frame.kind === Kind.Cluster) {
      return LEVEL1_IDS.has(id) || id === EbmlId.EBML || id === EbmlId.Segment;
    }
    if (frame.kind === Kind.Segment) {
      return id === EbmlId.EBML || id === EbmlId.Segment;
    }
    return false;
  }

  private topChild(h: Header, start: number, dataStart: number): boolean {
    const { id } = h;
    if (id === EbmlId.EBML && this.topState !== 'expect-segment') {
      if (h.unknownSize) {
        throw invalid(start, 'the EBML header has an unknown size');
      }
      const total = dataStart - start + h.size;
      if (total > this.maxHeaderBytes) {
        throw tooLarge(start, `EBML header of ${total} bytes exceeds maxHeaderBytes (${this.maxHeaderBytes})`);
      }
      if (this.available < total) {
        return false;
      }
      const bytes = this.buffer.slice(start, start + total);
      parseEbmlHeader(bytes, start);
      this.ebmlHeader = bytes;
      this.topState = 'expect-segment';
      this.pos = start + total;
      return true;
    }
    if (id === EbmlId.Segment && this.topState !== 'expect-ebml') {
      this.segment = {
        timecodeScaleNs: DEFAULT_TIMECODE_SCALE_NS,
        tracks: [],
        headerElements: [],
        headerEmitted: false,
        heldBack: undefined,
        headerBytes: (this.ebmlHeader?.length ?? 0) + UNKNOWN_SIZE_SEGMENT_HEADER.length,
      };
      this.pushFrame(Kind.Segment, id, h, dataStart);
      return true;
    }
    if ((id === EbmlId.Void || id === EbmlId.CRC32) && this.topState !== 'expect-ebml' && !h.unknownSize) {
      // Capped like level-1 elements: an enormous top-level Void would otherwise swallow the rest of a stream.
      if (dataStart - start + h.size > this.maxElementBytes) {
        throw tooLarge(start, `${elementName(id)} of ${dataStart - start + h.size} bytes exceeds maxElementBytes (${this.maxElementBytes})`);
      }
      this.pos = dataStart;
      this.skip = h.size;
      return true;
    }
    const expected = this.topState === 'expect-ebml' ? 'an EBML header' : this.topState === 'expect-segment' ? 'a Segment' : 'an EBML header or a Segment';
    throw invalid(start, `expected ${expected}, found ${elementName(id)}`);
  }

  private segmentChild(h: Header, start: number, dataStart: number): boolean {
    const seg = this.segmentState();
    const { id } = h;
    if (id === EbmlId.EBML || id === EbmlId.Segment) {
      // An unknown-size Segment has been closed by now, so this one has a known size that should have ended.
      throw invalid(start, `${elementName(id)} cannot be nested inside a known-size Segment`);
    }
    if (id === EbmlId.Cluster) {
      this.startCluster(seg, h, start, dataStart);
      return true;
    }
    const total = dataStart - start + h.size;
    if (total > this.maxElementBytes) {
      throw tooLarge(start, `${elementName(id)} of ${total} bytes exceeds maxElementBytes (${this.maxElementBytes})`);
    }
    if (id === EbmlId.Info || id === EbmlId.Tracks) {
      if (seg.headerBytes + total > this.maxHeaderBytes) {
        throw tooLarge(start, `the header would reach ${seg.headerBytes + total} bytes, over maxHeaderBytes (${this.maxHeaderBytes})`);
      }
      if (this.available < total) {
        return false;
      }
      this.headerElement(seg, id, this.buffer.slice(start, start + total), start);
      this.pos = start + total;
      return true;
    }
    if (id === EbmlId.Tags) {
      if (this.available < total) {
        return false;
      }
      const bytes = this.buffer.slice(start, start + total);
      const tags = parseSimpleTagsAt(bytes, start);
      this.pos = start + total;
      this.emit({ kind: 'tags', bytes, tags });
      return true;
    }
    this.genericChild(this.top(), h, start, dataStart);
    return true;
  }

  private headerElement(seg: SegmentState, id: number, bytes: Uint8Array, start: number): void {
    if (id === EbmlId.Info) {
      const info = parseInfo(bytes, start);
      if (seg.headerEmitted) {
        // The header is out already; a second Info cannot change it (Matroska allows only one anyway).
        return;
      }
      seg.timecodeScaleNs = info.timecodeScaleNs;
    } else {
      const tracks = parseTracks(bytes, start, seg.tracks);
      if (seg.headerEmitted) {
        return;
      }
      seg.tracks.push(...tracks);
    }
    seg.headerElements.push(bytes);
    seg.headerBytes += bytes.length;
    if (id === EbmlId.Tracks && seg.heldBack !== undefined && seg.tracks.length > 0) {
      const held = seg.heldBack;
      seg.heldBack = undefined;
      this.emitHeader(seg);
      for (const { event, stats } of held) {
        if (event.kind === 'fragment' && stats !== undefined) {
          event.fragment.startsWithKeyframe = startsWithKeyframe(stats, seg.tracks);
        }
        this.out.push(event);
      }
    }
  }

  private startCluster(seg: SegmentState, h: Header, start: number, dataStart: number): void {
    const holdBack = seg.heldBack !== undefined || (!seg.headerEmitted && seg.tracks.length === 0);
    const cap = holdBack ? Math.min(this.maxClusterBytes, this.maxHeaderBytes - seg.headerBytes) : this.maxClusterBytes;
    const total = dataStart - start + h.size;
    // Checked before a single byte of the cluster is buffered; memory then grows only as data arrives.
    if (!h.unknownSize && total > cap) {
      throw fragmentTooLarge(start, `Cluster of ${total} bytes exceeds the ${cap}-byte cap`);
    }
    if (holdBack) {
      seg.heldBack ??= [];
    } else if (!seg.headerEmitted) {
      this.emitHeader(seg);
    }
    this.cluster = {
      start,
      cap,
      timecode: undefined,
      blockCount: 0,
      minBlockTimecode: Infinity,
      maxBlockTimecode: -Infinity,
      stats: { firstBlockKeyframe: undefined, firstKeyframeByTrack: new Map() },
    };
    this.pushFrame(Kind.Cluster, EbmlId.Cluster, h, dataStart);
  }

  private clusterChild(frame: Frame, h: Header, start: number, dataStart: number): boolean {
    const cl = this.clusterState();
    const { id } = h;
    const end = dataStart + h.size;
    if (frame.unknownSize && end - cl.start > cl.cap) {
      throw fragmentTooLarge(start, `unknown-size Cluster grows past its ${cl.cap}-byte cap`);
    }
    if (isTopLevelId(id)) {
      throw invalid(start, `${elementName(id)} cannot be nested inside a known-size Cluster`);
    }
    switch (id) {
      case EbmlId.Timecode: {
        if (cl.timecode !== undefined) {
          throw invalid(start, 'Cluster has two Timecode elements');
        }
        checkLeafSize(id, 'uint', h.size, start);
        if (this.buffer.end < end) {
          return false;
        }
        cl.timecode = readUint(this.reader(dataStart, end), id);
        this.pos = end;
        this.emit({ kind: 'fragment-start', timecode: cl.timecode });
        return true;
      }
      case EbmlId.SimpleBlock: {
        const clusterTc = this.requireTimecode(cl, start);
        if (this.buffer.end < end) {
          return false;
        }
        const b = parseBlockHeader(this.reader(dataStart, end), 'SimpleBlock');
        this.recordBlock(cl, b.track, clusterTc + b.relativeTimecode, (b.flags & BlockFlags.KEYFRAME) !== 0);
        this.pos = end;
        return true;
      }
      case EbmlId.BlockGroup:
        this.requireTimecode(cl, start);
        this.group = { start, block: undefined, hasReference: false };
        this.pushFrame(Kind.BlockGroup, id, h, dataStart);
        return true;
      default:
        this.genericChild(frame, h, start, dataStart);
        return true;
    }
  }

  private groupChild(h: Header, start: number, dataStart: number): boolean {
    const group = this.groupState();
    const { id } = h;
    const end = dataStart + h.size;
    if (id === EbmlId.Block) {
      if (group.block !== undefined) {
        throw invalid(start, 'BlockGroup has two Block elements');
      }
      if (this.buffer.end < end) {
        return false;
      }
      const b = parseBlockHeader(this.reader(dataStart, end), 'Block');
      group.block = { track: b.track, timecode: this.requireTimecode(this.clusterState(), start) + b.relativeTimecode };
      this.pos = end;
      return true;
    }
    if (id === EbmlId.ReferenceBlock) {
      group.hasReference = true;
    }
    this.genericChild(this.top(), h, start, dataStart);
    return true;
  }

  /** Validates and passes over a child no handler cares about: walk known masters, size-check known leaves. */
  private genericChild(frame: Frame, h: Header, start: number, dataStart: number): void {
    const { id } = h;
    if (frame.kind !== Kind.Segment && isTopLevelId(id)) {
      throw invalid(start, `${elementName(id)} cannot be nested inside ${elementName(frame.id)}`);
    }
    const type = elementType(id);
    if (type === 'master') {
      this.pushFrame(Kind.Walk, id, h, dataStart);
      return;
    }
    if (type !== undefined) {
      checkLeafSize(id, type, h.size, start);
    }
    this.pos = dataStart;
    this.skip = h.size;
  }

  private pushFrame(kind: Kind, id: number, h: Header, dataStart: number): void {
    if (this.stack.length > MAX_MASTER_DEPTH) {
      throw invalid(this.pos, `master elements nested deeper than ${MAX_MASTER_DEPTH} levels`);
    }
    const parent = this.top();
    this.stack.push({ kind, id, limit: h.unknownSize ? parent.limit : dataStart + h.size, unknownSize: h.unknownSize });
    this.pos = dataStart;
  }

  private close(frame: Frame): void {
    switch (frame.kind) {
      case Kind.Top:
        // Unreachable: the top frame's limit is Infinity.
        return;
      case Kind.Segment:
        this.finishSegment();
        break;
      case Kind.Cluster:
        this.finishCluster();
        break;
      case Kind.BlockGroup:
        this.finishGroup();
        break;
      case Kind.Walk:
        break;
    }
    this.stack.pop();
  }

  private finishSegment(): void {
    const seg = this.segmentState();
    if (seg.heldBack !== undefined) {
      throw invalid(this.pos, 'the Segment has Clusters but no Tracks with a TrackEntry');
    }
    this.segment = undefined;
    this.topState = 'between-segments';
  }

  private finishCluster(): void {
    const cl = this.clusterState();
    if (cl.timecode === undefined) {
      throw invalid(cl.start, 'Cluster has no Timecode');
    }
    const seg = this.segmentState();
    const fragment: ParsedFragment = {
      timecode: cl.timecode,
      bytes: this.buffer.slice(cl.start, this.pos),
      blockCount: cl.blockCount,
      minBlockTimecode: cl.blockCount > 0 ? cl.minBlockTimecode : cl.timecode,
      maxBlockTimecode: cl.blockCount > 0 ? cl.maxBlockTimecode : cl.timecode,
      trackNumbers: [...cl.stats.firstKeyframeByTrack.keys()].sort((a, b) => a - b),
      startsWithKeyframe: seg.heldBack === undefined ? startsWithKeyframe(cl.stats, seg.tracks) : false,
    };
    this.cluster = undefined;
    this.emit({ kind: 'fragment', fragment }, cl.stats);
  }

  private finishGroup(): void {
    const group = this.groupState();
    if (group.block === undefined) {
      throw invalid(group.start, 'BlockGroup has no Block');
    }
    // A Block is a keyframe exactly when it references no other block (RFC 9559 §10.2).
    this.recordBlock(this.clusterState(), group.block.track, group.block.timecode, !group.hasReference);
    this.group = undefined;
  }

  private recordBlock(cl: ClusterState, track: number, timecode: number, keyframe: boolean): void {
    cl.blockCount++;
    if (timecode < cl.minBlockTimecode) {
      cl.minBlockTimecode = timecode;
    }
    if (timecode > cl.maxBlockTimecode) {
      cl.maxBlockTimecode = timecode;
    }
    cl.stats.firstBlockKeyframe ??= keyframe;
    if (!cl.stats.firstKeyframeByTrack.has(track)) {
      cl.stats.firstKeyframeByTrack.set(track, keyframe);
    }
  }

  private requireTimecode(cl: ClusterState, start: number): number {
    if (cl.timecode === undefined) {
      throw invalid(start, 'Cluster has no Timecode before its first block');
    }
    return cl.timecode;
  }

  private emitHeader(seg: SegmentState): void {
    seg.headerEmitted = true;
    const parts = [this.ebmlHeader ?? new Uint8Array(0), UNKNOWN_SIZE_SEGMENT_HEADER, ...seg.headerElements];
    this.out.push({
      kind: 'header',
      header: { timecodeScaleNs: seg.timecodeScaleNs, tracks: seg.tracks.slice(), bytes: concatBytes(parts) },
    });
  }

  /** Queues an event, or holds it back while the segment waits for its Tracks. */
  private emit(event: ParseEvent, stats?: ClusterStats): void {
    const seg = this.segment;
    if (seg?.heldBack === undefined) {
      this.out.push(event);
      return;
    }
    const size = event.kind === 'fragment' ? event.fragment.bytes.length : event.kind === 'tags' ? event.bytes.length : 0;
    seg.headerBytes += size;
    if (seg.headerBytes > this.maxHeaderBytes) {
      throw tooLarge(this.pos, `data held back until Tracks arrives exceeds maxHeaderBytes (${this.maxHeaderBytes})`);
    }
    seg.heldBack.push(stats === undefined ? { event } : { event, stats });
  }

  private finish(): void {
    if (this.skip > 0 || this.available > 0) {
      const what = this.top().kind === Kind.Top ? 'an element' : `an element in ${elementName(this.top().id)}`;
      const detail = this.skip > 0 ? `${this.skip} bytes short` : `only ${this.available} bytes of it arrived`;
      throw invalid(this.pos, `the stream ends inside ${what} (${detail})`);
    }
    for (let frame = this.top(); frame.kind !== Kind.Top; frame = this.top()) {
      if (!frame.unknownSize && this.pos < frame.limit) {
        throw invalid(this.pos, `the stream ends inside ${elementName(frame.id)}, ${frame.limit - this.pos} bytes short`);
      }
      this.close(frame);
    }
    if (this.topState === 'expect-segment') {
      throw invalid(this.pos, 'the stream ends after an EBML header without a Segment');
    }
  }

  private reader(from: number, to: number): ByteReader {
    const base = this.buffer.start;
    return new ByteReader(this.buffer.bytes, base, from - base, to - base);
  }

  private segmentState(): SegmentState {
    if (this.segment === undefined) {
      throw new Error('MkvStreamParser: no segment state inside a Segment');
    }
    return this.segment;
  }

  private clusterState(): ClusterState {
    if (this.cluster === undefined) {
      throw new Error('MkvStreamParser: no cluster state inside a Cluster');
    }
    return this.cluster;
  }

  private groupState(): GroupState {
    if (this.group === undefined) {
      throw new Error('MkvStreamParser: no group state inside a BlockGroup');
    }
    return this.group;
  }
}

/** First block of the first video track is a keyframe, or the first block at all when there is no video. */
function startsWithKeyframe(stats: ClusterStats, tracks: readonly TrackInfo[]): boolean {
  const video = tracks.find((t) => t.kind === 'video');
  if (video !== undefined) {
    return stats.firstKeyframeByTrack.get(video.number) ?? false;
  }
  return stats.firstBlockKeyframe ?? false;
}
