import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';
import { accessKeyIdOf } from '../util/client-key.js';
import { runInRequestContext, type Logger, type RequestLogContext } from '../util/logger.js';

/**
 * Paths that are requested often and succeed often: every player polls playlists and fetches a segment per
 * fragment, producers hold PutMedia open for hours, and probes scrape. Their successes are debug lines, so an
 * info log stays readable at fifty cameras; their failures are logged like any other request's.
 */
const FREQUENT = /^\/(hls\/v1\/|dash\/v1\/|putMedia$|health$|ready$|metrics$)/;

/** Paths are capped in the log: a request line may be 16 KiB before any route has judged it. */
const MAX_LOGGED_PATH = 256;

/** What a kept-alive connection had carried when its previous request ended. */
const carried = new WeakMap<Socket, { read: number; written: number }>();

/**
 * The bytes of this request and its response on the connection, request line and headers included. Counted on
 * the socket, since that costs nothing per chunk, from where the connection's previous request ended: the headers
 * and the start of the body are read before any middleware runs.
 */
function bytesOf(socket: Socket): { bytesIn: number; bytesOut: number } {
  const before = carried.get(socket) ?? { read: 0, written: 0 };
  const now = { read: socket.bytesRead, written: socket.bytesWritten };
  carried.set(socket, now);
  return { bytesIn: now.read - before.read, bytesOut: now.written - before.written };
}

/**
 * One line per HTTP request when its response ends (or the client goes away): method, path, status, duration,
 * the request id of the `x-amzn-RequestId` header, the access key id the request names, and the bytes that crossed
 * the connection for it. Everything logged while the request is open carries its request id (src/util/logger.ts).
 * Needs `res.locals.requestId`, so it goes right after the middleware that makes it.
 */
export function accessLog(log: Logger): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const requestId = res.locals['requestId'] as string;
    const started = performance.now();
    const socket = req.socket;
    const ctx: RequestLogContext = { requestId, open: true };
    let logged = false;
    const done = (): void => {
      if (logged) {
        return;
      }
      logged = true;
      ctx.open = false;
      const status = res.statusCode;
      // the query string is left out: presigned URLs and session URLs carry their credentials in it
      const path = (req.originalUrl.split('?', 1)[0] ?? '').slice(0, MAX_LOGGED_PATH);
      const fields: Record<string, unknown> = {
        method: req.method,
        path,
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        requestId,
        ...bytesOf(socket),
      };
      const accessKeyId = accessKeyIdOf(req);
      if (accessKeyId !== null) {
        fields['accessKeyId'] = accessKeyId;
      }
      if (!res.writableFinished) {
        // the client left first: normal for a live GetMedia or a player closing, a failure in the middle otherwise
        fields['aborted'] = true;
      }
      if (status >= 500) {
        log.warn('request', fields);
      } else if (status < 400 && FREQUENT.test(path)) {
        log.debug('request', fields);
      } else {
        log.info('request', fields);
      }
    };
    res.once('finish', done);
    res.once('close', done);
    runInRequestContext(ctx, next);
  };
}
