// One stored fragment as per-track sample runs: what every packager (fMP4, MPEG-TS, clips, images) starts from.

import { parseClusterBlocks } from '../formats/mkv/mkv-blocks.js';
import type { TrackInfo, TrackSet } from '../media/track.js';

/** Times are milliseconds on the producer's clock (epoch ms), fractional where the media needs it. */
export type Sample = {
  /** Presentation time. */
  ptsMs: number;
  /** Decode time: the fragment's presentation times sorted, handed out in decode order (B-frames reorder), minus its reorder depth. */
  dtsMs: number;
  durationMs: number;
  keyframe: boolean;
  /** One frame as stored in Matroska (H.264/H.265: length-prefixed NAL units; AAC: a raw access unit). A view. */
  data: Uint8Array;
};

export type TrackRun = { track: TrackInfo; samples: Sample[] };

export type FragmentTiming = { producerTimestampMs: number; durationMs: number; timecode: number };

/** Used for the last frame of a track when nothing else says how long it lasts. */
const FALLBACK_FRAME_MS = 1000 / 30;

/**
 * Splits a stored fragment (producer Tags, then the Cluster) into one run of samples per track that has blocks,
 * in track-number order. Block timecodes are placed on the producer clock: the cluster's Timecode is the
 * fragment's producer timestamp. Laced frames are spread by the track's frame duration.
 */
export function fragmentSamples(set: TrackSet, stored: Uint8Array, tagsSize: number, timing: FragmentTiming): TrackRun[] {
  const { timecode: clusterTc, blocks } = parseClusterBlocks(stored.subarray(tagsSize));
  const unitMs = set.timecodeScaleNs / 1e6;
  const endMs = timing.producerTimestampMs + timing.durationMs;
  const byTrack = new Map<number, { ptsMs: number; keyframe: boolean; data: Uint8Array }[]>();
  for (const b of blocks) {
    const track = set.tracks.find((t) => t.number === b.track);
    if (track === undefined) {
      continue;
    }
    const ptsMs = timing.producerTimestampMs + (b.timecode - clusterTc) * unitMs;
    const laceMs = frameMs(track) ?? 0;
    let list = byTrack.get(b.track);
    if (list === undefined) {
      list = [];
      byTrack.set(b.track, list);
    }
    b.frames.forEach((data, i) => list.push({ ptsMs: ptsMs + i * laceMs, keyframe: track.kind === 'audio' || (b.keyframe && i === 0), data }));
  }
  const runs: TrackRun[] = [];
  for (const track of [...set.tracks].sort((a, b) => a.number - b.number)) {
    const frames = byTrack.get(track.number);
    if (frames === undefined || frames.length === 0) {
      continue;
    }
    const sorted = frames.map((f) => f.ptsMs).sort((a, b) => a - b);
    // Decode times never pass presentation times: shifted back by the fragment's reorder depth (0 without
    // B-frames), so composition offsets are never negative — decoders and players all take that.
    const delay = Math.max(0, ...frames.map((f, i) => sorted[i]! - f.ptsMs));
    const samples: Sample[] = frames.map((f, i) => ({ ptsMs: f.ptsMs, dtsMs: sorted[i]! - delay, durationMs: 0, keyframe: f.keyframe, data: f.data }));
    for (let i = 0; i + 1 < samples.length; i++) {
      samples[i]!.durationMs = samples[i + 1]!.dtsMs - samples[i]!.dtsMs;
    }
    const last = samples[samples.length - 1]!;
    last.durationMs = lastDuration(track, samples, endMs);
    runs.push({ track, samples });
  }
  return runs;
}

/** A track's frame duration when it has a fixed one (DefaultDuration, or AAC's 1024 samples per frame). */
function frameMs(track: TrackInfo): number | undefined {
  if (track.defaultDurationNs !== undefined && track.defaultDurationNs > 0) {
    return track.defaultDurationNs / 1e6;
  }
  if (track.codecId.startsWith('A_AAC') && track.sampleRate !== undefined && track.sampleRate > 0) {
    return (1024 * 1000) / track.sampleRate;
  }
  return undefined;
}

function lastDuration(track: TrackInfo, samples: Sample[], fragmentEndMs: number): number {
  const fixed = frameMs(track);
  if (fixed !== undefined) {
    return fixed;
  }
  const last = samples[samples.length - 1]!;
  const toEnd = fragmentEndMs - last.dtsMs;
  if (samples.length > 1) {
    const typical = (last.dtsMs - samples[0]!.dtsMs) / (samples.length - 1);
    // The fragment's indexed duration already adds one typical frame after the last block.
    return toEnd > 0 && toEnd < typical * 4 ? toEnd : typical;
  }
  return toEnd > 0 ? toEnd : FALLBACK_FRAME_MS;
}

/** The same runs moved on the timeline (a clip starts at 0 rather than at the producer's epoch time). */
export function shiftRuns(runs: readonly TrackRun[], byMs: number): TrackRun[] {
  return runs.map((r) => ({ track: r.track, samples: r.samples.map((s) => ({ ...s, ptsMs: s.ptsMs + byMs, dtsMs: s.dtsMs + byMs })) }));
}
