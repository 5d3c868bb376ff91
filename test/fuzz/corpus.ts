// Seed inputs for the fuzz targets: the generated fixtures in media-fixtures/ and the third-party files in
// ../shared/real-media (read where they are, never copied into the repository), plus what the project's own
// parsers and packetizer make of them (codec records, ADTS frames, RTP packets).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { concatBytes } from '../../src/formats/ebml/ebml-writer.js';
import { parseClusterBlocks } from '../../src/formats/mkv/mkv-blocks.js';
import { MkvStreamParser } from '../../src/formats/mkv/mkv-stream-parser.js';
import { parseAvcConfig } from '../../src/formats/codec/avc-config.js';
import { parseAudioSpecificConfig } from '../../src/formats/codec/aac-config.js';
import { H264Packetizer } from '../../src/formats/rtp/h264-packetizer.js';
import { serializeRtpPacket } from '../../src/formats/rtp/rtp-packet.js';
import { splitNalUnits } from '../../src/formats/ts/annexb.js';
import { adtsFrame, adtsParams } from '../../src/formats/ts/adts.js';
import type { ParseEvent } from '../../src/media/parse-events.js';
import type { TrackInfo } from '../../src/media/track.js';
import { FIXTURES, REAL_MEDIA } from '../helpers/media.js';

export type Seed = { name: string; bytes: Uint8Array };

function filesUnder(root: string, exts: readonly string[]): string[] {
  if (!existsSync(root)) {
    return [];
  }
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        walk(path);
      } else if (exts.some((e) => name.endsWith(e))) {
        out.push(path);
      }
    }
  };
  walk(root);
  return out;
}

function load(paths: readonly string[]): Seed[] {
  return paths.map((p) => ({ name: p.startsWith(REAL_MEDIA) ? `real-media/${relative(REAL_MEDIA, p)}` : relative(FIXTURES, p), bytes: new Uint8Array(readFileSync(p)) }));
}

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

let mkvSeeds: Seed[] | undefined;
export function mkvCorpus(): Seed[] {
  mkvSeeds ??= load([...filesUnder(join(FIXTURES, 'mkv'), ['.mkv']), ...filesUnder(REAL_MEDIA, ['.mkv', '.webm'])]);
  return mkvSeeds;
}

let mp4Seeds: Seed[] | undefined;
export function mp4Corpus(): Seed[] {
  if (mp4Seeds === undefined) {
    const files = load([...filesUnder(join(FIXTURES, 'mp4'), ['.mp4']), ...filesUnder(join(REAL_MEDIA, 'fmp4'), ['.mp4', '.m4s'])]);
    const byName = new Map(files.map((s) => [s.name, s.bytes]));
    // Init + media segment: the fragmented stream a DASH/HLS packager's output would be if uploaded whole.
    const joined: Seed[] = [];
    for (const [init, seg] of [
      ['shaka/sintel-video-init.mp4', 'shaka/sintel-video-segment.mp4'],
      ['shaka/sintel-audio-init.mp4', 'shaka/sintel-audio-segment.mp4'],
      ['shaka/multiple-trun-init.mp4', 'shaka/multiple-trun-segment.mp4'],
      ['shaka/hls-mp4-muxed-aac-h264/init.mp4', 'shaka/hls-mp4-muxed-aac-h264/hls11.m4s'],
    ] as const) {
      const a = byName.get(`real-media/fmp4/${init}`);
      const b = byName.get(`real-media/fmp4/${seg}`);
      if (a !== undefined && b !== undefined) {
        joined.push({ name: `real-media/fmp4/${init}+segment`, bytes: concat(a, b) });
      }
    }
    mp4Seeds = [...files, ...joined];
  }
  return mp4Seeds;
}

type MkvContent = { tracks: TrackInfo[]; blocks: { track: TrackInfo; timecode: number; keyframe: boolean; frame: Uint8Array }[] };

/** Tracks and blocks of an MKV file, as ingest and the packagers see them; what cannot be parsed is skipped. */
function mkvContent(bytes: Uint8Array): MkvContent {
  const p = new MkvStreamParser();
  const events: ParseEvent[] = [];
  try {
    events.push(...p.push(bytes), ...p.end());
  } catch {
    // a capture that ends mid-cluster still gives its earlier clusters
  }
  const tracks = events.flatMap((e) => (e.kind === 'header' ? e.header.tracks : []));
  const blocks: MkvContent['blocks'] = [];
  for (const e of events) {
    if (e.kind !== 'fragment') {
      continue;
    }
    for (const b of parseClusterBlocks(e.fragment.bytes).blocks) {
      const track = tracks.find((t) => t.number === b.track);
      for (const frame of track === undefined ? [] : b.frames) {
        blocks.push({ track: track as TrackInfo, timecode: b.timecode, keyframe: b.keyframe, frame });
      }
    }
  }
  return { tracks, blocks };
}

let contents: Map<string, MkvContent> | undefined;
function allMkvContent(): Map<string, MkvContent> {
  contents ??= new Map(mkvCorpus().map((s) => [s.name, mkvContent(s.bytes)]));
  return contents;
}

/** Codec records, ADTS streams, length-prefixed NAL samples and images, each tagged with the parser it feeds. */
export type CodecKind = 'avcC' | 'hvcC' | 'asc' | 'adts' | 'nal' | 'image';
export const CODEC_KINDS: readonly CodecKind[] = ['avcC', 'hvcC', 'asc', 'adts', 'nal', 'image'];

let codecSeeds: Map<CodecKind, Seed[]> | undefined;
export function codecCorpus(): Map<CodecKind, Seed[]> {
  if (codecSeeds !== undefined) {
    return codecSeeds;
  }
  const seeds = new Map<CodecKind, Seed[]>(CODEC_KINDS.map((k) => [k, []]));
  const add = (kind: CodecKind, name: string, bytes: Uint8Array): void => {
    seeds.get(kind)?.push({ name, bytes });
  };
  // The Java producer SDK's avcC (real-media README §6) and the AAC-LC 48 kHz stereo config the C samples use.
  add('avcC', 'java-sdk avcC', Uint8Array.from(Buffer.from('0142c028ffe1001a6742c028db0280f6c05a808080a00000030020000057e401e3065c01000468ca8cb2', 'hex')));
  add('asc', 'AAC-LC 48k stereo', Uint8Array.of(0x11, 0x90));
  for (const [name, c] of allMkvContent()) {
    for (const t of c.tracks) {
      const cp = t.codecPrivate;
      if (cp === undefined) {
        continue;
      }
      if (t.codecId === 'V_MPEG4/ISO/AVC') {
        add('avcC', name, cp);
      } else if (t.codecId === 'V_MPEGH/ISO/HEVC') {
        add('hvcC', name, cp);
      } else if (t.codecId === 'A_AAC') {
        add('asc', name, cp);
      }
    }
    const adts: Uint8Array[] = [];
    const nal: Uint8Array[] = [];
    for (const b of c.blocks) {
      if (b.track.codecId === 'A_AAC' && b.track.codecPrivate !== undefined && adts.length < 64) {
        const params = adtsParams(parseAudioSpecificConfig(b.track.codecPrivate));
        if ('profile' in params) {
          adts.push(adtsFrame(params, b.frame));
        }
      } else if ((b.track.codecId === 'V_MPEG4/ISO/AVC' || b.track.codecId === 'V_MPEGH/ISO/HEVC') && nal.length < 8 && b.frame.length < 65536) {
        nal.push(b.frame);
      }
    }
    if (adts.length > 0) {
      add('adts', name, concat(...adts));
    }
    nal.forEach((n, i) => add('nal', `${name} sample ${i}`, n));
  }
  for (const [name, bytes] of IMAGES) {
    add('image', name, bytes);
  }
  codecSeeds = seeds;
  return seeds;
}

/**
 * Tiny images with the structure ffmpeg's image pipes carry (the splitter looks at markers and chunk lengths,
 * never at pixels): a baseline JPEG with a restart marker and stuffing, a PNG with IHDR/IDAT/IEND, a PGM.
 */
const IMAGES: readonly [string, Uint8Array][] = [
  [
    'jpeg',
    Uint8Array.of(
      ...[0xff, 0xd8],
      ...[0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00],
      ...[0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x10, 0x00, 0x20, 0x01, 0x01, 0x11, 0x00],
      ...[0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00],
      ...[0x12, 0x34, 0xff, 0x00, 0x56, 0xff, 0xd0, 0x78, 0x9a],
      ...[0xff, 0xd9],
    ),
  ],
  [
    'png',
    Uint8Array.of(
      ...[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
      ...[0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 32, 0, 0, 0, 16, 8, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78],
      ...[0, 0, 0, 4, 0x49, 0x44, 0x41, 0x54, 1, 2, 3, 4, 0x12, 0x34, 0x56, 0x78],
      ...[0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82],
    ),
  ],
  ['pgm', Uint8Array.from([...Buffer.from('P5\n4 2\n255\n'), 0, 1, 2, 3, 250, 251, 252, 253])],
];

/** RTP packets of one H.264 stream as the project's packetizer makes them: what a WebRTC peer would send. */
export type PacketStream = { name: string; packets: Uint8Array[] };

let rtpSeeds: PacketStream[] | undefined;
export function rtpCorpus(): PacketStream[] {
  if (rtpSeeds !== undefined) {
    return rtpSeeds;
  }
  rtpSeeds = [];
  for (const [name, c] of allMkvContent()) {
    const track = c.tracks.find((t) => t.codecId === 'V_MPEG4/ISO/AVC' && t.codecPrivate !== undefined);
    if (track?.codecPrivate === undefined) {
      continue;
    }
    let lengthSize: number;
    try {
      lengthSize = parseAvcConfig(track.codecPrivate).lengthSize;
    } catch {
      continue;
    }
    const packetizer = new H264Packetizer({ avcC: track.codecPrivate, mtu: 1200 });
    const packets: Uint8Array[] = [];
    let seq = 0x1234 + packets.length;
    // ~4 s of video is enough to cover key frames, FU-A runs and STAP-A aggregates of every file.
    for (const b of c.blocks.filter((x) => x.track === track).slice(0, 120)) {
      let nals: Uint8Array[];
      try {
        nals = splitNalUnits(b.frame, lengthSize);
      } catch {
        continue;
      }
      for (const p of packetizer.packetize(nals)) {
        packets.push(
          serializeRtpPacket({
            marker: p.marker,
            payloadType: 102,
            sequenceNumber: seq,
            timestamp: (b.timecode * 90) >>> 0,
            ssrc: 0x0badcafe,
            csrcs: [],
            payload: p.payload,
            padding: 0,
          }),
        );
        seq = (seq + 1) & 0xffff;
      }
    }
    if (packets.length > 0) {
      rtpSeeds.push({ name, packets });
    }
  }
  return rtpSeeds;
}
