import type { Response } from 'express';
import { KvsError } from '../errors/codes.js';
import type { Logger } from '../util/logger.js';

/**
 * The one place an error becomes an HTTP response: the modelled status, `x-amzn-ErrorType` (what the JS SDK and
 * botocore read first) and a JSON body carrying both `message` and `Message` (services differ in which they model).
 */
export function sendError(res: Response, err: unknown, logger: Logger): void {
  const kvs = toKvsError(err, logger);
  if (res.headersSent) {
    // A streamed response already started: the only honest signal left is to cut the connection.
    res.destroy();
    return;
  }
  res.status(kvs.status);
  res.setHeader('x-amzn-ErrorType', kvs.errorName);
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ __type: kvs.errorName, message: kvs.message, Message: kvs.message }));
}

export function toKvsError(err: unknown, logger: Logger): KvsError {
  if (err instanceof KvsError) {
    return err;
  }
  // express/body errors carry a status (e.g. 400 for a malformed URL); everything else is a bug worth logging.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new KvsError('InvalidArgumentException', (err as Error).message);
  }
  logger.error('unhandled error', { err: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  return new KvsError('InternalFailure', 'An internal error occurred. It has been logged.');
}
