import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KvsError } from '../errors/codes.js';

export type PlaybackMode = 'LIVE' | 'LIVE_REPLAY' | 'ON_DEMAND';
export type TimestampKind = 'server' | 'producer';

/** Everything a streaming session is: fixed when the session URL is issued, carried (signed) in its token. */
export type SessionClaims = {
  /** Random session id: per-session state (live sequence numbers) is keyed by it. */
  id: string;
  protocol: 'hls' | 'dash';
  /** The stream, by internal id and ARN, so a stream deleted and re-created under the same name is not reachable. */
  streamId: number;
  streamArn: string;
  mode: PlaybackMode;
  kind: TimestampKind;
  startMs?: number;
  endMs?: number;
  container: 'FRAGMENTED_MP4' | 'MPEG_TS';
  discontinuity: 'ALWAYS' | 'NEVER' | 'ON_DISCONTINUITY';
  displayTimestamp: boolean;
  /** DASH only: the kvs:fn attribute. */
  displayNumber: boolean;
  maxResults: number;
  issuedMs: number;
  expiresMs: number;
};

const VERSION = 1;

/**
 * Session tokens: base64url(JSON claims) "." base64url(HMAC-SHA256). Stateless to verify, so any number of players
 * can hold sessions; the HMAC binds every claim (stream, mode, range, expiry) and cannot be forged without the key.
 */
export class SessionTokens {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  issue(claims: Omit<SessionClaims, 'id'>): string {
    const body = Buffer.from(JSON.stringify({ v: VERSION, ...claims, id: randomBytes(9).toString('base64url') })).toString('base64url');
    return `${body}.${this.#mac(body)}`;
  }

  /** The claims of a valid, unexpired token; NotAuthorizedException otherwise (the status KVS gives a bad session). */
  verify(token: string | undefined, nowMs: number): SessionClaims {
    if (token === undefined || token.length === 0) {
      throw new KvsError('NotAuthorizedException', 'SessionToken is missing.');
    }
    const dot = token.indexOf('.');
    const body = token.slice(0, dot);
    const mac = token.slice(dot + 1);
    const expected = Buffer.from(this.#mac(body));
    const given = Buffer.from(mac);
    if (dot <= 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new KvsError('NotAuthorizedException', 'SessionToken is not valid.');
    }
    let claims: SessionClaims & { v?: number };
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SessionClaims & { v?: number };
    } catch {
      throw new KvsError('NotAuthorizedException', 'SessionToken is not valid.');
    }
    if (claims.v !== VERSION) {
      throw new KvsError('NotAuthorizedException', 'SessionToken is from an unsupported version.');
    }
    if (nowMs >= claims.expiresMs) {
      throw new KvsError('NotAuthorizedException', 'The streaming session has expired.');
    }
    return claims;
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}
