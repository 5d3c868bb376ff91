// A recording's one long-lived AAC encoder: 48 kHz stereo s16 PCM in on stdin, ADTS out on stdout, split into raw
// AAC-LC frames. Driven with child_process.spawn and a fixed argument list rather than through fluent-ffmpeg
// (frames/frame-decoder.ts): this is a byte pipe written as the call goes, where what matters is every write's
// backpressure, EPIPE and the moment the process dies — none of which fluent-ffmpeg adds anything to.

import { spawn } from 'node:child_process';
import { AdtsReader } from '../formats/ts/adts.js';
import type { FfmpegBinary } from '../frames/ffmpeg-binary.js';
import { MIX_CHANNELS, MIX_RATE } from './audio-mixer.js';

/** Where the encoder's output goes; `failed` is told at most once, and nothing after it. */
export type AacEncoderSink = {
  frame(raw: Uint8Array): void;
  failed(reason: string): void;
};

export type AacEncoder = {
  write(pcm: Int16Array): void;
  /** No more input: resolves once every frame has been handed to the sink (or the encoder failed or was killed). */
  end(): Promise<void>;
  kill(): void;
};

export type AacEncoderFactory = (sink: AacEncoderSink) => AacEncoder;

/** About 5 s of PCM: an encoder this far behind is stuck, not slow (it runs at hundreds of times real time). */
const MAX_BACKLOG_BYTES = 5 * MIX_RATE * MIX_CHANNELS * 2;
/** After the input ends, the last frames come within milliseconds; a process still running after this is killed. */
const END_TIMEOUT_MS = 5000;
/** How much of ffmpeg's stderr is kept for the failure message. */
const STDERR_TAIL_BYTES = 2048;

/**
 * `ffmpeg` (the server's, from frames/ffmpeg-binary.ts) as the encoder; without one every recording is video-only.
 * Probing is switched off (`-probesize 32 -analyzeduration 0`: the input format is given) and every packet is
 * flushed, so a frame leaves ffmpeg tens of ms after its input rather than after a probe-sized buffer.
 */
export function ffmpegAacEncoder(ffmpeg: Pick<FfmpegBinary, 'path'> | null, options: { bitrate?: string } = {}): AacEncoderFactory {
  return (sink) => {
    if (ffmpeg === null) {
      return failedEncoder(sink, 'no ffmpeg found (FFMPEG_PATH, PATH or @ffmpeg-installer/ffmpeg)');
    }
    const path = ffmpeg.path;
    // prettier-ignore
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-probesize', '32', '-analyzeduration', '0', '-f', 's16le', '-ar', String(MIX_RATE), '-ac', String(MIX_CHANNELS), '-i', 'pipe:0',
      '-c:a', 'aac', '-b:a', options.bitrate ?? '96k', '-flush_packets', '1', '-f', 'adts', 'pipe:1',
    ];
    const child = spawn(path, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const reader = new AdtsReader();
    let stderr = '';
    let ending = false;
    let done = false;
    let endTimer: NodeJS.Timeout | null = null;
    let resolveEnd!: () => void;
    const ended = new Promise<void>((r) => (resolveEnd = r));

    const fail = (reason: string): void => {
      if (!done) {
        done = true;
        child.kill('SIGKILL');
        sink.failed(stderr.trim() === '' ? reason : `${reason}: ${stderr.trim()}`);
      }
    };
    child.on('error', (err) => {
      fail(`ffmpeg could not run (${err.message})`);
      resolveEnd();
    });
    child.stdin.on('error', (err) => fail(`ffmpeg stopped reading (${err.message})`));
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    child.stdout.on('data', (d: Buffer) => {
      if (done) {
        return;
      }
      let frames: Uint8Array[];
      try {
        frames = reader.push(d);
      } catch (err) {
        fail(`ffmpeg wrote something other than ADTS (${err instanceof Error ? err.message : String(err)})`);
        return;
      }
      for (const f of frames) {
        sink.frame(f);
      }
    });
    child.on('close', (code, signal) => {
      if (endTimer !== null) {
        clearTimeout(endTimer);
      }
      if (!ending) {
        fail(`ffmpeg exited (${signal ?? `code ${code}`})`);
      }
      done = true;
      resolveEnd();
    });

    return {
      write(pcm: Int16Array): void {
        if (done || ending || pcm.length === 0) {
          return;
        }
        if (child.stdin.writableLength > MAX_BACKLOG_BYTES) {
          fail(`ffmpeg is ${child.stdin.writableLength} bytes of input behind`);
          return;
        }
        child.stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
      },
      end(): Promise<void> {
        if (!ending && !done) {
          ending = true;
          child.stdin.end();
          endTimer = setTimeout(() => child.kill('SIGKILL'), END_TIMEOUT_MS);
          endTimer.unref();
        }
        return ended;
      },
      kill(): void {
        ending = true;
        done = true;
        child.kill('SIGKILL');
      },
    };
  };
}

function failedEncoder(sink: AacEncoderSink, reason: string): AacEncoder {
  // told after the caller has its encoder object, as a process that fails to start would be
  queueMicrotask(() => sink.failed(reason));
  return { write: () => undefined, end: () => Promise.resolve(), kill: () => undefined };
}
