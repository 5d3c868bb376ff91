/* global WebSocket, atob, btoa, URL */
// The KVS signaling WebSocket from the browser (kvs-api.md §5.2): a presigned SigV4 URL with X-Amz-ChannelARN (and
// X-Amz-ClientId for a viewer), JSON text frames out {action, messagePayload, recipientClientId?} and in
// {messageType, messagePayload?, senderClientId?}. Payloads are base64 of the JSON of an RTCSessionDescription or
// RTCIceCandidate, as the KVS WebRTC SDKs send them.

import { presignUrl } from './sigv4.js';

const encodePayload = (obj) => btoa(JSON.stringify(obj));

function decodePayload(text) {
  try {
    return JSON.parse(atob(text));
  } catch {
    return null;
  }
}

export class SignalingConnection {
  /**
   * @param {{ endpoint: string, channelArn: string, role: 'MASTER' | 'VIEWER', clientId?: string, region: string,
   *   credentials: { accessKeyId: string, secretAccessKey: string }, clockOffsetMs?: number,
   *   onMessage: (type: string, payload: any, senderClientId: string | undefined) => void,
   *   onClose: (code: number, reason: string) => void }} opts
   */
  constructor(opts) {
    this.opts = opts;
    /** @type {WebSocket | null} */
    this.ws = null;
  }

  /** Sign the URL and open the socket; resolves once open, rejects when the server refuses the upgrade. */
  async open() {
    const url = new URL(this.opts.endpoint);
    url.searchParams.set('X-Amz-ChannelARN', this.opts.channelArn);
    if (this.opts.role === 'VIEWER') {
      url.searchParams.set('X-Amz-ClientId', this.opts.clientId ?? '');
    }
    const signed = await presignUrl({
      url: url.toString(),
      credentials: this.opts.credentials,
      region: this.opts.region,
      service: 'kinesisvideo',
      expiresSeconds: 299,
      date: new Date(Date.now() + (this.opts.clockOffsetMs ?? 0)),
    });
    const ws = new WebSocket(signed);
    this.ws = ws;
    await new Promise((resolve, reject) => {
      let opened = false;
      ws.addEventListener('open', () => {
        opened = true;
        resolve(undefined);
      });
      ws.addEventListener('close', (ev) => {
        if (!opened) {
          // Browsers hide the refused upgrade's status; the server's reason is in its logs.
          reject(new Error(`The signaling connection was refused (WebSocket close ${ev.code}): check the credentials, the channel and the viewer limit.`));
        } else if (this.ws === ws) {
          this.opts.onClose(ev.code, ev.reason);
        }
      });
    });
    ws.addEventListener('message', (ev) => this.#onFrame(ev.data));
  }

  #onFrame(data) {
    let msg;
    try {
      msg = JSON.parse(String(data));
    } catch {
      return;
    }
    if (typeof msg?.messageType !== 'string') {
      return;
    }
    const payload = typeof msg.messagePayload === 'string' ? decodePayload(msg.messagePayload) : (msg.statusResponse ?? null);
    this.opts.onMessage(msg.messageType, payload, typeof msg.senderClientId === 'string' && msg.senderClientId !== '' ? msg.senderClientId : undefined);
  }

  /**
   * @param {'SDP_OFFER' | 'SDP_ANSWER' | 'ICE_CANDIDATE'} action
   * @param {object} payload an RTCSessionDescriptionInit or RTCIceCandidateInit
   * @param {string} [recipientClientId] the viewer's id (master only)
   */
  send(action, payload, recipientClientId) {
    if (this.ws === null || this.ws.readyState !== WebSocket.OPEN) {
      return false;
    }
    const frame = { action, messagePayload: encodePayload(payload) };
    if (this.opts.role === 'MASTER' && recipientClientId !== undefined) {
      frame.recipientClientId = recipientClientId;
    }
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  close() {
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'bye');
  }
}
