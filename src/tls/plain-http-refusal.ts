import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';

// Without this, a plain-HTTP request to the TLS port fails the handshake and the connection is simply dropped
// (curl: "Empty reply from server"): the user is left guessing. With it, the request is answered with a 400
// that says which scheme to use, and TLS clients go on exactly as before.

/** Every TLS client opens with a handshake record (the ClientHello); its content type is 22. */
const TLS_HANDSHAKE_RECORD = 0x16;
/** An HTTP/1 request line starts with its method, upper-case letters. */
const HTTP_METHOD_START = /^[A-Z]$/;

export type PlainHttpRefusal = {
  /** What the 400's body says (one line). */
  message: string;
  /** A connection that sends no first byte within this is closed (TLS's own handshake timeout starts after it). */
  firstByteTimeoutMs: number;
};

/**
 * Puts a look at each connection's first byte in front of the TLS server's own connection handling: a TLS
 * handshake is handed to it untouched (the byte pushed back, so the TLS socket reads everything), an HTTP request
 * line gets `400` and the connection closes, anything else is closed at once.
 */
export const DEFAULT_REFUSAL: PlainHttpRefusal = {
  message: 'This port serves HTTPS only: use https:// (and wss:// for signaling).',
  // short: a connection waiting here is not one server.close() can cut, so shutdown may wait this long for it
  firstByteTimeoutMs: 10_000,
};

export function refusePlainHttp<S extends TlsServer>(server: S, refusal: PlainHttpRefusal = DEFAULT_REFUSAL): S {
  const own = server.listeners('connection');
  const tlsListener = own[0];
  if (tlsListener === undefined || own.length !== 1) {
    throw new Error(`refusePlainHttp: expected the TLS server's one connection listener, found ${own.length}`);
  }
  server.removeListener('connection', tlsListener as (socket: Socket) => void);
  const body = `${refusal.message}\n`;
  const response = [
    'HTTP/1.1 400 Bad Request',
    'content-type: text/plain; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');

  server.on('connection', (socket: Socket) => {
    // until TLS takes the socket over, its errors (a reset while we wait) are ours; after, this never fires
    socket.on('error', () => socket.destroy());
    socket.setTimeout(refusal.firstByteTimeoutMs, () => socket.destroy());
    socket.once('readable', () => {
      socket.setTimeout(0);
      const first = socket.read(1) as Buffer | null;
      if (first === null) {
        socket.destroy();
        return;
      }
      if (first[0] === TLS_HANDSHAKE_RECORD) {
        socket.unshift(first);
        (tlsListener as (socket: Socket) => void).call(server, socket);
        return;
      }
      if (!HTTP_METHOD_START.test(String.fromCharCode(first[0] ?? 0))) {
        socket.destroy();
        return;
      }
      // keep reading what the client still sends: closing with unread bytes makes the kernel answer with a reset,
      // which can reach the client before the 400 does
      socket.resume();
      socket.setTimeout(refusal.firstByteTimeoutMs, () => socket.destroy());
      socket.end(response);
    });
  });
  return server;
}
