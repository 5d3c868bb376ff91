import type { IncomingMessage } from 'node:http';
import { KvsError } from '../errors/codes.js';

/** Largest JSON request body accepted; KVS requests are small (the biggest, GetMediaForFragmentList, is ~130 KB). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/**
 * How long a body read whole may take to arrive. The HTTP server's own requestTimeout is off, because PutMedia
 * streams for hours (stalled uploads are closed by putMediaIdleTimeoutSeconds); this keeps the bound Node's default
 * gave every other body, so a client trickling a JSON body cannot hold a request open forever.
 */
export const BODY_READ_TIMEOUT_MS = 300_000;

export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY_BYTES, timeoutMs = BODY_READ_TIMEOUT_MS): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    throw new KvsError('RequestEntityTooLargeException', `Request body exceeds ${limit} bytes.`);
  }
  const timer = setTimeout(() => req.destroy(new KvsError('InvalidArgumentException', `The request body did not arrive within ${timeoutMs / 1000} s.`)), timeoutMs);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > limit) {
        throw new KvsError('RequestEntityTooLargeException', `Request body exceeds ${limit} bytes.`);
      }
      chunks.push(buf);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks, total);
}
