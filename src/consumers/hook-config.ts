import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { invalidArgument } from '../errors/codes.js';
import type { Db } from '../store/database.js';

export type HookConfig =
  | { Name: string; Type: 'MODULE'; Module: string; TimeoutMs: number }
  | { Name: string; Type: 'WEBHOOK'; Uri: string; Secret?: string }
  | { Name: string; Type: 'MOTION'; Threshold: number };

export const MAX_HOOKS_PER_STREAM = 8;
export const DEFAULT_HOOK_TIMEOUT_MS = 5000;

/** Hooks set per stream with /openkvs/updateFrameHooks, kept in SQLite. */
export class HookConfigStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(streamId: number): HookConfig[] {
    const row = this.#db.prepare('SELECT hooks_json FROM frame_hooks WHERE stream_id = ?').get(streamId) as { hooks_json: string } | undefined;
    return row === undefined ? [] : (JSON.parse(row.hooks_json) as HookConfig[]);
  }

  set(streamId: number, hooks: readonly HookConfig[]): void {
    if (hooks.length === 0) {
      this.drop(streamId);
      return;
    }
    this.#db
      .prepare('INSERT INTO frame_hooks (stream_id, hooks_json) VALUES (?, ?) ON CONFLICT (stream_id) DO UPDATE SET hooks_json = excluded.hooks_json')
      .run(streamId, JSON.stringify(hooks));
  }

  drop(streamId: number): void {
    this.#db.prepare('DELETE FROM frame_hooks WHERE stream_id = ?').run(streamId);
  }
}

/**
 * The file a MODULE hook names, which must be inside the hooks directory once symbolic links are followed: only
 * code the operator put there can run.
 */
export function hookModulePath(hooksDir: string, module: string): string {
  let root: string;
  let file: string;
  try {
    root = realpathSync(hooksDir);
    file = realpathSync(resolve(root, module));
  } catch {
    throw invalidArgument(`Hook module ${module} was not found in the hooks directory (${hooksDir}).`);
  }
  const rel = relative(root, file);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw invalidArgument(`Hook module ${module} is outside the hooks directory (${hooksDir}).`);
  }
  if (!statSync(file).isFile() || !/\.(m?js|cjs|m?ts|cts)$/.test(file)) {
    throw invalidArgument(`Hook module ${module} must be a .js, .mjs, .cjs, .ts, .mts or .cts file.`);
  }
  return file;
}
