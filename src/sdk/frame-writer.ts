// Frames in, Matroska out: what a camera integration has (encoded access units and timestamps) turned into what
// PutMedia takes (a header, then one cluster per GOP — each cluster one KVS fragment).
import { writeCluster, writeMkvHeader, type MkvWriteBlock } from '../formats/mkv/mkv-writer.js';
import type { TrackInfo } from '../media/track.js';
import { NalType, avcConfigLengthSize, buildAvcDecoderConfig, nalType, splitAccessUnit, toLengthPrefixed } from './h264.js';

export type H264TrackOptions = {
  width: number;
  height: number;
  /** AVCDecoderConfigurationRecord; built from the first keyframe's SPS/PPS when absent. */
  codecPrivate?: Uint8Array;
  /** Matroska track number (default 1, what KVS playback expects for video). */
  trackNumber?: number;
  name?: string;
  /** Frame duration, written as DefaultDuration (the server adds one frame to a fragment's block span). */
  frameDurationMs?: number;
};

export type H264FrameWriterOptions = {
  track: H264TrackOptions;
  /** How access units are framed; `auto` tells AVCC from Annex-B per access unit. */
  inputFormat?: 'auto' | 'annexb' | 'avcc';
  /**
   * A GOP longer than this (from its first frame) continues in a new cluster. At most 32767: block timecodes are
   * 16-bit offsets from the cluster's. Set it at or below the stream's maximum fragment duration (KVS: 10 s,
   * openkvs default 20 s) to keep long GOPs from being refused with 4002.
   */
  maxClusterDurationMs?: number;
  /** Called with each finished cluster (also returned by pushAccessUnit/flush). */
  onCluster?: (cluster: Uint8Array) => void;
  muxingApp?: string;
};

const MAX_RELATIVE_TIMECODE = 0x7fff;
const MIN_RELATIVE_TIMECODE = -0x8000;

/**
 * H.264 access units → Matroska clusters, one per keyframe (GOP), with 1 ms TimecodeScale: pass producer
 * timestamps in epoch ms and they become the ABSOLUTE fragment timecodes PutMediaClient sends by default.
 * Access units before the first keyframe cannot be decoded and are dropped (counted in droppedBeforeKeyframe).
 */
export class H264FrameWriter {
  readonly #track: H264TrackOptions & { trackNumber: number };
  readonly #inputFormat: 'auto' | 'annexb' | 'avcc';
  readonly #maxClusterDurationMs: number;
  readonly #onCluster: ((cluster: Uint8Array) => void) | undefined;
  readonly #muxingApp: string;
  /** Length-prefix size of AVCC input, and of the output (it must match the avcC). */
  readonly #lengthSize: number;
  #codecPrivate: Uint8Array | undefined;
  #header: Uint8Array | undefined;
  #cluster: { timecode: number; blocks: MkvWriteBlock[] } | null = null;
  droppedBeforeKeyframe = 0;

  constructor(options: H264FrameWriterOptions) {
    const t = options.track;
    if (!Number.isInteger(t.width) || t.width <= 0 || !Number.isInteger(t.height) || t.height <= 0) {
      throw new RangeError(`track width and height must be positive integers, got ${t.width}×${t.height}`);
    }
    const max = options.maxClusterDurationMs ?? MAX_RELATIVE_TIMECODE;
    if (!Number.isInteger(max) || max < 1 || max > MAX_RELATIVE_TIMECODE) {
      throw new RangeError(`maxClusterDurationMs must be an integer from 1 to ${MAX_RELATIVE_TIMECODE}`);
    }
    this.#track = { ...t, trackNumber: t.trackNumber ?? 1 };
    this.#inputFormat = options.inputFormat ?? 'auto';
    this.#maxClusterDurationMs = max;
    this.#onCluster = options.onCluster;
    this.#muxingApp = options.muxingApp ?? 'openkvs-producer-sdk';
    this.#codecPrivate = t.codecPrivate;
    this.#lengthSize = t.codecPrivate === undefined ? 4 : avcConfigLengthSize(t.codecPrivate);
  }

  /** True once the codec configuration is known (given, or taken from the first keyframe). */
  get ready(): boolean {
    return this.#codecPrivate !== undefined;
  }

  get codecPrivate(): Uint8Array | undefined {
    return this.#codecPrivate;
  }

  /** EBML header + Segment + Info + Tracks: send it before the first cluster. */
  header(): Uint8Array {
    if (this.#codecPrivate === undefined) {
      throw new Error('H264FrameWriter.header(): no codecPrivate yet; push the first keyframe (with SPS/PPS) first');
    }
    this.#header ??= writeMkvHeader({ timecodeScaleNs: 1_000_000, tracks: [this.#trackInfo(this.#codecPrivate)] }, { muxingApp: this.#muxingApp, writingApp: this.#muxingApp });
    return this.#header;
  }

  /**
   * Adds one access unit (all NAL units of one frame) with its presentation time in ms. Returns the cluster this
   * access unit completed (the previous GOP), if any. Frames must come in decode order.
   */
  pushAccessUnit(au: Uint8Array, ptsMs: number, opts: { keyframe?: boolean } = {}): Uint8Array | null {
    if (!Number.isFinite(ptsMs) || ptsMs < 0) {
      throw new RangeError(`ptsMs must be a non-negative number, got ${ptsMs}`);
    }
    const pts = Math.round(ptsMs);
    const nals = splitAccessUnit(au, this.#inputFormat, this.#lengthSize);
    const keyframe = opts.keyframe ?? nals.some((n) => nalType(n) === NalType.IDR);
    if (keyframe && this.#codecPrivate === undefined) {
      const sps = uniqueNals(nals, NalType.SPS);
      const pps = uniqueNals(nals, NalType.PPS);
      if (sps.length === 0 || pps.length === 0) {
        throw new Error('the first keyframe carries no SPS/PPS: pass track.codecPrivate');
      }
      this.#codecPrivate = buildAvcDecoderConfig(sps, pps);
    }
    let finished: Uint8Array | null = null;
    const open = this.#cluster;
    if (open === null) {
      if (!keyframe) {
        this.droppedBeforeKeyframe++;
        return null;
      }
    } else {
      const offset = pts - open.timecode;
      if (keyframe || offset > this.#maxClusterDurationMs || offset < MIN_RELATIVE_TIMECODE) {
        finished = this.#close();
      }
    }
    // AUDs delimit access units in a byte stream; in a container each block already is one (14496-15 drops them).
    const data = toLengthPrefixed(
      nals.filter((n) => nalType(n) !== NalType.AUD),
      this.#lengthSize,
    );
    const cluster = (this.#cluster ??= { timecode: pts, blocks: [] });
    cluster.blocks.push({ track: this.#track.trackNumber, timecode: pts, keyframe, data });
    return finished;
  }

  /** Closes the open cluster (end of stream, or before a pause): returns it, or null when none is open. */
  flush(): Uint8Array | null {
    return this.#cluster === null ? null : this.#close();
  }

  #close(): Uint8Array {
    const c = this.#cluster;
    if (c === null) {
      throw new Error('no open cluster');
    }
    this.#cluster = null;
    const bytes = writeCluster(c.timecode, c.blocks);
    this.#onCluster?.(bytes);
    return bytes;
  }

  #trackInfo(codecPrivate: Uint8Array): TrackInfo {
    const t = this.#track;
    return {
      number: t.trackNumber,
      kind: 'video',
      codecId: 'V_MPEG4/ISO/AVC',
      codecPrivate,
      width: t.width,
      height: t.height,
      ...(t.name !== undefined ? { name: t.name } : {}),
      ...(t.frameDurationMs !== undefined ? { defaultDurationNs: t.frameDurationMs * 1e6 } : {}),
    };
  }
}

function uniqueNals(nals: readonly Uint8Array[], type: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const n of nals) {
    if (nalType(n) === type && !out.some((o) => o.length === n.length && o.every((b, i) => b === n[i]))) {
      out.push(n.slice());
    }
  }
  return out;
}
