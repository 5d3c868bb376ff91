import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../helpers/parse-error.js';
import { ByteReader } from '../../../../src/formats/bits/byte-reader.js';
import { parseBlockHeader, parseClusterBlocks } from '../../../../src/formats/mkv/mkv-blocks.js';
import { ID, bytes, cluster, el, elUnknown, simpleBlock, uint } from './ebml-build.js';

function header(data: number[]) {
  const r = new ByteReader(Uint8Array.from(data), 500);
  const h = parseBlockHeader(r, 'SimpleBlock');
  return { ...h, rest: r.remaining };
}


describe('block header', () => {
  it('reads track, signed relative timecode and flags', () => {
    // track 1 | rel tc 0xFFBD = -67 (a B-frame shown before its cluster) | flags keyframe | 3 frame bytes
    expect(header([0x81, 0xff, 0xbd, 0x80, 1, 2, 3])).toMatchObject({ track: 1, relativeTimecode: -67, flags: 0x80, frameSizes: [3] });
    // 2-byte track number vint 0x40 0x0A = 10
    expect(header([0x40, 0x0a, 0x00, 0x10, 0x00, 9])).toMatchObject({ track: 10, relativeTimecode: 16, frameSizes: [1] });
  });

  it('rejects track number 0', () => {
    const e = errorOf(() => header([0x80, 0x00, 0x00, 0x80, 1]));
    expect(e.code).toBe('INVALID');
    expect(e.offset).toBe(500);
    expect(e.message).toMatch(/track number 0/);
  });

  it('rejects a block too short for its header', () => {
    expect(errorOf(() => header([0x81, 0x00])).code).toBe('INVALID');
    expect(errorOf(() => header([])).code).toBe('INVALID');
  });

  // [annotation, block data after track/timecode/flags, flags, expected frame sizes]
  const lacing: [string, number, number[], number[]][] = [
    ['no lacing: one frame = the rest', 0x00, [1, 2, 3, 4], [4]],
    ['no lacing: an empty frame', 0x00, [], [0]],
    ['Xiph: count-1=2 | sizes 2, 1 | frames 2+1+3', 0x02, [2, 2, 1, 0xa, 0xa, 0xb, 0xc, 0xc, 0xc], [2, 1, 3]],
    ['Xiph: size 255+10=265 as FF 0A, last frame 1', 0x02, [1, 0xff, 0x0a, ...new Array<number>(266).fill(7)], [265, 1]],
    ['Xiph: one frame (count byte 0) takes everything', 0x02, [0, 5, 5], [2]],
    ['fixed: 3 frames of 2 from 6 bytes', 0x04, [2, 1, 1, 2, 2, 3, 3], [2, 2, 2]],
    ['EBML: count-1=3 | first 0x82=2 | delta 0xC0=+1 → 3 | delta 0xBE=-1 → 2 | last 1', 0x06, [3, 0x82, 0xc0, 0xbe, 1, 1, 2, 2, 2, 3, 3, 4], [2, 3, 2, 1]],
    ['EBML: 2-byte first size 0x40 0x05 = 5, last 0', 0x06, [1, 0x40, 0x05, 1, 2, 3, 4, 5], [5, 0]],
  ];
  it.each(lacing)('%s', (_name, flags, rest, sizes) => {
    const h = header([0x81, 0, 0, flags, ...rest]);
    expect(h.frameSizes).toEqual(sizes);
    expect(h.rest).toBe(sizes.reduce((a, b) => a + b, 0));
  });

  const badLacing: [string, number, number[]][] = [
    ['fixed: 5 bytes do not divide into 2 frames', 0x04, [1, 1, 2, 3, 4, 5]],
    ['Xiph: sizes 5 + 5 exceed the 3 data bytes', 0x02, [2, 5, 5, 1, 2, 3]],
    ['Xiph: the lace header is cut off by the end of the block', 0x02, [2, 0xff]],
    ['Xiph: a run of 255s reaching the end of the block', 0x02, [1, 0xff, 0xff, 0xff]],
    ['EBML: first size 0x8A=10 exceeds the 2 data bytes', 0x06, [1, 0x8a, 1, 2]],
    ['EBML: delta 0x80=-63 makes a negative size', 0x06, [2, 0x82, 0x80, 1, 2]],
    ['EBML: reserved all-ones delta', 0x06, [2, 0x82, 0xff, 1, 2, 3]],
    ['EBML: first size 0x00 has no vint marker', 0x06, [1, 0x00, 1]],
    ['laced block without its lace count byte', 0x02, []],
  ];
  it.each(badLacing)('rejects %s', (_name, flags, rest) => {
    expect(errorOf(() => header([0x81, 0, 0, flags, ...rest])).code).toBe('INVALID');
  });
});

describe('parseClusterBlocks', () => {
  it('returns absolute timecodes, flags and de-laced frames of SimpleBlocks and BlockGroups', () => {
    const c = cluster(1000, [
      el(ID.CRC32, [0, 0, 0, 0]),
      simpleBlock(1, 0, true, [0x11, 0x22]),
      simpleBlock(1, -33, false, [0x33]),
      el(ID.SimpleBlock, [0x82, 0x00, 0x05, 0x80 | 0x08 | 0x01 | 0x04, 1, 7, 7, 8, 8]),
      el(ID.BlockGroup, [el(ID.Block, [0x81, 0x00, 0x0a, 0x00, 0x44]), uint(ID.BlockDuration, 40)]),
      el(ID.BlockGroup, [el(ID.ReferenceBlock, [0xf0]), el(ID.Block, [0x81, 0x00, 0x14, 0x00, 0x55])]),
      el(ID.Void, [0, 0, 0]),
      el(0x4fff, [1, 2, 3]),
    ]);
    const { timecode, blocks } = parseClusterBlocks(c);
    expect(timecode).toBe(1000);
    expect(blocks.map((b) => [b.track, b.timecode, b.keyframe, b.invisible, b.discardable, b.duration])).toEqual([
      [1, 1000, true, false, false, undefined],
      [1, 967, false, false, false, undefined],
      [2, 1005, true, true, true, undefined],
      [1, 1010, true, false, false, 40],
      [1, 1020, false, false, false, undefined],
    ]);
    expect(blocks.map((b) => b.frames.map((f) => [...f]))).toEqual([[[0x11, 0x22]], [[0x33]], [[7, 7], [8, 8]], [[0x44]], [[0x55]]]);
    // Frames are views into the given bytes.
    expect(blocks[0]?.frames[0]?.buffer).toBe(c.buffer);
  });

  it('accepts an unknown-size cluster running to the end of the buffer', () => {
    const c = elUnknown(ID.Cluster, [uint(ID.Timecode, 5), simpleBlock(1, 1, true)]);
    expect(parseClusterBlocks(c).blocks.map((b) => b.timecode)).toEqual([6]);
  });

  it.each([
    ['no Timecode before the first block', el(ID.Cluster, [simpleBlock(1, 0, true), uint(ID.Timecode, 1)])],
    ['no Timecode at all', el(ID.Cluster, [el(ID.Void, [])])],
    ['two Timecodes', el(ID.Cluster, [uint(ID.Timecode, 1), uint(ID.Timecode, 2)])],
    ['a BlockGroup without Block', cluster(0, [el(ID.BlockGroup, [uint(ID.BlockDuration, 1)])])],
    ['a BlockGroup with two Blocks', cluster(0, [el(ID.BlockGroup, [el(ID.Block, [0x81, 0, 0, 0]), el(ID.Block, [0x81, 0, 0, 0])])])],
    ['a SimpleBlock on track 0', cluster(0, [el(ID.SimpleBlock, [0x80, 0, 0, 0x80, 1])])],
    ['a child extending beyond the cluster', bytes([0x1f, 0x43, 0xb6, 0x75, 0x86], uint(ID.Timecode, 0), [0xa3, 0x85, 0x81])],
    ['a declared size larger than the buffer', bytes([0x1f, 0x43, 0xb6, 0x75, 0x90], uint(ID.Timecode, 0))],
    ['trailing bytes after a known size', bytes(cluster(0, []), [0xec, 0x80])],
    ['a Tags element nested in it', cluster(0, [el(ID.Tags, [])])],
    ['a Timecode longer than 8 bytes', el(ID.Cluster, [el(ID.Timecode, new Array<number>(9).fill(0))])],
    ['a known master with a bad child (BlockAdditions)', cluster(0, [el(ID.BlockGroup, [el(ID.Block, [0x81, 0, 0, 0]), el(0x75a1, [0xa6, 0x85, 0xee])])])],
    ['not a Cluster', el(ID.Tags, [])],
  ])('rejects %s', (_name, c) => {
    expect(errorOf(() => parseClusterBlocks(c)).code).toBe('INVALID');
  });
});
