import { randomBytes, randomUUID } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random [A-Za-z0-9] string, the shape of KVS stream versions ("Ws0fZvFGXzEpuZ2CE1s9"). */
export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) {
    out += ALNUM[b % ALNUM.length];
  }
  return out;
}

export const newRequestId = (): string => randomUUID();
