import { CreateStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import type { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { GetHLSStreamingSessionURLCommand } from '@aws-sdk/client-kinesis-video-archived-media';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PutMediaClient, type PutMediaSummary } from '../../src/sdk/index.js';
import { fixture, realMedia } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { collectPageErrors, launchChromium, skipWithoutChromium } from './chromium.js';

// Real playback in Chromium with hls.js: clips play in real time, so these waits are long; set per file.
// In-page code is passed as strings: the project compiles without the DOM library.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

/** One keyframe a second and one cluster per GOP, as the README's live producer command. */
const LIVE_ENCODER = [
  '-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
  '-f', 'lavfi', '-i', 'testsrc=size=426x240:rate=30',
  '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '0',
  '-cluster_time_limit', '1100', '-cluster_size_limit', '8000000', '-t', '90', '-f', 'matroska', '-',
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipWithoutChromium('the HLS playback browser tests'))('HLS playback in Chromium', () => {
  let server: TestServer;
  let kv: KinesisVideoClient;
  let archived: KinesisVideoArchivedMediaClient;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer({ putMediaCallsPerSecond: 1000 });
    kv = controlClient(server.url);
    archived = archivedClient(server.url, 'us-west-2');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    kv?.destroy();
    archived?.destroy();
    await server?.stop();
  });

  /** A stream holding body (uploaded at once) and the server-time range around it. */
  async function streamWith(name: string, body: Uint8Array): Promise<{ fromMs: number; toMs: number }> {
    await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24, MediaType: 'video/h264' }));
    const fromMs = Date.now() - 1000;
    const res = await putMedia(server.url, body, { streamName: name, timecodeType: 'RELATIVE' });
    expect(res.acks.filter((a) => a.EventType === 'ERROR')).toEqual([]);
    return { fromMs, toMs: Date.now() + 1000 };
  }

  async function logIn(page: Page): Promise<void> {
    await page.goto(`${server.url}/console/`);
    await page.waitForSelector('body[data-view="login"]');
    await page.fill('#access-key-id', TEST_ACCESS_KEY);
    await page.fill('#secret-access-key', TEST_SECRET);
    await page.click('#login-submit');
    await page.waitForSelector('#streams[data-state="loaded"]');
  }

  describe('the console', () => {
    let encoder: ChildProcess | null = null;
    let producer: PutMediaClient | null = null;
    let upload: Promise<PutMediaSummary | Error> | null = null;

    afterAll(async () => {
      encoder?.kill('SIGKILL');
      producer?.destroy();
      await upload;
    });

    it('plays LIVE while a producer uploads in real time: the picture moves and stays near the live edge', async () => {
      const name = 'live-cam';
      await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24, MediaType: 'video/h264' }));
      encoder = spawn('ffmpeg', LIVE_ENCODER, { stdio: ['ignore', 'pipe', 'inherit'] });
      producer = new PutMediaClient({ endpoint: server.url, region: 'us-west-2', credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, streamName: name, timecodeType: 'RELATIVE', producerStartTimeMs: Date.now() });
      let persisted = 0;
      producer.on('persisted', () => persisted++);
      producer.on('error', () => undefined);
      upload = producer.pipeFrom(encoder.stdout!).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      await vi.waitFor(() => expect(persisted).toBeGreaterThanOrEqual(3), { timeout: 20_000, interval: 100 });

      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      await logIn(page);
      await page.goto(`${server.url}/console/#/streams/${name}`);
      await page.waitForSelector('#timeline[data-state="loaded"]');
      await page.click('#play-live');
      await page.waitForSelector('#player-status[data-state="playing"][data-latency]', { timeout: 30_000 });

      // Sample for ~10 s of wall time while fragments keep arriving.
      type Sample = { at: number; currentTime: number; latency: number; persisted: number };
      const samples: Sample[] = [];
      for (let i = 0; i < 21; i++) {
        const s = await page.evaluate<{ currentTime: number; latency: string | null }>(
          "({ currentTime: document.getElementById('video').currentTime, latency: document.getElementById('player-status').dataset.latency ?? null })",
        );
        samples.push({ at: Date.now(), currentTime: s.currentTime, latency: Number(s.latency), persisted });
        await sleep(500);
      }
      const first = samples[0]!;
      const last = samples.at(-1)!;
      const wall = (last.at - first.at) / 1000;
      const played = last.currentTime - first.currentTime;
      // Moves with the producer (not stuck on the first playlist), allowing for a rebuffer or two.
      expect(last.persisted - first.persisted).toBeGreaterThanOrEqual(5);
      expect(played, JSON.stringify(samples)).toBeGreaterThan(wall * 0.6);
      // hls.js holds LIVE three target durations (1 s fragments) behind the playlist's end; a few fragments at most.
      for (const s of samples) {
        expect(s.latency, JSON.stringify(samples)).toBeLessThan(6);
      }
      expect(await page.isHidden('#player-error'), (await page.textContent('#player-error')) ?? '').toBe(true);
      expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);

      await page.click('#stop');
      await page.waitForSelector('#player-status[data-state="idle"]');
      await page.close();
    });

    it('plays a fragment picked on the timeline through to the end of the chosen range', async () => {
      const name = 'timeline-cam';
      await streamWith(name, fixture('mkv/h264-5s-1s-gop.mkv'));
      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      await logIn(page);
      await page.goto(`${server.url}/console/#/streams/${name}`);
      await page.waitForSelector('#timeline[data-state="loaded"][data-fragments="5"]');
      // An upload at full speed stacks its fragments at one instant of server time, so the bars overlap; the
      // click goes to the first one's element itself. Playback runs from it to the end of the timeline's range.
      const first = await page.getAttribute('#timeline rect.frag[data-index="0"]', 'data-fragment-number');
      expect(first).toBe(server.store.list({ streamId: server.registry.find({ name })!.id, notBeforeServerMs: 0 })[0]!.fragmentNumber);
      await page.locator('#timeline rect.frag[data-index="0"]').dispatchEvent('click');
      await page.waitForSelector(`#timeline rect.frag.selected[data-fragment-number="${first}"]`);
      expect(await page.textContent('#fragment-info')).toMatch(new RegExp(`^Fragment ${first}: server time `));
      await page.waitForSelector('#player-status[data-state="ended"]', { timeout: 30_000 });
      const currentTime = Number(await page.evaluate("document.getElementById('video').currentTime"));
      expect(currentTime).toBeGreaterThan(4.5);
      expect(await page.isHidden('#player-error'), (await page.textContent('#player-error')) ?? '').toBe(true);
      expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
      await page.close();
    });

    it('keeps a fatal hls.js error on screen with the server error it carries (not the play() that stopping aborted)', async () => {
      const name = 'failing-cam';
      await streamWith(name, fixture('mkv/h264-5s-1s-gop.mkv'));
      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      await logIn(page);
      // Every media segment fails as a server error would: hls.js gives up after its retries (a fatal error).
      await page.route('**/hls/v1/getMP4MediaFragment.mp4*', (route) =>
        route.fulfill({ status: 500, contentType: 'application/json', headers: { 'x-amzn-errortype': 'InternalFailure' }, body: '{"__type":"InternalFailure","message":"An internal error occurred."}' }),
      );
      await page.goto(`${server.url}/console/#/streams/${name}`);
      await page.waitForSelector('#timeline[data-state="loaded"][data-fragments="5"]');
      await page.locator('#timeline rect.frag[data-index="0"]').dispatchEvent('click');
      await page.waitForSelector('#player-status[data-state="failed"]', { timeout: 60_000 });
      // Stopping aborted the pending play(); let that rejection arrive before reading what the page says.
      await page.evaluate('new Promise((r) => setTimeout(() => setTimeout(r, 0), 0))');
      expect(await page.textContent('#player-error')).toMatch(/^Playback failed\. networkError: fragLoadError/);
      expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
      await page.close();
    });

    it('shows the server error when there is nothing to play live', async () => {
      const name = 'empty-cam';
      await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24 }));
      const page = await browser.newPage();
      await logIn(page);
      await page.goto(`${server.url}/console/#/streams/${name}`);
      await page.waitForSelector('#timeline[data-state="loaded"]');
      await page.click('#play-live');
      await page.waitForSelector('#player-error:not([hidden])');
      expect(await page.textContent('#player-error')).toMatch(/^ResourceNotFoundException \(HTTP 404\): /);
      await page.close();
    });
  });

  describe('a plain <video> + hls.js page', () => {
    /** Served by the test on the server's origin (so no CORS is involved): hls.js plays whatever URL it is given. */
    const PLAYER_PAGE = `<!doctype html><html><body>
<video id="v" muted playsinline></video>
<script src="/console/vendor/hls.min.js"></script>
<script>
  window.result = { ended: false, fatal: [], nonFatal: [], events: [] };
  window.play = (url) => {
    const video = document.getElementById('v');
    const hls = new Hls();
    hls.on(Hls.Events.ERROR, (_e, d) => (d.fatal ? result.fatal : result.nonFatal).push(d.type + ':' + d.details));
    hls.on(Hls.Events.MANIFEST_PARSED, (_e, d) => { result.events.push('manifest:' + d.levels.length); video.play(); });
    video.addEventListener('ended', () => { result.ended = true; });
    hls.loadSource(url);
    hls.attachMedia(video);
    window.hls = hls;
  };
</script></body></html>`;

    type Result = { ended: boolean; fatal: string[]; nonFatal: string[]; events: string[]; currentTime: number; duration: number; frames: number; dropped: number };

    async function playToEnd(url: string): Promise<Result> {
      const page = await browser.newPage();
      const errors = collectPageErrors(page);
      await page.route(`${server.url}/test-player.html`, (route) => route.fulfill({ contentType: 'text/html', body: PLAYER_PAGE }));
      await page.goto(`${server.url}/test-player.html`);
      await page.evaluate(`play(${JSON.stringify(url)})`);
      await page.waitForFunction('result.ended || result.fatal.length > 0', undefined, { timeout: 60_000, polling: 250 });
      const result = await page.evaluate<Result>(
        "(() => { const v = document.getElementById('v'); const q = v.getVideoPlaybackQuality(); return { ...result, currentTime: v.currentTime, duration: v.duration, frames: q.totalVideoFrames, dropped: q.droppedVideoFrames }; })()",
      );
      expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
      await page.close();
      return result;
    }

    async function onDemandUrl(name: string, range: { fromMs: number; toMs: number }): Promise<string> {
      const out = await archived.send(
        new GetHLSStreamingSessionURLCommand({
          StreamName: name,
          PlaybackMode: 'ON_DEMAND',
          HLSFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(range.fromMs), EndTimestamp: new Date(range.toMs) } },
        }),
      );
      expect(out.HLSStreamingSessionURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hls\/v1\/getHLSMasterPlaylist\.m3u8\?SessionToken=/);
      return out.HLSStreamingSessionURL!;
    }

    it('plays an ON_DEMAND session of the 5 s fixture to its end without a fatal hls.js error', async () => {
      const range = await streamWith('vod-fixture', fixture('mkv/h264-5s-1s-gop.mkv'));
      const r = await playToEnd(await onDemandUrl('vod-fixture', range));
      expect(r.fatal).toEqual([]);
      expect(r.ended).toBe(true);
      expect(r.events).toEqual(['manifest:1']);
      // 5 s at 30 fps: every frame decoded
      expect(r.duration).toBeCloseTo(5, 1);
      expect(r.currentTime).toBeCloseTo(r.duration, 1);
      expect(r.frames).toBeGreaterThanOrEqual(148);
    });

    it('plays an ON_DEMAND session of a real producer capture (clusters.mkv) to its end', async () => {
      const range = await streamWith('vod-clusters', realMedia('mkv-inputs/clusters.mkv'));
      const r = await playToEnd(await onDemandUrl('vod-clusters', range));
      expect(r.fatal).toEqual([]);
      expect(r.ended).toBe(true);
      expect(r.currentTime).toBeGreaterThan(10);
      expect(r.frames).toBeGreaterThan(0);
    });
  });
});
