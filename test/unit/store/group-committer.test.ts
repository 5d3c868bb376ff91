import type { promises as fsp } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../../src/store/embedded/group-committer.js';

/** A file handle whose fdatasync fails the times it is told to, as Linux reports a failed writeback once. */
function fakeFile(failures: number): { fd: fsp.FileHandle; syncs: () => number } {
  let syncs = 0;
  let left = failures;
  const fd = {
    datasync: () => {
      syncs++;
      return left-- > 0 ? Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })) : Promise.resolve();
    },
  } as unknown as fsp.FileHandle;
  return { fd, syncs: () => syncs };
}

const settle = (p: Promise<void>): Promise<string> => p.then(
  () => 'committed',
  (err: unknown) => `refused: ${(err as Error).message}`,
);

describe('GroupCommitter', () => {
  it('batches rows that arrive while a commit runs, one datasync per file', async () => {
    const indexed: string[][] = [];
    const c = new GroupCommitter<string>((rows) => indexed.push(rows));
    const a = fakeFile(0);
    const first = c.commit(a.fd, 'a1');
    const rest = [c.commit(a.fd, 'a2'), c.commit(a.fd, 'a3')];
    await Promise.all([first, ...rest]);
    expect(indexed).toEqual([['a1'], ['a2', 'a3']]);
    expect(a.syncs()).toBe(2);
  });

  it('never indexes a row of a file whose datasync failed, even when a later datasync of it succeeds', async () => {
    const indexed: string[] = [];
    const c = new GroupCommitter<string>((rows) => indexed.push(...rows));
    const a = fakeFile(1);
    const b = fakeFile(0);
    // a1 and b1 share a batch: a's sync fails, b's does not.
    const a1 = settle(c.commit(a.fd, 'a1'));
    const b1 = settle(c.commit(b.fd, 'b1'));
    // a2 was written to the same file before that failure was known; its own sync would now succeed, but the
    // failed writeback may have dropped its pages.
    const a2 = settle(c.commit(a.fd, 'a2'));
    expect(await Promise.all([a1, b1, a2])).toEqual(['refused: EIO: i/o error, fdatasync', 'committed', 'refused: EIO: i/o error, fdatasync']);
    expect(await settle(c.commit(a.fd, 'a3'))).toBe('refused: EIO: i/o error, fdatasync');
    expect(indexed).toEqual(['b1']);
    expect(c.broken(a.fd)).toBe(true);
    expect(c.broken(b.fd)).toBe(false);
    // a is not synced again: nothing it holds can be trusted.
    expect(a.syncs()).toBe(1);
  });

  it('refuses the whole batch when the index commit fails (SQLITE_FULL), and commits later batches', async () => {
    let fail = true;
    const indexed: string[] = [];
    const c = new GroupCommitter<string>((rows) => {
      if (fail) {
        fail = false;
        throw new Error('database or disk is full');
      }
      indexed.push(...rows);
    });
    const a = fakeFile(0);
    expect(await Promise.all([settle(c.commit(a.fd, 'a1')), settle(c.commit(a.fd, 'a2'))])).toEqual(['refused: database or disk is full', 'committed']);
    expect(indexed).toEqual(['a2']);
    expect(c.broken(a.fd)).toBe(false);
  });
});
