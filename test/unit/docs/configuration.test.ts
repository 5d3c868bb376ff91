import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, DEFAULT_STREAM_CAPACITY } from '../../../src/conf/config.js';
import { ENV_KEYS } from '../../../src/conf/load-config.js';

// docs/configuration.md and the README's configuration table against src/conf and the flags of src/main.ts.

type Row = { key: string; type: string; defaultCell: string; env: string; flag: string; meaning: string };

const doc = readFileSync('docs/configuration.md', 'utf8');
const rows: Row[] = doc
  .split('\n')
  .filter((line) => /^\| `[\w.]+` \|/.test(line))
  .map((line) => {
    // a `|` inside a cell is written `\|` (the enum types)
    const cells = line
      .replace(/\\\|/g, '\uE000')
      .split('|')
      .slice(1, -1)
      .map((c) => c.replace(/\uE000/g, '|').trim());
    const [key = '', type = '', defaultCell = '', env = '', flag = '', meaning = ''] = cells;
    return { key: key.replaceAll('`', ''), type, defaultCell, env, flag, meaning };
  });
const rowOf = new Map(rows.map((r) => [r.key, r]));

const capacityKeys = Object.keys(DEFAULT_STREAM_CAPACITY).map((k) => `streamCapacity.${k}`);
const allKeys = [...Object.keys(DEFAULT_CONFIG), ...capacityKeys];

function defaultOf(key: string): unknown {
  if (key.startsWith('streamCapacity.')) {
    return (DEFAULT_STREAM_CAPACITY as Record<string, unknown>)[key.slice('streamCapacity.'.length)];
  }
  return (DEFAULT_CONFIG as Record<string, unknown>)[key];
}

/** How a default is written at the start of its cell: the value itself in backticks, `null` and `[]` included. */
function written(value: unknown): string | null {
  if (Array.isArray(value)) {
    return value.length === 0 ? '`[]`' : `\`${value.join(',')}\``;
  }
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return `\`${String(value)}\``;
  }
  return null;
}

/** The serve flags src/main.ts maps onto settings, read from its source: main.ts runs the server when imported. */
function flagKeys(): Record<string, string> {
  const main = readFileSync('src/main.ts', 'utf8');
  const map = /const map: Record<string, string> = \{([^}]*)\}/.exec(main)?.[1];
  expect(map, 'the flag map in src/main.ts').toBeDefined();
  const flags: Record<string, string> = {};
  for (const m of (map ?? '').matchAll(/'?([\w-]+)'?:\s*'(\w+)'/g)) {
    flags[`--${m[1] ?? ''}`] = m[2] ?? '';
  }
  return flags;
}

describe('docs/configuration.md', () => {
  it('reads the table it checks', () => {
    expect(rows.length).toBeGreaterThan(30);
    expect(new Set(rows.map((r) => r.key)).size, 'a key listed twice').toBe(rows.length);
  });

  it('documents every key of DEFAULT_CONFIG and of the stream capacity, and no other', () => {
    expect(rows.map((r) => r.key).sort()).toEqual([...allKeys].sort());
  });

  it('gives every key its default, a type and a meaning', () => {
    for (const key of allKeys) {
      const r = rowOf.get(key);
      const expected = written(defaultOf(key));
      if (expected !== null) {
        expect(r?.defaultCell.startsWith(expected), `${key}: default cell "${r?.defaultCell}" should start with ${expected}`).toBe(true);
      }
      expect(r?.type.length, `${key} type`).toBeGreaterThan(0);
      expect(r?.meaning.length, `${key} meaning`).toBeGreaterThan(10);
    }
  });

  it('names each key’s environment variable as ENV_KEYS does, and – for keys without one', () => {
    const envOf = new Map(Object.entries(ENV_KEYS).map(([env, key]) => [key, env]));
    for (const [env, key] of Object.entries(ENV_KEYS)) {
      expect(allKeys, `${env} maps to an unknown key`).toContain(key);
    }
    for (const r of rows) {
      const env = envOf.get(r.key);
      expect(r.env, r.key).toBe(env === undefined ? '–' : `\`${env}\``);
    }
  });

  it('names each key’s serve flag as src/main.ts maps it, and – for keys without one', () => {
    const flags = flagKeys();
    expect(Object.keys(flags)).toContain('--port');
    const flagOf = new Map(Object.entries(flags).map(([flag, key]) => [key, flag]));
    for (const [flag, key] of Object.entries(flags)) {
      expect(allKeys, `${flag} maps to an unknown key`).toContain(key);
    }
    for (const r of rows) {
      const flag = flagOf.get(r.key);
      expect(r.flag, r.key).toBe(flag === undefined ? '–' : `\`${flag}\``);
    }
  });
});

describe("README's configuration table", () => {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration') + 1));
  // the first cell of each row may name several keys: `accessKeyId`, `secretAccessKey`
  const listed = new Set(
    section
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`([\w.]+)`/g)].map((m) => m[1] ?? '')),
  );

  it('lists every key (the stream capacity by its members)', () => {
    expect(section.length).toBeGreaterThan(100);
    const missing = allKeys.filter((k) => k !== 'streamCapacity' && !listed.has(k));
    expect(missing).toEqual([]);
  });

  it('lists no key the server lacks', () => {
    expect([...listed].filter((k) => !allKeys.includes(k))).toEqual([]);
  });
});
