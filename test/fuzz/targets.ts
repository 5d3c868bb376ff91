// The fuzz targets. Each one makes an input from the seeded PRNG (a mutated seed) and runs it through the
// parsers that see untrusted bytes, with the oracle built in: a parser may succeed or throw the error its
// callers catch (ParseError; the depacketizer throws nothing and counts bad packets instead). Anything else
// escaping run() is a crash. Invariants that a successful parse must keep (what the ingest parsers accept
// must parse again downstream, sizes within their caps) throw InvariantError, which is a crash too.

import { Log } from 'mp4box';
import { ParseError } from '../../src/formats/errors.js';
import { aacChannelCount, parseAudioSpecificConfig } from '../../src/formats/codec/aac-config.js';
import { parseAvcConfig } from '../../src/formats/codec/avc-config.js';
import { aacCodecString, avcCodecString, hevcCodecString } from '../../src/formats/codec/codec-strings.js';
import { parseHevcConfig } from '../../src/formats/codec/hevc-config.js';
import { encodedImageLength, imageSize, parsePgm, pgmLength } from '../../src/formats/image/image-bytes.js';
import { parseClusterBlocks } from '../../src/formats/mkv/mkv-blocks.js';
import { parseSimpleTags } from '../../src/formats/mkv/mkv-tags.js';
import { MkvStreamParser } from '../../src/formats/mkv/mkv-stream-parser.js';
import { H264Depacketizer, MAX_H264_ACCESS_UNIT_BYTES, MAX_H264_NAL_UNITS_PER_ACCESS_UNIT } from '../../src/formats/rtp/h264-depacketizer.js';
import { H264Packetizer } from '../../src/formats/rtp/h264-packetizer.js';
import { beginsH264KeyFrame, parseH264Payload } from '../../src/formats/rtp/h264-payload.js';
import { parseRtpPacket } from '../../src/formats/rtp/rtp-packet.js';
import { adtsParams, AdtsReader } from '../../src/formats/ts/adts.js';
import { splitNalUnits, toAnnexB } from '../../src/formats/ts/annexb.js';
import { ascChannelCount } from '../../src/ingest/mp4/codec-config.js';
import { looksLikeMp4, Mp4IngestParser } from '../../src/ingest/mp4/mp4-ingest-parser.js';
import type { IngestParser, ParseEvent } from '../../src/media/parse-events.js';
import { CODEC_KINDS, codecCorpus, mkvCorpus, mp4Corpus, rtpCorpus } from './corpus.js';
import type { Seed } from './corpus.js';
import { chunkSizes, mutate, rng } from './mutator.js';
import type { Rng } from './mutator.js';

export const TARGET_NAMES = ['mkv', 'mp4', 'rtp', 'codec'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** How one input ended: parsed, or rejected with the error callers handle. */
export type Outcome = 'accepted' | 'rejected';

export type Target = {
  name: TargetName;
  /** The input made from `r` (a mutated seed). */
  generate(r: Rng): Uint8Array;
  /** Parses one input; returns how it ended, throws on a crash. `chunkSeed` picks how streamed bytes are split. */
  run(input: Uint8Array, chunkSeed: number): Outcome;
};

/** A successful parse broke a property the rest of the server relies on. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/**
 * Streamed inputs are at most this long: a prefix of a big seed is a stream cut short, which the parsers
 * see all the time, and keeps one input cheap enough for thousands per second.
 */
const MAX_STREAM_INPUT_BYTES = 192 * 1024;

function window(r: Rng, seed: Uint8Array, max: number): Uint8Array {
  if (seed.length <= max && r.chance(0.7)) {
    return seed;
  }
  return seed.subarray(0, Math.min(seed.length, 64 + r.int(max)));
}

function streamGenerator(corpus: () => Seed[]): (r: Rng) => Uint8Array {
  return (r) => {
    const seeds = corpus();
    const seed = window(r, r.pick(seeds).bytes, MAX_STREAM_INPUT_BYTES);
    // A few unmutated inputs keep the happy path (and its invariants) exercised with random chunkings.
    if (r.chance(0.03)) {
      return seed.slice();
    }
    return mutate(r, seed, { donors: seeds.map((s) => s.bytes), maxBytes: MAX_STREAM_INPUT_BYTES * 2 });
  };
}

/**
 * Feeds `input` in the chunk sizes `chunkSeed` picks, then ends the stream. Events go into `events` as they
 * come: those before a ParseError are stored by ingest all the same.
 */
function feed(parser: IngestParser, input: Uint8Array, chunkSeed: number, events: ParseEvent[]): void {
  let at = 0;
  for (const n of chunkSizes(rng(chunkSeed), input.length)) {
    events.push(...parser.push(input.subarray(at, at + n)));
    at += n;
  }
  events.push(...parser.end());
}

/** Runs `work`; a ParseError is a rejection, anything else goes up as a crash. */
function expectingParseError(work: () => void): Outcome {
  try {
    work();
    return 'accepted';
  } catch (e) {
    if (e instanceof ParseError) {
      return 'rejected';
    }
    throw e;
  }
}

/**
 * What ingest accepted is stored, then replayed by GetMedia (header + cluster) and cut into samples by the
 * packagers: each fragment must parse as blocks, and header + fragments must go through the parser again.
 */
function checkStoredForm(events: readonly ParseEvent[], what: string): void {
  const parts: Uint8Array[] = [];
  for (const e of events) {
    if (e.kind === 'header') {
      parts.push(e.header.bytes);
    } else if (e.kind === 'fragment') {
      let blocks: ReturnType<typeof parseClusterBlocks>;
      try {
        blocks = parseClusterBlocks(e.fragment.bytes);
      } catch (err) {
        throw new InvariantError(`${what} accepted a fragment that parseClusterBlocks rejects: ${String(err)}`);
      }
      if (blocks.timecode !== e.fragment.timecode || blocks.blocks.length !== e.fragment.blockCount) {
        throw new InvariantError(
          `${what} reported a fragment at ${e.fragment.timecode} with ${e.fragment.blockCount} blocks; parseClusterBlocks finds ${blocks.timecode} and ${blocks.blocks.length}`,
        );
      }
      parts.push(e.fragment.bytes);
    } else if (e.kind === 'tags') {
      try {
        parseSimpleTags(e.bytes);
      } catch (err) {
        throw new InvariantError(`${what} accepted Tags that parseSimpleTags rejects: ${String(err)}`);
      }
    }
  }
  if (parts.length === 0) {
    return;
  }
  const again = new MkvStreamParser();
  try {
    for (const p of parts) {
      again.push(p);
    }
    again.end();
  } catch (err) {
    throw new InvariantError(`${what}: its header and fragments do not parse again as Matroska: ${String(err)}`);
  }
}

const mkv: Target = {
  name: 'mkv',
  generate: streamGenerator(mkvCorpus),
  run(input, chunkSeed) {
    const parser = new MkvStreamParser();
    const events: ParseEvent[] = [];
    const outcome = expectingParseError(() => feed(parser, input, chunkSeed, events));
    checkStoredForm(events, 'MkvStreamParser');
    return outcome;
  },
};

// mp4box warns on the console about every odd box it meets; at fuzzing rates that is all one would see.
Log.setLogLevel(Log.error);

const mp4: Target = {
  name: 'mp4',
  generate: streamGenerator(mp4Corpus),
  run(input, chunkSeed) {
    looksLikeMp4(input.subarray(0, 16));
    const parser = new Mp4IngestParser();
    const events: ParseEvent[] = [];
    let outcome: Outcome;
    try {
      feed(parser, input, chunkSeed, events);
      outcome = 'accepted';
    } catch (e) {
      if (!(e instanceof ParseError)) {
        throw e;
      }
      // The converter turns every failure into a ParseError (mp4box throws what it likes); one that started
      // as a TypeError or RangeError in our own code is a bug it would hide, so it counts as a crash.
      const cause: unknown = e.cause;
      if (cause instanceof Error && !(cause instanceof ParseError) && !thrownByDependency(cause)) {
        throw cause;
      }
      outcome = 'rejected';
    }
    checkStoredForm(events, 'Mp4IngestParser');
    return outcome;
  },
};

/** The error was raised inside a package (mp4box), not in openkvs code. */
function thrownByDependency(e: Error): boolean {
  const frame = (e.stack ?? '').split('\n').find((l) => l.trimStart().startsWith('at '));
  return frame !== undefined && frame.includes('node_modules');
}

/**
 * RTP input: packets as [u16 length][bytes]… A mutated window of a packetized fixture: packets dropped,
 * duplicated, reordered, corrupted, or replaced by garbage, as a broken or hostile WebRTC peer would send.
 */
export function encodePackets(packets: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(packets.reduce((n, p) => n + 2 + Math.min(p.length, 0xffff), 0));
  let at = 0;
  for (const p of packets) {
    const n = Math.min(p.length, 0xffff);
    out[at] = n >> 8;
    out[at + 1] = n & 0xff;
    out.set(p.subarray(0, n), at + 2);
    at += 2 + n;
  }
  return out;
}

export function decodePackets(input: Uint8Array): Uint8Array[] {
  const packets: Uint8Array[] = [];
  for (let at = 0; at + 2 <= input.length; ) {
    const n = ((input[at] ?? 0) << 8) | (input[at + 1] ?? 0);
    packets.push(input.subarray(at + 2, Math.min(input.length, at + 2 + n)));
    at += 2 + n;
  }
  return packets;
}

const rtp: Target = {
  name: 'rtp',
  generate(r) {
    const streams = rtpCorpus();
    const stream = r.pick(streams).packets;
    const donors = streams.flatMap((s) => s.packets.slice(0, 40));
    const start = r.int(stream.length);
    const packets: Uint8Array[] = stream.slice(start, start + 1 + r.int(r.chance(0.8) ? 60 : 400)).map((p) => p.slice());
    const edits = 1 + r.int(r.chance(0.5) ? 3 : 20);
    for (let i = 0; i < edits && packets.length > 0; i++) {
      const at = r.int(packets.length);
      const p = packets[at] as Uint8Array;
      switch (r.int(7)) {
        case 0:
          packets.splice(at, 1);
          break;
        case 1:
          packets.splice(at, 0, p.slice());
          break;
        case 2: {
          const other = r.int(packets.length);
          packets[at] = packets[other] as Uint8Array;
          packets[other] = p;
          break;
        }
        case 3:
          // the sequence number or timestamp jumps
          p[2 + r.int(6)] = r.int(256);
          break;
        default:
          packets[at] = mutate(r, p, { donors, maxBytes: 2048 });
      }
    }
    return encodePackets(packets);
  },
  run(input, chunkSeed) {
    const depacketizer = new H264Depacketizer({ keepDamaged: (chunkSeed & 1) === 1 });
    let rejected = 0;
    const check = (units: ReturnType<H264Depacketizer['push']>): void => {
      for (const au of units) {
        const bytes = au.nalUnits.reduce((n, u) => n + u.length, 0);
        if (bytes > MAX_H264_ACCESS_UNIT_BYTES || au.nalUnits.length > MAX_H264_NAL_UNITS_PER_ACCESS_UNIT) {
          throw new InvariantError(`access unit of ${bytes} bytes in ${au.nalUnits.length} NAL units is over the caps`);
        }
        if (au.nalUnits.some((u) => u.length === 0)) {
          throw new InvariantError('access unit holds an empty NAL unit');
        }
      }
    };
    for (const bytes of decodePackets(input)) {
      let packet: ReturnType<typeof parseRtpPacket>;
      try {
        packet = parseRtpPacket(bytes);
      } catch (e) {
        if (e instanceof ParseError) {
          rejected++;
          continue;
        }
        throw e;
      }
      if (packet.payload.length > 0) {
        beginsH264KeyFrame(packet.payload);
        expectingParseError(() => parseH264Payload(packet.payload));
      }
      // The depacketizer counts bad packets and never throws: whatever escapes it is a crash.
      check(depacketizer.push(packet));
    }
    check(depacketizer.flush());
    return rejected > 0 || depacketizer.stats.invalidPackets > 0 ? 'rejected' : 'accepted';
  },
};

/**
 * Codec input: one byte naming the parser (CODEC_KINDS), then its bytes. Records and images are small, so
 * each input runs in microseconds.
 */
const codec: Target = {
  name: 'codec',
  generate(r) {
    const corpus = codecCorpus();
    const kindIndex = r.int(CODEC_KINDS.length);
    const seeds = corpus.get(CODEC_KINDS[kindIndex] ?? 'avcC') ?? [];
    const all = [...corpus.values()].flat().map((s) => s.bytes);
    const body = seeds.length === 0 ? new Uint8Array(0) : r.chance(0.03) ? r.pick(seeds).bytes : mutate(r, r.pick(seeds).bytes, { donors: all, maxBytes: 8192 });
    const out = new Uint8Array(1 + body.length);
    out[0] = kindIndex;
    out.set(body, 1);
    return out;
  },
  run(input, chunkSeed) {
    const body = input.subarray(1);
    switch (CODEC_KINDS[(input[0] ?? 0) % CODEC_KINDS.length]) {
      case 'avcC':
        return expectingParseError(() => {
          avcCodecString(parseAvcConfig(body));
          new H264Packetizer({ avcC: body }).packetize([Uint8Array.of(0x65, 0x88, 0x84)]);
        });
      case 'hvcC':
        return expectingParseError(() => hevcCodecString(parseHevcConfig(body)));
      case 'asc':
        ascChannelCount(body);
        return expectingParseError(() => {
          const config = parseAudioSpecificConfig(body);
          aacChannelCount(config);
          aacCodecString(config);
          adtsParams(config);
        });
      case 'adts': {
        const reader = new AdtsReader();
        return expectingParseError(() => {
          let at = 0;
          for (const n of chunkSizes(rng(chunkSeed), body.length)) {
            reader.push(body.subarray(at, at + n));
            at += n;
          }
        });
      }
      case 'nal': {
        const lengthSize = [1, 2, 4][chunkSeed % 3] ?? 4;
        return expectingParseError(() => {
          splitNalUnits(body, lengthSize);
          toAnnexB(body, { codec: chunkSeed & 8 ? 'h265' : 'h264', lengthSize, keyframe: (chunkSeed & 16) !== 0, parameterSets: [Uint8Array.of(0x67, 0x42)] });
        });
      }
      case 'image': {
        // The splitter is asked for JPEG/PNG on one pipe and PGM on another: each parser gets every input.
        const encoded = expectingParseError(() => {
          const n = encodedImageLength(body);
          if (n !== null) {
            if (n <= 0 || n > body.length) {
              throw new InvariantError(`encodedImageLength ${n} outside the ${body.length} bytes given`);
            }
            imageSize(body.subarray(0, n));
          }
        });
        const pgm = expectingParseError(() => {
          const n = pgmLength(body);
          if (n !== null) {
            if (n <= 0 || n > body.length) {
              throw new InvariantError(`pgmLength ${n} outside the ${body.length} bytes given`);
            }
            parsePgm(body.subarray(0, n));
          }
        });
        return encoded === 'accepted' || pgm === 'accepted' ? 'accepted' : 'rejected';
      }
      default:
        return 'rejected';
    }
  },
};

export const TARGETS: Readonly<Record<TargetName, Target>> = { mkv, mp4, rtp, codec };
