import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import type { SigV4Verifier } from '../auth/sigv4-verifier.js';
import { KvsError } from '../errors/codes.js';
import type { RequestedAction } from '../iam/actions.js';
import type { Authorizer } from '../iam/authorizer.js';

// Who may read /metrics: like the admin surface, a SigV4-signed GET by a key whose policies allow
// openkvs:GetMetrics (root always may) — or, for a Prometheus server that cannot sign, the configured bearer token.

export const GET_METRICS: RequestedAction = { action: 'openkvs:GetMetrics', denial: { name: 'AccessDeniedException', status: 401 } };

export type MetricsAccess = {
  /** null when auth is off: /metrics is open, as every other route is. */
  verifier: SigV4Verifier | null;
  authorizer: Authorizer;
  /** `Authorization: Bearer <token>` is accepted when set. */
  token: string | null;
};

/** Throws the refusal (as KVS-shaped as the rest of the API) unless the request may read the metrics. */
export async function checkMetricsAccess(req: Request, access: MetricsAccess, requestId: string): Promise<void> {
  if (access.verifier === null) {
    return;
  }
  const auth = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
  if (bearer !== undefined) {
    if (access.token === null || !sameSecret(bearer, access.token)) {
      throw new KvsError('AccessDeniedException', 'The bearer token is not the configured metricsToken.', 401);
    }
    return;
  }
  const url = new URL(req.originalUrl, 'http://x');
  const caller = await access.verifier.verifyHeaders({
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    body: new Uint8Array(0),
  });
  access.authorizer.authorize(caller, GET_METRICS, {}, requestId);
}

/** Constant-time whatever the lengths: both sides are hashed to 32 bytes first. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
