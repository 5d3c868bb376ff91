import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../../src/consumers/checkpoint-store.js';
import { openDatabase, type Db } from '../../../src/store/database.js';

let dir: string;
let db: Db;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'openkvs-ckpt-'));
  db = openDatabase(dir);
});

afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const FN = '91343852333181432392682062607743920146264883612';

describe('CheckpointStore', () => {
  it('save / get / overwrite / drop, per stream', () => {
    const s = new CheckpointStore(db);
    expect(s.get(1)).toBeUndefined();
    s.save(1, { fragmentNumber: FN, producerTimestampMs: 1_764_280_001_500, serverTimestampMs: 1_764_280_001_620 }, 1000);
    s.save(2, { fragmentNumber: '7', producerTimestampMs: 0, serverTimestampMs: 1 }, 1000);
    expect(s.get(1)).toEqual({ fragmentNumber: FN, producerTimestampMs: 1_764_280_001_500, serverTimestampMs: 1_764_280_001_620 });
    expect(s.get(2)).toEqual({ fragmentNumber: '7', producerTimestampMs: 0, serverTimestampMs: 1 });

    const next = `${FN.slice(0, -1)}9`;
    s.save(1, { fragmentNumber: next, producerTimestampMs: 1_764_280_002_500, serverTimestampMs: 1_764_280_002_620 }, 2000);
    expect(s.get(1)).toEqual({ fragmentNumber: next, producerTimestampMs: 1_764_280_002_500, serverTimestampMs: 1_764_280_002_620 });
    expect(db.prepare('SELECT COUNT(*) AS n, MAX(updated_ms) AS at FROM frame_checkpoints WHERE stream_id = 1').get()).toEqual({ n: 1, at: 2000 });

    s.drop(1);
    expect(s.get(1)).toBeUndefined();
    expect(s.get(2)).toEqual({ fragmentNumber: '7', producerTimestampMs: 0, serverTimestampMs: 1 });
    s.drop(1); // dropping what is not there is fine
    expect(s.get(1)).toBeUndefined();
  });

  it('keeps a 47-digit fragment number exactly (text, not a number)', () => {
    const s = new CheckpointStore(db);
    s.save(3, { fragmentNumber: FN, producerTimestampMs: 1, serverTimestampMs: 2 }, 0);
    expect(s.get(3)?.fragmentNumber).toBe(FN);
  });

  it('survives reopening the database', () => {
    const s = new CheckpointStore(db);
    s.save(4, { fragmentNumber: FN, producerTimestampMs: 11, serverTimestampMs: 22 }, 0);
    const again = openDatabase(dir);
    try {
      expect(new CheckpointStore(again).get(4)).toEqual({ fragmentNumber: FN, producerTimestampMs: 11, serverTimestampMs: 22 });
    } finally {
      again.close();
    }
  });
});
