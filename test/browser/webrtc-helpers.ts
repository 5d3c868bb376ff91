import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { until as pollUntil } from '../helpers/until.js';
import { TEST_ACCESS_KEY, TEST_SECRET } from '../helpers/server.js';
import { collectPageErrors, waitForExpression } from './chromium.js';

// What the WebRTC browser tests share: Chromium flags, getStats-based waits, a logged-in console call tab, and the
// KVS WebRTC JS SDK's browser bundle with pages (viewer, master) that use it.
// In-page code is passed as strings: the project compiles without the DOM library.

/** toolchain-notes Q4: fake media devices without a prompt, and 127.0.0.1 candidates; the certificate is self-signed. */
export const WEBRTC_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection', '--ignore-certificate-errors'];
export const MEDIA_WAIT_MS = 45_000;

/** The console call page's peer connections (one per viewer on a master, the master's on a viewer). */
export const consolePeers = '[...(globalThis.openkvsCall?.peers.values() ?? [])].map((p) => p.pc)';

/**
 * True once every peer connection the expression yields has decoded video frames and received audio packets
 * (inbound-rtp from getStats), and there are at least `peers` of them.
 */
export function mediaFlowing(pcs: string, peers: number): string {
  return `(async () => {
    const pcs = ${pcs};
    if (pcs.length < ${peers}) return false;
    for (const pc of pcs) {
      let video = 0, audio = 0;
      for (const s of (await pc.getStats()).values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'video') video += s.framesDecoded ?? 0;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') audio += s.packetsReceived ?? 0;
      }
      if (video < 5 || audio < 5) return false;
    }
    return true;
  })()`;
}

/** The browser's outbound video toward one peer: frames encoded and the codec it encodes with. */
export function outboundVideo(pc: string): string {
  return `(async () => {
    const stats = [...(await ${pc}.getStats()).values()];
    const out = stats.find((s) => s.type === 'outbound-rtp' && s.kind === 'video');
    return { framesEncoded: out?.framesEncoded ?? 0, codec: stats.find((s) => s.id === out?.codecId)?.mimeType ?? null, encoder: out?.encoderImplementation ?? null };
  })()`;
}

/** Polls a server-side condition (in this process) until it yields a value; media waits are long in Chromium. */
export const until = <T>(what: string, f: () => T | undefined | Promise<T | undefined>, timeoutMs = MEDIA_WAIT_MS): Promise<T> => pollUntil(what, f, timeoutMs);

/** waitForExpression(mediaFlowing(…)); on a timeout the error says what each peer connection had got to. */
export async function waitForMedia(page: Page, pcs: string, peers: number, errors: string[]): Promise<void> {
  try {
    await waitForExpression(page, mediaFlowing(pcs, peers), MEDIA_WAIT_MS);
  } catch (err) {
    const state = await page.evaluate(`(async () => JSON.stringify(await Promise.all((${pcs}).map(async (pc) => ({
      connection: pc.connectionState, ice: pc.iceConnectionState, signaling: pc.signalingState,
      inbound: [...(await pc.getStats()).values()].filter((s) => s.type === 'inbound-rtp').map((s) => ({
        kind: s.kind, packets: s.packetsReceived, lost: s.packetsLost, framesReceived: s.framesReceived, framesDecoded: s.framesDecoded,
        keyFramesDecoded: s.keyFramesDecoded, framesDropped: s.framesDropped, pli: s.pliCount, fir: s.firCount, nack: s.nackCount,
        decoder: s.decoderImplementation, codec: s.codecId,
      })),
      codecs: [...(await pc.getStats()).values()].filter((s) => s.type === 'codec').map((s) => s.id + '=' + s.mimeType + '/' + s.payloadType + ' ' + (s.sdpFmtpLine ?? '')),
    })))))()`);
    throw new Error(`${(err as Error).message}\npeers: ${String(state)}\npage errors: ${errors.join('\n')}`);
  }
}

/** A new tab logged in to the console at serverUrl (the test server's credentials), on the stream list. */
export async function consoleTab(browser: Browser, serverUrl: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors = collectPageErrors(page);
  await page.goto(`${serverUrl}/console/`);
  await page.waitForSelector('body[data-view="login"]');
  await page.fill('#access-key-id', TEST_ACCESS_KEY);
  await page.fill('#secret-access-key', TEST_SECRET);
  await page.click('#login-submit');
  await page.waitForSelector('body[data-view="list"]');
  return { page, errors };
}

/** A logged-in console tab on the call page of a channel, joined with the given role (loopback=1, join=1). */
export async function joinInConsole(browser: Browser, serverUrl: string, channel: string, role: 'MASTER' | 'VIEWER', clientId?: string): Promise<{ page: Page; errors: string[] }> {
  const { page, errors } = await consoleTab(browser, serverUrl);
  const query = new URLSearchParams({ role, loopback: '1', join: '1', ...(clientId !== undefined ? { clientId } : {}) });
  await page.evaluate(`location.hash = ${JSON.stringify(`#/webrtc/${encodeURIComponent(channel)}?${query.toString()}`)}`);
  await page.waitForSelector('body[data-view="call"]');
  await page.waitForSelector(`#call-status[data-state="${role === 'MASTER' ? 'waiting' : 'calling'}"], #call-status[data-state="connected"]`, { timeout: 30_000 });
  return { page, errors };
}

/** Page errors only (uncaught exceptions), for assertions that a tab ran cleanly. */
export const pageErrors = (errors: string[]): string[] => errors.filter((e) => e.startsWith('pageerror'));

/** http://127.0.0.1:<port>: the SDK's browser bundle and the test pages that use it (/viewer.html, /master.html). */
export async function serveSdkPages(): Promise<{ url: string; close(): Promise<void> }> {
  const bundle = readFileSync(createRequire(import.meta.url).resolve('amazon-kinesis-video-streams-webrtc/dist/kvs-webrtc.min.js'));
  const pages: Record<string, string> = { '/viewer.html': SDK_VIEWER_PAGE, '/master.html': SDK_MASTER_PAGE };
  const server = createServer((req, res) => {
    const page = pages[req.url ?? ''];
    if (req.url === '/kvs-webrtc.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else if (page !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A viewer after the SDK's own sample (viewer.js), trickling only 127.0.0.1 candidates. */
const SDK_VIEWER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><script src="/kvs-webrtc.min.js"></script></head>
<body><video id="remote" autoplay playsinline muted></video>
<script>
window.sdkErrors = [];
const loopback = (c) => String(c).split(' ')[4] === '127.0.0.1';
window.startViewer = async (o) => {
  const client = new KVSWebRTC.SignalingClient({
    channelARN: o.arn, channelEndpoint: o.wss, clientId: o.clientId, role: KVSWebRTC.Role.VIEWER,
    region: o.region, credentials: o.credentials, systemClockOffset: 0,
  });
  const pc = new RTCPeerConnection({ iceServers: o.iceServers });
  window.sdkPc = pc;
  const local = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  local.getTracks().forEach((t) => pc.addTrack(t, local));
  pc.addEventListener('track', (e) => { document.getElementById('remote').srcObject = e.streams[0]; });
  pc.addEventListener('icecandidate', ({ candidate }) => {
    if (candidate && candidate.candidate && loopback(candidate.candidate)) client.sendIceCandidate(candidate);
  });
  client.on('sdpAnswer', (answer) => pc.setRemoteDescription(answer).catch((e) => window.sdkErrors.push(String(e))));
  client.on('iceCandidate', (c) => { if (loopback(c.candidate)) pc.addIceCandidate(c).catch((e) => window.sdkErrors.push(String(e))); });
  client.on('error', (e) => window.sdkErrors.push(String(e)));
  await new Promise((resolve, reject) => { client.once('open', resolve); client.once('error', reject); client.open(); });
  await pc.setLocalDescription(await pc.createOffer({ offerToReceiveAudio: true, offerToReceiveVideo: true }));
  client.sendSdpOffer(pc.localDescription);
};
</script></body></html>`;

/**
 * A master after the SDK's own sample (master.js): camera and microphone first, then one RTCPeerConnection per
 * viewer that offers (answered with the local tracks), trickling only 127.0.0.1 candidates to that viewer. A viewer's
 * candidates that arrive before its offer has been applied wait in its queue. window.sdkPeers maps client ids to
 * peer connections; window.sdkErrors collects what failed.
 */
const SDK_MASTER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><script src="/kvs-webrtc.min.js"></script></head>
<body><video id="local" autoplay playsinline muted></video><div id="remotes"></div>
<script>
window.sdkErrors = [];
window.sdkPeers = {};
window.sdkStatus = 'idle';
const loopback = (c) => String(c).split(' ')[4] === '127.0.0.1';
const fail = (e) => window.sdkErrors.push(String(e && e.stack || e));
window.startMaster = async (o) => {
  const local = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  document.getElementById('local').srcObject = local;
  const client = new KVSWebRTC.SignalingClient({
    channelARN: o.arn, channelEndpoint: o.wss, role: KVSWebRTC.Role.MASTER,
    region: o.region, credentials: o.credentials, systemClockOffset: 0,
  });
  window.sdkClient = client;
  const queues = {};
  client.on('sdpOffer', async (offer, remoteClientId) => {
    try {
      window.sdkPeers[remoteClientId]?.close();
      const pc = new RTCPeerConnection({ iceServers: o.iceServers });
      window.sdkPeers[remoteClientId] = pc;
      const queue = (queues[remoteClientId] ??= { ready: false, pending: [] });
      queue.ready = false;
      pc.addEventListener('icecandidate', ({ candidate }) => {
        if (candidate && candidate.candidate && loopback(candidate.candidate)) client.sendIceCandidate(candidate, remoteClientId);
      });
      pc.addEventListener('track', (e) => {
        let v = document.querySelector('video[data-peer="' + remoteClientId + '"]');
        if (!v) { v = document.createElement('video'); v.dataset.peer = remoteClientId; v.autoplay = true; v.muted = true; document.getElementById('remotes').append(v); }
        v.srcObject = e.streams[0];
      });
      local.getTracks().forEach((t) => pc.addTrack(t, local));
      await pc.setRemoteDescription(offer);
      queue.ready = true;
      for (const c of queue.pending.splice(0)) await pc.addIceCandidate(c);
      await pc.setLocalDescription(await pc.createAnswer());
      client.sendSdpAnswer(pc.localDescription, remoteClientId);
    } catch (e) { fail(e); }
  });
  client.on('iceCandidate', (c, remoteClientId) => {
    if (!loopback(c.candidate)) return;
    const queue = (queues[remoteClientId] ??= { ready: false, pending: [] });
    const pc = window.sdkPeers[remoteClientId];
    if (queue.ready && pc) pc.addIceCandidate(c).catch(fail); else queue.pending.push(c);
  });
  client.on('error', fail);
  client.on('close', () => { window.sdkStatus = 'closed'; });
  await new Promise((resolve, reject) => { client.once('open', resolve); client.once('error', reject); client.open(); });
  window.sdkStatus = 'open';
};
</script></body></html>`;
