import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export type Credentials = { accessKeyId: string; secretAccessKey: string };

export const CREDENTIALS_FILE = 'credentials.json';

/**
 * Root credentials: from config when given, else the ones generated on an earlier start, else new ones
 * (written to the data dir with mode 0600). `generated` tells the caller to print them once.
 */
export function loadOrCreateRootCredentials(dataDir: string, configured: Credentials | null): { credentials: Credentials; generated: boolean; path: string | null } {
  if (configured !== null) {
    return { credentials: configured, generated: false, path: null };
  }
  const path = join(dataDir, CREDENTIALS_FILE);
  if (existsSync(path)) {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Credentials>;
    if (typeof parsed.accessKeyId !== 'string' || typeof parsed.secretAccessKey !== 'string') {
      throw new Error(`${path} is damaged: expected {"accessKeyId": "...", "secretAccessKey": "..."}`);
    }
    return { credentials: { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey }, generated: false, path };
  }
  mkdirSync(dataDir, { recursive: true });
  const credentials: Credentials = {
    accessKeyId: 'OKVS' + randomBytes(8).toString('hex').toUpperCase(),
    secretAccessKey: randomBytes(30).toString('base64').replace(/[+/=]/g, 'x'),
  };
  writeFileSync(path, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return { credentials, generated: true, path };
}
