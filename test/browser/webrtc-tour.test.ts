import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { launchChromium, skipWithoutChromium, waitForExpression } from './chromium.js';
import { MEDIA_WAIT_MS, WEBRTC_FLAGS, consolePeers, consoleTab, joinInConsole, pageErrors, until, waitForMedia } from './webrtc-helpers.js';

// The WebRTC issue's "Done when", as a new user would try it: the real AWS CLI (v1) creates a signaling channel and a
// stream and turns media storage on, over TLS with the certificate the server generated (--tls-self-signed) as its
// CA bundle; two console tabs call each other (master + viewer); relay mode, switched on from the console, lets a
// third tab watch through the server; the console's Record button (JoinStorageSession) records the master; the
// console's stream page plays the recording over HLS, live during the call and from the timeline afterwards, video
// and (AAC) audio decoded. The server runs in this process, so the CLI is run asynchronously (execFile), never
// spawnSync.

vi.setConfig({ testTimeout: 240_000, hookTimeout: 90_000 });

const REGION = 'us-east-1';
const run = promisify(execFile);

describe.skipIf(skipWithoutChromium('the WebRTC tour'))('the WebRTC tour: AWS CLI, console call, relay, recording, HLS (Chromium, TLS)', () => {
  let certFile: string;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    // The server's own WebRTC peers (relay, storage) pair only on 127.0.0.1, like the pages (loopback=1).
    server = await startTestServer({ tlsSelfSigned: true, region: REGION, webrtcLoopbackOnly: true, webrtcHostAddresses: ['127.0.0.1'] });
    certFile = server.tls!.certFile;
    browser = await launchChromium(WEBRTC_FLAGS);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** The AWS CLI as the README has a user run it: credentials from the environment, the server's endpoint and CA. */
  async function aws(...args: string[]): Promise<Record<string, unknown>> {
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/tmp',
      AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: TEST_SECRET,
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const { stdout } = await run('aws', ['--endpoint-url', server.url, '--ca-bundle', certFile, '--output', 'json', ...args], { env, timeout: 60_000 });
    return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
  }

  /** What the console's player shows: position, frames decoded, audio bytes decoded, its status and error lines. */
  const playback =
    "(() => { const v = document.getElementById('video'); return { currentTime: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames, audioBytes: v.webkitAudioDecodedByteCount ?? 0, status: document.getElementById('player-status').textContent, error: document.getElementById('player-error').textContent }; })()";

  /** On a timeout, what the video element holds and which HLS requests the page made, in order (a stall's diagnosis). */
  const mediaState =
    "(() => { const v = document.getElementById('video'); const b = []; for (let i = 0; i < v.buffered.length; i++) b.push([v.buffered.start(i), v.buffered.end(i)]); return { readyState: v.readyState, paused: v.paused, buffered: b, hls: performance.getEntriesByType('resource').filter((e) => e.name.includes('/hls/')).map((e) => `${Math.round(e.startTime)}ms ${e.name.split('?')[0].split('/').pop()} ${e.responseStatus ?? ''}`).slice(-40) }; })()";

  /** A console tab for playback whose failed HTTP answers (status, URL without its token, body) join its errors. */
  async function playbackTab(): Promise<{ page: Page; errors: string[] }> {
    const tab = await consoleTab(browser, server.url);
    tab.page.on('response', (r) => {
      if (r.status() >= 400) {
        void r.text().then(
          (body) => tab.errors.push(`HTTP ${r.status()} ${r.url().replace(/SessionToken=[^&]+/, 'SessionToken=…')} ${body.slice(0, 500)}`),
          () => tab.errors.push(`HTTP ${r.status()} ${r.url().replace(/SessionToken=[^&]+/, 'SessionToken=…')}`),
        );
      }
    });
    return tab;
  }

  /** Waits for the console's player to satisfy a condition on `playback`; a timeout says what it had got to. */
  async function waitForPlayback(tab: { page: Page; errors: string[] }, condition: string): Promise<void> {
    try {
      await waitForExpression(tab.page, `((p) => ${condition})(${playback})`, 60_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${JSON.stringify(await tab.page.evaluate(playback))}\n${JSON.stringify(await tab.page.evaluate(mediaState))}\n${tab.errors.join('\n')}`);
    }
  }

  it('CLI-made channel and stream, a two-way console call, a relayed third tab, the call recorded and played back over HLS', async () => {
    // 1. The channel and the stream, with the AWS CLI.
    const channelArn = String((await aws('kinesisvideo', 'create-signaling-channel', '--channel-name', 'tour')).ChannelARN);
    expect(channelArn).toMatch(/^arn:aws:kinesisvideo:us-east-1:\d+:channel\/tour\/\d+$/);
    const streamArn = String((await aws('kinesisvideo', 'create-stream', '--stream-name', 'tour-recording', '--data-retention-in-hours', '24')).StreamARN);
    await aws('kinesisvideo', 'update-media-storage-configuration', '--channel-arn', channelArn, '--media-storage-configuration', `StreamARN=${streamArn},Status=ENABLED`);
    expect(await aws('kinesisvideo', 'describe-media-storage-configuration', '--channel-arn', channelArn)).toEqual({ MediaStorageConfiguration: { StreamARN: streamArn, Status: 'ENABLED' } });

    // 2. Two console tabs call each other.
    const master = await joinInConsole(browser, server.url, 'tour', 'MASTER');
    const viewer = await joinInConsole(browser, server.url, 'tour', 'VIEWER', 'tour-viewer');
    await waitForMedia(viewer.page, consolePeers, 1, viewer.errors);
    await waitForMedia(master.page, consolePeers, 1, master.errors);

    // 3. Relay on from the master's call page; a third tab watches through the server's peer.
    await master.page.waitForSelector('#relay-panel[data-relay="DISABLED"]');
    await master.page.click('#relay-enable');
    await master.page.waitForSelector('#relay-panel[data-relay="ENABLED"]');
    const relayed = await joinInConsole(browser, server.url, 'tour', 'VIEWER', 'tour-relayed');
    await waitForMedia(relayed.page, consolePeers, 1, relayed.errors);
    await waitForExpression(master.page, `document.querySelector('#call-remotes figure[data-peer="openkvs-relay"]') !== null`, MEDIA_WAIT_MS);
    expect(await master.page.$$eval('#call-remotes figure', (fs) => fs.map((f) => f.getAttribute('data-peer')))).not.toContain('tour-relayed');

    // 4. The master's page knows where the channel records to, and its Record button starts JoinStorageSession.
    await master.page.waitForSelector('#storage-panel[data-storage="ENABLED"]');
    expect(await master.page.getAttribute('#storage-state a', 'data-stream')).toBe('tour-recording');
    expect(await viewer.page.isVisible('#storage-join')).toBe(true);
    expect(await viewer.page.isDisabled('#storage-join')).toBe(true); // only a master records
    await master.page.click('#storage-join:not([disabled])');
    await master.page.waitForSelector('#storage-panel[data-recording="requested"]');
    await waitForExpression(master.page, `globalThis.openkvsCall?.peers.get('openkvs-storage')?.pc.connectionState === 'connected'`, MEDIA_WAIT_MS);

    // Fragments land in the stream while the call goes on (the CLI's ListFragments sees them).
    const range = `FragmentSelectorType=SERVER_TIMESTAMP,TimestampRange={StartTimestamp=${new Date(Date.now() - 3_600_000).toISOString()},EndTimestamp=${new Date(Date.now() + 3_600_000).toISOString()}}`;
    const listed = async (): Promise<number> => ((await aws('kinesis-video-archived-media', 'list-fragments', '--stream-name', 'tour-recording', '--fragment-selector', range)).Fragments as unknown[] | undefined)?.length ?? 0;
    await until('two recorded fragments in ListFragments', async () => ((await listed()) >= 2 ? true : undefined), 90_000);
    // Everyone is still in the call.
    await waitForMedia(viewer.page, consolePeers, 1, viewer.errors);
    await waitForMedia(relayed.page, consolePeers, 1, relayed.errors);

    // Watching the recording live while the call goes on: the console's stream page, Play live (HLS LIVE).
    const live = await playbackTab();
    await live.page.click('#streams a[href="#/streams/tour-recording"]');
    await live.page.waitForSelector('#timeline[data-state="loaded"]');
    await live.page.click('#play-live');
    await live.page.waitForSelector('#player-status[data-state="playing"]', { timeout: 30_000 });
    const liveStart = await live.page.evaluate<{ currentTime: number }>(playback);
    await waitForPlayback(live, `p.frames > 30 && p.currentTime > ${liveStart.currentTime + 1} && p.audioBytes > 0`);
    expect(await live.page.isHidden('#player-error'), (await live.page.textContent('#player-error')) ?? '').toBe(true);
    await live.page.click('#stop');

    // 5. The master hangs up: the recording ends with its last fragment stored.
    await master.page.click('#call-hangup');
    const channelId = server.channels.find(channelArn)!.id;
    await until('the storage session to end', () => (server.storage.current(channelId) === undefined ? true : undefined));
    const fragments = await listed();

    // 6. The console's stream page plays the recording over HLS (hls.js), from the first fragment on the timeline.
    const watch = await playbackTab();
    await watch.page.click('#streams a[href="#/streams/tour-recording"]');
    await watch.page.waitForSelector(`#timeline[data-state="loaded"][data-fragments="${fragments}"]`);
    await watch.page.locator('#timeline rect.frag[data-index="0"]').dispatchEvent('click');
    await waitForPlayback(watch, 'p.frames > 60 && p.currentTime > 2');
    // The recording's audio is AAC (the master's Opus, transcoded as KVS does): HLS carries it and Chromium decodes it.
    await waitForPlayback(watch, 'p.audioBytes > 0');
    expect(await watch.page.isHidden('#player-error'), (await watch.page.textContent('#player-error')) ?? '').toBe(true);

    for (const tab of [master, viewer, relayed, live, watch]) {
      expect(pageErrors(tab.errors)).toEqual([]);
      await tab.page.close();
    }
  });
});
