import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { adtsFrame } from '../../../src/formats/ts/adts.js';
import { findFfmpeg } from '../../../src/frames/ffmpeg-binary.js';
import { ffmpegAacEncoder, type AacEncoderSink } from '../../../src/webrtc/aac-encoder.js';
import { FFMPEG_AAC_DELAY_SAMPLES, aacFramesFor } from '../../../src/webrtc/aac-timing.js';

// The real encoder, because the recording's audio/video sync rests on two facts about it: how many frames it
// writes for a given input, and how far its output is delayed (FFMPEG_AAC_DELAY_SAMPLES).

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'openkvs-aac-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const RATE = 48_000;
/** 10 ms of a 1 kHz tone starting at this input sample, silence around it: a shape the delay can be found by. */
const BURST_AT = 4800;
const BURST = 480;

function burstPcm(samples: number): { stereo: Int16Array; mono: Int16Array } {
  const mono = new Int16Array(samples);
  for (let i = 0; i < BURST; i++) {
    mono[BURST_AT + i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / RATE));
  }
  const stereo = new Int16Array(samples * 2);
  mono.forEach((v, i) => {
    stereo[2 * i] = v;
    stereo[2 * i + 1] = v;
  });
  return { stereo, mono };
}

function collect(): { sink: AacEncoderSink; frames: Uint8Array[]; failures: string[] } {
  const frames: Uint8Array[] = [];
  const failures: string[] = [];
  return { sink: { frame: (f) => frames.push(f), failed: (r) => failures.push(r) }, frames, failures };
}

describe('ffmpegAacEncoder', () => {
  it('writes one frame per 1024 samples plus one of priming, and delays its output by FFMPEG_AAC_DELAY_SAMPLES', async () => {
    const { stereo, mono } = burstPcm(RATE);
    const c = collect();
    const encoder = ffmpegAacEncoder(findFfmpeg(process.env))(c.sink);
    // written in 20 ms pieces, as the mixer releases it
    for (let i = 0; i < stereo.length; i += 960 * 2) {
      encoder.write(stereo.subarray(i, i + 960 * 2));
    }
    await encoder.end();
    expect(c.failures).toEqual([]);
    expect(c.frames.length).toBe(aacFramesFor(RATE));

    // decode what it wrote (as ADTS again) and find where the burst comes out
    const file = join(tmp, 'burst.aac');
    writeFileSync(file, Buffer.concat(c.frames.map((f) => adtsFrame({ profile: 1, samplingIndex: 3, channelConfig: 2 }, f))));
    const { stdout } = await run(findFfmpeg(process.env)!.path, ['-v', 'error', '-i', file, '-ac', '1', '-f', 's16le', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 22 });
    const decoded = new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2);
    let best = { lag: -1, error: Infinity };
    for (let lag = 0; lag <= 2 * 1024; lag++) {
      let error = 0;
      for (let i = BURST_AT - 100; i < BURST_AT + BURST + 100; i++) {
        error += ((decoded[i + lag] ?? 0) - (mono[i] ?? 0)) ** 2;
      }
      if (error < best.error) {
        best = { lag, error };
      }
    }
    expect(best.lag).toBe(FFMPEG_AAC_DELAY_SAMPLES);
  });

  it('tells the sink once when ffmpeg exits on its own, when it cannot be started, and when there is none', async () => {
    const exits = collect();
    const early = ffmpegAacEncoder({ path: '/bin/false' })(exits.sink);
    early.write(new Int16Array(960 * 2));
    while (exits.failures.length === 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    early.write(new Int16Array(960 * 2));
    await early.end();
    expect(exits.failures).toHaveLength(1);
    expect(exits.failures[0]).toMatch(/ffmpeg exited \(code 1\)|ffmpeg stopped reading/);

    const missing = collect();
    await ffmpegAacEncoder({ path: join(tmp, 'no-such-ffmpeg') })(missing.sink).end();
    expect(missing.failures).toHaveLength(1);
    expect(missing.failures[0]).toMatch(/ffmpeg could not run/);

    const none = collect();
    await ffmpegAacEncoder(null)(none.sink).end();
    await Promise.resolve();
    expect(none.failures).toEqual(['no ffmpeg found (FFMPEG_PATH, PATH or @ffmpeg-installer/ffmpeg)']);
  });
});
