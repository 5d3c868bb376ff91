import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { signedPost } from '../helpers/signed-fetch.js';
import { collectPageErrors, launchChromium, skipWithoutChromium } from './chromium.js';

// The console under least privilege: it signs every call with the key typed in, so the server's policies apply
// to it as to any client. A consumer key of one stream logs in (though it may not list streams), opens and plays
// its stream with hls.js, and is refused the other one; a producer key sees the stream but not its fragments.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

type Key = { AccessKeyId: string; SecretAccessKey: string };

describe.skipIf(skipWithoutChromium('the console policy tests'))('web console with policy-limited keys', () => {
  let server: TestServer;
  let browser: Browser;
  let consumer: Key;
  let producer: Key;

  async function createKey(template: string): Promise<Key> {
    const res = await signedPost(`${server.url}/openkvs/createAccessKey`, JSON.stringify({ Template: template, Streams: ['cam1'], Channels: [] }));
    expect(res.status).toBe(200);
    return ((await res.json()) as { AccessKey: Key }).AccessKey;
  }

  beforeAll(async () => {
    server = await startTestServer({ putMediaCallsPerSecond: 1000 });
    const kv = controlClient(server.url);
    for (const name of ['cam1', 'cam2']) {
      await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24, MediaType: 'video/h264' }));
      const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: name, timecodeType: 'RELATIVE' });
      expect(res.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);
    }
    kv.destroy();
    consumer = await createKey('consumers');
    producer = await createKey('producers');
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function logIn(key: Key): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${server.url}/console/`);
    await page.waitForSelector('body[data-view="login"]');
    await page.fill('#access-key-id', key.AccessKeyId);
    await page.fill('#secret-access-key', key.SecretAccessKey);
    await page.click('#login-submit');
    await page.waitForSelector('body[data-view="list"]');
    return { page, errors };
  }

  it('a consumer key of cam1: logs in without ListStreams, plays cam1 with hls.js, is refused cam2', async () => {
    const { page, errors } = await logIn(consumer);
    await page.waitForSelector('#list-error:not([hidden])');
    expect(await page.textContent('#list-error')).toMatch(/^NotAuthorizedException \(HTTP 401\): .*kinesisvideo:ListStreams[\s\S]*policies do not allow it/);

    await page.fill('#open-name', 'cam1');
    await page.click('#open-form button');
    await page.waitForSelector('#timeline[data-state="loaded"][data-fragments="5"]');
    await page.locator('#timeline rect.frag[data-index="0"]').dispatchEvent('click');
    await page.waitForSelector('#player-status[data-state="ended"]', { timeout: 30_000 });
    expect(Number(await page.evaluate("document.getElementById('video').currentTime"))).toBeGreaterThan(4.5);
    expect(await page.isHidden('#player-error'), (await page.textContent('#player-error')) ?? '').toBe(true);

    await page.goto(`${server.url}/console/#/streams/cam2`);
    await page.waitForSelector('#stream-error:not([hidden])');
    expect(await page.textContent('#stream-error')).toMatch(/NotAuthorizedException \(HTTP 401\): .*kinesisvideo:DescribeStream on resource: arn:aws:kinesisvideo:[^ ]*stream\/cam2\//);
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.close();
  });

  it('a producer key of cam1: sees the stream, is refused its fragments and playback', async () => {
    const { page } = await logIn(producer);
    await page.goto(`${server.url}/console/#/streams/cam1`);
    await page.waitForSelector('#details dd');
    await page.waitForSelector('#timeline-error:not([hidden])');
    expect(await page.textContent('#timeline-error')).toMatch(/NotAuthorizedException \(HTTP 401\): .*kinesisvideo:ListFragments/);
    await page.click('#play-live');
    await page.waitForSelector('#player-error:not([hidden])');
    expect(await page.textContent('#player-error')).toMatch(/NotAuthorizedException \(HTTP 401\): .*kinesisvideo:GetHLSStreamingSessionURL/);
    await page.close();
  });
});
