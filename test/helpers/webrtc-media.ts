// Fixture media as a WebRTC sender needs it: the H.264 access units (NAL units, times in ms, the avcC) and the
// Opus frames of a Matroska fixture, read with the project's own parser.

import { parseAvcConfig } from '../../src/formats/codec/avc-config.js';
import { parseClusterBlocks } from '../../src/formats/mkv/mkv-blocks.js';
import { MkvStreamParser } from '../../src/formats/mkv/mkv-stream-parser.js';
import { splitNalUnits } from '../../src/formats/ts/annexb.js';

export type TimedVideo = { timeMs: number; nals: Uint8Array[] };
export type TimedAudio = { timeMs: number; frame: Uint8Array };

export function fixtureMedia(bytes: Uint8Array): { avcC: Uint8Array | null; video: TimedVideo[]; opus: TimedAudio[] } {
  const parser = new MkvStreamParser();
  const events = [...parser.push(bytes), ...parser.end()];
  const header = events.find((e) => e.kind === 'header')?.header;
  if (header === undefined) {
    throw new Error('no Matroska header');
  }
  const v = header.tracks.find((t) => t.kind === 'video' && t.codecId === 'V_MPEG4/ISO/AVC');
  const a = header.tracks.find((t) => t.codecId === 'A_OPUS');
  const lengthSize = v?.codecPrivate !== undefined ? parseAvcConfig(v.codecPrivate).lengthSize : 4;
  const video: TimedVideo[] = [];
  const opus: TimedAudio[] = [];
  for (const e of events) {
    if (e.kind !== 'fragment') {
      continue;
    }
    for (const block of parseClusterBlocks(e.fragment.bytes).blocks) {
      const timeMs = (block.timecode * header.timecodeScaleNs) / 1e6;
      for (const frame of block.frames) {
        if (v !== undefined && block.track === v.number) {
          video.push({ timeMs, nals: splitNalUnits(frame, lengthSize) });
        } else if (a !== undefined && block.track === a.number) {
          opus.push({ timeMs, frame });
        }
      }
    }
  }
  return { avcC: v?.codecPrivate ?? null, video, opus };
}
