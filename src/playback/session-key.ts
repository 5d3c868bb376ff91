import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export const SESSION_KEY_FILE = 'session-key';
const KEY_BYTES = 32;

/**
 * The HMAC key that signs HLS/DASH session tokens, kept in the data dir (mode 0600) so that session URLs handed
 * out before a restart keep working after it, until they expire.
 */
export function loadOrCreateSessionKey(dataDir: string): Buffer {
  const path = join(dataDir, SESSION_KEY_FILE);
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    if (key.length !== KEY_BYTES) {
      throw new Error(`${path} is damaged: expected ${KEY_BYTES} base64 bytes; delete it to issue a new key (old session URLs stop working)`);
    }
    return key;
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(KEY_BYTES);
  writeFileSync(path, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}
