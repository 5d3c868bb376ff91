import { once } from 'node:events';
import { concatBytes } from '../formats/ebml/ebml-writer.js';
import { encodedImageLength, imageSize, parsePgm, pgmLength } from '../formats/image/image-bytes.js';
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

export type DecoderOptions = Omit<LiveDecoderOptions, 'onFrameTime'>;

/** Fragments kept for mapping decoded frames back; a decoder holds only a few frames in flight. */
const MAX_FED = 64;
/** 'P', the first byte of a binary PGM (JPEG starts 0xFF, PNG 0x89). */
const PGM_MAGIC = 0x50;
/** Output bytes held while an image or thumbnail is incomplete (a 4K PNG is well below this). */
const MAX_PENDING_OUTPUT_BYTES = 64 * 1024 * 1024;

/**
 * One long-lived ffmpeg decoder over a run of fragments with the same track info and non-decreasing media time.
 * Each selected frame arrives as an image, its grayscale thumbnail (PGM) and its timestamp (from stderr); they are
 * paired in order and mapped back to the fragment they came from and to its producer and server timestamps.
 */
export class DecoderSession {
  readonly trackInfoId: number;
  readonly #decoder: LiveDecoder;
  readonly #unitMs: number;
  readonly #fed: Fed[] = [];
  readonly #onFrame: (f: DecodedFrame) => void;
  readonly #times: number[] = [];
  readonly #encoded: Uint8Array[] = [];
  readonly #lumas: LumaThumbnail[] = [];
  #buffer: Uint8Array = new Uint8Array(0);
  #exited = false;
  readonly finished: Promise<void>;

  constructor(info: StoredTrackInfo, opts: DecoderOptions, onFrame: (f: DecodedFrame) => void) {
    this.trackInfoId = info.id;
    this.#unitMs = info.timecodeScaleNs / 1e6;
    this.#onFrame = onFrame;
    this.#decoder = startLiveDecoder({
      ...opts,
      onFrameTime: (pts, [num, den]) => {
        this.#times.push(Number((pts * BigInt(num) * 1000n) / BigInt(den)));
        this.#emit();
      },
    });
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
    this.#buffer = this.#buffer.length === 0 ? new Uint8Array(chunk) : concatBytes([this.#buffer, chunk]);
    try {
      for (;;) {
        // images and thumbnails each come in frame order, but the two outputs do not strictly alternate
        const thumbnail = this.#buffer[0] === PGM_MAGIC;
        const n = this.#buffer.length === 0 ? null : thumbnail ? pgmLength(this.#buffer) : encodedImageLength(this.#buffer);
        if (n === null) {
          break;
        }
        const part = this.#buffer.slice(0, n);
        this.#buffer = this.#buffer.subarray(n);
        if (thumbnail) {
          this.#lumas.push(parsePgm(part));
        } else {
          this.#encoded.push(part);
        }
      }
      if (this.#buffer.length > MAX_PENDING_OUTPUT_BYTES) {
        throw new Error('decoder output is not images');
      }
    } catch {
      this.#decoder.kill(); // output we cannot read: treat as a decoder failure
      return;
    }
    this.#emit();
  }

  /** Pairs images with timestamps (they come on different pipes, in the same order). */
  #emit(): void {
    while (this.#encoded.length > 0 && this.#lumas.length > 0 && this.#times.length > 0) {
      const image = this.#encoded.shift()!;
      const luma = this.#lumas.shift()!;
      const ms = this.#times.shift()!;
      const fed = this.#fed.findLast((x) => x.mediaStartMs <= ms) ?? this.#fed[0];
      if (fed === undefined) {
        continue;
      }
      const offset = ms - fed.mediaStartMs;
      this.#onFrame({
        fragment: fed.fragment,
        mediaMs: ms,
        producerTimestamp: Math.round(fed.fragment.producerTimestampMs + offset),
        serverTimestamp: Math.round(fed.fragment.serverTimestampMs + offset),
        image,
        ...imageSize(image),
        luma,
      });
    }
  }
}
