// A raw signaling WebSocket (kvs-api.md §5.2) with a presigned SigV4 URL, as the KVS SDKs connect: for WebRTC
// peers in tests and benches that need no SDK.

import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { WebSocket } from 'ws';
import { TEST_ACCESS_KEY, TEST_SECRET } from './server.js';

export type SignalMessage = { messageType: string; messagePayload?: string; senderClientId?: string };
export type SignalingSocket = {
  send(action: 'SDP_OFFER' | 'SDP_ANSWER' | 'ICE_CANDIDATE', payload: unknown, recipientClientId?: string): void;
  onMessage(l: (m: SignalMessage) => void): void;
  close(): Promise<void>;
};

export const encodePayload = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64');
export const decodePayload = <T>(b64: string): T => JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as T;

/** Opens `<base>/signaling/{master,viewer}` for a channel; the base URL is the server's http(s) one. */
export async function openSignaling(baseUrl: string, channelArn: string, role: 'MASTER' | 'VIEWER', clientId?: string, opts: { region?: string; ca?: Buffer; credentials?: { accessKeyId: string; secretAccessKey: string } } = {}): Promise<SignalingSocket> {
  const url = new URL(`${baseUrl}/signaling/${role === 'MASTER' ? 'master' : 'viewer'}`);
  const signer = new SignatureV4({ service: 'kinesisvideo', region: opts.region ?? 'us-east-1', credentials: opts.credentials ?? { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, sha256: Sha256 });
  const query: Record<string, string> = { 'X-Amz-ChannelARN': channelArn, ...(clientId !== undefined ? { 'X-Amz-ClientId': clientId } : {}) };
  const req = await signer.presign({ method: 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers: { host: url.host } }, { expiresIn: 299 });
  const wsUrl = `${url.href.replace(/^http/, 'ws')}?${new URLSearchParams(req.query as Record<string, string>).toString()}`;
  const ws = new WebSocket(wsUrl, opts.ca !== undefined ? { ca: opts.ca } : {});
  const listeners: ((m: SignalMessage) => void)[] = [];
  // attached before 'open': a message queued for this client (the hub's TTL queue) can arrive in the same TCP read
  // as the upgrade, and ws emits it right after 'open', before an awaiting caller could subscribe; kept until one does
  const early: SignalMessage[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as SignalMessage;
    if (listeners.length === 0) {
      early.push(m);
    }
    for (const l of listeners) {
      l(m);
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_q, res) => reject(new Error(`signaling refused: HTTP ${res.statusCode} ${String(res.headers['x-amzn-errortype'])}`)));
    ws.once('error', reject);
  });
  return {
    send: (action, payload, recipientClientId) => ws.send(JSON.stringify({ action, messagePayload: encodePayload(payload), ...(recipientClientId !== undefined ? { recipientClientId } : {}) })),
    onMessage: (l) => {
      listeners.push(l);
      for (const m of early.splice(0)) {
        l(m);
      }
    },
    close: async () => {
      if (ws.readyState === ws.CLOSED) {
        return;
      }
      const closed = new Promise<void>((r) => ws.once('close', () => r()));
      ws.close();
      await closed;
    },
  };
}
