// A bounded, deterministic fuzz run of every target (the CI share of issue 8's fuzzing; `npm run fuzz` is
// the long run), and a replay of every crasher that was found and fixed (media-fixtures/fuzz-regressions).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeError, fuzz, runInput } from './engine.js';
import type { Finding } from './engine.js';
import { TARGET_NAMES } from './targets.js';
import type { TargetName } from './targets.js';
import { FIXTURES } from '../helpers/media.js';

/** Inputs per target: about half a minute in all on a busy two-core machine. */
const BUDGET: Record<TargetName, number> = { mkv: 10000, mp4: 4000, rtp: 10000, codec: 30000 };
const SEED = 20261207;

const show = (f: Finding): string => `${f.signature} — ${f.message.split('\n')[0]} (seed ${f.seed}, input #${f.index}, chunk seed ${f.chunkSeed})`;

describe('fuzz: mutated fixtures and real media', () => {
  it.each(TARGET_NAMES)('%s: no input crashes its parser', (target) => {
    const findings: Finding[] = [];
    const stats = fuzz(target, { seed: SEED, from: 0, to: BUDGET[target], slowMs: Infinity, onFinding: (f) => findings.push(f) });
    expect(findings.map(show)).toEqual([]);
    // Both outcomes happen, or the mutations never get past the first check (or never fail one).
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.rejected).toBeGreaterThan(0);
  }, 180_000);
});

const REGRESSIONS = join(FIXTURES, 'fuzz-regressions');

type Regression = { target: TargetName; file: string; chunkSeed: number };

function regressions(): Regression[] {
  const out: Regression[] = [];
  for (const target of TARGET_NAMES) {
    const dir = join(REGRESSIONS, target);
    if (!existsSync(dir)) {
      continue;
    }
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.bin')).sort()) {
      const meta = join(dir, name.replace(/\.bin$/, '.json'));
      const chunkSeed = existsSync(meta) ? ((JSON.parse(readFileSync(meta, 'utf8')) as { chunkSeed?: number }).chunkSeed ?? 0) : 0;
      out.push({ target, file: join(dir, name), chunkSeed });
    }
  }
  return out;
}

describe('fuzz regressions', () => {
  it('the folder holds crashers for known targets only', () => {
    const dirs = readdirSync(REGRESSIONS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(dirs.filter((d) => !(TARGET_NAMES as readonly string[]).includes(d))).toEqual([]);
  });

  it.each(regressions().map((r) => [`${r.target}/${r.file.split('/').pop() ?? ''}`, r] as const))('%s no longer crashes', (_name, r) => {
    const input = new Uint8Array(readFileSync(r.file));
    // The chunking it was found with, and another one.
    for (const chunkSeed of [r.chunkSeed, 0]) {
      const result = runInput(r.target, input, chunkSeed);
      expect('error' in result ? describeError(result.error).stack : 'no crash').toBe('no crash');
    }
  });
});
