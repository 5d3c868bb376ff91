import { describe, expect, it } from 'vitest';
import { readElementSize } from '../../../src/formats/ebml/vint.js';
import { parseClusterBlocks } from '../../../src/formats/mkv/mkv-stream-parser.js';
import { MediaUnitSplitter, sealCluster, type MediaUnit } from '../../../src/sdk/media-units.js';
import { clustersOf, fixture, realMedia } from '../../helpers/media.js';

function split(bytes: Uint8Array, chunk: number): { units: MediaUnit[]; splitter: MediaUnitSplitter } {
  const splitter = new MediaUnitSplitter();
  const units: MediaUnit[] = [];
  for (let off = 0; off < bytes.length; off += chunk) {
    units.push(...splitter.push(bytes.subarray(off, off + chunk)));
  }
  units.push(...splitter.end());
  return { units, splitter };
}

const fragments = (units: MediaUnit[]) => units.flatMap((u) => (u.kind === 'fragment' ? [u] : []));

describe('sealCluster', () => {
  it('gives an unknown-size cluster (kvssink) its real size and keeps the payload', () => {
    const source = clustersOf(realMedia('kvs-producer/kvssink-test-stream-1_0.mkv'))[0]!.bytes;
    expect(readElementSize(source, 4, source.length, 4)?.unknown).toBe(true);
    const sealed = sealCluster(source);
    const size = readElementSize(sealed, 4, sealed.length, 4)!;
    expect(size.unknown).toBe(false);
    expect(4 + size.length + size.value).toBe(sealed.length);
    expect(Buffer.from(sealed.subarray(4 + size.length)).equals(Buffer.from(source.subarray(5)))).toBe(true);
    expect(parseClusterBlocks(sealed).blocks.length).toBe(clustersOf(realMedia('kvs-producer/kvssink-test-stream-1_0.mkv'))[0]!.blockCount);
  });

  it('leaves a known-size cluster untouched', () => {
    const c = clustersOf(fixture('mkv/h264-5s-1s-gop.mkv'))[0]!.bytes;
    expect(sealCluster(c)).toBe(c);
  });
});

describe('MediaUnitSplitter', () => {
  it.each([7, 4096, 1 << 20])('cuts the kvssink capture into header + 37 fragments with %i-byte chunks', (chunk) => {
    const source = realMedia('kvs-producer/kvssink-test-stream-1_0.mkv');
    const { units, splitter } = split(source, chunk);
    expect(splitter.format).toBe('mkv');
    expect(units[0]?.kind).toBe('header');
    expect(units.filter((u) => u.kind === 'header')).toHaveLength(1);
    const expected = clustersOf(source);
    expect(fragments(units).map((f) => f.timecode)).toEqual(expected.map((c) => c.timecode));
    // The Tags after the last cluster have no fragment to travel with.
    expect(splitter.danglingTagsBytes).toBeGreaterThan(0);
    expect(splitter.pendingInputBytes).toBe(0);
  });

  it('puts the producer Tags that precede a cluster in front of it, and the stream re-parses to the same fragments', () => {
    const source = realMedia('kvs-producer/kvssink-test-stream-1_0.mkv');
    const { units } = split(source, 65_536);
    const header = units.find((u) => u.kind === 'header')!;
    const replay = new Uint8Array(Buffer.concat([header.bytes, ...fragments(units).map((f) => f.bytes)]));
    const again = clustersOf(replay);
    expect(again.map((c) => c.timecode)).toEqual(clustersOf(source).map((c) => c.timecode));
    expect(fragments(units).filter((f) => f.bytes[0] === 0x12 && f.bytes[1] === 0x54).length).toBeGreaterThan(0); // Tags ID 0x1254C367
  });

  it('counts input after the last complete fragment as pending, until end()', () => {
    const source = fixture('mkv/h264-5s-1s-gop.mkv');
    const last = clustersOf(source).at(-1)!.bytes;
    const start = Buffer.from(source).indexOf(Buffer.from(last));
    const splitter = new MediaUnitSplitter();
    expect(fragments(splitter.push(source.subarray(0, start)))).toHaveLength(4);
    expect(splitter.push(source.subarray(start, start + last.length - 100))).toEqual([]);
    expect(splitter.pendingInputBytes).toBe(last.length - 100);
    expect(fragments([...splitter.push(source.subarray(start + last.length - 100)), ...splitter.end()])).toHaveLength(1);
    expect(splitter.pendingInputBytes).toBe(0);
  });

  it('detects MP4 and hands out the Matroska made of it', () => {
    const { units, splitter } = split(fixture('mp4/h264-frag.mp4'), 5000);
    expect(splitter.format).toBe('mp4');
    expect(units[0]?.kind).toBe('header');
    expect(fragments(units).length).toBeGreaterThan(1);
    const replay = new Uint8Array(Buffer.concat(units.map((u) => u.bytes)));
    expect(clustersOf(replay)).toHaveLength(fragments(units).length);
  });

  it('throws the parser error for bytes that are not media', () => {
    const splitter = new MediaUnitSplitter();
    expect(() => {
      splitter.push(new TextEncoder().encode('this is not a video at all'));
      splitter.end();
    }).toThrow();
  });

  it('returns nothing for an empty input', () => {
    expect(new MediaUnitSplitter().end()).toEqual([]);
  });
});
