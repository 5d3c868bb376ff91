import type { NextFunction, Request, Response } from 'express';
import { invalidArgument } from '../errors/codes.js';
import { MAX_URL_BYTES, isUrlTooLong } from '../util/url-limit.js';

/** Over-long request targets are refused as InvalidArgumentException before any route parses them. */
export function urlLimit(): (req: Request, res: Response, next: NextFunction) => void {
  return (req, _res, next) => {
    next(isUrlTooLong(req.url) ? invalidArgument(`The request URL exceeds ${MAX_URL_BYTES} bytes.`) : undefined);
  };
}
