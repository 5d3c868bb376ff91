import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { WebSocket as WsSocket } from 'ws';

export type TestCert = { certFile: string; keyFile: string; cert: Buffer };

/** A self-signed certificate for 127.0.0.1 (openssl, run asynchronously). */
export async function selfSignedCert(): Promise<TestCert> {
  const dir = mkdtempSync(join(tmpdir(), 'openkvs-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { certFile, keyFile, cert: readFileSync(certFile) };
}

/** The AWS SDK's HTTP handler trusting that certificate (as a user would with a custom CA bundle). */
export function trustingHandler(cert: Buffer): NodeHttpHandler {
  return new NodeHttpHandler({ httpsAgent: new Agent({ ca: cert }) });
}

/**
 * Makes `globalThis.WebSocket` the ws client trusting that certificate: what the KVS WebRTC JS SDK's
 * `new WebSocket(url)` gets in Node 20, as a user's process would with the CA installed.
 */
export function trustWebSocketsTo(cert: Buffer): void {
  class TrustingWebSocket extends WsSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca: cert });
    }
  }
  (globalThis as { WebSocket?: unknown }).WebSocket = TrustingWebSocket;
}
