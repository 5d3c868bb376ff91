import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refusePlainHttp } from '../../../src/tls/plain-http-refusal.js';
import { ensureSelfSignedCertificate, requiredNames } from '../../../src/tls/self-signed.js';

let server: Server;
let port: number;
let ca: Buffer;

beforeAll(async () => {
  const c = await ensureSelfSignedCertificate(mkdtempSync(join(tmpdir(), 'openkvs-refusal-')), requiredNames('127.0.0.1', null));
  ca = c.cert;
  server = createServer({ cert: c.cert, key: c.key }, (req, res) => {
    let n = 0;
    req.on('data', (chunk: Buffer) => (n += chunk.length));
    req.on('end', () => res.end(`${req.method} ${req.url} ${n}`));
  });
  refusePlainHttp(server, { message: 'use https', firstByteTimeoutMs: 300 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function send(secure: boolean, method: string, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)({ host: '127.0.0.1', port, method, path: '/p', ...(secure ? { ca } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** Resolves with what a raw TCP client received before the server closed the connection. */
function raw(bytes: Buffer | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      if (bytes !== null) {
        s.write(bytes);
      }
    });
    let got = '';
    s.on('data', (c: Buffer) => (got += c.toString('latin1')));
    s.once('close', () => resolve(got));
    s.once('error', reject);
  });
}

describe('refusePlainHttp', () => {
  it('hands TLS connections to the server untouched, bodies and all', async () => {
    expect(await send(true, 'GET')).toEqual({ status: 200, body: 'GET /p 0' });
    const big = randomBytes(3 * 1024 * 1024);
    expect(await send(true, 'POST', big)).toEqual({ status: 200, body: `POST /p ${big.length}` });
  });

  it('answers a plain-HTTP request with 400 and the message, even one still sending a large body', async () => {
    expect(await send(false, 'GET')).toEqual({ status: 400, body: 'use https\n' });
    expect(await send(false, 'POST', randomBytes(3 * 1024 * 1024))).toEqual({ status: 400, body: 'use https\n' });
  });

  it('closes without a word a connection that is neither, or that sends nothing', async () => {
    expect(await raw(Buffer.from([0x00, 0x01, 0x02]))).toBe('');
    expect(await raw(null)).toBe('');
    // and the server still serves
    expect((await send(true, 'GET')).status).toBe(200);
  });
});
