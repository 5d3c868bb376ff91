import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KEY_BYTES } from './envelope.js';

export const MASTER_KEY_FILE = 'master.key';

export type MasterKey = { key: Buffer; path: string; generated: boolean };

/**
 * The root of encryption at rest: every key material version is wrapped under it. Read from the configured file,
 * else from <dataDir>/master.key, which the first start creates (mode 0600, fsync'd: losing it loses the media).
 */
export function loadOrCreateMasterKey(dataDir: string, configuredFile: string | null): MasterKey {
  if (configuredFile !== null) {
    return { key: readMasterKey(configuredFile), path: configuredFile, generated: false };
  }
  const path = join(dataDir, MASTER_KEY_FILE);
  if (existsSync(path)) {
    return { key: readMasterKey(path), path, generated: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, key.toString('base64') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const dir = openSync(dataDir, 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return { key, path, generated: true };
}

/** 32 bytes as they are, or as base64 or hex text (what `openssl rand [-base64|-hex] 32` writes). */
export function readMasterKey(path: string): Buffer {
  const raw = readFileSync(path);
  if (raw.length === KEY_BYTES) {
    return raw;
  }
  const text = raw.toString('utf8').trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : /^[A-Za-z0-9+/]{43}=?$/.test(text) ? Buffer.from(text, 'base64') : null;
  if (key === null || key.length !== KEY_BYTES) {
    throw new Error(`${path}: a master key is ${KEY_BYTES} bytes, raw or as base64 or hex text`);
  }
  return key;
}
