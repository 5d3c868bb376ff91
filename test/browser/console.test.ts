import { CreateStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { collectPageErrors, launchChromium, skipWithoutChromium, waitForExpression } from './chromium.js';

// A browser launch plus a few page loads; generous, but set here rather than for the whole suite.
// In-page code is passed as strings: the project compiles without the DOM library.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const PREFIX = 'console-cam-';
const NAMES = Array.from({ length: 12 }, (_, i) => `${PREFIX}${String(i + 1).padStart(2, '0')}`);
const TAGGED = NAMES[0]!;
const WITH_MEDIA = NAMES[1]!;
/** A name the host resolver maps to 127.0.0.1: an http origin that is not a secure context, like a LAN address. */
const INSECURE_HOST = 'openkvs.test';

describe.skipIf(skipWithoutChromium('the web console tests'))('web console', () => {
  let server: TestServer;
  let kv: KinesisVideoClient;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer({ putMediaCallsPerSecond: 1000 });
    kv = controlClient(server.url);
    for (const name of NAMES) {
      await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24, MediaType: 'video/h264', ...(name === TAGGED ? { Tags: { team: 'video', site: 'north gate' } } : {}) }));
    }
    // two uploads 2.5 s apart: ten fragments with one hole between them on the server-time axis
    const clip = fixture('mkv/h264-5s-1s-gop.mkv');
    for (const round of [0, 1]) {
      if (round === 1) {
        await new Promise((r) => setTimeout(r, 2500));
      }
      const res = await putMedia(server.url, clip, { streamName: WITH_MEDIA, timecodeType: 'RELATIVE' });
      expect(res.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);
    }
    browser = await launchChromium([`--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`]);
  });

  afterAll(async () => {
    await browser?.close();
    kv?.destroy();
    await server?.stop();
  });

  async function openConsole(origin = server.url): Promise<{ page: Page; errors: string[]; apiCalls: string[] }> {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    const apiCalls: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') {
        apiCalls.push(new URL(r.url()).pathname);
      }
    });
    await page.goto(`${origin}/console`);
    await page.waitForSelector('body[data-view="login"], body[data-view="list"]');
    return { page, errors, apiCalls };
  }

  async function logIn(page: Page, secret = TEST_SECRET, accessKeyId = TEST_ACCESS_KEY): Promise<void> {
    await page.fill('#access-key-id', accessKeyId);
    await page.fill('#secret-access-key', secret);
    await page.click('#login-submit');
  }

  it('serves the page and its scripts without credentials, and none of it names a stream; unsigned API calls are refused', async () => {
    const redirect = await fetch(`${server.url}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/console/');

    const html = await (await fetch(`${server.url}/console/`)).text();
    // files the page loads from the server (the favicon is an inline data: URL, so there is no request to 404)
    const assets = new Set([...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]!).filter((a) => !a.startsWith('data:')));
    // every module the page imports, followed transitively
    const modules = [...assets].filter((a) => a.endsWith('.js'));
    for (let i = 0; i < modules.length; i++) {
      const text = await (await fetch(`${server.url}/console/${modules[i]!}`)).text();
      for (const m of text.matchAll(/from '\.\/([^']+)'/g)) {
        if (!assets.has(m[1]!)) {
          assets.add(m[1]!);
          modules.push(m[1]!);
        }
      }
    }
    assets.add('vendor/hls.min.js');
    assets.add('config.json');
    expect([...assets]).toEqual(expect.arrayContaining(['console.css', 'app.js', 'kvs.js', 'sigv4.js', 'player.js', 'timeline.js']));
    for (const path of ['', ...assets]) {
      const res = await fetch(`${server.url}/console/${path}`);
      expect(res.status, path).toBe(200);
      const text = await res.text();
      expect(text.includes(PREFIX), `${path} names a stream`).toBe(false);
      expect(text.includes(server.registry.find({ name: TAGGED })!.arn), path).toBe(false);
    }
    expect(await (await fetch(`${server.url}/console/config.json`)).json()).toEqual({ region: server.config.region });

    for (const op of ['/listStreams', '/describeStream', '/listFragments', '/listTagsForStream']) {
      const res = await fetch(`${server.url}${op}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ StreamName: TAGGED }) });
      expect(res.status, op).toBe(403);
      expect(res.headers.get('x-amzn-errortype'), op).toBe('MissingAuthenticationTokenException');
      expect((await res.text()).includes(PREFIX)).toBe(false);
    }

    // In the browser: the login form, no API call before a key is given, no stream anywhere in the document.
    const { page, errors, apiCalls } = await openConsole();
    expect(await page.getAttribute('body', 'data-view')).toBe('login');
    expect(await page.inputValue('#region')).toBe(server.config.region);
    await page.goto(`${server.url}/console/#/streams/${TAGGED}`);
    await page.waitForSelector('body[data-view="login"]');
    expect(await page.content()).not.toContain(PREFIX);
    expect(apiCalls).toEqual([]);
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.close();
  });

  it('shows the server error for a wrong secret or an unknown key, and stays logged out', async () => {
    const { page } = await openConsole();
    await logIn(page, 'not-the-secret');
    await page.waitForSelector('#login-error:not([hidden])');
    expect(await page.textContent('#login-error')).toMatch(/^InvalidSignatureException \(HTTP 403\): The request signature we calculated does not match/);

    await logIn(page, TEST_SECRET, 'AKIDUNKNOWN000000000');
    await page.locator('#login-error', { hasText: 'UnrecognizedClientException' }).waitFor();
    expect(await page.textContent('#login-error')).toContain('The security token included in the request is invalid');

    expect(await page.getAttribute('body', 'data-view')).toBe('login');
    expect(await page.evaluate('[sessionStorage.length, localStorage.length]')).toEqual([0, 0]);
    expect(await page.content()).not.toContain(PREFIX);
    await page.close();
  });

  it('logs in, lists the streams the AWS SDK created page by page, and forgets the key on log out', async () => {
    const { page, errors } = await openConsole();
    await logIn(page);
    await page.waitForSelector('#streams[data-state="loaded"]');
    expect(await page.getAttribute('body', 'data-view')).toBe('list');

    const rows = async (): Promise<string[][]> => page.$$eval('#streams tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const all = await rows();
    expect(all.map((r) => r[0])).toEqual(NAMES);
    expect(all[0]!.slice(1, 4)).toEqual(['ACTIVE', '24 h', 'video/h264']);
    expect(all[0]![4]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    // paging with ListStreams NextToken
    await page.selectOption('#page-size', '10');
    await waitForExpression(page, "document.querySelectorAll('#streams tbody tr').length === 10");
    expect((await rows()).map((r) => r[0])).toEqual(NAMES.slice(0, 10));
    await page.click('#next-page');
    await waitForExpression(page, "document.getElementById('page-label').textContent === 'Page 2' && document.querySelectorAll('#streams tbody tr').length === 2");
    expect((await rows()).map((r) => r[0])).toEqual(NAMES.slice(10));
    expect(await page.isDisabled('#next-page')).toBe(true);
    await page.click('#prev-page');
    await waitForExpression(page, "document.getElementById('page-label').textContent === 'Page 1'");
    expect((await rows()).map((r) => r[0])).toEqual(NAMES.slice(0, 10));

    // name filter (BEGINS_WITH)
    await page.fill('#prefix', `${PREFIX}1`);
    await page.click('#filter-form button[type="submit"]');
    await waitForExpression(page, "document.querySelectorAll('#streams tbody tr').length === 3");
    expect((await rows()).map((r) => r[0])).toEqual(NAMES.slice(9));

    // the key lives in this tab's sessionStorage only, and a reload keeps the session
    const stored = await page.evaluate<{ session: Record<string, string>; local: number; cookies: string }>('({ session: { ...sessionStorage }, local: localStorage.length, cookies: document.cookie })');
    expect(Object.values(stored.session).join()).toContain(TEST_SECRET);
    expect(stored.local).toBe(0);
    expect(stored.cookies).toBe('');
    await page.reload();
    await page.waitForSelector('#streams[data-state="loaded"]');
    expect(await page.textContent('#who')).toContain(TEST_ACCESS_KEY);

    await page.click('#logout');
    await page.waitForSelector('body[data-view="login"]');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(await page.isHidden('#list-view')).toBe(true);
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.close();
  });

  it('shows a stream with its details, tags and a fragment timeline whose gap is visible', async () => {
    const { page, errors } = await openConsole();
    await logIn(page);
    await page.waitForSelector('#streams[data-state="loaded"]');
    await page.click(`a[href="#/streams/${TAGGED}"]`);
    await page.waitForSelector('body[data-view="stream"]');
    await page.waitForSelector('#tags tbody tr');
    const details = await page.$$eval('#details dd', (dds) => Object.fromEntries(dds.map((dd) => [dd.getAttribute('data-field'), dd.textContent])));
    expect(details['Name']).toBe(TAGGED);
    expect(details['ARN']).toBe(server.registry.find({ name: TAGGED })!.arn);
    expect(details['Status']).toBe('ACTIVE');
    expect(details['Retention']).toBe('24 h');
    expect(await page.$$eval('#tags tbody tr', (trs) => trs.map((tr) => tr.textContent))).toEqual(['sitenorth gate', 'teamvideo']);
    await page.waitForSelector('#timeline[data-state="loaded"][data-fragments="0"]');

    await page.goto(`${server.url}/console/#/streams/${WITH_MEDIA}`);
    await page.waitForSelector('#timeline[data-state="loaded"][data-fragments="10"]');
    expect(await page.getAttribute('#timeline', 'data-gaps')).toBe('1');
    expect(await page.locator('#timeline rect.frag').count()).toBe(10);
    expect(await page.locator('#timeline rect.gap').count()).toBe(1);
    expect(await page.textContent('#timeline-summary')).toMatch(/^10 fragments · 10\.0 s of media · .* · 1 gap \(longest [12]\.\d s\)/);

    // Fit narrows the axis to the fragments: the hole between the uploads becomes a wide band, and a click with
    // the mouse on the second upload's bars picks one of its fragments.
    await page.click('#timeline-fit');
    const geometry = await page.evaluate<{ width: number; gap: number; frags: { x: number; n: string }[] }>(
      "(() => { const svg = document.querySelector('#timeline svg'); return { width: svg.viewBox.baseVal.width, gap: Number(svg.querySelector('rect.gap').getAttribute('width')), frags: [...svg.querySelectorAll('rect.frag')].map((r) => ({ x: Number(r.getAttribute('x')), n: r.getAttribute('data-fragment-number') })) }; })()",
    );
    expect(geometry.gap / geometry.width).toBeGreaterThan(0.15);
    const box = (await page.locator('#timeline svg').boundingBox())!;
    const second = geometry.frags.at(-1)!;
    await page.mouse.click(box.x + ((second.x + 1) / geometry.width) * box.width, box.y + box.height / 3);
    const picked = await page.getAttribute('#timeline rect.frag.selected', 'data-fragment-number');
    expect(geometry.frags.slice(5).map((f) => f.n)).toContain(picked);
    expect(await page.textContent('#fragment-info')).toContain(`Fragment ${picked}: server time`);
    await page.waitForSelector('#tags-empty:not([hidden])');

    // an unknown stream is the server's error, shown as is
    await page.goto(`${server.url}/console/#/streams/no-such-stream`);
    await page.waitForSelector('#stream-error:not([hidden])');
    expect(await page.textContent('#stream-error')).toMatch(/^ResourceNotFoundException \(HTTP 404\)/);
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.close();
  });

  it('signs with the plain-JS SHA-256 on an http origin that is not a secure context', async () => {
    const { page, errors } = await openConsole(`http://${INSECURE_HOST}:${server.port}`);
    expect(await page.evaluate('[window.isSecureContext, typeof crypto.subtle]')).toEqual([false, 'undefined']);
    await logIn(page, 'not-the-secret');
    await page.waitForSelector('#login-error:not([hidden])');
    expect(await page.textContent('#login-error')).toContain('InvalidSignatureException');
    await logIn(page);
    await page.waitForSelector('#streams[data-state="loaded"]');
    expect(await page.locator('#streams tbody tr').count()).toBe(NAMES.length);
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.close();
  });
});
