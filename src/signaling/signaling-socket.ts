import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SigV4Verifier } from '../auth/sigv4-verifier.js';
import { ERROR_STATUS, KvsError } from '../errors/codes.js';
import type { Logger } from '../util/logger.js';
import type { Authorizer } from '../iam/authorizer.js';
import { signalingAction } from '../iam/actions.js';
import { accessKeyIdOf } from '../util/client-key.js';
import { AUTHENTICATION_FAILURES, type ClientRateLimiter } from '../util/client-rate-limiter.js';
import { MAX_URL_BYTES, isUrlTooLong } from '../util/url-limit.js';
import type { ChannelRegistry } from './channel-registry.js';
import type { Role, SignalingHub } from './signaling-hub.js';
import { MAX_FRAME_BYTES, isClientId } from './signaling-messages.js';

/** The WSS endpoint paths GetSignalingChannelEndpoint hands out: the role is in the path, as one host serves both. */
export const SIGNALING_PATHS: Record<Role, string> = { MASTER: '/signaling/master', VIEWER: '/signaling/viewer' };

export type SignalingSocketDeps = {
  hub: SignalingHub;
  channels: ChannelRegistry;
  /** null when auth is off. */
  verifier: SigV4Verifier | null;
  /** ConnectAsMaster / ConnectAsViewer on the channel, checked after the signature. */
  authorizer: Authorizer;
  log: Logger;
  /** Where the HTTP routes write their access-log lines: an upgrade gets one too. */
  accessLog?: Logger;
  /** The same per-client request rate the HTTP routes draw on; none when absent. */
  clientLimiter?: ClientRateLimiter;
};

/**
 * The signaling WebSocket: `GET /signaling/{master,viewer}?X-Amz-ChannelARN=…[&X-Amz-ClientId=…]&X-Amz-Signature=…`
 * (a presigned SigV4 URL, as the KVS WebRTC SDKs make it). Refusals are plain HTTP answers before the upgrade,
 * with the KVS error name in `x-amzn-ErrorType`.
 */
export function signalingUpgrade(deps: SignalingSocketDeps): (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  return (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const role = url.pathname === SIGNALING_PATHS.MASTER ? 'MASTER' : url.pathname === SIGNALING_PATHS.VIEWER ? 'VIEWER' : null;
    if (role === null) {
      return false;
    }
    const started = performance.now();
    const logRequest = (status: number, errorType?: string): void => {
      const fields: Record<string, unknown> = { method: req.method, path: url.pathname, status, ms: Math.round((performance.now() - started) * 10) / 10, role };
      const accessKeyId = accessKeyIdOf(req);
      if (accessKeyId !== null) {
        fields['accessKeyId'] = accessKeyId;
      }
      if (errorType !== undefined) {
        fields['errorType'] = errorType;
      }
      if (status >= 500) {
        deps.accessLog?.warn('request', fields);
      } else {
        deps.accessLog?.info('request', fields);
      }
    };
    const early = refusalBeforeAccept(deps, req);
    if (early !== null) {
      const r = refuse(socket, early);
      logRequest(r.status, r.name);
      return true;
    }
    accept(deps, wss, req, socket, head, url, role).then(
      () => logRequest(101),
      (err: unknown) => {
        if (err instanceof KvsError && AUTHENTICATION_FAILURES.has(err.errorName)) {
          const limiter = deps.clientLimiter;
          limiter?.authenticationFailed(limiter.keys.address(req));
        }
        const r = refuse(socket, err);
        logRequest(r.status, r.name);
      },
    );
    return true;
  };
}

async function accept(deps: SignalingSocketDeps, wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer, url: URL, role: Role): Promise<void> {
  const query = Object.fromEntries(url.searchParams.entries());
  const caller = deps.verifier === null ? null : await deps.verifier.verifyPresigned({ method: 'GET', path: url.pathname, query, headers: req.headers, body: null });
  const arn = query['X-Amz-ChannelARN'];
  if (arn === undefined) {
    throw new KvsError('InvalidArgumentException', 'X-Amz-ChannelARN is required.');
  }
  deps.authorizer.authorize(caller, signalingAction(role), { channelArn: arn });
  const channel = deps.channels.find(arn);
  if (channel === undefined) {
    throw new KvsError('ResourceNotFoundException', `The signaling channel ${arn} does not exist.`);
  }
  const clientId = query['X-Amz-ClientId'] ?? null;
  if (role === 'VIEWER' && (clientId === null || !isClientId(clientId))) {
    throw new KvsError('InvalidArgumentException', 'A viewer must give X-Amz-ClientId (1-256 characters of [a-zA-Z0-9_.-]).');
  }
  if (role === 'MASTER' && clientId !== null) {
    throw new KvsError('InvalidArgumentException', 'A master connects without X-Amz-ClientId.');
  }
  // the capacity check happens before the upgrade, so a refused viewer sees an HTTP error, not a closed socket
  let ws: WebSocket | null = null;
  const pendingSends: string[] = [];
  const link = deps.hub.connect(channel, role, clientId, {
    send: (m) => {
      const text = JSON.stringify(m);
      if (ws === null) {
        pendingSends.push(text);
      } else if (ws.readyState === ws.OPEN) {
        ws.send(text);
      }
    },
    close: (code, reason) => {
      if (ws === null) {
        socket.destroy();
      } else {
        ws.close(code, reason);
      }
    },
  });
  // a handshake that never completes must not leave its client registered
  socket.once('close', () => {
    if (ws === null) {
      link.closed();
    }
  });
  wss.handleUpgrade(req, socket, head, (opened) => {
    ws = opened;
    for (const text of pendingSends.splice(0)) {
      opened.send(text);
    }
    opened.on('message', (data, isBinary) => {
      if (!isBinary) {
        link.receive(data.toString());
      }
    });
    // pings (the C SDK sends one every 10 s) count as activity
    opened.on('ping', () => link.touch());
    opened.on('close', () => link.closed());
    opened.on('error', () => link.closed());
    deps.log.debug('signaling client connected', { channel: channel.name, role, clientId });
  });
}

/** Checked before any parsing or signature work, as the HTTP routes do in their first middlewares. */
function refusalBeforeAccept(deps: SignalingSocketDeps, req: IncomingMessage): KvsError | null {
  if (isUrlTooLong(req.url)) {
    return new KvsError('InvalidArgumentException', `The request URL exceeds ${MAX_URL_BYTES} bytes.`);
  }
  const limiter = deps.clientLimiter;
  if (limiter !== undefined && !limiter.tryTake(limiter.keys.client(req), limiter.keys.address(req))) {
    return new KvsError('ClientLimitExceededException', 'Too many requests from this client; slow down and retry.');
  }
  return null;
}

function refuse(socket: Duplex, err: unknown): { status: number; name: string } {
  const name = err instanceof KvsError ? err.errorName : 'InternalFailure';
  const status = err instanceof KvsError ? (name === 'InvalidSignatureException' || name === 'IncompleteSignatureException' || name === 'MissingAuthenticationTokenException' || name === 'UnrecognizedClientException' ? 403 : err.status) : ERROR_STATUS.InternalFailure;
  const body = JSON.stringify({ __type: name, message: err instanceof Error ? err.message : 'internal error' });
  socket.end(
    `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : status === 400 ? 'Bad Request' : 'Error'}\r\n` +
      `content-type: application/json\r\nx-amzn-ErrorType: ${name}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  return { status, name };
}
