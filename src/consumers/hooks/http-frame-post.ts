import { createHmac } from 'node:crypto';
import type { Frame } from '../frame.js';
import { frameMetadata } from '../frame.js';

const REQUEST_TIMEOUT_MS = 10_000;
const ATTEMPTS = 3;
const FIRST_BACKOFF_MS = 200;

/**
 * POSTs one frame as multipart/form-data (`metadata` JSON + `image`), signed with HMAC-SHA256 over the exact body
 * (`x-openkvs-signature: sha256=<hex>`), retried with backoff on network errors, 429 and 5xx. Resolves with the
 * response's JSON body (or undefined when it is not JSON).
 */
export async function postFrame(uri: string, frame: Frame, key: Buffer | string): Promise<unknown> {
  const form = new FormData();
  form.append('metadata', new Blob([JSON.stringify(frameMetadata(frame))], { type: 'application/json' }), 'metadata.json');
  form.append('image', new Blob([frame.image], { type: frame.format === 'PNG' ? 'image/png' : 'image/jpeg' }), frame.format === 'PNG' ? 'frame.png' : 'frame.jpg');
  const encoded = new Response(form);
  const contentType = encoded.headers.get('content-type') ?? 'multipart/form-data';
  const body = new Uint8Array(await encoded.arrayBuffer());
  const signature = createHmac('sha256', key).update(body).digest('hex');
  let last: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const res = await fetch(uri, {
        method: 'POST',
        headers: { 'content-type': contentType, 'x-openkvs-signature': `sha256=${signature}`, 'x-openkvs-attempt': String(attempt) },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text().catch(() => '');
      if (res.ok) {
        try {
          return text === '' ? undefined : (JSON.parse(text) as unknown);
        } catch {
          return undefined;
        }
      }
      last = new Error(`POST ${uri}: HTTP ${res.status}`);
      if (res.status < 500 && res.status !== 429) {
        break;
      }
    } catch (err) {
      last = err;
    }
    if (attempt < ATTEMPTS) {
      await new Promise((r) => setTimeout(r, FIRST_BACKOFF_MS * 2 ** (attempt - 1)));
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}
