import type { FragmentReader } from '../core/fragment-reader.js';
import type { StreamRecord } from '../core/stream-record.js';
import { timestampPage, type TimestampKind } from '../core/timestamp-pages.js';
import { concatBytes } from '../formats/ebml/ebml-writer.js';
import { parseClusterBlocks } from '../formats/mkv/mkv-blocks.js';
import { writeCluster } from '../formats/mkv/mkv-writer.js';
import { fragmentSamples } from '../packaging/fragment-samples.js';
import type { FragmentRecord, StoredTrackInfo } from '../store/fragment-store.js';
import { MediaCache } from '../util/media-cache.js';
import { decodeImages, type ImageFormat } from './frame-decoder.js';

export type ImageOptions = { format: ImageFormat; quality: number; width?: number; height?: number };
export type SampledImage = { timestampMs: number; image?: Uint8Array; error?: 'NO_MEDIA' | 'MEDIA_ERROR' };

/** Longest fragment a stream can hold (capacity maxFragmentDurationMs): how far back a sample time may reach. */
const MAX_FRAGMENT_LOOKBACK_MS = 60_000;
/** Fragments read per index page while gathering a batch. */
const PAGE = 1000;
/** Recently generated images, shared by all callers. */
const IMAGE_CACHE_BYTES = 32 * 1024 * 1024;

type Frame = { fragment: FragmentRecord; info: StoredTrackInfo; atMs: number; keyframe: boolean };
type Decoded = { fragment: FragmentRecord; info: StoredTrackInfo; cluster: Uint8Array; video: number | undefined; frames: Frame[] };

/**
 * GetImages' engine: for each sample time, the video frame showing at that time (the last one that started at or
 * before it, inside a stored fragment), decoded by one ffmpeg process per run of fragments with the same track
 * info. When the interval is at least the longest GOP in view, only key frames are decoded.
 */
export class ImageSampler {
  readonly #reader: FragmentReader;
  readonly #ffmpegPath: () => string;
  readonly #cache = new MediaCache(IMAGE_CACHE_BYTES);

  constructor(reader: FragmentReader, ffmpegPath: () => string) {
    this.#reader = reader;
    this.#ffmpegPath = ffmpegPath;
  }

  async sample(stream: StreamRecord, kind: TimestampKind, times: readonly number[], intervalMs: number, opts: ImageOptions): Promise<SampledImage[]> {
    const first = times[0];
    const last = times.at(-1);
    if (first === undefined || last === undefined) {
      return [];
    }
    const records = this.#fragments(stream, kind, first - MAX_FRAGMENT_LOOKBACK_MS, last);
    const loaded = new Map<number, Decoded | null>();
    const load = async (i: number): Promise<Decoded | null> => {
      let d = loaded.get(i);
      if (d === undefined) {
        d = await this.#load(stream, kind, records[i]!);
        loaded.set(i, d);
      }
      return d;
    };
    // Only the fragments a sample time falls in are read — and, in front of one that starts mid-GOP, the ones back
    // to the key frame its frames depend on.
    const covering: Decoded[] = [];
    for (const [i, f] of records.entries()) {
      const from = kind === 'producer' ? f.producerTimestampMs : f.serverTimestampMs;
      if (!times.some((t) => from <= t && t < from + Math.max(f.durationMs, 1))) {
        continue;
      }
      const d = await load(i);
      if (d === null) {
        continue;
      }
      covering.push(d);
      for (let j = i - 1, cur: Decoded | null = d; j >= 0 && cur !== null && cur.frames[0]?.keyframe !== true; j--) {
        cur = await load(j);
        if (cur?.frames.some((fr) => fr.keyframe) === true) {
          break;
        }
      }
    }
    const decoded = [...loaded.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, d]) => (d === null ? [] : [d]));
    const gopMs = Math.max(0, ...covering.map((d) => longestGop(d.frames, d.fragment.durationMs)));
    const keyframesOnly = intervalMs >= gopMs;

    // The frame each sample time shows: the last one at or before it, within its fragment's span.
    const chosen = times.map((t) => {
      const d = decoded.find((x) => spanOf(x, kind).from <= t && t < spanOf(x, kind).to);
      const candidates = (d?.frames ?? []).filter((fr) => fr.atMs <= t && (!keyframesOnly || fr.keyframe));
      return candidates.at(-1);
    });
    const wanted = new Map<Decoded, Set<Frame>>();
    for (const fr of chosen) {
      if (fr !== undefined) {
        const d = decoded.find((x) => x.fragment === fr.fragment)!;
        (wanted.get(d) ?? wanted.set(d, new Set()).get(d)!).add(fr);
      }
    }
    const images = new Map<Frame, Uint8Array | null>();
    await this.#decode(decoded, wanted, keyframesOnly, opts, images);
    return times.map((t, i) => {
      const fr = chosen[i];
      if (fr === undefined) {
        return { timestampMs: t, error: 'NO_MEDIA' };
      }
      const image = images.get(fr);
      return image ? { timestampMs: t, image } : { timestampMs: t, error: 'MEDIA_ERROR' };
    });
  }

  /** A fragment's video frames on the selector's timeline, and its cluster; null when it is gone or unreadable. */
  async #load(stream: StreamRecord, kind: TimestampKind, f: FragmentRecord): Promise<Decoded | null> {
    const info = this.#reader.trackInfo(f.trackInfoId);
    const bytes = await this.#reader.bytes(stream, f);
    if (info === undefined || bytes === undefined) {
      return null;
    }
    const video = info.tracks.find((t) => t.kind === 'video');
    let run;
    try {
      run = fragmentSamples(info, bytes, f.tagsSize, f).find((r) => r.track.number === video?.number);
    } catch {
      run = undefined;
    }
    const frames = (run?.samples ?? [])
      .map((s) => ({ fragment: f, info, atMs: kind === 'producer' ? s.ptsMs : f.serverTimestampMs + (s.ptsMs - f.producerTimestampMs), keyframe: s.keyframe }))
      .sort((a, b) => a.atMs - b.atMs);
    return { fragment: f, info, cluster: bytes.subarray(f.tagsSize), video: video?.number, frames };
  }

  #fragments(stream: StreamRecord, kind: TimestampKind, fromMs: number, toMs: number): FragmentRecord[] {
    const out: FragmentRecord[] = [];
    let cursor;
    for (;;) {
      const page = timestampPage(this.#reader, stream, { kind, fromMs, toMs }, cursor, PAGE);
      out.push(...page);
      const lastOne = page.at(-1);
      if (page.length < PAGE || lastOne === undefined) {
        return out;
      }
      cursor = { fragmentNumber: lastOne.fragmentNumber, atMs: kind === 'producer' ? lastOne.producerTimestampMs : lastOne.serverTimestampMs };
    }
  }

  /**
   * Decodes the wanted frames, cached per frame. Each wanted fragment is decoded from the key frame its frames
   * depend on — earlier fragments of the same track info are put in front when its own GOP began before it — and
   * overlapping runs share one ffmpeg process.
   */
  async #decode(all: Decoded[], wanted: Map<Decoded, Set<Frame>>, keyframesOnly: boolean, opts: ImageOptions, images: Map<Frame, Uint8Array | null>): Promise<void> {
    const keyOf = (fr: Frame): string => `${fr.fragment.streamId}:${fr.fragment.fragmentNumber}:${fr.atMs}:${opts.format}:${opts.quality}:${opts.width ?? ''}x${opts.height ?? ''}`;
    const todo = new Map<Decoded, Frame[]>();
    for (const [d, set] of wanted) {
      const missing = [...set].filter((fr) => {
        const hit = this.#cache.peek(keyOf(fr));
        if (hit !== undefined) {
          images.set(fr, hit);
        }
        return hit === undefined;
      });
      if (missing.length > 0) {
        todo.set(d, missing);
      }
    }
    // Runs of consecutive fragments [from, to] (indexes into `all`), each starting at a fragment with a key frame.
    const runs: { from: number; to: number }[] = [];
    for (const [d, frames] of [...todo].sort((x, y) => all.indexOf(x[0]) - all.indexOf(y[0]))) {
      const to = all.indexOf(d);
      const earliest = Math.min(...frames.map((f) => f.atMs));
      let from = to;
      while (from > 0 && !all[from]!.frames.some((f) => f.keyframe && f.atMs <= earliest) && all[from - 1]!.info.id === d.info.id) {
        from--;
      }
      const prev = runs.at(-1);
      if (prev !== undefined && from <= prev.to + 1 && all[prev.to]!.info.id === d.info.id) {
        prev.to = to;
      } else {
        runs.push({ from, to });
      }
    }
    for (const run of runs) {
      const parts = all.slice(run.from, run.to + 1);
      // Frame numbers as the decoder emits them: in presentation order, from the run's first key frame.
      const frames = parts.flatMap((p) => p.frames);
      const firstKey = frames.findIndex((fr) => fr.keyframe);
      const decodable = firstKey < 0 ? [] : frames.slice(firstKey).filter((fr) => !keyframesOnly || fr.keyframe);
      const owners = parts.flatMap((p) => todo.get(p) ?? []);
      const picks = owners.map((fr) => [decodable.indexOf(fr), fr] as const).filter(([i]) => i >= 0).sort((x, y) => x[0] - y[0]);
      for (const fr of owners) {
        images.set(fr, null); // undecodable unless the decode below yields it
      }
      const header = parts[0]?.info.header;
      if (header === undefined || picks.length === 0) {
        continue;
      }
      try {
        const out = await decodeImages({
          ffmpegPath: this.#ffmpegPath(),
          mkv: concatBytes([header, ...parts.map((p) => (keyframesOnly ? keyframesOf(p) : p.cluster))]),
          keyframesOnly,
          pick: picks.map(([i]) => i),
          ...opts,
        });
        // decodeImages returns the images in ascending pick order
        picks.forEach(([, fr], i) => {
          const image = out[i];
          if (image !== undefined) {
            images.set(fr, image);
            this.#cache.put(keyOf(fr), image);
          }
        });
      } catch {
        // left as null: MEDIA_ERROR for these sample times
      }
    }
  }
}

/**
 * The cluster with only its video key frames: what a key-frame decode reads anyway, so ffmpeg is not fed (and
 * does not demux) the ~95% of the bytes it would skip. Falls back to the whole cluster if it cannot be rewritten.
 */
function keyframesOf(d: Decoded): Uint8Array {
  try {
    const { timecode, blocks } = parseClusterBlocks(d.cluster);
    const keys = blocks.filter((b) => b.track === d.video && b.keyframe && b.frames.length === 1);
    return writeCluster(
      timecode,
      keys.map((b) => ({ track: b.track, timecode: b.timecode, keyframe: true, data: b.frames[0]! })),
    );
  } catch {
    return d.cluster;
  }
}

function spanOf(d: Decoded, kind: TimestampKind): { from: number; to: number } {
  const from = kind === 'producer' ? d.fragment.producerTimestampMs : d.fragment.serverTimestampMs;
  return { from, to: from + Math.max(d.fragment.durationMs, 1) };
}

/** The longest stretch between key frames (or to the fragment's end) in one fragment. */
function longestGop(frames: Frame[], durationMs: number): number {
  const keys = frames.filter((f) => f.keyframe).map((f) => f.atMs);
  if (keys.length === 0) {
    return Number.POSITIVE_INFINITY;
  }
  const end = (frames[0]?.atMs ?? 0) + durationMs;
  let longest = 0;
  keys.forEach((k, i) => (longest = Math.max(longest, (keys[i + 1] ?? end) - k)));
  return longest;
}
