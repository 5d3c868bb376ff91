import { connect } from 'node:net';

/**
 * Send bytes exactly as given and collect everything the server answers until it closes (so the request must say
 * `Connection: close`, or be one the server closes after answering): for requests no HTTP client
 * would send (oversized headers, hand-made upgrades) and to see the server's own framing.
 */
export async function rawHttp(baseUrl: string, request: string): Promise<{ status: number; headers: string; body: string }> {
  const u = new URL(baseUrl);
  const text = await new Promise<string>((resolve, reject) => {
    // no half-close: Node's server drops a response still being prepared once the client's side ends
    const socket = connect(Number(u.port), u.hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', (err) => (chunks.length > 0 ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(err)));
  });
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, headers: head, body: split < 0 ? '' : text.slice(split + 4) };
}

/** A GET with `Connection: close`, so rawHttp's answer ends with the response. */
export const rawGet = (baseUrl: string, target: string, extraHeaders = ''): Promise<{ status: number; headers: string; body: string }> =>
  rawHttp(baseUrl, `GET ${target} HTTP/1.1\r\nHost: ${new URL(baseUrl).host}\r\n${extraHeaders}Connection: close\r\n\r\n`);

/** A WebSocket upgrade request for `target`, refused or accepted; the socket is closed after the answer. */
export const rawUpgrade = (baseUrl: string, target: string): Promise<{ status: number; headers: string; body: string }> =>
  rawHttp(
    baseUrl,
    `GET ${target} HTTP/1.1\r\nHost: ${new URL(baseUrl).host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
