import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** HLS/DASH session tokens are signed with this key. */
export const SESSION_KEY_FILE = 'session-key';
/** Notifications POSTed to user endpoints are signed with this one (kept apart: it is shared with receivers). */
export const NOTIFICATION_KEY_FILE = 'notification-key';
const KEY_BYTES = 32;

/**
 * An HMAC key kept in the data dir (mode 0600), so that what it signed before a restart (session URLs,
 * receivers' verification) keeps working after it.
 */
export function loadOrCreateSecretKey(dataDir: string, file: string): Buffer {
  const path = join(dataDir, file);
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== KEY_BYTES) {
      throw new Error(`${path} is damaged: expected ${KEY_BYTES} base64 bytes; delete it to make a new key (what the old one signed stops verifying)`);
    }
    return key;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}
