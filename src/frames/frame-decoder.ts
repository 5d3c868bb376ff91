import ffmpeg from 'fluent-ffmpeg';
import { PassThrough, Readable } from 'node:stream';

// The only module that drives ffmpeg (through fluent-ffmpeg, which is archived upstream: keep it behind this seam).

export type ImageFormat = 'JPEG' | 'PNG';

export type DecodeRequest = {
  ffmpegPath: string;
  /** A Matroska document: header, then the clusters to decode. */
  mkv: Uint8Array;
  /** Decode key frames only (the others are skipped by the decoder, not decoded and dropped). */
  keyframesOnly: boolean;
  /** Indexes, in presentation order among the decoded frames, of the frames to turn into images. */
  pick: readonly number[];
  format: ImageFormat;
  /** 1–100, JPEG only. */
  quality: number;
  width?: number;
  height?: number;
};

/** Cap on one decode's stderr kept for error messages. */
const MAX_STDERR_CHARS = 4096;

/**
 * One ffmpeg process for a whole batch: the frames are selected inside the filter graph, so only the wanted ones
 * are scaled and encoded. Resolves with the images in `pick` order (ascending indexes).
 */
export function decodeImages(req: DecodeRequest): Promise<Uint8Array[]> {
  const picks = [...new Set(req.pick)].sort((a, b) => a - b);
  if (picks.length === 0) {
    return Promise.resolve([]);
  }
  const filters = [`select='${picks.map((n) => `eq(n\\,${n})`).join('+')}'`];
  if (req.width !== undefined || req.height !== undefined) {
    filters.push(`scale=${req.width ?? -2}:${req.height ?? -2}`);
  }
  const input: string[] = req.keyframesOnly ? ['-skip_frame', 'nokey'] : [];
  const output = ['-vsync', 'passthrough', '-vf', filters.join(',')];
  if (req.format === 'JPEG') {
    // mjpeg's qscale runs 2 (best) … 31 (worst)
    output.push('-q:v', String(Math.round(31 - ((req.quality - 1) * 29) / 99)), '-pix_fmt', 'yuvj420p');
  }
  return new Promise((resolve, reject) => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (d: Buffer) => chunks.push(d));
    let stderr = '';
    ffmpeg(Readable.from([Buffer.from(req.mkv.buffer, req.mkv.byteOffset, req.mkv.byteLength)]))
      .setFfmpegPath(req.ffmpegPath)
      .inputFormat('matroska')
      .inputOptions(input)
      .outputOptions(output)
      .videoCodec(req.format === 'JPEG' ? 'mjpeg' : 'png')
      .noAudio()
      .outputFormat('image2pipe')
      .on('stderr', (line: string) => {
        if (stderr.length < MAX_STDERR_CHARS) {
          stderr += line + '\n';
        }
      })
      .on('error', (err: Error) => reject(new Error(`ffmpeg failed: ${err.message}\n${stderr}`)))
      .on('end', () => {
        const all = Buffer.concat(chunks);
        resolve(req.format === 'JPEG' ? splitJpegs(all) : splitPngs(all));
      })
      .pipe(out, { end: true });
  });
}

/** Concatenated JPEGs split at each start-of-image marker (FF D8 FF): entropy-coded data never contains one. */
export function splitJpegs(all: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i + 2 < all.length; i++) {
    if (all[i] === 0xff && all[i + 1] === 0xd8 && all[i + 2] === 0xff) {
      starts.push(i);
    }
  }
  return starts.map((s, k) => all.subarray(s, starts[k + 1] ?? all.length));
}

const PNG_SIGNATURE_BYTES = 8;
const PNG_CHUNK_OVERHEAD = 12;

/** Concatenated PNGs split by walking their chunks to each IEND. */
export function splitPngs(all: Uint8Array): Uint8Array[] {
  const images: Uint8Array[] = [];
  const view = new DataView(all.buffer, all.byteOffset, all.byteLength);
  let start = 0;
  let pos = PNG_SIGNATURE_BYTES;
  while (pos + PNG_CHUNK_OVERHEAD <= all.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(all[pos + 4]!, all[pos + 5]!, all[pos + 6]!, all[pos + 7]!);
    pos += PNG_CHUNK_OVERHEAD + length;
    if (type === 'IEND') {
      images.push(all.subarray(start, pos));
      start = pos;
      pos += PNG_SIGNATURE_BYTES;
    }
  }
  return images;
}
