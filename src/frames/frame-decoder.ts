import ffmpeg from 'fluent-ffmpeg';
import { PassThrough, Readable, type Writable } from 'node:stream';

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

let warming: Promise<void> | null = null;

/**
 * fluent-ffmpeg asks ffmpeg for its formats and encoders before every command until its cache holds them, so
 * decoders started together each spawn two extra processes (and every spawn blocks the event loop): fill the cache
 * once, first.
 */
export function warmUp(ffmpegPath: string): Promise<void> {
  warming ??= new Promise<void>((resolve) => {
    const probe = ffmpeg().setFfmpegPath(ffmpegPath);
    probe.availableFormats(() => probe.availableEncoders(() => resolve()));
  });
  return warming;
}

export type LiveDecoderOptions = {
  ffmpegPath: string;
  /** One image per this many ms of media time, on a fixed grid: the first frame in each interval. */
  intervalMs: number;
  format: ImageFormat;
  quality: number;
  width?: number;
  height?: number;
  /** Largest width of the grayscale thumbnail emitted next to each image. */
  lumaWidth: number;
  /** Each selected frame's timestamp, in input time-base units over the time base (numerator, denominator). */
  onFrameTime: (pts: bigint, timeBase: readonly [number, number]) => void;
};

export type LiveDecoder = {
  /** Matroska in: a header, then clusters with non-decreasing timestamps. */
  input: Writable;
  /**
   * For each selected frame, in order: the encoded image (JPEG or PNG), then its grayscale thumbnail as a binary PGM.
   * Image pipes, not a container: a muxer would hold each frame back until the next one arrives.
   */
  output: Readable;
  /** Settles when ffmpeg exits (rejects with its stderr tail on failure). */
  done: Promise<void>;
  kill(): void;
};

const SHOWINFO_PTS = /Parsed_showinfo.*\bn:\s*\d+\s+pts:\s*(-?\d+)/;
const SHOWINFO_TIME_BASE = /Parsed_showinfo.*config in time_base:\s*(\d+)\/([1-9]\d*)/;

/**
 * A long-lived decoder for a continuous consumer: frames are selected on a fixed media-time grid inside the filter
 * graph, so only the wanted ones are scaled and encoded; their timestamps come from showinfo on stderr (as integers:
 * its pts_time text has 6 significant digits, too few for epoch timecodes).
 */
export function startLiveDecoder(opts: LiveDecoderOptions): LiveDecoder {
  const input = new PassThrough();
  const output = new PassThrough();
  // slots in whole milliseconds: t/0.1 in floating point puts 0.3 s in slot 2, not 3
  const slot = (t: string): string => `floor(round(${t}*1000)/${opts.intervalMs})`;
  const select = `select='isnan(prev_selected_t)+gt(${slot('t')}\\,${slot('prev_selected_t')})'`;
  const size = opts.width !== undefined || opts.height !== undefined ? `,scale=${opts.width ?? -2}:${opts.height ?? -2}` : '';
  // one encoder thread: frame-threaded encoders hold each image back until the next frame arrives
  const encode = [
    ...(opts.format === 'JPEG' ? ['-c:v', 'mjpeg', '-q:v', String(Math.round(31 - ((opts.quality - 1) * 29) / 99)), '-pix_fmt', 'yuvj420p'] : ['-c:v', 'png']),
    '-threads', '1',
  ];
  // the encoders keep the input's timestamps (ffmpeg 5.1 otherwise rounds them to 1/framerate); each packet is
  // written at once
  const common = ['-enc_time_base:v', '-1', '-fps_mode', 'passthrough', '-flush_packets', '1'];
  let stderr = '';
  let timeBase: [number, number] = [1, 1000];
  const command = ffmpeg(input)
    .setFfmpegPath(opts.ffmpegPath)
    .inputFormat('matroska')
    .inputOptions(['-copyts'])
    .complexFilter(`[0:v:0]${select},showinfo,split=2[img][lum];[img]null${size}[a];[lum]scale='min(${opts.lumaWidth},iw)':-2,format=gray[b]`)
    // both outputs write to stdout, image then thumbnail for each frame (ffmpeg muxes outputs in order, one thread)
    .output('pipe:1')
    .outputOptions(['-map', '[a]', ...encode, ...common])
    .outputFormat('image2pipe')
    .output(output, { end: true })
    .outputOptions(['-map', '[b]', '-c:v', 'pgm', ...common])
    .outputFormat('image2pipe')
    .on('stderr', (line: string) => {
      const pts = SHOWINFO_PTS.exec(line);
      if (pts !== null) {
        opts.onFrameTime(BigInt(pts[1]!), timeBase);
        return;
      }
      const tb = SHOWINFO_TIME_BASE.exec(line);
      if (tb !== null) {
        timeBase = [Number(tb[1]), Number(tb[2])];
        return;
      }
      stderr = (stderr + line + '\n').slice(-MAX_STDERR_CHARS);
    });
  // fluent-ffmpeg probes ffmpeg before spawning it, and kill() in that window does nothing: remember the request
  let started = false;
  let killed = false;
  const done = new Promise<void>((resolve, reject) => {
    command.on('error', (err: Error) => reject(new Error(`ffmpeg failed: ${err.message}\n${stderr}`)));
    command.on('end', () => resolve());
    command.on('start', () => {
      started = true;
      if (killed) {
        command.kill('SIGKILL');
      }
    });
  });
  command.run();
  // ffmpeg may exit (bad input) while we still write: its closed stdin must not become an unhandled error
  input.on('error', () => undefined);
  const kill = (): void => {
    killed = true;
    input.end();
    if (started) {
      command.kill('SIGKILL');
    }
  };
  return { input, output, done, kill };
}
