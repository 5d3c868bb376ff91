import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import type { Frame, HookEvent } from '../frame.js';
import { frameObjectKey } from '../frame-files.js';
import type { FrameSink } from '../sink.js';

export type S3Settings = { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };

const REQUEST_TIMEOUT_MS = 15_000;
const ATTEMPTS = 3;

/** Images PUT to an S3-compatible bucket (path-style, SigV4), as KVS delivers them to `s3://bucket/prefix`. */
export class S3Destination implements FrameSink {
  readonly name = 'destination';
  readonly type = 'DESTINATION' as const;
  readonly #s3: S3Settings;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #selector: 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP';
  readonly #signer: SignatureV4;

  constructor(s3: S3Settings, bucket: string, prefix: string, selector: 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP') {
    this.#s3 = s3;
    this.#bucket = bucket;
    this.#prefix = prefix;
    this.#selector = selector;
    this.#signer = new SignatureV4({
      service: 's3',
      region: s3.region,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      sha256: Sha256,
      uriEscapePath: false,
    });
  }

  locate(frame: Frame): string {
    return `s3://${this.#bucket}/${frameObjectKey(this.#prefix, frame, this.#selector)}`;
  }

  async deliver(frame: Frame): Promise<HookEvent[]> {
    const key = frameObjectKey(this.#prefix, frame, this.#selector);
    const url = new URL(`${this.#s3.endpoint.replace(/\/$/, '')}/${this.#bucket}/${key.split('/').map(encodeURIComponent).join('/')}`);
    const headers: Record<string, string> = {
      host: url.host,
      'content-type': frame.format === 'PNG' ? 'image/png' : 'image/jpeg',
      'content-length': String(frame.image.byteLength),
      'x-amz-content-sha256': createHash('sha256').update(frame.image).digest('hex'),
    };
    let last: unknown;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const signed = await this.#signer.sign({ method: 'PUT', protocol: url.protocol, hostname: url.hostname, port: url.port === '' ? undefined : Number(url.port), path: url.pathname, query: {}, headers, body: frame.image });
      try {
        // fetch sets Host and Content-Length itself (to the same values that were signed)
        const { host: _host, 'content-length': _length, ...send } = signed.headers;
        const res = await fetch(url, { method: 'PUT', headers: send, body: frame.image, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const text = await res.text().catch(() => '');
        if (res.ok) {
          return [];
        }
        last = new Error(`S3 PutObject ${res.status}: ${text.slice(0, 200)}`);
        if (res.status < 500) {
          break;
        }
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
    throw last instanceof Error ? last : new Error(String(last));
  }

  async close(): Promise<void> {}
}
