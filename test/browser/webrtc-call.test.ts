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
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { selfSignedCert, trustingHandler, type TestCert } from '../helpers/tls.js';
import { STORAGE_CLIENT_ID } from '../../src/webrtc/storage-session.js';
import { collectPageErrors, launchChromium, skipWithoutChromium, waitForExpression } from './chromium.js';
import { MEDIA_WAIT_MS, WEBRTC_FLAGS, consolePeers, joinInConsole as joinConsoleCall, outboundVideo, pageErrors, serveSdkPages, until, waitForMedia } from './webrtc-helpers.js';

// Two-way WebRTC calls through openkvs's signaling over TLS, in Chromium with a fake camera and microphone: console
// tabs as master and viewers, and the official KVS WebRTC JS SDK (its browser bundle) as a viewer and as a master. Every page keeps
// only 127.0.0.1 ICE candidates (the console's loopback=1), so the peers meet on the loopback interface.
// In-page code is passed as strings: the project compiles without the DOM library.

vi.setConfig({ testTimeout: 120_000, hookTimeout: 90_000 });

const REGION = 'us-east-1';
const credentials = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET };

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
  function joinInConsole(channel: string, role: 'MASTER' | 'VIEWER', clientId?: string): Promise<{ page: Page; errors: string[] }> {
    return joinConsoleCall(browser, server.url, channel, role, clientId);
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
    // No media storage yet: the page says so and offers no recording (webrtc-tour.test.ts records with it on).
    await page.waitForSelector('#storage-panel[data-storage="DISABLED"]:not([hidden])');
    expect(await page.isHidden('#storage-join')).toBe(true);
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
  it('records a console master into the mapped stream: JoinStorageSession, then ListFragments, and the fragments decode (H.264, AAC)', async () => {
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
    // The master's Opus is stored as AAC, as KVS does (mixed with any JoinStorageSessionAsViewer viewers' audio).
    expect(frames['aac'] ?? 0, `${stdout} ${stats}`).toBeGreaterThanOrEqual(10);

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

  it('calls the official KVS WebRTC JS SDK (browser bundle) as master from a console viewer: two-way video and audio', async () => {
    const { name, arn } = await createChannel();
    // The SDK master gets what its own sample gets: the MASTER endpoints and ICE servers for no client id.
    const ep = await kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: arn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'HTTPS'], Role: 'MASTER' } }));
    const endpoints = Object.fromEntries(ep.ResourceEndpointList!.map((e) => [e.Protocol!, e.ResourceEndpoint!]));
    const signaling = new KinesisVideoSignalingClient({ endpoint: endpoints['HTTPS']!, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) });
    const ice = await signaling.send(new GetIceServerConfigCommand({ ChannelARN: arn }));
    signaling.destroy();
    const iceServers = (ice.IceServerList ?? []).map((s) => ({ urls: s.Uris, username: s.Username, credential: s.Password }));

    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${sdkPages.url}/master.html`);
    await page.evaluate(`window.startMaster(${JSON.stringify({ arn, wss: endpoints['WSS'], region: REGION, credentials, iceServers })})`);
    expect(await page.evaluate('window.sdkStatus')).toBe('open');

    const viewer = await joinInConsole(name, 'VIEWER', 'console-viewer');
    const sdkPeers = 'Object.values(window.sdkPeers)';
    await waitForMedia(viewer.page, consolePeers, 1, viewer.errors);
    await waitForMedia(page, sdkPeers, 1, [...errors, 'sdk: ' + String(await page.evaluate('JSON.stringify(window.sdkErrors)'))]);
    expect(await page.evaluate('Object.keys(window.sdkPeers)')).toEqual(['console-viewer']);
    // The console viewer's status line and tile say what the test measured.
    await viewer.page.waitForSelector('#call-status[data-state="connected"]');
    await waitForExpression(viewer.page, `Number(document.querySelector('#call-remotes figure')?.dataset.framesDecoded ?? 0) > 0`, MEDIA_WAIT_MS);

    // The viewer hangs up and calls again: the SDK master answers the new offer on a new connection.
    await viewer.page.click('#call-hangup');
    await viewer.page.waitForSelector('#call-status[data-state="idle"]');
    await viewer.page.click('#call-start');
    await waitForMedia(viewer.page, consolePeers, 1, viewer.errors);
    await waitForExpression(page, `Object.values(window.sdkPeers).length === 1 && Object.values(window.sdkPeers)[0].connectionState === 'connected'`, MEDIA_WAIT_MS);
    await waitForMedia(page, sdkPeers, 1, errors);

    expect(await page.evaluate('window.sdkErrors')).toEqual([]);
    expect(pageErrors(errors)).toEqual([]);
    expect(pageErrors(viewer.errors)).toEqual([]);
    await viewer.page.close();
    await page.close();
  });
});
