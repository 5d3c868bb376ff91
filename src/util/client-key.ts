import type { IncomingMessage } from 'node:http';

const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/;

/**
 * Who a request counts against for rate limiting: the SigV4 access key id it names (header-signed or presigned),
 * else the peer's address. The key id is read before, and independently of, signature verification; it only picks
 * a bucket. A forged one gets a bucket of its own, but its requests fail authentication, and those failures are
 * counted against the address (ClientRateLimiter.authenticationFailed). Anything that does not look like a key id
 * falls back to the address.
 */
export function clientKeyOf(req: IncomingMessage): string {
  const id = accessKeyIdOf(req);
  return id === null ? addressKeyOf(req) : `key:${id}`;
}

/** The peer's address as a rate-limit key (what failed authentications are counted against). */
export const addressKeyOf = (req: IncomingMessage): string => `ip:${req.socket.remoteAddress ?? 'unknown'}`;

export function accessKeyIdOf(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /Credential=([^/,\s]{1,128})\//.exec(auth);
    return m !== null && ACCESS_KEY_ID.test(m[1]!) ? m[1]! : null;
  }
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q < 0) {
    return null;
  }
  const credential = new URLSearchParams(url.slice(q + 1)).get('X-Amz-Credential');
  const id = credential?.split('/', 1)[0];
  return id !== undefined && ACCESS_KEY_ID.test(id) ? id : null;
}
