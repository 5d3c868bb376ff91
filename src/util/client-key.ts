import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/;

/**
 * Who a request counts against for rate limiting. The client: the SigV4 access key id it names (header-signed or
 * presigned), else its address. The key id is read before, and independently of, signature verification; it only
 * picks a bucket. A forged one gets a bucket of its own, but its requests fail authentication, and those failures
 * are counted against the address (ClientRateLimiter.authenticationFailed). Anything that does not look like a key
 * id falls back to the address.
 *
 * The address is the TCP peer's, unless the peer is one of `trustedProxies`: then it is the nearest address in
 * X-Forwarded-For that is not a trusted proxy (read right to left, as each proxy appends the address it saw).
 * Behind a reverse proxy, that keeps one misbehaving client from spending the failed-authentication allowance of
 * everybody behind the same proxy. From any other peer X-Forwarded-For is ignored: anyone can write it.
 */
export class ClientKeys {
  readonly #trusted: BlockList | null;

  /** `trustedProxies`: addresses and CIDR subnets (validated by the config). */
  constructor(trustedProxies: readonly string[] = []) {
    if (trustedProxies.length === 0) {
      this.#trusted = null;
      return;
    }
    const list = new BlockList();
    for (const entry of trustedProxies) {
      const [address = '', prefix] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) {
        list.addAddress(address, type);
      } else {
        list.addSubnet(address, Number(prefix), type);
      }
    }
    this.#trusted = list;
  }

  client(req: IncomingMessage): string {
    const id = accessKeyIdOf(req);
    return id === null ? this.address(req) : `key:${id}`;
  }

  /** The client's address as a rate-limit key (what failed authentications are counted against). */
  address(req: IncomingMessage): string {
    return `ip:${this.#addressOf(req)}`;
  }

  #addressOf(req: IncomingMessage): string {
    const peer = unmapped(req.socket.remoteAddress ?? 'unknown');
    if (this.#trusted === null || !this.#isTrusted(peer)) {
      return peer;
    }
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => unmapped(h.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] ?? '';
      if (isIP(hop) === 0) {
        // not an address where one was due: nothing to the left of it can be trusted either
        return peer;
      }
      if (!this.#isTrusted(hop)) {
        return hop;
      }
    }
    // every hop is a trusted proxy: the left-most one is as far as anyone vouches for
    return hops[0] !== undefined && isIP(hops[0]) !== 0 ? hops[0] : peer;
  }

  #isTrusted(address: string): boolean {
    const type = isIP(address);
    return type !== 0 && this.#trusted !== null && this.#trusted.check(address, type === 6 ? 'ipv6' : 'ipv4');
  }
}

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) as "10.0.0.1". */
const unmapped = (address: string): string => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address);

/** A trustedProxies entry: an IPv4/IPv6 address, or one with a /prefix. */
export function isProxyEntry(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const type = isIP(address);
  if (type === 0 || extra !== undefined) {
    return false;
  }
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (type === 6 ? 128 : 32));
}

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
