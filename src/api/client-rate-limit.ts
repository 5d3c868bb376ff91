import type { NextFunction, Request, Response } from 'express';
import { KvsError } from '../errors/codes.js';
import { AUTHENTICATION_FAILURES, type ClientRateLimiter } from '../util/client-rate-limiter.js';

export const clientLimitExceeded = (): KvsError =>
  new KvsError('ClientLimitExceededException', 'Too many requests from this client; slow down and retry.');

/**
 * Paths no limit applies to: load balancers and orchestrators poll them, often from an address other clients share,
 * and one misbehaving neighbour must not get the instance marked dead or unready. Both are unsigned and cheap.
 */
const EXEMPT = new Set(['/health', '/ready']);

/**
 * The express middleware: over the limit → ClientLimitExceededException through the app's error handler. Whether a
 * request authenticated is known only once it is answered, so a failure is counted against its address then, from
 * the error name the one error path put in x-amzn-ErrorType.
 */
export function clientRateLimit(limiter: ClientRateLimiter | null): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    if (limiter === null || EXEMPT.has(req.path)) {
      next();
      return;
    }
    const address = limiter.keys.address(req);
    if (!limiter.tryTake(limiter.keys.client(req), address)) {
      next(clientLimitExceeded());
      return;
    }
    res.once('finish', () => {
      if (AUTHENTICATION_FAILURES.has(String(res.getHeader('x-amzn-ErrorType')))) {
        limiter.authenticationFailed(address);
      }
    });
    next();
  };
}
