import { once } from 'node:events';
import { parseClusterBlocks } from '../formats/mkv/mkv-blocks.js';
import { MkvStreamParser } from '../formats/mkv/mkv-stream-parser.js';
import { startLiveDecoder, type LiveDecoder, type LiveDecoderOptions } from '../frames/frame-decoder.js';
import type { FragmentRecord, StoredTrackInfo } from '../store/fragment-store.js';
import type { LumaThumbnail } from './frame.js';

export type DecodedFrame = {
  fragment: FragmentRecord;
  /** On the decoder's media timeline (the clusters' own timecodes, in ms). */
  mediaMs: number;
  producerTimestamp: number;
  serverTimestamp: number;
  image: Uint8Array;
  width: number;
  height: number;
  luma: LumaThumbnail;
};

/** A fed fragment and where its media time starts on the decoder's timeline. */
type Fed = { fragment: FragmentRecord; mediaStartMs: number };

/** Fragments kept for mapping decoded frames back; a decoder holds only a few frames in flight. */
const MAX_FED = 64;

/**
 * One long-lived ffmpeg decoder over a run of fragments with the same track info and non-decreasing media time.
 * Decoded frames (image + luma thumbnail, paired by timestamp) are mapped back to the fragment they came from and
 * to its producer and server timestamps.
 */
export class DecoderSession {
  readonly trackInfoId: number;
  readonly #decoder: LiveDecoder;
  readonly #unitMs: number;
  readonly #fed: Fed[] = [];
  readonly #parser = new MkvStreamParser();
  readonly #half = new Map<number, { image?: Uint8Array; luma?: Uint8Array }>();
  readonly #onFrame: (f: DecodedFrame) => void;
  #imageSize = { width: 0, height: 0 };
  #lumaSize = { width: 0, height: 0 };
  #outUnitMs = 1;
  #exited = false;
  readonly finished: Promise<void>;

  constructor(info: StoredTrackInfo, opts: LiveDecoderOptions, onFrame: (f: DecodedFrame) => void) {
    this.trackInfoId = info.id;
    this.#unitMs = info.timecodeScaleNs / 1e6;
    this.#onFrame = onFrame;
    this.#decoder = startLiveDecoder(opts);
    const outputDone = new Promise<void>((resolve) => {
      this.#decoder.output.on('data', (chunk: Buffer) => this.#onOutput(chunk));
      this.#decoder.output.on('end', resolve);
      this.#decoder.output.on('error', () => resolve());
    });
    this.finished = Promise.all([this.#decoder.done, outputDone]).then(() => undefined).finally(() => (this.#exited = true));
    this.finished.catch(() => undefined);
    this.#decoder.input.write(info.header);
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** The media time the fragment's cluster starts at on this decoder's timeline. */
  mediaStartMs(f: FragmentRecord): number {
    return f.timecode * this.#unitMs;
  }

  /** Whether the fragment can follow the ones fed so far without restarting the decoder. */
  accepts(f: FragmentRecord): boolean {
    const last = this.#fed.at(-1);
    return !this.#exited && f.trackInfoId === this.trackInfoId && (last === undefined || this.mediaStartMs(f) >= last.mediaStartMs);
  }

  /** Writes one cluster; resolves when the decoder has taken it (backpressure), or at once if it has exited. */
  async feed(f: FragmentRecord, cluster: Uint8Array): Promise<void> {
    this.#fed.push({ fragment: f, mediaStartMs: this.mediaStartMs(f) });
    if (this.#fed.length > MAX_FED) {
      this.#fed.shift();
    }
    if (this.#exited) {
      return;
    }
    if (!this.#decoder.input.write(cluster)) {
      await Promise.race([once(this.#decoder.input, 'drain'), this.finished.catch(() => undefined)]);
    }
  }

  /** No more input: the decoder flushes the frames it holds, then exits. */
  end(): Promise<void> {
    this.#decoder.input.end();
    return this.finished;
  }

  kill(): void {
    this.#decoder.kill();
  }

  #onOutput(chunk: Buffer): void {
    let events;
    try {
      events = this.#parser.push(chunk);
    } catch {
      this.#decoder.kill(); // output we cannot read: treat as a decoder failure
      return;
    }
    for (const e of events) {
      if (e.kind === 'header') {
        const [img, lum] = e.header.tracks;
        this.#imageSize = { width: img?.width ?? 0, height: img?.height ?? 0 };
        this.#lumaSize = { width: lum?.width ?? 0, height: lum?.height ?? 0 };
        this.#outUnitMs = e.header.timecodeScaleNs / 1e6;
      } else if (e.kind === 'fragment') {
        for (const b of parseClusterBlocks(e.fragment.bytes).blocks) {
          const data = b.frames[0];
          if (data !== undefined) {
            this.#half_(b.timecode * this.#outUnitMs, b.track === 1 ? 'image' : 'luma', data.slice());
          }
        }
      }
    }
  }

  #half_(ms: number, part: 'image' | 'luma', data: Uint8Array): void {
    const entry = this.#half.get(ms) ?? {};
    entry[part] = data;
    if (entry.image === undefined || entry.luma === undefined) {
      this.#half.set(ms, entry);
      return;
    }
    this.#half.delete(ms);
    const fed = this.#fed.findLast((x) => x.mediaStartMs <= ms) ?? this.#fed[0];
    if (fed === undefined) {
      return;
    }
    const offset = ms - fed.mediaStartMs;
    this.#onFrame({
      fragment: fed.fragment,
      mediaMs: ms,
      producerTimestamp: Math.round(fed.fragment.producerTimestampMs + offset),
      serverTimestamp: Math.round(fed.fragment.serverTimestampMs + offset),
      image: entry.image,
      ...this.#imageSize,
      luma: { ...this.#lumaSize, data: entry.luma },
    });
  }
}
