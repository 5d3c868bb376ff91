import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, timingSafeEqual } from 'node:crypto';
import { KvsError } from '../errors/codes.js';
import type { Credentials } from './credentials.js';

// Verifies AWS Signature Version 4 on incoming requests (header-signed and presigned URLs). The canonical
// request and signature are computed by @smithy/signature-v4 — the signer the AWS SDK itself uses — fed with
// exactly the headers the client listed as signed, so every client variant (JS SDK, CLI, producer SDKs) matches.

export const SIGNING_SERVICE = 'kinesisvideo';
/** AWS rejects requests whose signing time is more than 15 minutes away from the server clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export type IncomingSignedRequest = {
  method: string;
  path: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, or null for streaming bodies that are not hashed (PutMedia). */
  body: Uint8Array | null;
};

export type VerifiedCaller = { accessKeyId: string; region: string };

export type CredentialLookup = (accessKeyId: string) => Credentials | undefined;

const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/;

export class SigV4Verifier {
  readonly #lookup: CredentialLookup;
  readonly #now: () => number;

  constructor(lookup: CredentialLookup, now: () => number) {
    this.#lookup = lookup;
    this.#now = now;
  }

  /** Verify a header-signed request (Authorization: AWS4-HMAC-SHA256 …). */
  async verifyHeaders(req: IncomingSignedRequest): Promise<VerifiedCaller> {
    const auth = header(req.headers, 'authorization');
    if (auth === undefined) {
      throw new KvsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const m = AUTH_RE.exec(auth);
    if (m === null) {
      throw new KvsError('IncompleteSignatureException', `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters of AWS4-HMAC-SHA256: ${auth.slice(0, 60)}`);
    }
    const [, credential = '', signedHeaderList = '', signature = ''] = m;
    const scope = parseScope(credential);
    const amzDate = header(req.headers, 'x-amz-date');
    if (amzDate === undefined) {
      throw new KvsError('IncompleteSignatureException', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    const signingDate = this.#checkDate(amzDate, scope.date);
    const secret = this.#secret(scope.accessKeyId);
    const signedNames = signedHeaderList.split(';');
    const headers = signedHeaderValues(req, signedNames);
    // The payload hash: the x-amz-content-sha256 value when sent (signed or not: JS SDK, Java PutMedia,
    // UNSIGNED-PAYLOAD clients), else the body's hash, else — for streaming bodies — the empty-string hash
    // that the KVS producer SDKs sign PutMedia with.
    const declared = header(req.headers, 'x-amz-content-sha256');
    const bodyHash = req.body === null ? null : createHash('sha256').update(req.body).digest('hex');
    if (declared !== undefined && bodyHash !== null && /^[0-9a-f]{64}$/i.test(declared) && declared.toLowerCase() !== bodyHash) {
      // The declared hash is signed, so a body swapped after signing is only caught by re-hashing it.
      throw new KvsError('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.');
    }
    const payloadHash = declared ?? bodyHash ?? EMPTY_SHA256;
    headers['x-amz-content-sha256'] = payloadHash;
    const unsignable = signedNames.includes('x-amz-content-sha256') ? new Set<string>() : new Set(['x-amz-content-sha256']);
    const signer = new SignatureV4({
      credentials: { accessKeyId: scope.accessKeyId, secretAccessKey: secret },
      region: scope.region,
      service: SIGNING_SERVICE,
      sha256: Sha256,
      applyChecksum: false,
    });
    const signed = await signer.sign(
      { method: req.method, protocol: 'http:', hostname: headers['host'] ?? '', path: req.path, query: req.query, headers, body: undefined },
      { signingDate, signableHeaders: new Set(signedNames), unsignableHeaders: unsignable, signingRegion: scope.region, signingService: scope.service },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers['authorization'] ?? ''))?.[1] ?? '';
    if (!safeEqual(expected, signature)) {
      throw new KvsError(
        'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      );
    }
    return { accessKeyId: scope.accessKeyId, region: scope.region };
  }

  /** Verify a presigned URL (query-string SigV4), as the KVS WebRTC SDK uses for the signaling WebSocket. */
  async verifyPresigned(req: IncomingSignedRequest): Promise<VerifiedCaller> {
    const q = req.query;
    if (q['X-Amz-Signature'] === undefined && q['X-Amz-Credential'] === undefined) {
      throw new KvsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const algorithm = q['X-Amz-Algorithm'];
    const credential = q['X-Amz-Credential'];
    const amzDate = q['X-Amz-Date'];
    const expires = q['X-Amz-Expires'];
    const signedHeaderList = q['X-Amz-SignedHeaders'];
    const signature = q['X-Amz-Signature'];
    if (algorithm !== 'AWS4-HMAC-SHA256' || !credential || !amzDate || !expires || !signedHeaderList || !signature) {
      throw new KvsError('IncompleteSignatureException', 'The presigned URL must carry X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature.');
    }
    const scope = parseScope(credential);
    const signingDate = parseAmzDate(amzDate);
    const expiresSec = Number(expires);
    if (!Number.isInteger(expiresSec) || expiresSec < 1 || expiresSec > 604_800) {
      throw new KvsError('IncompleteSignatureException', 'X-Amz-Expires must be an integer from 1 to 604800.');
    }
    const now = this.#now();
    if (signingDate.getTime() - now > MAX_CLOCK_SKEW_MS) {
      throw new KvsError('InvalidSignatureException', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now)}`);
    }
    if (signingDate.getTime() + expiresSec * 1000 < now) {
      throw new KvsError('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - expiresSec * 1000)}`);
    }
    if (amzDate.slice(0, 8) !== scope.date) {
      throw new KvsError('InvalidSignatureException', 'Date in Credential scope does not match X-Amz-Date.');
    }
    const secret = this.#secret(scope.accessKeyId);
    const signedNames = signedHeaderList.split(';');
    const headers = signedHeaderValues(req, signedNames);
    // Every query parameter except the signature takes part in the canonical query; presign() re-adds the
    // auth parameters itself from the values we pass back in (same credential scope, date, expiry).
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(q)) {
      if (!['X-Amz-Signature', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Security-Token'].includes(k)) {
        query[k] = v;
      }
    }
    const token = q['X-Amz-Security-Token'];
    const signer = new SignatureV4({
      credentials: { accessKeyId: scope.accessKeyId, secretAccessKey: secret, ...(token !== undefined ? { sessionToken: token } : {}) },
      region: scope.region,
      service: SIGNING_SERVICE,
      sha256: Sha256,
      applyChecksum: false,
    });
    const presigned = await signer.presign(
      { method: req.method, protocol: 'http:', hostname: headers['host'] ?? '', path: req.path, query, headers, body: undefined },
      { signingDate, expiresIn: expiresSec, signableHeaders: new Set(signedNames), signingRegion: scope.region, signingService: scope.service },
    );
    const expected = presigned.query?.['X-Amz-Signature'];
    if (typeof expected !== 'string' || !safeEqual(expected, signature)) {
      throw new KvsError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
    }
    return { accessKeyId: scope.accessKeyId, region: scope.region };
  }

  #secret(accessKeyId: string): string {
    const creds = this.#lookup(accessKeyId);
    if (creds === undefined) {
      throw new KvsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    return creds.secretAccessKey;
  }

  #checkDate(amzDate: string, scopeDate: string): Date {
    const date = parseAmzDate(amzDate);
    const now = this.#now();
    if (date.getTime() < now - MAX_CLOCK_SKEW_MS) {
      throw new KvsError('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - MAX_CLOCK_SKEW_MS)} (${formatAmzDate(now)} - 15 min.)`);
    }
    if (date.getTime() > now + MAX_CLOCK_SKEW_MS) {
      throw new KvsError('InvalidSignatureException', `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + MAX_CLOCK_SKEW_MS)} (${formatAmzDate(now)} + 15 min.)`);
    }
    if (amzDate.slice(0, 8) !== scopeDate) {
      throw new KvsError('InvalidSignatureException', 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.');
    }
    return date;
  }
}

type Scope = { accessKeyId: string; date: string; region: string; service: string };

function parseScope(credential: string): Scope {
  const parts = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || !accessKeyId || !date || !/^\d{8}$/.test(date) || !region || !service || terminator !== 'aws4_request') {
    throw new KvsError('IncompleteSignatureException', `Credential should be scoped to a valid region and service: ${credential}`);
  }
  if (service !== SIGNING_SERVICE) {
    throw new KvsError('InvalidSignatureException', `Credential should be scoped to correct service: '${SIGNING_SERVICE}'.`);
  }
  return { accessKeyId, date, region, service };
}

function parseAmzDate(s: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (m === null) {
    throw new KvsError('IncompleteSignatureException', `X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z': ${s}`);
  }
  const [, y, mo, d, h, mi, se] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, se));
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The values of the headers the client says it signed; all must be present. */
function signedHeaderValues(req: IncomingSignedRequest, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = header(req.headers, name);
    if (v === undefined) {
      throw new KvsError('IncompleteSignatureException', `Header ${name} is listed in the signed headers but missing from the request.`);
    }
    out[name] = v;
  }
  return out;
}

function header(headers: IncomingSignedRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
