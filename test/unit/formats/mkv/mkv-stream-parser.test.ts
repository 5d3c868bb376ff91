import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../helpers/parse-error.js';
import type { ParseError } from '../../../../src/formats/errors.js';
import { MkvStreamParser, type MkvParserOptions } from '../../../../src/formats/mkv/mkv-stream-parser.js';
import type { ParseEvent, ParsedFragment } from '../../../../src/media/parse-events.js';
import {
  ID,
  UNKNOWN1,
  audioTrack,
  bytes,
  cluster,
  ebmlHeader,
  el,
  elUnknown,
  float32,
  info,
  liveDocument,
  simpleBlock,
  str,
  tagsElement,
  tracks,
  uint,
  videoTrack,
} from './ebml-build.js';

function parseAll(data: Uint8Array, options?: MkvParserOptions, chunk = data.length): ParseEvent[] {
  const p = new MkvStreamParser(options);
  const events: ParseEvent[] = [];
  for (let i = 0; i < data.length; i += chunk) {
    events.push(...p.push(data.subarray(i, i + chunk)));
  }
  events.push(...p.end());
  return events;
}


/** Parses in one push and in 1-byte pushes; both must fail the same way. */
function rejects(data: Uint8Array, options?: MkvParserOptions): ParseError {
  const whole = errorOf(() => parseAll(data, options));
  const bytewise = errorOf(() => parseAll(data, options, 1));
  expect(bytewise.code).toBe(whole.code);
  expect(bytewise.offset).toBe(whole.offset);
  return whole;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) {
        continue outer;
      }
    }
    return i;
  }
  return -1;
}

const fragments = (events: ParseEvent[]): ParsedFragment[] =>
  events.flatMap((e) => (e.kind === 'fragment' ? [e.fragment] : []));

describe('MkvStreamParser: well-formed streams', () => {
  const c1 = cluster(1000, [simpleBlock(1, 0, true), simpleBlock(1, 33, false)], true);
  const c2 = cluster(2000, [simpleBlock(1, 0, true)], true);
  const live = liveDocument([c1, tagsElement([['k', 'v']]), c2]);

  it('emits header, fragment-start, fragment and tags in stream order', () => {
    const events = parseAll(live);
    expect(events.map((e) => e.kind)).toEqual(['header', 'fragment-start', 'fragment', 'tags', 'fragment-start', 'fragment']);
    const frags = fragments(events);
    // Unknown-size clusters end where the next level-1 element begins, and are handed out as received.
    expect(frags[0]?.bytes).toEqual(c1);
    expect(frags[1]?.bytes).toEqual(c2);
    expect(frags[0]).toMatchObject({ timecode: 1000, blockCount: 2, minBlockTimecode: 1000, maxBlockTimecode: 1033, trackNumbers: [1], startsWithKeyframe: true });
  });

  it('gives the same events for every chunking, down to 1 byte', () => {
    const whole = parseAll(live);
    for (const size of [1, 2, 3, 7, 64]) {
      expect(parseAll(live, undefined, size)).toEqual(whole);
    }
  });

  it('emits fragment-start as soon as the cluster Timecode is in, and the fragment when the next cluster begins', () => {
    const p = new MkvStreamParser();
    const c1Start = indexOf(live, c1);
    // Cluster ID (4) + 8-byte unknown size + Timecode 1000 (E7 82 03 E8).
    const prefixLen = c1Start + 4 + 8 + 4;
    expect(p.push(live.subarray(0, prefixLen - 1)).map((e) => e.kind)).toEqual(['header']);
    expect(p.push(live.subarray(prefixLen - 1, prefixLen)).map((e) => e.kind)).toEqual(['fragment-start']);
    const rest = p.push(live.subarray(prefixLen, live.length - c2.length + 4));
    expect(rest.map((e) => e.kind)).toEqual(['fragment', 'tags']);
    expect(p.push(live.subarray(live.length - c2.length + 4)).map((e) => e.kind)).toEqual(['fragment-start']);
    expect(p.end().map((e) => e.kind)).toEqual(['fragment']);
    expect(p.bytesConsumed).toBe(live.length);
  });

  it('builds a replayable header: EBML header + unknown-size Segment + Info + Tracks, nothing else', () => {
    const doc = bytes(
      ebmlHeader(),
      el(ID.Segment, [el(ID.SeekHead, [el(0x4dbb, [el(0x53ab, [0x15, 0x49, 0xa9, 0x66]), uint(0x53ac, 100)])]), el(ID.Void, [0, 0]), info(), tracks(), cluster(0, [simpleBlock(1, 0, true)])]),
    );
    const events = parseAll(doc);
    const header = events[0];
    expect(header?.kind).toBe('header');
    if (header?.kind !== 'header') {
      return;
    }
    expect(header.header.bytes).toEqual(bytes(ebmlHeader(), [0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], info(), tracks()));
    // Replaying header + fragments gives the same fragments.
    const replay = bytes(header.header.bytes, ...fragments(events).map((f) => f.bytes));
    expect(fragments(parseAll(replay))).toEqual(fragments(events));
  });

  it('describes the tracks', () => {
    const events = parseAll(liveDocument([cluster(0, [simpleBlock(1, 0, true)])], [videoTrack(1), audioTrack(2)]));
    const h = events[0];
    expect(h?.kind === 'header' && h.header).toEqual({
      timecodeScaleNs: 1_000_000,
      bytes: expect.any(Uint8Array),
      tracks: [
        { number: 1, uid: 1n, kind: 'video', codecId: 'V_MPEG4/ISO/AVC', codecPrivate: Uint8Array.from([1, 0x42, 0xc0, 0x1e]), width: 640, height: 480 },
        { number: 2, kind: 'audio', codecId: 'A_AAC', sampleRate: 48000, channels: 2 },
      ],
    });
  });

  it('reads TimecodeScale, subtitle and other track kinds, names, languages and default durations', () => {
    const entry = (n: number, type: number, extra: Uint8Array[] = []) => el(ID.TrackEntry, [uint(ID.TrackNumber, n), uint(ID.TrackType, type), str(ID.CodecID, 'X'), ...extra]);
    const doc = bytes(
      ebmlHeader('webm'),
      elUnknown(ID.Segment, [
        info(100_000),
        el(ID.Tracks, [
          entry(3, 0x11, [str(0x536e, 'subs'), str(0x22b59c, 'ger'), uint(0x23e383, 40_000_000)]),
          entry(4, 3),
          el(ID.TrackEntry, [uint(ID.TrackNumber, 5), str(ID.CodecID, 'Y'), str(0x22b59c, 'eng'), str(0x22b59d, 'en-US')]),
        ]),
        cluster(0, [simpleBlock(4, 0, false), simpleBlock(3, 0, true)]),
      ]),
    );
    const events = parseAll(doc);
    const h = events[0];
    if (h?.kind !== 'header') {
      throw new Error('no header');
    }
    expect(h.header.timecodeScaleNs).toBe(100_000);
    expect(h.header.tracks).toEqual([
      { number: 3, kind: 'subtitle', codecId: 'X', name: 'subs', language: 'ger', defaultDurationNs: 40_000_000 },
      { number: 4, kind: 'other', codecId: 'X' },
      { number: 5, kind: 'other', codecId: 'Y', language: 'en-US' },
    ]);
    // No video track: the very first block decides.
    expect(fragments(events)[0]).toMatchObject({ startsWithKeyframe: false, trackNumbers: [3, 4] });
  });

  it('computes fragment statistics: negative relative timecodes, BlockGroup keyframes, first video block', () => {
    const c = cluster(500, [
      simpleBlock(2, -20, true),
      el(ID.BlockGroup, [el(ID.Block, [0x81, 0x00, 0x00, 0x00, 0x01])]),
      el(ID.BlockGroup, [el(ID.Block, [0x81, 0xff, 0xef, 0x00, 0x01]), el(ID.ReferenceBlock, [0xf0])]),
      simpleBlock(1, 100, false),
    ]);
    const [f] = fragments(parseAll(liveDocument([c], [videoTrack(1), audioTrack(2)])));
    expect(f).toMatchObject({ timecode: 500, blockCount: 4, minBlockTimecode: 480, maxBlockTimecode: 600, trackNumbers: [1, 2], startsWithKeyframe: true });

    const notKey = cluster(0, [simpleBlock(2, 0, true), simpleBlock(1, 0, false), simpleBlock(1, 1, true)]);
    expect(fragments(parseAll(liveDocument([notKey], [videoTrack(1), audioTrack(2)])))[0]?.startsWithKeyframe).toBe(false);

    const audioOnly = cluster(0, [simpleBlock(2, 0, true)]);
    // The stream has a video track but this cluster has no video block: it cannot start a decode.
    expect(fragments(parseAll(liveDocument([audioOnly], [videoTrack(1), audioTrack(2)])))[0]?.startsWithKeyframe).toBe(false);
    expect(fragments(parseAll(liveDocument([audioOnly], [audioTrack(2)])))[0]?.startsWithKeyframe).toBe(true);
  });

  it('reports an empty cluster with its own timecode as min/max', () => {
    expect(fragments(parseAll(liveDocument([cluster(77, [])])))[0]).toMatchObject({ blockCount: 0, minBlockTimecode: 77, maxBlockTimecode: 77, trackNumbers: [], startsWithKeyframe: false });
  });

  it('handles known sizes of every vint length, and a known-size Segment ending an unknown-size Cluster', () => {
    const c = el(ID.Cluster, [el(ID.Timecode, [0x00, 0x2a], 8), el(ID.SimpleBlock, [0x81, 0, 0, 0x80, 1, 2], 8)], 4);
    const open = elUnknown(ID.Cluster, [uint(ID.Timecode, 50), simpleBlock(1, 0, true)], UNKNOWN1);
    const doc = bytes(ebmlHeader(), el(ID.Segment, [info(), tracks(), c, open], 8));
    const events = parseAll(doc);
    expect(fragments(events).map((f) => [f.timecode, f.blockCount, f.bytes.length])).toEqual([
      [42, 1, c.length],
      [50, 1, open.length],
    ]);
  });

  it('starts a new header for each EBML document (GetMedia output is a concatenation of documents)', () => {
    const doc1 = liveDocument([cluster(0, [simpleBlock(1, 0, true)], true), tagsElement([['a', '1']])]);
    const doc2 = liveDocument([cluster(10, [simpleBlock(1, 0, true)], true)]);
    const events = parseAll(bytes(doc1, doc2));
    expect(events.map((e) => e.kind)).toEqual(['header', 'fragment-start', 'fragment', 'tags', 'header', 'fragment-start', 'fragment']);
    // A Segment may also follow a known-size Segment in the same document.
    const known = bytes(ebmlHeader(), el(ID.Segment, [info(), tracks(), cluster(0, [])]), el(ID.Void, [0]), el(ID.Segment, [info(), tracks(), cluster(1, [])]));
    expect(parseAll(known).map((e) => e.kind)).toEqual(['header', 'fragment-start', 'fragment', 'header', 'fragment-start', 'fragment']);
  });

  it('ends an unknown-size Cluster at an EBML header or Segment ID too', () => {
    const doc = bytes(ebmlHeader(), elUnknown(ID.Segment, [info(), tracks(), cluster(0, [simpleBlock(1, 0, true)], true)]));
    const events = parseAll(bytes(doc, doc));
    expect(fragments(events)).toHaveLength(2);
    const sameDoc = bytes(ebmlHeader(), elUnknown(ID.Segment, [info(), tracks(), cluster(0, [], true)]), elUnknown(ID.Segment, [info(), tracks(), cluster(1, [], true)]));
    expect(parseAll(sameDoc).map((e) => e.kind)).toEqual(['header', 'fragment-start', 'fragment', 'header', 'fragment-start', 'fragment']);
  });

  it('emits tags with nested SimpleTags; a binary tag is left out', () => {
    const t = el(ID.Tags, [
      el(ID.Tag, [
        el(0x63c0, [uint(0x68ca, 50)]),
        el(ID.SimpleTag, [str(ID.TagName, 'outer'), str(ID.TagString, 'o'), el(ID.SimpleTag, [str(ID.TagName, 'inner'), str(ID.TagString, 'i')])]),
        el(ID.SimpleTag, [str(ID.TagName, 'bin'), el(ID.TagBinary, [1, 2]), el(ID.SimpleTag, [str(ID.TagName, 'child'), str(ID.TagString, 'c')])]),
      ]),
    ]);
    const events = parseAll(bytes(ebmlHeader(), elUnknown(ID.Segment, [t])));
    expect(events).toEqual([{ kind: 'tags', bytes: t, tags: [{ name: 'outer', value: 'o' }, { name: 'inner', value: 'i' }, { name: 'child', value: 'c' }] }]);
  });

  it('skips Void and CRC-32 anywhere, and unknown elements inside known masters', () => {
    const doc = bytes(
      ebmlHeader(),
      el(ID.Void, [0, 0]),
      elUnknown(ID.Segment, [
        el(ID.CRC32, [1, 2, 3, 4]),
        el(ID.Info, [el(ID.CRC32, [1, 2, 3, 4]), uint(ID.TimecodeScale, 1_000_000), el(0x5fff, [9, 9])]),
        el(ID.Tracks, [el(ID.Void, []), videoTrack(), el(0x4fff, [])]),
        el(0x4fff, [1, 2, 3]),
        cluster(0, [el(ID.CRC32, [1, 2, 3, 4]), el(ID.Void, [0]), simpleBlock(1, 0, true), el(ID.BlockGroup, [el(ID.Void, []), el(ID.Block, [0x81, 0, 1, 0, 9])])], true),
        el(ID.Cues, [el(0xbb, [uint(0xb3, 0), el(0xb7, [uint(0xf7, 1), uint(0xf1, 10)])]), el(ID.Void, [])]),
        el(ID.Chapters, [el(0x45b9, [el(0xb6, [uint(0x73c4, 1), uint(0x91, 0), el(0x80, [str(0x85, 'c1')]), el(0xb6, [uint(0x91, 5)])])])]),
      ]),
    );
    const events = parseAll(doc);
    expect(events.map((e) => e.kind)).toEqual(['header', 'fragment-start', 'fragment']);
    expect(fragments(events)[0]?.blockCount).toBe(2);
  });

  it('holds events back when Tracks comes after the first Cluster, and releases them behind the header', () => {
    const doc = bytes(ebmlHeader(), el(ID.Segment, [info(), cluster(0, [simpleBlock(1, 0, true)]), tagsElement([['x', 'y']]), tracks(videoTrack(1)), cluster(5, [simpleBlock(1, 0, false)])]));
    for (const chunk of [doc.length, 1]) {
      const events = parseAll(doc, undefined, chunk);
      expect(events.map((e) => e.kind)).toEqual(['header', 'fragment-start', 'fragment', 'tags', 'fragment-start', 'fragment']);
      expect(fragments(events).map((f) => f.startsWithKeyframe)).toEqual([true, false]);
    }
  });

  it('returns no events and no error for an empty stream or a document without clusters', () => {
    expect(parseAll(new Uint8Array(0))).toEqual([]);
    expect(parseAll(bytes(ebmlHeader(), elUnknown(ID.Segment, [info(), tracks()])))).toEqual([]);
    expect(parseAll(bytes(ebmlHeader(), el(ID.Segment, [])))).toEqual([]);
  });

  it('copies pushed bytes: the caller may reuse its chunk buffer', () => {
    const doc = liveDocument([cluster(0, [simpleBlock(1, 0, true)], true)]);
    const expected = parseAll(doc);
    const p = new MkvStreamParser();
    const scratch = new Uint8Array(5);
    const events: ParseEvent[] = [];
    for (let i = 0; i < doc.length; i += 5) {
      const n = Math.min(5, doc.length - i);
      scratch.set(doc.subarray(i, i + n));
      events.push(...p.push(scratch.subarray(0, n)));
      scratch.fill(0xee);
    }
    events.push(...p.end());
    expect(events).toEqual(expected);
  });
});

describe('MkvStreamParser: invalid streams', () => {
  const okCluster = cluster(0, [simpleBlock(1, 0, true)]);

  const cases: [string, Uint8Array][] = [
    ['a stream not starting with an EBML header', bytes(el(ID.Segment, []))],
    ['an HTTP request instead of MKV', new TextEncoder().encode('POST /putMedia HTTP/1.1\r\nHost: localhost\r\n\r\n')],
    ['JSON instead of MKV', new TextEncoder().encode('{"StreamName":"x"}')],
    ['a first byte 0x00', Uint8Array.from([0, 0, 0, 0])],
    ['a DocType that is not matroska/webm', bytes(ebmlHeader('mp4'), elUnknown(ID.Segment, []))],
    ['an EBMLReadVersion above 1', bytes(el(ID.EBML, [uint(ID.EBMLReadVersion, 2)]), elUnknown(ID.Segment, []))],
    ['an EBML header with unknown size', bytes([0x1a, 0x45, 0xdf, 0xa3, 0xff], str(ID.DocType, 'webm'))],
    ['a child extending beyond the EBML header', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x83], [0x42, 0x82, 0x85, 0x77, 0x65])],
    ['two EBML headers in a row', bytes(ebmlHeader(), ebmlHeader(), elUnknown(ID.Segment, []))],
    ['garbage after a known-size Segment', bytes(ebmlHeader(), el(ID.Segment, [info(), tracks()]), [0x42, 0x42, 0x81, 0])],
    ['an element ID longer than 4 bytes', bytes(ebmlHeader(), elUnknown(ID.Segment, [[0x08, 0, 0, 0, 1, 0x80]]))],
    ['a size starting with 0x00', bytes(ebmlHeader(), elUnknown(ID.Segment, [[0xec, 0x00, 0, 0, 0, 0, 0, 0, 0, 1]]))],
    ['an unknown-size Tags', bytes(ebmlHeader(), elUnknown(ID.Segment, [elUnknown(ID.Tags, [])]))],
    ['an unknown-size Void', bytes(ebmlHeader(), elUnknown(ID.Segment, [elUnknown(ID.Void, [])]))],
    ['an unknown-size BlockGroup', liveDocument([elUnknown(ID.Cluster, [uint(ID.Timecode, 0), elUnknown(ID.BlockGroup, [])])])],
    ['a child extending beyond a known-size Segment', bytes(ebmlHeader(), el(ID.Segment, [[0xec, 0x85, 0, 0]]), [0, 0, 0])],
    ['a child extending beyond Info', bytes(ebmlHeader(), elUnknown(ID.Segment, [[0x15, 0x49, 0xa9, 0x66, 0x83, 0x2a, 0xd7, 0xb1, 0x83, 1, 2, 3]]))],
    ['a child extending beyond a TrackEntry', liveDocument([], [el(ID.TrackEntry, [[0xd7, 0x85, 1]])])],
    ['a Duration float of 3 bytes', bytes(ebmlHeader(), elUnknown(ID.Segment, [el(ID.Info, [el(ID.Duration, [1, 2, 3])])]))],
    ['a SamplingFrequency float of 2 bytes', liveDocument([], [el(ID.TrackEntry, [uint(ID.TrackNumber, 1), str(ID.CodecID, 'A'), el(ID.Audio, [el(ID.SamplingFrequency, [1, 2])])])])],
    ['a TrackNumber of 9 bytes', liveDocument([], [el(ID.TrackEntry, [el(ID.TrackNumber, new Array<number>(9).fill(1)), str(ID.CodecID, 'A')])])],
    ['a TrackNumber 0', liveDocument([], [el(ID.TrackEntry, [uint(ID.TrackNumber, 0), str(ID.CodecID, 'A')])])],
    ['a TrackEntry without CodecID', liveDocument([], [el(ID.TrackEntry, [uint(ID.TrackNumber, 1)])])],
    ['a TrackEntry without TrackNumber', liveDocument([], [el(ID.TrackEntry, [str(ID.CodecID, 'A')])])],
    ['two tracks with the same number', liveDocument([], [videoTrack(1), audioTrack(1)])],
    ['a TimestampScale of 0', bytes(ebmlHeader(), elUnknown(ID.Segment, [info(0)]))],
    ['a bad float deep inside Colour/MasteringMetadata', liveDocument([], [el(ID.TrackEntry, [uint(ID.TrackNumber, 1), str(ID.CodecID, 'V'), el(ID.Video, [el(0x55b0, [el(0x55d0, [el(0x55d1, [0, 0, 0, 0, 0])])])])])])],
    ['a child extending beyond Cues (walked without buffering)', bytes(ebmlHeader(), elUnknown(ID.Segment, [el(ID.Cues, [[0xbb, 0x85, 0xb3, 0x81, 0]])]))],
    ['a Cluster nested in Cues', bytes(ebmlHeader(), elUnknown(ID.Segment, [el(ID.Cues, [cluster(0, [])])]))],
    ['a Tags nested in a known-size Cluster', liveDocument([cluster(0, [tagsElement([])])])],
    ['a Segment nested in a known-size Segment', bytes(ebmlHeader(), el(ID.Segment, [el(ID.Segment, [])]))],
    ['a Cluster before any Tracks in a known-size Segment', bytes(ebmlHeader(), el(ID.Segment, [info(), okCluster]))],
    ['a Cluster before any Tracks in an unknown-size Segment', bytes(ebmlHeader(), elUnknown(ID.Segment, [info(), okCluster]))],
    ['a Cluster after a Tracks without TrackEntry', bytes(ebmlHeader(), elUnknown(ID.Segment, [info(), el(ID.Tracks, []), okCluster]))],
    ['a Cluster without Timecode', liveDocument([el(ID.Cluster, [el(ID.Void, [])])])],
    ['an unknown-size Cluster without Timecode', liveDocument([elUnknown(ID.Cluster, [el(ID.Void, [])])])],
    ['a block before the Cluster Timecode', liveDocument([el(ID.Cluster, [simpleBlock(1, 0, true), uint(ID.Timecode, 0)])])],
    ['a BlockGroup before the Cluster Timecode', liveDocument([el(ID.Cluster, [el(ID.BlockGroup, [el(ID.Block, [0x81, 0, 0, 0])]), uint(ID.Timecode, 0)])])],
    ['two Cluster Timecodes', liveDocument([el(ID.Cluster, [uint(ID.Timecode, 0), uint(ID.Timecode, 1)])])],
    ['a Cluster Timecode of 9 bytes', liveDocument([el(ID.Cluster, [el(ID.Timecode, new Array<number>(9).fill(0))])])],
    ['a SimpleBlock on track 0', liveDocument([cluster(0, [el(ID.SimpleBlock, [0x80, 0, 0, 0x80, 1])])])],
    ['a SimpleBlock extending beyond its Cluster', liveDocument([bytes([0x1f, 0x43, 0xb6, 0x75, 0x88], uint(ID.Timecode, 0), [0xa3, 0x90, 0x81, 0, 0, 0x80])])],
    ['a Block extending beyond its BlockGroup', liveDocument([cluster(0, [el(ID.BlockGroup, [[0xa1, 0x90, 0x81, 0, 0, 0]])])])],
    ['a BlockGroup without Block', liveDocument([cluster(0, [el(ID.BlockGroup, [uint(ID.BlockDuration, 5)])])])],
    ['a BlockGroup with two Blocks', liveDocument([cluster(0, [el(ID.BlockGroup, [el(ID.Block, [0x81, 0, 0, 0]), el(ID.Block, [0x81, 0, 0, 0])])])])],
    ['fixed lacing that does not divide', liveDocument([cluster(0, [el(ID.SimpleBlock, [0x81, 0, 0, 0x84, 1, 1, 2, 3])])])],
    ['Xiph lace sizes larger than the block', liveDocument([cluster(0, [el(ID.SimpleBlock, [0x81, 0, 0, 0x82, 1, 9, 1, 2])])])],
    ['EBML lace sizes larger than the block', liveDocument([cluster(0, [el(ID.SimpleBlock, [0x81, 0, 0, 0x86, 1, 0x89, 1, 2])])])],
    ['a ReferenceBlock of 9 bytes', liveDocument([cluster(0, [el(ID.BlockGroup, [el(ID.Block, [0x81, 0, 0, 0]), el(ID.ReferenceBlock, new Array<number>(9).fill(0))])])])],
    ['a stream cut inside a known-size Cluster', liveDocument([okCluster]).subarray(0, liveDocument([okCluster]).length - 1)],
    ['a stream cut inside an element header', bytes(liveDocument([cluster(0, [], true)]), [0x1f, 0x43])],
    ['a stream cut inside a block of an unknown-size Cluster', liveDocument([elUnknown(ID.Cluster, [uint(ID.Timecode, 0), [0xa3, 0x88, 0x81, 0, 0]])])],
    ['a stream ending after the EBML header', ebmlHeader()],
    ['a stream cut inside a known-size Segment', bytes(ebmlHeader(), [0x18, 0x53, 0x80, 0x67, 0x40, 0x80], info())],
    ['masters nested too deep', bytes(ebmlHeader(), elUnknown(ID.Segment, [Array.from({ length: 80 }).reduce<Uint8Array>((inner) => el(0xb6, [inner]), new Uint8Array(0)) as Uint8Array].map((c) => el(ID.Chapters, [el(0x45b9, [c])]))))],
  ];

  it.each(cases)('rejects %s', (_name, data) => {
    const e = rejects(data);
    if (process.env.SHOW_MESSAGES) {
      console.log(_name, '→', e.message);
    }
    expect(e.code).toBe('INVALID');
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset).toBeLessThanOrEqual(data.length);
  });

  it('reports where the problem is', () => {
    const bad = liveDocument([cluster(0, [el(ID.SimpleBlock, [0x80, 0, 0, 0x80, 1])])]);
    const e = rejects(bad);
    // The SimpleBlock data starts 2 bytes (ID + size) before the track number it complains about.
    expect(bad[e.offset]).toBe(0x80);
    expect(bad[e.offset - 2]).toBe(0xa3);
    expect(e.message).toMatch(/track number 0.*at byte/);
  });

  it('rejects a known-size Cluster over maxClusterBytes before buffering it', () => {
    const big = cluster(0, [simpleBlock(1, 0, true, new Array<number>(2000).fill(1))]);
    const doc = liveDocument([big]);
    expect(rejects(doc, { maxClusterBytes: 1000 }).code).toBe('TOO_LARGE');
    // Only the cluster header has to arrive for the check.
    const p = new MkvStreamParser({ maxClusterBytes: 1000 });
    const headerEnd = doc.length - big.length + 4 + 2;
    expect(errorOf(() => p.push(doc.subarray(0, headerEnd))).code).toBe('TOO_LARGE');
  });

  it('rejects an unknown-size Cluster as soon as it grows past maxClusterBytes', () => {
    const blocks = Array.from({ length: 20 }, (_, i) => simpleBlock(1, i, i === 0, new Array<number>(100).fill(i)));
    const doc = liveDocument([cluster(0, blocks, true)]);
    const e = rejects(doc, { maxClusterBytes: 1000 });
    expect(e.code).toBe('TOO_LARGE');
    expect(e.offset).toBeLessThan(doc.length - 900);
    // Exactly at the limit is fine.
    const c = cluster(0, blocks.slice(0, 3), true);
    expect(fragments(parseAll(liveDocument([c]), { maxClusterBytes: c.length }))).toHaveLength(1);
  });

  it('rejects a header over maxHeaderBytes and a level-1 element over maxElementBytes', () => {
    const hugeTracks = liveDocument([], [el(ID.TrackEntry, [uint(ID.TrackNumber, 1), str(ID.CodecID, 'V'), el(0x63a2, new Array<number>(5000).fill(0))])]);
    expect(rejects(hugeTracks, { maxHeaderBytes: 4000 }).code).toBe('TOO_LARGE');
    const hugeCues = bytes(ebmlHeader(), elUnknown(ID.Segment, [el(ID.Cues, new Array<number>(5000).fill(0xec))]));
    expect(rejects(hugeCues, { maxElementBytes: 4000 }).code).toBe('TOO_LARGE');
    // A top-level Void of 2^40 bytes would otherwise swallow everything after the EBML header.
    const hugeVoid = bytes(ebmlHeader(), [0xec, 0x01, 0, 0, 0x01, 0, 0, 0, 0, 0]);
    expect(rejects(hugeVoid).code).toBe('TOO_LARGE');
    const hugeTags = bytes(ebmlHeader(), elUnknown(ID.Segment, [tagsElement([['k', 'v'.repeat(5000)]])]));
    expect(rejects(hugeTags, { maxElementBytes: 4000 }).code).toBe('TOO_LARGE');
    // Held-back clusters count against the header budget.
    const heldBack = bytes(ebmlHeader(), elUnknown(ID.Segment, [cluster(0, [simpleBlock(1, 0, true, new Array<number>(5000).fill(0))]), tracks()]));
    expect(rejects(heldBack, { maxHeaderBytes: 4000 }).code).toBe('TOO_LARGE');
  });

  it('is dead after a ParseError: every further call throws the same error', () => {
    const p = new MkvStreamParser();
    const e = errorOf(() => p.push(new TextEncoder().encode('GET / HTTP/1.1\r\n')));
    expect(errorOf(() => p.push(ebmlHeader()))).toBe(e);
    expect(errorOf(() => p.end())).toBe(e);
    expect(p.error).toBe(e);
  });

  it('returns the events completed before an error in the same chunk, and throws on the next call', () => {
    const good = liveDocument([cluster(0, [simpleBlock(1, 0, true)], true), tagsElement([['a', 'b']])]);
    const data = bytes(good, [0x00, 0x00, 0x00]);
    const p = new MkvStreamParser();
    const events = p.push(data);
    expect(events.map((e) => e.kind)).toEqual(['header', 'fragment-start', 'fragment', 'tags']);
    expect(p.error?.code).toBe('INVALID');
    expect(p.error?.offset).toBe(good.length);
    expect(errorOf(() => p.end()).offset).toBe(good.length);
  });

  it('throws a plain Error for push() after end()', () => {
    const p = new MkvStreamParser();
    p.end();
    expect(() => p.push(Uint8Array.of(1))).toThrow(Error);
  });

  it('keeps float and int element checks in header elements', () => {
    const ok = liveDocument([okCluster]);
    expect(parseAll(ok).length).toBe(3);
    const floatInfo = bytes(ebmlHeader(), elUnknown(ID.Segment, [el(ID.Info, [float32(ID.Duration, 1.5)]), tracks(), okCluster]));
    expect(parseAll(floatInfo).length).toBe(3);
  });
});
