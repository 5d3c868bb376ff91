// The H.264 access units of a media fixture, as the WebRTC relay will see stored video: samples of the
// Matroska blocks split into NAL units, the avcC from CodecPrivate, times in milliseconds.

import { parseAvcConfig } from '../../../../src/formats/codec/avc-config.js';
import { parseClusterBlocks } from '../../../../src/formats/mkv/mkv-blocks.js';
import { MkvStreamParser } from '../../../../src/formats/mkv/mkv-stream-parser.js';
import { splitNalUnits } from '../../../../src/formats/ts/annexb.js';
import { fixture } from '../../../helpers/media.js';

export type FixtureAccessUnit = { timeMs: number; keyframe: boolean; sample: Uint8Array; nals: Uint8Array[] };

export function fixtureAccessUnits(rel: string): { avcC: Uint8Array; lengthSize: number; accessUnits: FixtureAccessUnit[] } {
  const parser = new MkvStreamParser();
  const events = [...parser.push(fixture(rel)), ...parser.end()];
  const header = events.find((e) => e.kind === 'header')?.header;
  const video = header?.tracks.find((t) => t.kind === 'video');
  if (header === undefined || video?.codecPrivate === undefined || video.codecId !== 'V_MPEG4/ISO/AVC') {
    throw new Error(`${rel} has no H.264 track with an avcC`);
  }
  const { lengthSize } = parseAvcConfig(video.codecPrivate);
  const accessUnits: FixtureAccessUnit[] = [];
  for (const e of events) {
    if (e.kind !== 'fragment') {
      continue;
    }
    for (const block of parseClusterBlocks(e.fragment.bytes).blocks.filter((b) => b.track === video.number)) {
      const timeMs = (block.timecode * header.timecodeScaleNs) / 1e6;
      for (const sample of block.frames) {
        accessUnits.push({ timeMs, keyframe: block.keyframe, sample, nals: splitNalUnits(sample, lengthSize) });
      }
    }
  }
  return { avcC: video.codecPrivate, lengthSize, accessUnits };
}
