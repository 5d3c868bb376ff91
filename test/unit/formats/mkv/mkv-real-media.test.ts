import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../../../src/formats/ebml/ebml-writer.js';
import { parseClusterBlocks, parseSimpleTags } from '../../../../src/formats/mkv/mkv-stream-parser.js';
import type { ParseEvent, ParsedFragment, ParsedHeader, SimpleTag } from '../../../../src/media/parse-events.js';
import { INVALID_FILES, TRUNCATED_FILES, VALID_FILES, digest, feed, prng, randomChunks, readMedia, sameBytes } from './real-media.js';

const fragmentsOf = (events: ParseEvent[]): ParsedFragment[] => events.flatMap((e) => (e.kind === 'fragment' ? [e.fragment] : []));
const headersOf = (events: ParseEvent[]): ParsedHeader[] => events.flatMap((e) => (e.kind === 'header' ? [e.header] : []));
const tagsOf = (events: ParseEvent[]): SimpleTag[][] => events.flatMap((e) => (e.kind === 'tags' ? [e.tags] : []));

/** Splits the events into documents: each header with the fragments that follow it. */
function documents(events: ParseEvent[]): { header: ParsedHeader; fragments: ParsedFragment[] }[] {
  const docs: { header: ParsedHeader; fragments: ParsedFragment[] }[] = [];
  for (const e of events) {
    if (e.kind === 'header') {
      docs.push({ header: e.header, fragments: [] });
    } else if (e.kind === 'fragment') {
      const doc = docs[docs.length - 1];
      if (doc === undefined) {
        throw new Error('fragment before header');
      }
      doc.fragments.push(e.fragment);
    }
  }
  return docs;
}

const concat = (parts: Uint8Array[]): Uint8Array => concatBytes(parts);

const full = new Map<string, ReturnType<typeof feed>>();
function parsedWhole(file: string): ReturnType<typeof feed> {
  let r = full.get(file);
  if (r === undefined) {
    r = feed(readMedia(file));
    full.set(file, r);
  }
  return r;
}

describe('real Matroska files', () => {
  it('finds the shared media', () => {
    expect(VALID_FILES.length).toBeGreaterThanOrEqual(45);
    expect(INVALID_FILES).toHaveLength(9);
  });

  describe.each(VALID_FILES)('%s', (file) => {
    const truncated = TRUNCATED_FILES.has(file);

    it(truncated ? 'emits every complete fragment, then end() rejects the cut-off cluster' : 'parses without error in one push', () => {
      const { events, error } = parsedWhole(file);
      if (truncated) {
        expect(error?.code).toBe('INVALID');
        expect(error?.message).toMatch(/stream ends inside/);
        expect(fragmentsOf(events).length).toBeGreaterThan(0);
      } else {
        expect(error).toBeUndefined();
      }
      // Every fragment follows its own fragment-start, and a header precedes any fragment.
      const kinds = events.map((e) => e.kind).filter((k) => k !== 'tags');
      for (let i = 0; i < kinds.length; i++) {
        if (kinds[i] === 'fragment') {
          expect(kinds[i - 1]).toBe('fragment-start');
        }
      }
      if (kinds.length > 0) {
        expect(kinds[0]).toBe('header');
      }
    });

    it('gives identical events when fed in random chunks of 1..4096 bytes', () => {
      const whole = parsedWhole(file);
      for (const seed of [1, 2]) {
        const chunked = feed(readMedia(file), randomChunks(seed * 7919 + file.length));
        expect(chunked.error?.message).toBe(whole.error?.message);
        expect(digest(chunked.events)).toEqual(digest(whole.events));
      }
    });

    it('round-trips: header bytes + fragment bytes re-parse to the same fragments', () => {
      // A header is only emitted when a cluster starts, so a document cut before its first fragment has nothing to replay.
      const docs = documents(parsedWhole(file).events).filter((d) => d.fragments.length > 0);
      for (const doc of docs) {
        const replay = feed(concat([doc.header.bytes, ...doc.fragments.map((f) => f.bytes)]));
        expect(replay.error).toBeUndefined();
        expect(digest(headersOf(replay.events))).toEqual(digest([doc.header]));
        expect(digest(fragmentsOf(replay.events))).toEqual(digest(doc.fragments));
        // The header is a valid Matroska prefix with an 8-byte unknown-size Segment.
        const h = doc.header.bytes;
        const seg = h.indexOf(0x18);
        expect([...h.subarray(seg, seg + 12)]).toEqual([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
      }
      if (docs.length > 1) {
        const all = feed(concat(docs.flatMap((d) => [d.header.bytes, ...d.fragments.map((f) => f.bytes)])));
        expect(all.error).toBeUndefined();
        expect(digest(fragmentsOf(all.events))).toEqual(digest(docs.flatMap((d) => d.fragments)));
      }
    });

    it('parseClusterBlocks on each fragment agrees with the fragment summary', () => {
      const docs = documents(parsedWhole(file).events);
      for (const { header, fragments } of docs) {
        const video = header.tracks.find((t) => t.kind === 'video');
        for (const f of fragments) {
          const { timecode, blocks } = parseClusterBlocks(f.bytes);
          expect(timecode).toBe(f.timecode);
          expect(blocks).toHaveLength(f.blockCount);
          if (blocks.length > 0) {
            expect(Math.min(...blocks.map((b) => b.timecode))).toBe(f.minBlockTimecode);
            expect(Math.max(...blocks.map((b) => b.timecode))).toBe(f.maxBlockTimecode);
          }
          expect([...new Set(blocks.map((b) => b.track))].sort((a, b) => a - b)).toEqual(f.trackNumbers);
          const first = video === undefined ? blocks[0] : blocks.find((b) => b.track === video.number);
          expect(first?.keyframe ?? false).toBe(f.startsWithKeyframe);
          for (const b of blocks) {
            expect(b.frames.length).toBeGreaterThan(0);
          }
        }
      }
    });

    it('parseSimpleTags on each tags event gives the same tags', () => {
      for (const e of parsedWhole(file).events) {
        if (e.kind === 'tags') {
          expect(parseSimpleTags(e.bytes)).toEqual(e.tags);
        }
      }
    });
  });

  it.each([
    'kvs-getmedia/test_mixed_tags.mkv',
    'kvs-getmedia/test_tags_empty_cluster.mkv',
    'matroska-edge-cases/libwebm/block_with_additional.webm',
    'matroska-edge-cases/libwebm/colour.webm',
    'matroska-edge-cases/matroska-demuxer/simple.mkv',
    'matroska-edge-cases/matroska-demuxer/no_cluster_position.mkv',
  ])('gives identical events with 1-byte pushes: %s', (file) => {
    const bytewise = feed(readMedia(file), () => 1);
    expect(bytewise.error).toBeUndefined();
    expect(digest(bytewise.events)).toEqual(digest(parsedWhole(file).events));
  });
});

describe('pinned contents (README of the shared media, block counts checked against ffprobe packet counts)', () => {
  it('kvs-producer/kvssink-test-stream-1_0.mkv: the primary PutMedia fixture', () => {
    const { events } = parsedWhole('kvs-producer/kvssink-test-stream-1_0.mkv');
    const [header, ...moreHeaders] = headersOf(events);
    expect(moreHeaders).toHaveLength(0);
    expect(header?.timecodeScaleNs).toBe(1_000_000);
    expect(header?.tracks).toHaveLength(1);
    expect(header?.tracks[0]).toMatchObject({ number: 1, kind: 'video', codecId: 'V_MPEG4/ISO/AVC', width: 640, height: 480, name: 'kinesis_video' });
    expect(header?.tracks[0]?.codecPrivate).toHaveLength(44);
    const frags = fragmentsOf(events);
    expect(frags).toHaveLength(37);
    expect(frags.map((f) => f.timecode)).toEqual(Array.from({ length: 37 }, (_, i) => 1703120790149 + 1500 * i));
    expect(frags.reduce((n, f) => n + f.blockCount, 0)).toBe(1640);
    expect(frags.every((f) => f.startsWithKeyframe)).toBe(true);
    // Unknown-size clusters, passed through with their 1-byte FF size.
    expect(frags.every((f) => f.bytes[4] === 0xff)).toBe(true);
    // 27 producer fragment-metadata Tags, then the end-of-fragment marker.
    const tags = tagsOf(events);
    expect(tags).toHaveLength(28);
    expect(tags.slice(0, 27)).toEqual(Array.from({ length: 27 }, (_, i) => [{ name: `metadata_key_${i + 1}`, value: `metadata_value_${i + 1}` }]));
    expect(tags[27]).toEqual([{ name: 'AWS_KINESISVIDEO_END_OF_FRAGMENT', value: '' }]);
    expect(events.map((e) => e.kind).indexOf('fragment-start')).toBe(1);
  });

  it('mkv-inputs/clusters.mkv: 8 known-size clusters every ~2 s, 444 blocks', () => {
    const frags = fragmentsOf(parsedWhole('mkv-inputs/clusters.mkv').events);
    expect(frags.map((f) => f.timecode)).toEqual([0, 1999, 3999, 5998, 7998, 9998, 11997, 13997]);
    expect(frags.reduce((n, f) => n + f.blockCount, 0)).toBe(444);
  });

  it('mkv-inputs/vogels_330.mkv: H.264 + AAC, 9 clusters', () => {
    const { events } = parsedWhole('mkv-inputs/vogels_330.mkv');
    const tracks = headersOf(events)[0]?.tracks ?? [];
    expect(tracks.map((t) => [t.kind, t.codecId])).toEqual([
      ['video', 'V_MPEG4/ISO/AVC'],
      ['audio', 'A_AAC'],
    ]);
    expect(tracks[0]).toMatchObject({ width: 640, height: 330 });
    expect(tracks[1]).toMatchObject({ sampleRate: 48000, channels: 2 });
    const frags = fragmentsOf(events);
    expect(frags).toHaveLength(9);
    expect(frags.reduce((n, f) => n + f.blockCount, 0)).toBe(2334);
    expect(frags.every((f) => f.trackNumbers.length === 2)).toBe(true);
    // HandBrake did not align clusters with video keyframes (ffprobe: keyframes at 0, 2.169, 9.81, 17.15, 25.025, 28.829 s).
    expect(frags.map((f) => f.startsWithKeyframe)).toEqual([true, true, false, true, false, true, false, true, true]);
    // Every audio block is a keyframe.
    const audio = tracks[1]?.number;
    for (const f of frags) {
      expect(parseClusterBlocks(f.bytes).blocks.filter((b) => b.track === audio).every((b) => b.keyframe)).toBe(true);
    }
  });

  it('mkv-inputs/bezos_vogels.mkv: first cluster timecode 834, a single-block cluster', () => {
    const frags = fragmentsOf(parsedWhole('mkv-inputs/bezos_vogels.mkv').events);
    expect(frags[0]?.timecode).toBe(834);
    expect(frags).toHaveLength(5);
    expect(frags.some((f) => f.blockCount === 1)).toBe(true);
    expect(frags.reduce((n, f) => n + f.blockCount, 0)).toBe(546);
  });

  it('kvs-getmedia/output_get_media.mkv: 5 documents, cluster timecodes 0..8000, 60 blocks each', () => {
    const { events } = parsedWhole('kvs-getmedia/output_get_media.mkv');
    expect(headersOf(events)).toHaveLength(5);
    const frags = fragmentsOf(events);
    expect(frags.map((f) => f.timecode)).toEqual([0, 2000, 4000, 6000, 8000]);
    expect(frags.map((f) => f.blockCount)).toEqual([60, 60, 60, 60, 60]);
    expect(headersOf(events)[0]?.tracks[0]).toMatchObject({ codecId: 'V_MPEG4/ISO/AVC', width: 640, height: 360 });
    // Per chunk: the KVS fragment tags before the cluster, MILLIS_BEHIND_NOW/CONTINUATION_TOKEN after it.
    // Per chunk: the producer's own Tags, the KVS fragment Tags, the cluster, then MILLIS_BEHIND_NOW/CONTINUATION_TOKEN.
    const kinds = events.map((e) => e.kind);
    expect(kinds.slice(0, 6)).toEqual(['tags', 'tags', 'header', 'fragment-start', 'fragment', 'tags']);
    const names = tagsOf(events).map((t) => t.map((s) => s.name));
    expect(names[0]).toContain('ENCODER');
    expect(names[1]).toEqual(['AWS_KINESISVIDEO_FRAGMENT_NUMBER', 'AWS_KINESISVIDEO_SERVER_TIMESTAMP', 'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP']);
    expect(names[2]).toEqual(['AWS_KINESISVIDEO_MILLIS_BEHIND_NOW', 'AWS_KINESISVIDEO_CONTINUATION_TOKEN']);
  });

  it('kvs-getmedia/output_get_media_sparse_fragments.mkv: 3 chunks', () => {
    const frags = fragmentsOf(parsedWhole('kvs-getmedia/output_get_media_sparse_fragments.mkv').events);
    expect(frags.map((f) => f.timecode)).toEqual([0, 4000, 8000]);
  });

  it('kvs-getmedia/output-get-media-equal-timecode.mkv: first cluster complete (Timecode 0), second cut off', () => {
    const { events, error } = parsedWhole('kvs-getmedia/output-get-media-equal-timecode.mkv');
    expect(error?.code).toBe('INVALID');
    expect(headersOf(events)).toHaveLength(2);
    expect(fragmentsOf(events).map((f) => f.timecode)).toEqual([0]);
    // The second cluster had started: its fragment-start (Timecode 0 again) was emitted.
    expect(events.filter((e) => e.kind === 'fragment-start').map((e) => e.kind === 'fragment-start' && e.timecode)).toEqual([0, 0]);
  });

  it('kvs-getmedia/output-get-media-non-increasing-timecode.mkv: 11 complete chunks, timecodes restart at 0', () => {
    const { events, error } = parsedWhole('kvs-getmedia/output-get-media-non-increasing-timecode.mkv');
    // The file ends 4121 bytes short of its 12th cluster.
    expect(error?.code).toBe('INVALID');
    expect(headersOf(events)).toHaveLength(12);
    expect(fragmentsOf(events).map((f) => f.timecode)).toEqual([10014, 0, 1001, 2003, 3004, 4005, 5007, 6008, 7010, 8011, 9012]);
  });

  it('kvs-getmedia/kinesis_video_renderer_example_output.mkv is the GetMedia output of clusters.mkv', () => {
    const out = fragmentsOf(parsedWhole('kvs-getmedia/kinesis_video_renderer_example_output.mkv').events);
    const input = fragmentsOf(parsedWhole('mkv-inputs/clusters.mkv').events);
    expect(out.map((f) => [f.timecode, f.blockCount])).toEqual(input.map((f) => [f.timecode, f.blockCount]));
    expect(digest(out.map((f) => f.bytes))).toEqual(digest(input.map((f) => f.bytes)));
  });

  it('kvs-getmedia/test_mixed_tags.mkv: 10 unknown-size clusters with producer tags', () => {
    const { events } = parsedWhole('kvs-getmedia/test_mixed_tags.mkv');
    const frags = fragmentsOf(events);
    expect(frags).toHaveLength(10);
    expect(frags.every((f) => f.bytes[4] === 0xff)).toBe(true);
    expect(headersOf(events)[0]?.tracks[0]).toMatchObject({ codecId: 'V_MS/VFW/FOURCC', width: 640, height: 480 });
    const names = tagsOf(events).flat().map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['testTag_0', 'testTag_4', 'AWS_KINESISVIDEO_PRODUCER_TIMESTAMP']));
    // Producer tags come before Info in chunk 1, so tags events precede the first header.
    expect(events[0]?.kind).toBe('tags');
  });

  it.each(['kvs-getmedia/test_tags_empty_cluster.mkv', 'kvs-getmedia/empty-mkv-with-tags.mkv'])('%s: tags only, no fragments', (file) => {
    const { events, error } = parsedWhole(file);
    expect(error).toBeUndefined();
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.kind === 'tags')).toBe(true);
  });

  it('mediabunny/annex-b-avc.mkv: Chrome MediaRecorder, 8 unknown-size clusters (8-byte 01 FF…)', () => {
    const frags = fragmentsOf(parsedWhole('matroska-edge-cases/mediabunny/annex-b-avc.mkv').events);
    expect(frags).toHaveLength(8);
    expect(frags.every((f) => f.bytes[4] === 0x01 && f.bytes[11] === 0xff)).toBe(true);
    expect(frags.reduce((n, f) => n + f.blockCount, 0)).toBe(745);
  });

  it('mediabunny/multi-cluster.mkv: 10 clusters, B-frames with negative relative timecodes', () => {
    const frags = fragmentsOf(parsedWhole('matroska-edge-cases/mediabunny/multi-cluster.mkv').events);
    expect(frags).toHaveLength(10);
    expect(frags.reduce((n, f) => n + f.blockCount, 0)).toBe(150);
    const rel = frags.flatMap((f) => parseClusterBlocks(f.bytes).blocks.map((b) => b.timecode - f.timecode));
    expect(Math.min(...rel)).toBe(-67);
    expect(frags.some((f) => f.minBlockTimecode < f.timecode)).toBe(true);
  });

  it('mediabunny/ac3.mkv: audio only, 62 SimpleBlocks + 1 BlockGroup', () => {
    const { events } = parsedWhole('matroska-edge-cases/mediabunny/ac3.mkv');
    expect(headersOf(events)[0]?.tracks.map((t) => t.kind)).toEqual(['audio']);
    const blocks = fragmentsOf(events).flatMap((f) => parseClusterBlocks(f.bytes).blocks);
    expect(blocks).toHaveLength(63);
    expect(blocks.filter((b) => b.duration !== undefined)).toHaveLength(1);
  });

  it('matroska-demuxer: EBML lacing, Tracks after the Cluster, BlockGroups with BlockDuration', () => {
    const frames = (file: string) => fragmentsOf(parsedWhole(file).events).flatMap((f) => parseClusterBlocks(f.bytes).blocks.flatMap((b) => b.frames)).length;
    // Laced frames match the ffprobe packet counts.
    expect(frames('matroska-edge-cases/matroska-demuxer/simple.mkv')).toBe(74);
    expect(frames('matroska-edge-cases/matroska-demuxer/no_cluster_position.mkv')).toBe(80);
    const late = parsedWhole('matroska-edge-cases/matroska-demuxer/no_cluster_position.mkv').events;
    expect(late.map((e) => e.kind)).toEqual(['header', 'fragment-start', 'fragment', 'tags']);
    expect(headersOf(late)[0]?.tracks).toHaveLength(8);
    const subs = fragmentsOf(parsedWhole('matroska-edge-cases/matroska-demuxer/subtitles.mkv').events).flatMap((f) => parseClusterBlocks(f.bytes).blocks);
    expect(subs.filter((b) => b.duration !== undefined).length).toBeGreaterThan(0);
  });

  it('libwebm/set_cues_track_number.webm uses track number 10', () => {
    const { events } = parsedWhole('matroska-edge-cases/libwebm/set_cues_track_number.webm');
    expect(headersOf(events)[0]?.tracks.map((t) => t.number)).toContain(10);
    expect(fragmentsOf(events).some((f) => f.trackNumbers.includes(10))).toBe(true);
  });
});

describe('libwebm/invalid: every file is rejected', () => {
  // Which validation catches each file (README.libwebm explains the first five; the others are fuzzer output).
  const expected: Record<string, RegExp> = {
    'block_ends_beyond_cluster.mkv': /SimpleBlock .* extends beyond its parent Cluster/,
    'blockgroup_block_ends_beyond_blockgroup.mkv': /Block .* extends beyond its parent BlockGroup/,
    'chapters_truncated_chapter_string.mkv': /ChapString .* extends beyond its parent ChapterDisplay/,
    'chapters_truncated_chapter_string_2.mkv': /ChapString .* extends beyond its parent ChapterDisplay/,
    'fixed_lacing_bad_lace_size.mkv': /fixed lacing .* do not divide/,
    'invalid_vp9_bitstream-bug_1416.webm': /DocType "0000" is not matroska or webm/,
    'invalid_vp9_bitstream-bug_1417.webm': /DocType "0000" is not matroska or webm/,
    'primarychromaticity_fieldtoolarge.webm': /element size exceeds 2\^53/,
    'projection_float_overflow.webm': /element size exceeds 2\^53/,
  };

  it.each(INVALID_FILES)('%s', (file) => {
    const data = readMedia(file);
    const name = file.split('/').pop() ?? '';
    const whole = feed(data);
    expect(whole.error).toBeDefined();
    expect(whole.error?.message).toMatch(expected[name] ?? /no expectation/);
    for (const seed of [3, 4, 5]) {
      const chunked = feed(data, randomChunks(seed, 512));
      expect(chunked.error?.message).toBe(whole.error?.message);
      expect(digest(chunked.events)).toEqual(digest(whole.events));
    }
    expect(feed(data, () => 1).error?.offset).toBe(whole.error?.offset);
  });

  // The fuzzer files trip an early check; with that one defused, the structural damage behind it must
  // still be caught (each patch keeps every length the same).
  const patched: [string, (b: Uint8Array) => void, RegExp][] = [
    ['invalid_vp9_bitstream-bug_1416.webm', (b) => b.set([0x77, 0x65, 0x62, 0x6d], 31), /0x303030 .* extends beyond its parent Cluster/],
    ['invalid_vp9_bitstream-bug_1417.webm', (b) => b.set([0x77, 0x65, 0x62, 0x6d], 31), /0x303030 .* extends beyond its parent Cluster/],
    ['primarychromaticity_fieldtoolarge.webm', (b) => b.set([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 40), /extends beyond its parent CuePoint/],
    [
      'primarychromaticity_fieldtoolarge.webm',
      (b) => {
        b.set([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 40);
        // Turn the stray level-1 CuePoints/ChapterDisplay into Voids to reach the Colour element.
        b[48] = 0xec;
        b[61] = 0xec;
        b[137] = 0xec;
      },
      /PrimaryRChromaticityY .* extends beyond its parent MasteringMetadata/,
    ],
    ['projection_float_overflow.webm', (b) => b.set([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 47), /0x7573 .* extends beyond its parent Seek/],
    [
      'projection_float_overflow.webm',
      (b) => {
        b.set([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 47);
        // Rename the stray level-1 Seek to an unknown ID, which is skipped.
        b.set([0x4f, 0xfe], 55);
      },
      /Projection .* extends beyond its parent Video/,
    ],
  ];
  it.each(patched)('%s, early check defused: still rejected (%s)', (file, patch, message) => {
    const data = readMedia(`matroska-edge-cases/libwebm/invalid/${file}`).slice();
    patch(data);
    expect(feed(data).error?.message).toMatch(message);
  });
});

describe('damaged streams', () => {
  /** Offsets just past each fragment, found in the original file. */
  function fragmentEnds(file: string): number[] {
    const data = Buffer.from(readMedia(file));
    let from = 0;
    return fragmentsOf(parsedWhole(file).events).map((f) => {
      const at = data.indexOf(Buffer.from(f.bytes.subarray(0, 64)), from);
      expect(at).toBeGreaterThanOrEqual(0);
      from = at + f.bytes.length;
      return from;
    });
  }

  it.each([
    ['kvs-producer/kvssink-test-stream-1_0.mkv', true],
    ['mkv-inputs/clusters.mkv', true],
    ['kvs-getmedia/test_mixed_tags.mkv', true],
    ['mkv-inputs/bezos_vogels.mkv', false],
    ['matroska-edge-cases/mediabunny/multi-cluster.mkv', false],
  ])('%s cut at each cluster end: unknown-size Segment → no error, known-size Segment → INVALID', (file, unknownSegment) => {
    const data = readMedia(file);
    const all = fragmentsOf(parsedWhole(file).events);
    const ends = fragmentEnds(file);
    for (const [i, end] of ends.slice(0, -1).entries()) {
      const r = feed(data.subarray(0, end), randomChunks(end));
      if (unknownSegment) {
        expect(r.error).toBeUndefined();
        expect(digest(fragmentsOf(r.events))).toEqual(digest(all.slice(0, i + 1)));
      } else {
        expect(r.error?.code).toBe('INVALID');
        expect(digest(fragmentsOf(r.events))).toEqual(digest(all.slice(0, i + 1)));
      }
    }
  });

  it.each(['kvs-producer/kvssink-test-stream-1_0.mkv', 'mkv-inputs/vogels_330.mkv', 'kvs-getmedia/output_get_media.mkv', 'matroska-edge-cases/matroska-demuxer/simple.mkv'])(
    '%s cut at random offsets: INVALID or a clean prefix',
    (file) => {
      const data = readMedia(file);
      const all = fragmentsOf(parsedWhole(file).events);
      const rnd = prng(file.length);
      for (let i = 0; i < 25; i++) {
        const cut = Math.floor(rnd() * data.length);
        const r = feed(data.subarray(0, cut), randomChunks(cut));
        if (r.error !== undefined) {
          expect(r.error.code).toBe('INVALID');
          expect(r.error.offset).toBeLessThanOrEqual(cut);
        }
        const got = fragmentsOf(r.events);
        // Complete fragments are identical; an unknown-size cluster cut at a block boundary ends early.
        expect(digest(got.slice(0, -1))).toEqual(digest(all.slice(0, Math.max(0, got.length - 1))));
        const last = got[got.length - 1];
        if (last !== undefined) {
          expect(sameBytes(all[got.length - 1]?.bytes.subarray(0, last.bytes.length), last.bytes)).toBe(true);
        }
      }
    },
  );

  it.each([
    ['kvs-getmedia/test_mixed_tags.mkv', 150],
    ['matroska-edge-cases/libwebm/colour.webm', 150],
    ['matroska-edge-cases/libwebm/chapters.webm', 150],
    ['matroska-edge-cases/libwebm/block_with_additional.webm', 150],
    ['matroska-edge-cases/matroska-demuxer/simple.mkv', 60],
    ['matroska-edge-cases/mediabunny/multi-cluster.mkv', 20],
    ['kvs-producer/kvssink-test-stream-1_0.mkv', 5],
  ])('%s with flipped, inserted and deleted bytes: parses or throws ParseError, never anything else', (file, rounds) => {
    const original = readMedia(file);
    const rnd = prng(rounds * 31 + original.length);
    let rejected = 0;
    for (let round = 0; round < rounds; round++) {
      let data: Uint8Array = original.slice();
      const edits = 1 + Math.floor(rnd() * 8);
      for (let e = 0; e < edits; e++) {
        // Half the edits hit the first 600 bytes, where the header and first cluster headers are.
        const at = Math.floor(rnd() * (rnd() < 0.5 ? Math.min(600, data.length) : data.length));
        const op = rnd();
        if (op < 0.7) {
          data[at] = (data[at] ?? 0) ^ (1 << Math.floor(rnd() * 8));
        } else if (op < 0.85) {
          data = concat([data.subarray(0, at), Uint8Array.of(Math.floor(rnd() * 256)), data.subarray(at)]);
        } else {
          data = concat([data.subarray(0, at), data.subarray(at + 1)]);
        }
      }
      // feed() rethrows anything that is not a ParseError, failing the test.
      const r = feed(data, randomChunks(round, 2048));
      // Bounded work: one push per chunk, and no more events than bytes.
      expect(r.pushes).toBeLessThanOrEqual(data.length);
      expect(r.events.length).toBeLessThanOrEqual(data.length);
      if (r.error !== undefined) {
        rejected++;
        expect(['INVALID', 'TOO_LARGE']).toContain(r.error.code);
        expect(r.error.offset).toBeGreaterThanOrEqual(0);
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });

  it('random garbage is rejected at once; garbage after a valid header is rejected or skipped, never crashes', () => {
    const rnd = prng(99);
    const header = readMedia('kvs-producer/kvssink-test-stream-1_0.mkv').subarray(0, 300);
    for (let i = 0; i < 300; i++) {
      const garbage = Uint8Array.from({ length: 1 + Math.floor(rnd() * 3000) }, () => Math.floor(rnd() * 256));
      const r = feed(garbage, randomChunks(i, 256));
      expect(r.error).toBeDefined();
      expect(r.events).toEqual([]);
      const after = feed(concat([header, garbage]), randomChunks(i, 256));
      if (after.error !== undefined) {
        expect(['INVALID', 'TOO_LARGE']).toContain(after.error.code);
      }
    }
  });

  it('rejects an HTTP text body at byte 0', () => {
    const body = new TextEncoder().encode('POST /putMedia HTTP/1.1\r\nHost: kinesisvideo\r\nContent-Type: application/json\r\n\r\n{"a":1}');
    const r = feed(body, () => 3);
    expect(r.error?.code).toBe('INVALID');
    expect(r.error?.offset).toBe(0);
  });

  it('rejects real clusters over a small maxClusterBytes as TOO_LARGE, known and unknown size', () => {
    for (const file of ['kvs-producer/kvssink-test-stream-1_0.mkv', 'mkv-inputs/clusters.mkv']) {
      const r = feed(readMedia(file), randomChunks(5), { maxClusterBytes: 50_000 });
      expect(r.error?.code).toBe('TOO_LARGE');
      expect(fragmentsOf(r.events)).toEqual([]);
    }
    // The largest real cluster fits the default cap with room to spare.
    const biggest = Math.max(...VALID_FILES.flatMap((f) => fragmentsOf(parsedWhole(f).events).map((x) => x.bytes.length)));
    expect(biggest).toBeLessThan(50 * 1024 * 1024);
  });
});
