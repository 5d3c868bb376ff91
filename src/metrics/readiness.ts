import { statfs } from 'node:fs/promises';
import { Router } from 'express';
import type { Db } from '../store/database.js';
import { MIGRATIONS } from '../store/migrations.js';

// GET /ready: whether this instance should get traffic now (orchestrators route by it; /health only says the
// process is alive). Open like /health: it says which check failed and the free disk space, nothing else.

export type ReadinessDeps = {
  db: Db;
  dataDir: string;
  minFreeDiskBytes: number;
  /** Listening, started, and not shutting down. */
  accepting: () => boolean;
};

type Check = { ok: boolean; detail?: string };

export async function readiness(d: ReadinessDeps): Promise<{ ready: boolean; checks: Record<string, Check> }> {
  const checks: Record<string, Check> = {
    store: d.db.open ? { ok: true } : { ok: false, detail: 'the database is closed' },
    migrations: migrations(d.db),
    accepting: d.accepting() ? { ok: true } : { ok: false, detail: 'starting or shutting down' },
    disk: await disk(d.dataDir, d.minFreeDiskBytes),
  };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

export function readinessRouter(d: ReadinessDeps): Router {
  const r = Router();
  r.get('/ready', async (_req, res, next) => {
    try {
      const { ready, checks } = await readiness(d);
      const failed = Object.entries(checks)
        .filter(([, c]) => !c.ok)
        .map(([name]) => name);
      res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', ...(ready ? {} : { failed }), checks });
    } catch (err) {
      next(err);
    }
  });
  return r;
}

function migrations(db: Db): Check {
  if (!db.open) {
    return { ok: false, detail: 'the database is closed' };
  }
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  const version = row?.version ?? 0;
  return version === MIGRATIONS.length ? { ok: true } : { ok: false, detail: `schema version ${version}, expected ${MIGRATIONS.length}` };
}

async function disk(dataDir: string, minFree: number): Promise<Check> {
  try {
    const s = await statfs(dataDir);
    // bavail: what an unprivileged writer may still use (bfree includes the root-reserved blocks)
    const free = s.bavail * s.bsize;
    return free >= minFree ? { ok: true, detail: `${free} bytes free` } : { ok: false, detail: `${free} bytes free in ${dataDir}, below minFreeDiskBytes ${minFree}` };
  } catch (err) {
    return { ok: false, detail: `statfs ${dataDir}: ${err instanceof Error ? err.message : String(err)}` };
  }
}
