import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { request } from 'node:http';
import { TEST_ACCESS_KEY, TEST_SECRET } from './server.js';

export type AckEvent = { EventType: string; FragmentTimecode?: number; FragmentNumber?: string; ErrorId?: number; ErrorCode?: string };

export type PutMediaOptions = {
  streamName?: string;
  streamArn?: string;
  timecodeType?: 'ABSOLUTE' | 'RELATIVE';
  producerStartTimestamp?: string;
  contentType?: string;
  /** Split the body into chunks of this many bytes (default: one write). */
  chunkSize?: number;
  /** Wait this long between chunks (slow drip). */
  chunkDelayMs?: number;
  /** Extra headers, e.g. x-amz-content-sha256. */
  headers?: Record<string, string>;
  secret?: string;
  /** Sign as another access key (with `secret`); default the test server's root key. */
  accessKeyId?: string;
  /** Stop writing (and abort the request) after this many bytes. */
  abortAfterBytes?: number;
  /** Once this many bytes are written, wait for `hold` before writing the rest (a producer paused mid-upload). */
  holdAfterBytes?: number;
  hold?: Promise<unknown>;
};

export type PutMediaResult = { status: number; headers: Record<string, string | string[] | undefined>; acks: AckEvent[]; raw: string; ackChunks: string[] };

/**
 * A PutMedia producer as the KVS producer SDKs are on the wire: chunked POST, SigV4 over the headers with the
 * empty-string payload hash (no x-amz-content-sha256), newline-delimited JSON acks read as they arrive.
 */
export async function putMedia(baseUrl: string, body: Uint8Array, opts: PutMediaOptions = {}): Promise<PutMediaResult> {
  const url = new URL('/putMedia', baseUrl);
  const headers = await signPutMediaHeaders(url, opts);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let raw = '';
      const ackChunks: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        raw += d;
        ackChunks.push(d);
      });
      res.on('end', () => {
        const acks = raw
          .split('\n')
          .filter((l) => l.trim().length > 0 && res.statusCode === 200)
          .map((l) => JSON.parse(l) as AckEvent);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, acks, raw, ackChunks });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (opts.abortAfterBytes !== undefined) {
        resolve({ status: 0, headers: {}, acks: [], raw: '', ackChunks: [] });
      } else {
        reject(err);
      }
    });
    void (async () => {
      const size = opts.chunkSize ?? body.length;
      let sent = 0;
      for (let off = 0; off < body.length; off += size) {
        const chunk = body.subarray(off, Math.min(body.length, off + size));
        if (opts.abortAfterBytes !== undefined && sent + chunk.length > opts.abortAfterBytes) {
          req.write(chunk.subarray(0, opts.abortAfterBytes - sent));
          await new Promise((r) => setTimeout(r, 50));
          req.destroy();
          return;
        }
        if (!req.write(chunk)) {
          await new Promise((r) => req.once('drain', r));
        }
        if (opts.holdAfterBytes !== undefined && sent < opts.holdAfterBytes && sent + chunk.length >= opts.holdAfterBytes) {
          await opts.hold;
        }
        sent += chunk.length;
        if (opts.chunkDelayMs) {
          await new Promise((r) => setTimeout(r, opts.chunkDelayMs));
        }
      }
      req.end();
    })();
  });
}

/** Group acks by fragment number, in arrival order of first sight. */
export function ackTypesByFragment(acks: AckEvent[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const a of acks) {
    if (a.FragmentNumber === undefined) {
      continue;
    }
    const list = out.get(a.FragmentNumber) ?? [];
    list.push(a.EventType);
    out.set(a.FragmentNumber, list);
  }
  return out;
}

/** The signed headers of a chunked PutMedia request, as the producer SDKs send them. */
export async function signPutMediaHeaders(url: URL, opts: PutMediaOptions = {}): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    host: url.host,
    'transfer-encoding': 'chunked',
    'x-amzn-fragment-acknowledgment-required': '1',
    'x-amzn-fragment-timecode-type': opts.timecodeType ?? 'ABSOLUTE',
    'x-amzn-producer-start-timestamp': opts.producerStartTimestamp ?? (Date.now() / 1000).toFixed(3),
    ...(opts.streamName !== undefined ? { 'x-amzn-stream-name': opts.streamName } : {}),
    ...(opts.streamArn !== undefined ? { 'x-amzn-stream-arn': opts.streamArn } : {}),
    ...(opts.contentType !== undefined ? { 'content-type': opts.contentType } : {}),
    ...opts.headers,
  };
  const signer = new SignatureV4({
    credentials: { accessKeyId: opts.accessKeyId ?? TEST_ACCESS_KEY, secretAccessKey: opts.secret ?? TEST_SECRET },
    region: 'us-east-1',
    service: 'kinesisvideo',
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    { method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers, body: undefined },
    { signableHeaders: new Set(['transfer-encoding']) },
  );
  return signed.headers as Record<string, string>;
}
