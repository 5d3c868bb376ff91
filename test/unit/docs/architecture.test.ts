import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// docs/architecture.md promises one row per src/ folder: what it owns and what it may import.

describe('docs/architecture.md', () => {
  const doc = readFileSync('docs/architecture.md', 'utf8');
  const rows = [...doc.matchAll(/^\| `src\/([\w-]+)\/` \|([^|]*)\|([^|]*)\|/gm)].map((m) => ({ folder: m[1] ?? '', owns: (m[2] ?? '').trim(), imports: (m[3] ?? '').trim() }));
  const folders = readdirSync('src', { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);

  it('has a row for every src/ folder, and none for a folder that is gone', () => {
    expect(folders.length).toBeGreaterThan(10);
    expect(rows.map((r) => r.folder).sort()).toEqual([...folders].sort());
  });

  it('says in each row what the folder owns and what it may import', () => {
    for (const r of rows) {
      expect(r.owns.length, `src/${r.folder}/ owns`).toBeGreaterThan(10);
      expect(r.imports.length, `src/${r.folder}/ may import`).toBeGreaterThan(0);
    }
  });
});
