import { CreateStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { collectPageErrors, launchChromium, skipWithoutChromium, waitForExpression } from './chromium.js';

// A browser launch and one page; in-page code is passed as strings (the project compiles without the DOM library).
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const STREAM = 'dash-cam';
const CLIP = 'mkv/h264-5s-1s-gop.mkv';

describe.skipIf(skipWithoutChromium('the console dashboard test'))('console dashboard', () => {
  let server: TestServer;
  let kv: KinesisVideoClient;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer({ putMediaCallsPerSecond: 1000 });
    kv = controlClient(server.url);
    await kv.send(new CreateStreamCommand({ StreamName: STREAM, DataRetentionInHours: 24 }));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    kv?.destroy();
    await server?.stop();
  });

  const cell = (page: Page, field: string): Promise<string> => page.evaluate<string>(`document.querySelector('#dashboard tr[data-stream="${STREAM}"] td[data-field="${field}"]')?.textContent ?? ''`);

  it("shows a stream's ingest rate, PERSISTED latency and storage after an upload, from a signed GET of /metrics", async () => {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    const scrapes: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/metrics') {
        scrapes.push(r.headers()['authorization'] ?? '');
      }
    });
    await page.goto(`${server.url}/console/#/dashboard`);
    await page.waitForSelector('body[data-view="login"]');
    await page.fill('#access-key-id', TEST_ACCESS_KEY);
    await page.fill('#secret-access-key', TEST_SECRET);
    await page.click('#login-submit');
    await page.waitForSelector('body[data-view="dashboard"]');
    await waitForExpression(page, `document.querySelector('#dashboard tr[data-stream="${STREAM}"]') !== null`);
    expect(await cell(page, 'incoming-fragments')).toBe('0');
    expect(await cell(page, 'persist-p50')).toBe('–');

    const clip = fixture(CLIP);
    const res = await putMedia(server.url, clip, { streamName: STREAM, timecodeType: 'RELATIVE' });
    expect(res.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);

    // the next refresh (every 3 s) shows the upload: a rate over the refresh, the fragments and what is stored
    const row = `document.querySelector('#dashboard tr[data-stream="${STREAM}"]')`;
    await waitForExpression(page, `${row}?.querySelector('[data-field="incoming-fragments"]')?.textContent === '5' && Number(${row}.querySelector('[data-field="fragments-per-second"]').textContent) > 0`, 15_000);
    // one snapshot of the row: a later refresh (rate back to 0) must not land between two reads
    const shown = await page.evaluate<Record<string, string>>(`Object.fromEntries([...${row}.querySelectorAll('td[data-field]')].map((td) => [td.dataset.field, td.textContent]))`);
    expect(shown['bytes-per-second']).toMatch(/^[\d.]+ (B|KiB|MiB)\/s$/);
    expect(shown['bytes-per-second']).not.toBe('0 B/s');
    expect(shown['persist-p50']).toMatch(/^[\d.]+ (ms|s)$/);
    expect(shown['persist-p95']).toMatch(/^[\d.]+ (ms|s)$/);
    expect(shown['stored-fragments']).toBe('5');
    const stored = server.store.storedBytes(server.registry.find({ name: STREAM })!.id);
    expect(shown['stored-bytes']).toBe(`${(stored / 1024).toFixed(1)} KiB`);

    // every scrape was SigV4-signed in the browser with the logged-in key
    expect(scrapes.length).toBeGreaterThanOrEqual(2);
    expect(scrapes.every((a) => a.startsWith(`AWS4-HMAC-SHA256 Credential=${TEST_ACCESS_KEY}/`))).toBe(true);

    // leaving the Dashboard stops the refresh
    await page.click('#nav a[href="#/"]');
    await page.waitForSelector('body[data-view="list"]');
    const seen = scrapes.length;
    await new Promise((r) => setTimeout(r, 3500));
    expect(scrapes.length).toBe(seen);
    expect(errors).toEqual([]);
    await page.close();
  });
});
