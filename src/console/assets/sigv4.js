/* global TextEncoder, URL */
// AWS Signature Version 4 for the browser, for the console's calls to the KVS API of the same server.
// crypto.subtle exists only in secure contexts (https, http://localhost, http://127.0.0.1); a console opened over
// plain http on a LAN address has none, so a small SHA-256/HMAC in plain JS stands in for it there.

const encoder = new TextEncoder();

/** @param {string | Uint8Array} data */
const toBytes = (data) => (typeof data === 'string' ? encoder.encode(data) : data);

/** @param {Uint8Array} bytes */
export function toHex(bytes) {
  let out = '';
  for (const b of bytes) {
    out += b.toString(16).padStart(2, '0');
  }
  return out;
}

// FIPS 180-4: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 in plain JS (the fallback where crypto.subtle is missing). @param {string | Uint8Array} data */
export function sha256Pure(data) {
  const msg = toBytes(data);
  const bitLength = msg.length * 8;
  // message + 0x80 + zero padding + 64-bit big-endian length, to a multiple of 64 bytes
  const padded = new Uint8Array((((msg.length + 8) >> 6) + 1) * 64);
  padded.set(msg);
  padded[msg.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLength / 0x100000000));
  view.setUint32(padded.length - 4, bitLength >>> 0);

  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) {
      w[i] = view.getUint32(off + i * 4);
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15];
      const b = w[i - 2];
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) {
    outView.setUint32(i * 4, h[i]);
  }
  return out;
}

/** HMAC-SHA256 (RFC 2104) over sha256Pure. @param {Uint8Array} key @param {string | Uint8Array} data */
export function hmacPure(key, data) {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? sha256Pure(key) : key);
  const msg = toBytes(data);
  const inner = new Uint8Array(64 + msg.length);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i] ^ 0x36;
    outer[i] = block[i] ^ 0x5c;
  }
  inner.set(msg, 64);
  outer.set(sha256Pure(inner), 64);
  return sha256Pure(outer);
}

/** The digest functions to use: WebCrypto when this context has it, else (or given null) the plain-JS ones. */
export function cryptoFor(subtle = globalThis.crypto?.subtle) {
  if (subtle === undefined || subtle === null) {
    return { kind: 'js', sha256: async (data) => sha256Pure(data), hmac: async (key, data) => hmacPure(key, data) };
  }
  return {
    kind: 'subtle',
    sha256: async (data) => new Uint8Array(await subtle.digest('SHA-256', toBytes(data))),
    hmac: async (key, data) => {
      const k = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return new Uint8Array(await subtle.sign('HMAC', k, toBytes(data)));
    },
  };
}

/** RFC 3986 unreserved characters stay; everything else is percent-encoded, as SigV4 requires. */
function escapeUri(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** SigV4 dates: 20261127T101500Z and its day. @param {Date} date */
function amzDates(date) {
  const long = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return { long, short: long.slice(0, 8) };
}

/** Non-S3 services sign the path as sent, escaped once more (the AWS SDK's "double encoding"). @param {string} pathname */
function canonicalPathOf(pathname) {
  const segments = [];
  for (const s of pathname.split('/')) {
    if (s === '' || s === '.') {
      continue;
    }
    if (s === '..') {
      segments.pop();
    } else {
      segments.push(s);
    }
  }
  const trailing = segments.length > 0 && pathname.endsWith('/') ? '/' : '';
  return escapeUri(`/${segments.join('/')}${trailing}`).replace(/%2F/g, '/');
}

/** The SigV4 signing key for a day, region and service. */
async function signingKey(c, secretAccessKey, day, region, service) {
  let key = await c.hmac(encoder.encode(`AWS4${secretAccessKey}`), day);
  key = await c.hmac(key, region);
  key = await c.hmac(key, service);
  return c.hmac(key, 'aws4_request');
}

/**
 * Sign a request with SigV4 headers (host, x-amz-date, x-amz-content-sha256, content-type and any extra headers
 * given). Returns the headers to send; `host` is left out because browsers set it themselves from the URL, which
 * is what the server reads back.
 *
 * @param {{ method: string, url: string, headers?: Record<string,string>, body: string,
 *   credentials: { accessKeyId: string, secretAccessKey: string, sessionToken?: string },
 *   region: string, service: string, date?: Date, crypto?: ReturnType<typeof cryptoFor> }} req
 * @returns {Promise<Record<string,string>>}
 */
export async function signRequest(req) {
  const c = req.crypto ?? cryptoFor();
  const url = new URL(req.url);
  const { long, short } = amzDates(req.date ?? new Date());
  const payloadHash = toHex(await c.sha256(req.body));
  /** @type {Record<string,string>} */
  const headers = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) {
    headers[k.toLowerCase()] = v;
  }
  headers['host'] = url.host;
  headers['x-amz-date'] = long;
  headers['x-amz-content-sha256'] = payloadHash;
  if (req.credentials.sessionToken) {
    headers['x-amz-security-token'] = req.credentials.sessionToken;
  }
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');

  const canonicalPath = canonicalPathOf(url.pathname);
  const canonicalQuery = [...url.searchParams]
    .map(([k, v]) => [escapeUri(k), escapeUri(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');

  const canonicalRequest = [req.method.toUpperCase(), canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${short}/${req.region}/${req.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', long, scope, toHex(await c.sha256(canonicalRequest))].join('\n');
  const key = await signingKey(c, req.credentials.secretAccessKey, short, req.region, req.service);
  const signature = toHex(await c.hmac(key, stringToSign));

  delete headers['host'];
  headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${req.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

/**
 * Presign a URL with query-string SigV4 (signed header: host only; payload hash of the empty string), as the KVS
 * WebRTC SDK signs the signaling WebSocket URL. The URL's own query parameters (e.g. X-Amz-ChannelARN,
 * X-Amz-ClientId) are signed with the X-Amz-* auth parameters; ws:// and wss:// URLs keep their scheme.
 *
 * @param {{ url: string, credentials: { accessKeyId: string, secretAccessKey: string, sessionToken?: string },
 *   region: string, service: string, expiresSeconds?: number, date?: Date, crypto?: ReturnType<typeof cryptoFor> }} req
 * @returns {Promise<string>}
 */
export async function presignUrl(req) {
  const c = req.crypto ?? cryptoFor();
  const url = new URL(req.url);
  const { long, short } = amzDates(req.date ?? new Date());
  const scope = `${short}/${req.region}/${req.service}/aws4_request`;
  /** @type {[string, string][]} */
  const params = [...url.searchParams];
  params.push(
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${req.credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', long],
    ['X-Amz-Expires', String(req.expiresSeconds ?? 299)],
    ['X-Amz-SignedHeaders', 'host'],
  );
  if (req.credentials.sessionToken) {
    params.push(['X-Amz-Security-Token', req.credentials.sessionToken]);
  }
  const canonicalQuery = params
    .map(([k, v]) => [escapeUri(k), escapeUri(v)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = ['GET', canonicalPathOf(url.pathname), canonicalQuery, `host:${url.host}\n`, 'host', toHex(await c.sha256(''))].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', long, scope, toHex(await c.sha256(canonicalRequest))].join('\n');
  const signature = toHex(await c.hmac(await signingKey(c, req.credentials.secretAccessKey, short, req.region, req.service), stringToSign));
  return `${url.protocol}//${url.host}${url.pathname}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}
