import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../../src/errors/codes.js';
import { AckErrorId, formatAck, type AckErrorName } from '../../../src/ingest/ack.js';

const doc = readFileSync('docs/errors.md', 'utf8');

/** The cells of every table row whose first cell matches `first`. */
function rows(first: RegExp): string[][] {
  return doc
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .map((line) => line.slice(2, -2).split(' | '))
    .filter((cells) => first.test(cells[0] ?? ''));
}

describe('error registry', () => {
  it('matches docs/errors.md row for row (name and status)', () => {
    const found = [...doc.matchAll(/^\| `(\w+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(found)).toEqual(ERROR_STATUS);
  });

  it('gives every error name a meaning and a way to fix it', () => {
    const named = rows(/^`\w+Exception`$|^`InternalFailure`$/);
    expect(named.map((c) => c[0]).sort()).toEqual(Object.keys(ERROR_STATUS).map((n) => `\`${n}\``).sort());
    for (const cells of named) {
      // name | status | meaning | how to fix: an empty or missing cell is an undocumented error
      expect(cells, cells[0]).toHaveLength(4);
      expect(cells[2]?.trim().length, `${cells[0]} meaning`).toBeGreaterThan(10);
      expect(cells[3]?.trim().length, `${cells[0]} how to fix`).toBeGreaterThan(3);
    }
  });
});

describe('PutMedia ack ErrorIds', () => {
  const ackRows = rows(/^\d{4}$/);

  it('documents every ErrorId the code has, and none it lacks', () => {
    const documented = Object.fromEntries(ackRows.map((c) => [(c[1] ?? '').replaceAll('`', ''), Number(c[0])]));
    expect(documented).toEqual(AckErrorId);
  });

  it('says for each one whether an ErrorCode is sent, as formatAck does', () => {
    for (const cells of ackRows) {
      const name = (cells[1] ?? '').replaceAll('`', '') as AckErrorName;
      const line = JSON.parse(formatAck({ type: 'ERROR', error: name })) as { ErrorCode?: string };
      expect(cells[2], name).toBe(line.ErrorCode === name ? 'yes' : 'no');
    }
  });

  it('gives every ErrorId a meaning and a way to fix it', () => {
    for (const cells of ackRows) {
      expect(cells, cells[0]).toHaveLength(5);
      expect(cells[3]?.trim().length, `${cells[0]} meaning`).toBeGreaterThan(10);
      expect(cells[4]?.trim().length, `${cells[0]} how to fix`).toBeGreaterThan(0);
    }
  });
});
