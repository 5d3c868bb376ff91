/* global fetch, URL */
// The console's KVS client: every call is a SigV4-signed POST with a JSON body, exactly as the AWS SDK sends it,
// so the server applies the same checks to the console as to any other client.

import { cryptoFor, signRequest } from './sigv4.js';

/** A KVS error as the server names it (x-amzn-ErrorType / __type) with its message and HTTP status. */
export class KvsError extends Error {
  /** @param {string} type @param {string} message @param {number} status */
  constructor(type, message, status) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
  }

  toString() {
    return this.status > 0 ? `${this.type} (HTTP ${this.status}): ${this.message}` : `${this.type}: ${this.message}`;
  }
}

/** Errors that mean the credentials themselves are wrong, not the request. */
export const AUTH_ERRORS = new Set(['UnrecognizedClientException', 'InvalidSignatureException', 'MissingAuthenticationTokenException', 'IncompleteSignatureException']);

/** Errors that mean the key is genuine but its policies do not allow this action on this resource. */
export const DENIAL_ERRORS = new Set(['AccessDeniedException', 'NotAuthorizedException']);

/** What the page shows for a failed call, with what to do about it. */
export function errorText(err) {
  let text = err instanceof KvsError ? err.toString() : err instanceof Error ? err.message : String(err);
  if (err instanceof KvsError && AUTH_ERRORS.has(err.type)) {
    text += '\nThe server refused these credentials: log out and log in again.';
  } else if (err instanceof KvsError && DENIAL_ERRORS.has(err.type)) {
    text += "\nThis access key's policies do not allow it: ask an administrator (openkvs keys, docs/security.md).";
  }
  return text;
}

export class KvsClient {
  /**
   * @param {{ endpoint: string, region: string, credentials: { accessKeyId: string, secretAccessKey: string } }} opts
   */
  constructor(opts) {
    this.endpoint = opts.endpoint;
    this.region = opts.region;
    this.credentials = opts.credentials;
    this.digests = cryptoFor();
    // Learned from the server's Date header when a signature is refused as too old or too new, as the AWS SDKs do.
    this.clockOffsetMs = 0;
  }

  /** POST path with body; resolves to the parsed JSON answer or rejects with a KvsError. */
  async call(path, body = {}) {
    const url = new URL(path, this.endpoint).toString();
    const text = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      const headers = await signRequest({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        body: text,
        credentials: this.credentials,
        region: this.region,
        service: 'kinesisvideo',
        date: new Date(Date.now() + this.clockOffsetMs),
        crypto: this.digests,
      });
      let res;
      try {
        res = await fetch(url, { method: 'POST', headers, body: text, cache: 'no-store', credentials: 'omit' });
      } catch (err) {
        throw new KvsError('NetworkError', `${url} could not be reached (${err instanceof Error ? err.message : String(err)}).`, 0);
      }
      const raw = await res.text();
      if (res.ok) {
        return raw === '' ? {} : JSON.parse(raw);
      }
      const err = errorFrom(res, raw);
      const serverDate = Date.parse(res.headers.get('date') ?? '');
      if (attempt === 0 && err.type === 'InvalidSignatureException' && /Signature (expired|not yet current)/.test(err.message) && Number.isFinite(serverDate)) {
        this.clockOffsetMs = serverDate - Date.now();
        continue;
      }
      throw err;
    }
  }
}

/** @param {Response} res @param {string} raw */
function errorFrom(res, raw) {
  let body = {};
  try {
    body = raw === '' ? {} : JSON.parse(raw);
  } catch {
    body = { message: raw.slice(0, 500) };
  }
  // Header first, then the body, as the AWS SDK reads them; strip "namespace#" and ":http://…" decorations.
  const named = res.headers.get('x-amzn-errortype') ?? body.__type ?? body.code ?? `HTTP${res.status}`;
  const type = String(named).split(':')[0].split('#').pop();
  const message = body.message ?? body.Message ?? res.statusText;
  return new KvsError(type, String(message), res.status);
}
