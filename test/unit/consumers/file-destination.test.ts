import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileDestination } from '../../../src/consumers/destinations/file-destination.js';
import { makeFrame } from './make-frame.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'openkvs-filedest-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const FN = '91343852333181432392682062607743920146264883612';

function filesUnder(root: string): string[] {
  return (readdirSync(root, { recursive: true, withFileTypes: true }) as { isFile(): boolean; parentPath?: string; path?: string; name: string }[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path ?? '', e.name).slice(root.length + 1))
    .sort();
}

describe('FileDestination', () => {
  it.each([
    ['PRODUCER_TIMESTAMP', 'JPEG', `cam1/2025/11/27/21/1764280001500-${FN}.jpg`],
    ['SERVER_TIMESTAMP', 'PNG', `cam1/2025/11/27/21/1764280001620-${FN}.png`],
  ] as const)('%s, %s: the image under the documented path, nothing else left behind', async (selector, format, path) => {
    const root = join(dir, `${selector}-${format}`);
    const d = new FileDestination(root, selector);
    expect(d.type).toBe('DESTINATION');
    const frame = makeFrame({ format });
    expect(await d.deliver(frame)).toEqual([]);
    expect(filesUnder(root)).toEqual([path]);
    expect(new Uint8Array(readFileSync(join(root, path)))).toEqual(frame.image);
    expect(d.locate(frame)).toBe(`file://localhost${join(root, path)}`);
  });

  it('locate names the absolute file, also for a directory given with dot segments', () => {
    const d = new FileDestination(`${dir}/./x/../frames`, 'PRODUCER_TIMESTAMP');
    expect(d.locate(makeFrame())).toBe(`file://localhost${join(dir, 'frames', `cam1/2025/11/27/21/1764280001500-${FN}.jpg`)}`);
  });

  it('a second image for the same key replaces the first; other keys sit next to it', async () => {
    const root = join(dir, 'replace');
    const d = new FileDestination(root, 'PRODUCER_TIMESTAMP');
    await d.deliver(makeFrame({ image: Uint8Array.from([1]) }));
    await d.deliver(makeFrame({ image: Uint8Array.from([2]) }));
    await d.deliver(makeFrame({ image: Uint8Array.from([3]), producerTimestamp: 1_764_283_600_000 }));
    expect(filesUnder(root)).toEqual([`cam1/2025/11/27/21/1764280001500-${FN}.jpg`, `cam1/2025/11/27/22/1764283600000-${FN}.jpg`]);
    expect([...readFileSync(join(root, `cam1/2025/11/27/21/1764280001500-${FN}.jpg`))]).toEqual([2]);
  });

  it('a stream named ".." (stored before such names were refused) writes nothing outside the directory', async () => {
    const parent = join(dir, 'dots');
    const d = new FileDestination(join(parent, 'frames'), 'PRODUCER_TIMESTAMP');
    await expect(d.deliver(makeFrame({ streamName: '..' }))).rejects.toThrow(/leaves the destination directory/);
    expect(existsSync(parent)).toBe(false);
  });

  it('a directory that cannot be created rejects the delivery', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await expect(new FileDestination(file, 'PRODUCER_TIMESTAMP').deliver(makeFrame())).rejects.toThrow(/ENOTDIR|EEXIST/);
  });
});
