import { execFileSync } from 'node:child_process';
import { MkvStreamParser } from '../src/formats/mkv/mkv-stream-parser.js';

export type Cluster = { bytes: Buffer; timecode: number };
export type Fixture = { file: Buffer; prefix: Buffer; clusters: Cluster[] };

/**
 * The benches' ~2 Mbps source: ffmpeg testsrc2 720p30, 1 s GOPs, one cluster per GOP, written to a pipe as a live
 * producer sends it (unknown-size Segment, no Cues, so any run of clusters is a valid upload). `prefix` is the
 * header before the first cluster; each cluster carries whatever sat between it and the previous one (Tags, Void).
 * Options: `ffmpegPath`, the binary to encode with (default: `ffmpeg` on the PATH); `size`, another picture size
 * (default 1280x720).
 */
export function makeFixture(seconds: number, minClusters: number, opts: { ffmpegPath?: string; size?: string } = {}): Fixture {
  const file = execFileSync(
    opts.ffmpegPath ?? 'ffmpeg',
    [
      ...['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${opts.size ?? '1280x720'}:rate=30:duration=${seconds}`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p'],
      ...['-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '0', '-b:v', '2M', '-maxrate', '2M', '-bufsize', '2M'],
      ...['-cluster_time_limit', '1100', '-cluster_size_limit', '8000000', '-f', 'matroska', 'pipe:1'],
    ],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  const parser = new MkvStreamParser();
  const clusters: Cluster[] = [];
  let prefixEnd = -1;
  let pos = 0;
  for (const ev of [...parser.push(file), ...parser.end()]) {
    if (ev.kind !== 'fragment') {
      continue;
    }
    const at = file.indexOf(ev.fragment.bytes, pos);
    if (at < 0) {
      throw new Error(`fixture: cluster ${ev.fragment.timecode} not found in the file`);
    }
    if (prefixEnd < 0) {
      prefixEnd = at;
    }
    const end = at + ev.fragment.bytes.length;
    clusters.push({ bytes: file.subarray(pos === 0 ? at : pos, end), timecode: ev.fragment.timecode });
    pos = end;
  }
  if (clusters.length < minClusters) {
    throw new Error(`fixture: only ${clusters.length} clusters`);
  }
  return { file, prefix: file.subarray(0, prefixEnd), clusters };
}
