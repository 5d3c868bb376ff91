import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateMasterKey, readMasterKey } from '../../../src/kms/master-key.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'openkvs-master-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('master key', () => {
  it('is generated once into <dataDir>/master.key with mode 0600, then read back', () => {
    const dir = tmp();
    const first = loadOrCreateMasterKey(dir, null);
    expect(first.generated).toBe(true);
    expect(first.key.length).toBe(32);
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    const again = loadOrCreateMasterKey(dir, null);
    expect(again.generated).toBe(false);
    expect(again.key.equals(first.key)).toBe(true);
  });

  it('reads a configured file as raw bytes, base64 or hex, and creates nothing in the data dir', () => {
    const dir = tmp();
    const key = Buffer.alloc(32, 0xab);
    for (const content of [key, key.toString('base64') + '\n', key.toString('hex') + '\n']) {
      const file = join(dir, 'k');
      writeFileSync(file, content);
      const m = loadOrCreateMasterKey(join(dir, 'data'), file);
      expect(m.key.equals(key)).toBe(true);
      expect(m.generated).toBe(false);
    }
    expect(() => readFileSync(join(dir, 'data', 'master.key'))).toThrow();
  });

  it('refuses a file that is not a 32-byte key, and a configured file that is missing', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'short'), 'abcd\n');
    expect(() => readMasterKey(join(dir, 'short'))).toThrow(/32 bytes/);
    expect(() => loadOrCreateMasterKey(dir, join(dir, 'absent'))).toThrow();
  });
});
