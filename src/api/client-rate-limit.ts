import type { NextFunction, Request, Response } from 'express';
import { KvsError } from '../errors/codes.js';
import { clientKeyOf } from '../util/client-key.js';
import type { ClientRateLimiter } from '../util/client-rate-limiter.js';

export const clientLimitExceeded = (): KvsError =>
  new KvsError('ClientLimitExceededException', 'Too many requests from this client; slow down and retry.');

/** Paths no limit applies to: load balancers and orchestrators poll them. */
const EXEMPT = new Set(['/health']);

/** The express middleware: over the limit → ClientLimitExceededException through the app's error handler. */
export function clientRateLimit(limiter: ClientRateLimiter | null): (req: Request, res: Response, next: NextFunction) => void {
  return (req, _res, next) => {
    if (limiter === null || EXEMPT.has(req.path) || limiter.tryTake(clientKeyOf(req))) {
      next();
      return;
    }
    next(clientLimitExceeded());
  };
}
