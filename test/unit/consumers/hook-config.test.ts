import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HookConfigStore, hookModulePath, type HookConfig } from '../../../src/consumers/hook-config.js';
import { KvsError } from '../../../src/errors/codes.js';
import { openDatabase, type Db } from '../../../src/store/database.js';

let base: string;
let hooksDir: string;
let outside: string;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'openkvs-hookcfg-')));
  hooksDir = join(base, 'hooks');
  outside = join(base, 'elsewhere');
  mkdirSync(join(hooksDir, 'sub'), { recursive: true });
  mkdirSync(join(hooksDir, 'dir.mjs'));
  mkdirSync(join(hooksDir, '..dots'));
  mkdirSync(outside);
  for (const f of ['a.mjs', 'b.js', 'c.cjs', 'd.ts', 'e.mts', 'f.cts', 'sub/g.mjs', 'notes.txt', 'noext', 'h.mjs.bak', 'UP.MJS', '..motion.mjs', '..dots/i.mjs']) {
    writeFileSync(join(hooksDir, f), 'export default () => undefined;\n');
  }
  writeFileSync(join(outside, 'evil.mjs'), 'export default () => undefined;\n');
  writeFileSync(join(base, 'sibling.mjs'), 'export default () => undefined;\n');
  symlinkSync(join(outside, 'evil.mjs'), join(hooksDir, 'link-out.mjs'));
  symlinkSync(outside, join(hooksDir, 'dir-out'));
  symlinkSync(join(hooksDir, 'a.mjs'), join(hooksDir, 'link-in.mjs'));
  symlinkSync(join(hooksDir, 'nowhere.mjs'), join(hooksDir, 'dangling.mjs'));
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

function refusal(module: string, dir = hooksDir): KvsError {
  try {
    hookModulePath(dir, module);
  } catch (err) {
    expect(err).toBeInstanceOf(KvsError);
    return err as KvsError;
  }
  throw new Error(`${module} was accepted`);
}

describe('hookModulePath', () => {
  it.each([
    ['a.mjs', 'a.mjs'],
    ['b.js', 'b.js'],
    ['c.cjs', 'c.cjs'],
    ['d.ts', 'd.ts'],
    ['e.mts', 'e.mts'],
    ['f.cts', 'f.cts'],
    ['sub/g.mjs', 'sub/g.mjs'],
    ['./a.mjs', 'a.mjs'],
    ['sub/../a.mjs', 'a.mjs'],
    ['link-in.mjs (a link to a file inside)', 'a.mjs'],
    // regression: a relative path starting with '..' was taken for one that climbs out of the directory
    ['..motion.mjs', '..motion.mjs'],
    ['./..motion.mjs', '..motion.mjs'],
    ['..dots/i.mjs', '..dots/i.mjs'],
  ])('%s is accepted', (module, file) => {
    expect(hookModulePath(hooksDir, module.split(' ')[0]!)).toBe(join(hooksDir, file));
  });

  it('accepts an absolute path that is inside the directory', () => {
    expect(hookModulePath(hooksDir, join(hooksDir, 'a.mjs'))).toBe(join(hooksDir, 'a.mjs'));
  });

  it('follows a hooks directory that is itself a link', () => {
    const alias = join(base, 'hooks-alias');
    symlinkSync(hooksDir, alias);
    expect(hookModulePath(alias, 'a.mjs')).toBe(join(hooksDir, 'a.mjs'));
    expect(refusal('../sibling.mjs', alias).message).toMatch(/outside the hooks directory/);
  });

  it.each([
    ['../sibling.mjs', /outside the hooks directory/],
    ['../elsewhere/evil.mjs', /outside the hooks directory/],
    ['sub/../../sibling.mjs', /outside the hooks directory/],
    ['..', /outside the hooks directory/],
    ['../hooks/../sibling.mjs', /outside the hooks directory/],
    ['ABS_OUTSIDE', /outside the hooks directory/],
    ['link-out.mjs', /outside the hooks directory/],
    ['dir-out/evil.mjs', /outside the hooks directory/],
    ['', /outside the hooks directory/],
    ['.', /outside the hooks directory/],
    ['missing.mjs', /was not found in the hooks directory/],
    ['../missing.mjs', /was not found in the hooks directory/],
    ['dangling.mjs', /was not found in the hooks directory/],
    ['notes.txt', /must be a \.js, \.mjs, \.cjs, \.ts, \.mts or \.cts file/],
    ['noext', /must be a \.js/],
    ['h.mjs.bak', /must be a \.js/],
    ['UP.MJS', /must be a \.js/],
    ['dir.mjs', /must be a \.js/],
  ])('%j is refused: %s', (module, message) => {
    const name = module === 'ABS_OUTSIDE' ? join(outside, 'evil.mjs') : module;
    const err = refusal(name);
    expect(err.errorName).toBe('InvalidArgumentException');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(message);
  });

  it('a hooks directory that does not exist refuses everything as not found', () => {
    expect(refusal('a.mjs', join(base, 'no-such-dir')).message).toMatch(/was not found/);
  });
});

describe('HookConfigStore', () => {
  let db: Db;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'openkvs-hookstore-'));
    db = openDatabase(dir);
  });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('set / get / replace / clear with [] / drop, per stream', () => {
    const store = new HookConfigStore(db);
    const one: HookConfig[] = [{ Name: 'm', Type: 'MOTION', Threshold: 0.05 }];
    const two: HookConfig[] = [
      { Name: 'b', Type: 'MODULE', Module: 'b.mjs', TimeoutMs: 5000 },
      { Name: 'w', Type: 'WEBHOOK', Uri: 'http://127.0.0.1:1/x', Secret: 's' },
    ];
    expect(store.get(1)).toEqual([]);
    store.set(1, one);
    store.set(2, two);
    expect(store.get(1)).toEqual(one);
    expect(store.get(2)).toEqual(two);
    store.set(1, two);
    expect(store.get(1)).toEqual(two);
    store.set(1, []);
    expect(store.get(1)).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM frame_hooks WHERE stream_id = 1').get()).toEqual({ n: 0 });
    store.drop(2);
    expect(store.get(2)).toEqual([]);
  });
});
