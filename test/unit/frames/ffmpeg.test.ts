import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findFfmpeg } from '../../../src/frames/ffmpeg-binary.js';
import { decodeImages, splitJpegs, splitPngs } from '../../../src/frames/frame-decoder.js';
import { fixture } from '../../helpers/media.js';

describe('findFfmpeg', () => {
  it.each([
    ['FFMPEG_PATH wins', { FFMPEG_PATH: '/usr/bin/ffmpeg', PATH: '/nowhere' }, 'FFMPEG_PATH'],
    ['then PATH', { PATH: '/nowhere:/usr/bin' }, 'PATH'],
    ['then the npm-shipped binary', { PATH: '/nowhere' }, 'npm'],
  ] as const)('%s', (_label, env, source) => {
    const found = findFfmpeg(env);
    expect(found?.source).toBe(source);
    expect(existsSync(found!.path)).toBe(true);
  });

  it('a FFMPEG_PATH that is not executable means none, not a silent fallback', () => {
    expect(findFfmpeg({ FFMPEG_PATH: '/nowhere/ffmpeg', PATH: '/usr/bin' })).toBeNull();
  });
});

describe('decodeImages', () => {
  const mkv = fixture('mkv/h264-5s-1s-gop.mkv');
  const binaries = [findFfmpeg({ PATH: '/usr/bin' }), findFfmpeg({ PATH: '/nowhere' })].filter((b) => b !== null);

  it.each(binaries.map((b) => [b.source, b.path]))('picks exactly the asked frames with the %s ffmpeg', async (_source, path) => {
    const jpegs = await decodeImages({ ffmpegPath: path, mkv, keyframesOnly: false, pick: [0, 45, 149], format: 'JPEG', quality: 80 });
    expect(jpegs).toHaveLength(3);
    expect(new Set(jpegs.map((j) => Buffer.from(j).toString('base64'))).size).toBe(3);
    const keys = await decodeImages({ ffmpegPath: path, mkv, keyframesOnly: true, pick: [0, 4], format: 'PNG', quality: 80, width: 64 });
    expect(keys).toHaveLength(2);
    // PNG IHDR: width at byte 16
    expect(keys.map((k) => Buffer.from(k).readUInt32BE(16))).toEqual([64, 64]);
  });

  it('splits concatenated images at their boundaries', () => {
    const jpeg = (n: number) => Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, n, 0x00, 0xff, 0x00, 0xff, 0xd9]);
    expect(splitJpegs(Uint8Array.from([...jpeg(1), ...jpeg(2)])).map((x) => x[4])).toEqual([1, 2]);
    const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    const chunk = (type: string, data: number[]) => [0, 0, 0, data.length, ...Buffer.from(type, 'latin1'), ...data, 0, 0, 0, 0];
    const png = (n: number) => [...sig, ...chunk('IHDR', [n]), ...chunk('IEND', [])];
    expect(splitPngs(Uint8Array.from([...png(7), ...png(9)])).map((x) => x[16])).toEqual([7, 9]);
  });
});
