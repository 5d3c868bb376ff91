import type { IncomingMessage } from 'node:http';
import { KvsError } from '../errors/codes.js';

/** Largest JSON request body accepted; KVS requests are small (the biggest, GetMediaForFragmentList, is ~130 KB). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY_BYTES): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    throw new KvsError('RequestEntityTooLargeException', `Request body exceeds ${limit} bytes.`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    total += buf.length;
    if (total > limit) {
      throw new KvsError('RequestEntityTooLargeException', `Request body exceeds ${limit} bytes.`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}
