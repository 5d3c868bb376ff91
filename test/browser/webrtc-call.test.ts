import {
  CreateSignalingChannelCommand,
  CreateStreamCommand,
  GetSignalingChannelEndpointCommand,
  KinesisVideoClient,
  UpdateMediaStorageConfigurationCommand,
} from '@aws-sdk/client-kinesis-video';
import { GetMediaForFragmentListCommand, KinesisVideoArchivedMediaClient, ListFragmentsCommand } from '@aws-sdk/client-kinesis-video-archived-media';
import { GetIceServerConfigCommand, KinesisVideoSignalingClient } from '@aws-sdk/client-kinesis-video-signaling';
import { JoinStorageSessionCommand, KinesisVideoWebRTCStorageClient } from '@aws-sdk/client-kinesis-video-webrtc-storage';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { selfSignedCert, trustingHandler, type TestCert } from '../helpers/tls.js';
import { STORAGE_CLIENT_ID } from '../../src/webrtc/storage-session.js';
import { collectPageErrors, launchChromium, skipWithoutChromium, waitForExpression } from './chromium.js';

// Two-way WebRTC calls through openkvs's signaling over TLS, in Chromium with a fake camera and microphone: console
// tabs as master and viewers, and the official KVS WebRTC JS SDK (its browser bundle) as a viewer. Every page keeps
// only 127.0.0.1 ICE candidates (the console's loopback=1), so the peers meet on the loopback interface.
// In-page code is passed as strings: the project compiles without the DOM library.

vi.setConfig({ testTimeout: 120_000, hookTimeout: 90_000 });

const REGION = 'us-east-1';
const credentials = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET };
/** toolchain-notes Q4: fake media devices without a prompt, and 127.0.0.1 candidates; the certificate is self-signed. */
const WEBRTC_FLAGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection', '--ignore-certificate-errors'];
const MEDIA_WAIT_MS = 45_000;

/**
 * True once every peer connection the expression yields has decoded video frames and received audio packets
 * (inbound-rtp from getStats), and there are at least `peers` of them.
 */
function mediaFlowing(pcs: string, peers: number): string {
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
function outboundVideo(pc: string): string {
  return `(async () => {
    const stats = [...(await ${pc}.getStats()).values()];
    const out = stats.find((s) => s.type === 'outbound-rtp' && s.kind === 'video');
    return { framesEncoded: out?.framesEncoded ?? 0, codec: stats.find((s) => s.id === out?.codecId)?.mimeType ?? null, encoder: out?.encoderImplementation ?? null };
  })()`;
}

/** Polls a server-side condition (in this process) until it yields a value. */
async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, timeoutMs = MEDIA_WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const consolePeers = "[...(globalThis.openkvsCall?.peers.values() ?? [])].map((p) => p.pc)";

/** waitForExpression(mediaFlowing(…)); on a timeout the error says what each peer connection had got to. */
async function waitForMedia(page: Page, pcs: string, peers: number, errors: string[]): Promise<void> {
  try {
    await waitForExpression(page, mediaFlowing(pcs, peers), MEDIA_WAIT_MS);
  } catch (err) {
    const state = await page.evaluate(`(async () => JSON.stringify(await Promise.all((${pcs}).map(async (pc) => ({
      connection: pc.connectionState, ice: pc.iceConnectionState, signaling: pc.signalingState,
      inbound: [...(await pc.getStats()).values()].filter((s) => s.type === 'inbound-rtp').map((s) => [s.kind, s.packetsReceived, s.framesDecoded]),
    })))))()`);
    throw new Error(`${(err as Error).message}\npeers: ${String(state)}\npage errors: ${errors.join('\n')}`);
  }
}

describe.skipIf(skipWithoutChromium('the WebRTC call tests'))('WebRTC calls in the console (Chromium, TLS)', () => {
  let cert: TestCert;
  let server: TestServer;
  let kv: KinesisVideoClient;
  let archive: KinesisVideoArchivedMediaClient;
  let tmp: string;
  let browser: Browser;
  let sdkPages: { url: string; close(): Promise<void> };
  let n = 0;

  beforeAll(async () => {
    cert = await selfSignedCert();
    // The server's own WebRTC peer (relay mode) pairs only on 127.0.0.1, like the pages.
    server = await startTestServer({ tlsCert: cert.certFile, tlsKey: cert.keyFile, region: REGION, webrtcLoopbackOnly: true, webrtcHostAddresses: ['127.0.0.1'] });
    kv = new KinesisVideoClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
    archive = new KinesisVideoArchivedMediaClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
    tmp = mkdtempSync(join(tmpdir(), 'openkvs-webrtc-call-'));
    browser = await launchChromium(WEBRTC_FLAGS);
    sdkPages = await serveSdkPages();
  });

  afterAll(async () => {
    await browser?.close();
    await sdkPages?.close();
    kv?.destroy();
    archive?.destroy();
    await server?.stop();
    if (tmp !== undefined) {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  async function createChannel(): Promise<{ name: string; arn: string }> {
    const name = `call-${++n}`;
    const out = await kv.send(new CreateSignalingChannelCommand({ ChannelName: name }));
    return { name, arn: out.ChannelARN! };
  }

  /** A logged-in console tab on the call page of a channel, joined with the given role. */
  async function joinInConsole(channel: string, role: 'MASTER' | 'VIEWER', clientId?: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/console/`);
    await page.waitForSelector('body[data-view="login"]');
    await page.fill('#access-key-id', TEST_ACCESS_KEY);
    await page.fill('#secret-access-key', TEST_SECRET);
    await page.click('#login-submit');
    await page.waitForSelector('body[data-view="list"]');
    const query = new URLSearchParams({ role, loopback: '1', join: '1', ...(clientId !== undefined ? { clientId } : {}) });
    await page.evaluate(`location.hash = ${JSON.stringify(`#/webrtc/${encodeURIComponent(channel)}?${query.toString()}`)}`);
    await page.waitForSelector('body[data-view="call"]');
    await page.waitForSelector(`#call-status[data-state="${role === 'MASTER' ? 'waiting' : 'calling'}"], #call-status[data-state="connected"]`, { timeout: 30_000 });
    return { page, errors };
  }

  it('lists channels the AWS SDK created, creates one, and opens its call page', async () => {
    const { name } = await createChannel();
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/console/`);
    await page.fill('#access-key-id', TEST_ACCESS_KEY);
    await page.fill('#secret-access-key', TEST_SECRET);
    await page.click('#login-submit');
    await page.waitForSelector('body[data-view="list"]');
    await page.click('#nav a[href="#/webrtc"]');
    await page.waitForSelector('#channels[data-state="loaded"]');
    expect(await page.$$eval('#channels tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-channel')))).toContain(name);

    await page.fill('#channel-name', 'made-in-console');
    await page.click('#channel-create');
    await page.waitForSelector('#channels tbody tr[data-channel="made-in-console"]');
    await page.click('#channels tbody tr[data-channel="made-in-console"] a');
    await page.waitForSelector('body[data-view="call"]');
    await page.waitForSelector('#channel-details dd[data-field="ARN"]');
    expect(await page.textContent('#channel-details dd[data-field="ARN"]')).toMatch(/:channel\/made-in-console\/\d+$/);
    // Relay mode (an openkvs extension): shown and switched where the server describes it; where it does not, the
    // panel says "unknown" and disappears once the server refuses the switch.
    await page.waitForSelector('#relay-panel:not([hidden])');
    if ((await page.getAttribute('#relay-panel', 'data-relay')) === 'UNKNOWN') {
      await page.click('#relay-enable');
      await page.waitForSelector('#relay-panel', { state: 'hidden' });
    } else {
      await page.waitForSelector('#relay-panel[data-relay="DISABLED"]');
      await page.click('#relay-enable');
      await page.waitForSelector('#relay-panel[data-relay="ENABLED"] #relay-disable:visible');
      expect(await page.textContent('#relay-state')).toContain('Relay mode is on');
      await page.click('#relay-disable');
      await page.waitForSelector('#relay-panel[data-relay="DISABLED"] #relay-enable:visible');
    }

    // A server without the extension (both calls answered as an older server does): the toggle goes away.
    await page.route('**/openkvs/*SignalingChannelRelay', (route) =>
      route.fulfill({ status: 404, contentType: 'application/json', headers: { 'x-amzn-errortype': 'UnknownOperationException' }, body: '{"message":"No operation is served here."}' }),
    );
    await page.evaluate(`location.hash = '#/webrtc/${name}'`);
    await page.waitForSelector('#relay-panel[data-relay="UNKNOWN"]:not([hidden])');
    await page.click('#relay-enable');
    await page.waitForSelector('#relay-panel', { state: 'hidden' });
    expect(await page.isVisible('#call-error')).toBe(false);
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.close();
  });

  it('makes a two-way call between console tabs: one master, two viewers, video and audio decoded on every side', async () => {
    const { name } = await createChannel();
    const master = await joinInConsole(name, 'MASTER');
    const viewer1 = await joinInConsole(name, 'VIEWER', 'viewer-one');
    const viewer2 = await joinInConsole(name, 'VIEWER');

    await waitForMedia(master.page, consolePeers, 2, master.errors);
    await waitForMedia(viewer1.page, consolePeers, 1, viewer1.errors);
    await waitForMedia(viewer2.page, consolePeers, 1, viewer2.errors);

    // The master shows one remote tile per viewer, named by client id; only loopback candidates were used.
    const tiles = await master.page.$$eval('#call-remotes figure', (fs) => fs.map((f) => f.getAttribute('data-peer')));
    expect(tiles).toHaveLength(2);
    expect(tiles).toContain('viewer-one');
    // Every candidate that came through signaling is 127.0.0.1 (Chromium may still meet peer-reflexive ones, Q4).
    const signalled = await viewer1.page.evaluate<string[]>(`(async () => {
      const pc = [...globalThis.openkvsCall.peers.values()][0].pc;
      return [...(await pc.getStats()).values()].filter((s) => s.type === 'remote-candidate' && s.candidateType !== 'prflx').map((s) => s.address);
    })()`);
    expect(signalled.length).toBeGreaterThan(0);
    expect(new Set(signalled)).toEqual(new Set(['127.0.0.1']));

    // A viewer hanging up leaves the master with the other one.
    await viewer1.page.click('#call-hangup');
    await viewer1.page.waitForSelector('#call-status[data-state="idle"]');
    await waitForExpression(master.page, `['failed', 'closed', 'disconnected'].includes(document.querySelector('#call-remotes figure[data-peer="viewer-one"]')?.dataset.state ?? 'gone') || !document.querySelector('#call-remotes figure[data-peer="viewer-one"]')`, MEDIA_WAIT_MS);
    await waitForMedia(viewer2.page, consolePeers, 1, viewer2.errors);

    for (const tab of [master, viewer1, viewer2]) {
      expect(tab.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
      await tab.page.close();
    }
  });

  // The relay's upstream peer offers to the Chromium master: H.264 must be spelled `H264` in that offer, or
  // Chromium negotiates it but never encodes (serverH264 in peer-config.ts), and the relayed tab decodes no video.
  it('relay mode: a third tab watches through the server peer while master and viewer call directly', async () => {
    const { name } = await createChannel();
    const master = await joinInConsole(name, 'MASTER');
    const direct = await joinInConsole(name, 'VIEWER', 'direct-viewer');
    await waitForMedia(direct.page, consolePeers, 1, direct.errors);
    await waitForMedia(master.page, consolePeers, 1, master.errors);

    // Relay on, from the master's call page; the call in progress goes on.
    await master.page.waitForSelector('#relay-panel[data-relay="DISABLED"]');
    await master.page.click('#relay-enable');
    await master.page.waitForSelector('#relay-panel[data-relay="ENABLED"]');

    const relayed = await joinInConsole(name, 'VIEWER', 'relayed-viewer');
    await waitForMedia(relayed.page, consolePeers, 1, relayed.errors);
    // The master never heard of the third tab: its peers are the direct viewer and the server's relay peer.
    await waitForExpression(master.page, `document.querySelector('#call-remotes figure[data-peer="openkvs-relay"]') !== null`, MEDIA_WAIT_MS);
    const peers = await master.page.$$eval('#call-remotes figure', (fs) => fs.map((f) => f.getAttribute('data-peer')));
    expect(peers).not.toContain('relayed-viewer');
    expect(await relayed.page.textContent('#relay-state')).toContain('Relay mode is on');

    for (const tab of [master, direct, relayed]) {
      expect(tab.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
      await tab.page.close();
    }
  });

  // The storage session's peer offers to the Chromium master, like the relay's upstream (and the same `H264` spelling
  // is what makes Chromium encode for it).
  it('records a console master into the mapped stream: JoinStorageSession, then ListFragments, and the fragments decode', async () => {
    const { name, arn } = await createChannel();
    const streamName = `${name}-recording`;
    const streamArn = (await kv.send(new CreateStreamCommand({ StreamName: streamName, DataRetentionInHours: 24 }))).StreamARN!;
    await kv.send(new UpdateMediaStorageConfigurationCommand({ ChannelARN: arn, MediaStorageConfiguration: { Status: 'ENABLED', StreamARN: streamArn } }));
    const master = await joinInConsole(name, 'MASTER');

    const ep = await kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WEBRTC'], Role: 'MASTER' } }));
    const storage = new KinesisVideoWebRTCStorageClient({ endpoint: ep.ResourceEndpointList![0]!.ResourceEndpoint!, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
    try {
      await storage.send(new JoinStorageSessionCommand({ channelArn: arn }));
    } finally {
      storage.destroy();
    }
    // The master answers the storage peer's offer as it answers a viewer's, and encodes H.264 for it.
    const storagePc = `globalThis.openkvsCall.peers.get(${JSON.stringify(STORAGE_CLIENT_ID)}).pc`;
    await waitForExpression(master.page, `globalThis.openkvsCall?.peers.get(${JSON.stringify(STORAGE_CLIENT_ID)})?.pc.connectionState === 'connected'`, MEDIA_WAIT_MS);
    await waitForExpression(master.page, `${outboundVideo(storagePc)}.then((v) => v.framesEncoded >= 30)`, MEDIA_WAIT_MS);
    expect(await master.page.evaluate<{ codec: string | null }>(outboundVideo(storagePc))).toMatchObject({ codec: 'video/H264' });

    const channelId = server.channels.find(arn)!.id;
    const session = server.storage.current(channelId);
    expect(session).toBeDefined();
    await until('recorded video and audio', () => (session!.stats.videoFrames >= 30 && session!.stats.audioFrames >= 30 ? true : undefined));
    // Hanging up ends the session; its open fragment is closed and stored.
    await master.page.click('#call-hangup');
    await until('the storage session to end', () => (server.storage.current(channelId) === undefined ? true : undefined));
    const stats = JSON.stringify(session!.stats);

    const range = { StartTimestamp: new Date(Date.now() - 3_600_000), EndTimestamp: new Date(Date.now() + 60_000) };
    const numbers = await until(`fragments in ListFragments (session ${stats})`, async () => {
      const listed = await archive.send(new ListFragmentsCommand({ StreamName: streamName, MaxResults: 1000, FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: range } }));
      const all = (listed.Fragments ?? []).map((f) => f.FragmentNumber!).sort();
      return all.length > 0 ? all : undefined;
    });
    expect(session!.stats.refusedFragments, stats).toBe(0);
    const media = await archive.send(new GetMediaForFragmentListCommand({ StreamName: streamName, Fragments: numbers }));
    const file = join(tmp, 'console-master.mkv');
    writeFileSync(file, await media.Payload!.transformToByteArray());
    const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', file]);
    const streams = (JSON.parse(stdout) as { streams: { codec_name: string; nb_read_frames?: string }[] }).streams;
    const frames = Object.fromEntries(streams.map((x) => [x.codec_name, Number(x.nb_read_frames ?? 0)]));
    expect(frames['h264'] ?? 0, `${stdout} ${stats}`).toBeGreaterThanOrEqual(10);
    expect(frames['opus'] ?? 0, `${stdout} ${stats}`).toBeGreaterThanOrEqual(10);

    expect(master.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await master.page.close();
  });

  it('calls a console master from the official KVS WebRTC JS SDK (browser bundle) as viewer', async () => {
    const { name, arn } = await createChannel();
    const master = await joinInConsole(name, 'MASTER');

    // The SDK page comes from a second loopback origin the test serves (Chromium lets only loopback pages reach the
    // loopback signaling endpoint); it needs no API call of its own: the test hands it the endpoint and ICE servers.
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${sdkPages.url}/viewer.html`);
    expect(await page.evaluate('typeof window.KVSWebRTC.SignalingClient')).toBe('function');

    const ep = await kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: 'VIEWER' } }));
    const endpoints = Object.fromEntries(ep.ResourceEndpointList!.map((e) => [e.Protocol!, e.ResourceEndpoint!]));
    const signaling = new KinesisVideoSignalingClient({ endpoint: endpoints['HTTPS']!, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
    const ice = await signaling.send(new GetIceServerConfigCommand({ ChannelARN: arn, ClientId: 'sdk-viewer' }));
    signaling.destroy();
    const iceServers = (ice.IceServerList ?? []).map((s) => ({ urls: s.Uris, username: s.Username, credential: s.Password }));
    const options = { arn, wss: endpoints['WSS'], clientId: 'sdk-viewer', region: REGION, credentials, iceServers };
    await page.evaluate(`window.startViewer(${JSON.stringify(options)})`);

    await waitForMedia(page, '(window.sdkPc ? [window.sdkPc] : [])', 1, [...errors, 'sdk: ' + String(await page.evaluate('JSON.stringify(window.sdkErrors)'))]);
    await waitForMedia(master.page, consolePeers, 1, master.errors);
    expect(await master.page.$$eval('#call-remotes figure', (fs) => fs.map((f) => f.getAttribute('data-peer')))).toEqual(['sdk-viewer']);
    expect(await page.evaluate('window.sdkErrors')).toEqual([]);
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    expect(master.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.close();
    await master.page.close();
  });
});

/** http://127.0.0.1:<port>: the SDK's browser bundle and the test pages that use it. */
async function serveSdkPages(): Promise<{ url: string; close(): Promise<void> }> {
  const bundle = readFileSync(createRequire(import.meta.url).resolve('amazon-kinesis-video-streams-webrtc/dist/kvs-webrtc.min.js'));
  const server = createServer((req, res) => {
    if (req.url === '/kvs-webrtc.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else if (req.url === '/viewer.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(SDK_VIEWER_PAGE);
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
