import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export type ClientConfig = {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** PEM certificates to trust for an https:// endpoint, instead of Node's bundled roots. */
  ca?: Buffer;
};

/** A KVS error answer, with the name the server sent in x-amzn-ErrorType. */
export class ServiceError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** Signed JSON calls to any openkvs / KVS operation path, as the AWS SDKs make them (service kinesisvideo). */
export class KvsHttp {
  readonly #cfg: ClientConfig;
  readonly #signer: SignatureV4;

  constructor(cfg: ClientConfig) {
    this.#cfg = cfg;
    this.#signer = new SignatureV4({ credentials: cfg.credentials, region: cfg.region, service: 'kinesisvideo', sha256: Sha256 });
  }

  /** POST a JSON operation and parse the JSON answer. */
  async call<T = Record<string, unknown>>(path: string, body: unknown): Promise<T> {
    const res = await this.open(path, body);
    const text = await readAll(res);
    return (text.length === 0 ? {} : JSON.parse(text)) as T;
  }

  /** POST a JSON operation whose answer is a (possibly endless) byte stream: GetMedia. */
  async open(path: string, body: unknown): Promise<IncomingMessage> {
    const url = new URL(this.#cfg.endpoint.replace(/\/$/, '') + path);
    const payload = JSON.stringify(body);
    const signed = await this.#signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
      body: payload,
    });
    const headers = signed.headers as Record<string, string>;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req =
        url.protocol === 'https:'
          ? httpsRequest(url, { method: 'POST', headers, ...(this.#cfg.ca !== undefined ? { ca: this.#cfg.ca } : {}) }, resolve)
          : httpRequest(url, { method: 'POST', headers }, resolve);
      req.on('error', reject);
      req.end(payload);
    });
    if ((res.statusCode ?? 0) >= 300) {
      const text = await readAll(res);
      let message = text;
      try {
        const parsed = JSON.parse(text) as { message?: string; Message?: string };
        message = parsed.message ?? parsed.Message ?? text;
      } catch {
        // not JSON: keep the text
      }
      const errorName = String(res.headers['x-amzn-errortype'] ?? `HTTP${res.statusCode}`).split(':')[0] ?? 'Error';
      throw new ServiceError(errorName, message, res.statusCode ?? 0);
    }
    return res;
  }
}

async function readAll(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of res) {
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}
