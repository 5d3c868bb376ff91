import Database from 'better-sqlite3';
import { mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/** Open (or create) the embedded metadata database in the data dir and bring its schema up to date. */
export function openDatabase(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'openkvs.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    // FULL: a committed index row must survive power loss, because a PERSISTED ack promises it.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (err) {
    db.close();
    throw explainFullDisk(err, dataDir);
  }
  return db;
}

/**
 * On a full disk SQLite cannot create its WAL index (-shm) and says only "disk I/O error", which sends an
 * operator looking for a hardware fault: name the actual problem when the filesystem has no space left.
 */
function explainFullDisk(err: unknown, dataDir: string): unknown {
  let free: number;
  try {
    const fs = statfsSync(dataDir);
    free = fs.bavail * fs.bsize;
  } catch {
    return err;
  }
  if (free > 0) {
    return err;
  }
  return new Error(`cannot open the database in ${dataDir}: no space left on its filesystem (0 bytes free); free some space and start again (${(err as Error).message})`, { cause: err });
}

export function migrate(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  let current = row?.version ?? 0;
  if (row === undefined) {
    db.prepare('INSERT INTO schema_version (version) VALUES (0)').run();
  }
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this openkvs (${MIGRATIONS.length}); refusing to start`);
  }
  for (; current < MIGRATIONS.length; current++) {
    const sql = MIGRATIONS[current];
    if (sql === undefined) {
      break;
    }
    db.transaction(() => {
      db.exec(sql);
      db.prepare('UPDATE schema_version SET version = ?').run(current + 1);
    })();
  }
}
