import express, { type NextFunction, type Request, type Response } from 'express';
import type { SigV4Verifier, VerifiedCaller } from '../auth/sigv4-verifier.js';
import { KvsError } from '../errors/codes.js';
import { newRequestId } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { Input } from './input.js';
import { MediaResponse, type OperationTable } from './operation.js';
import { readBody } from './read-body.js';
import { sendError } from './send-error.js';
import type { Authorizer } from '../iam/authorizer.js';
import { actionOfPath, extraActions, refsOfBody, type ResourceRefs } from '../iam/actions.js';
import { clientRateLimit } from './client-rate-limit.js';
import type { ClientRateLimiter } from '../util/client-rate-limiter.js';
import { urlLimit } from './url-limit.js';
import { accessLog } from './access-log.js';

/** A route that consumes the request body itself (PutMedia); auth has been checked before it runs. */
export type StreamingRoute = (req: Request, res: Response, ctx: { requestId: string; caller: VerifiedCaller | null; body: Buffer | null }) => Promise<void>;

/**
 * Streaming bodies are normally signed without a body hash (KVS producers sign SHA-256 of ""). Clients that do
 * hash a fixed-length body (curl --aws-sigv4 --data-binary) are verified by reading the body first, up to this.
 */
export const MAX_PREREAD_SIGNED_BODY = 64 * 1024 * 1024;

export type AppDeps = {
  logger: Logger;
  /** null when auth is off (explicit opt-in). */
  verifier: SigV4Verifier | null;
  /** Policies of the caller's access key, checked after its signature (src/iam). */
  authorizer: Authorizer;
  operations: OperationTable;
  streamingRoutes: Record<string, StreamingRoute>;
  publicUrl: string | null;
  isReady: () => boolean;
  /** Per-client request rate over every route but /health; none when absent. */
  clientLimiter?: ClientRateLimiter;
  /** GET routes that authenticate on their own (streaming-session URLs carry a signed token, not SigV4). */
  routers?: express.Router[];
};

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const log = deps.logger.child('http');

  app.use((req, res, next) => {
    const requestId = newRequestId();
    res.locals['requestId'] = requestId;
    res.setHeader('x-amzn-RequestId', requestId);
    next();
  });
  app.use(accessLog(log));
  app.use(urlLimit());
  app.use(clientRateLimit(deps.clientLimiter ?? null));

  app.get('/health', (_req, res) => {
    const ready = deps.isReady();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'starting' });
  });

  for (const router of deps.routers ?? []) {
    app.use(router);
  }

  app.post(/.*/, async (req, res, next) => {
    try {
      const requestId = res.locals['requestId'] as string;
      const streaming = deps.streamingRoutes[req.path];
      if (streaming !== undefined) {
        let body: Buffer | null = null;
        let caller: VerifiedCaller | null;
        try {
          caller = await authenticate(deps.verifier, req, null);
        } catch (err) {
          const length = Number(req.headers['content-length'] ?? NaN);
          if (!(err instanceof KvsError && err.errorName === 'InvalidSignatureException') || !(length <= MAX_PREREAD_SIGNED_BODY)) {
            throw err;
          }
          body = await readBody(req, MAX_PREREAD_SIGNED_BODY);
          caller = await authenticate(deps.verifier, req, body);
        }
        authorize(deps.authorizer, caller, req.path, {}, refsOfHeaders(req), requestId);
        await streaming(req, res, { requestId, caller, body });
        return;
      }
      const body = await readBody(req);
      const caller = await authenticate(deps.verifier, req, body);
      const op = deps.operations[req.path];
      if (op === undefined) {
        throw new KvsError('UnknownOperationException', `No operation is served at POST ${req.path}.`);
      }
      const json = parseJson(body);
      const members = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
      authorize(deps.authorizer, caller, req.path, members, refsOfBody(members), requestId);
      const input = new Input(json);
      const output = await op(input, { requestId, baseUrl: deps.publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}` });
      if (output instanceof MediaResponse) {
        await sendMedia(res, output);
        return;
      }
      res.status(200).type('application/json').send(JSON.stringify(output ?? {}));
    } catch (err) {
      next(err);
    }
  });

  app.use((req, _res, next) => {
    next(new KvsError('UnknownOperationException', `No operation is served at ${req.method} ${req.path}.`));
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendError(res, err, log);
  });
  return app;
}

/**
 * Stream a media body. The operation has validated everything it can before returning, so the 200 and headers go
 * out at once (a live GetMedia may wait long for its first chunk); a client that disconnects aborts the body.
 */
async function sendMedia(res: Response, media: MediaResponse): Promise<void> {
  const abort = new AbortController();
  const body = typeof media.body === 'function' ? media.body(abort.signal) : media.body;
  const it = body[Symbol.asyncIterator]();
  const onClose = (): void => abort.abort();
  res.once('close', onClose);
  res.status(200).setHeader('Content-Type', media.contentType);
  res.flushHeaders();
  try {
    for (;;) {
      const { value, done } = await it.next();
      if (done || abort.signal.aborted) {
        break;
      }
      let flowing = true;
      if (value instanceof Uint8Array) {
        flowing = res.write(value);
      } else {
        // one unit, several pieces: corked so they leave in one writev
        res.cork();
        for (const piece of value) {
          flowing = res.write(piece);
        }
        res.uncork();
      }
      if (!flowing) {
        await new Promise<void>((resolve) => {
          const go = (): void => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.once('drain', go);
          res.once('close', go);
        });
      }
    }
    res.end();
  } finally {
    res.off('close', onClose);
    abort.abort();
    // Let the producer of chunks run its finally blocks (unsubscribe, release limits).
    await it.return?.();
  }
}

async function authenticate(verifier: SigV4Verifier | null, req: Request, body: Buffer | null): Promise<VerifiedCaller | null> {
  if (verifier === null) {
    return null;
  }
  const url = new URL(req.originalUrl, 'http://x');
  return verifier.verifyHeaders({
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    body,
  });
}

/** The action of the path, and the openkvs extras the members ask for (a stream's capacity), on the named resources. */
function authorize(authorizer: Authorizer, caller: VerifiedCaller | null, path: string, members: Record<string, unknown>, refs: ResourceRefs, requestId: string): void {
  const requested = actionOfPath(path);
  if (requested === null) {
    throw new KvsError('UnknownOperationException', `No operation is served at POST ${path}.`);
  }
  for (const r of [requested, ...extraActions(requested.action, members)]) {
    authorizer.authorize(caller, r, refs, requestId);
  }
}

function refsOfHeaders(req: Request): ResourceRefs {
  const one = (name: string): string | undefined => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const refs: ResourceRefs = {};
  const name = one('x-amzn-stream-name');
  const arn = one('x-amzn-stream-arn');
  if (name !== undefined) {
    refs.streamName = name;
  }
  if (arn !== undefined) {
    refs.streamArn = arn;
  }
  return refs;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) {
    return {};
  }
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new KvsError('SerializationException', 'The request body is not valid JSON.');
  }
}
