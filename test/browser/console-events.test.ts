import { CreateStreamCommand, UpdateImageGenerationConfigurationCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { ListFragmentsCommand, type KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { TEST_ACCESS_KEY, TEST_SECRET, archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { signedPost } from '../helpers/signed-fetch.js';
import { collectPageErrors, launchChromium, skipWithoutChromium, waitForExpression } from './chromium.js';

// Timeline events and the frame consumer in the web console (docs/frames.md). In-page code is passed as strings:
// the project compiles without the DOM library, and the page's CSP forbids eval (see waitForExpression).
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const WITH_HOOK = 'console-events-hooked';
const MOCKED = 'console-events-mocked';

type ApiEvent = { EventId: string; HookName: string; Label: string; Confidence?: number; FragmentNumber: string; ProducerTimestamp: number; ServerTimestamp: number };

describe.skipIf(skipWithoutChromium('the console timeline-event tests'))('web console: timeline events', () => {
  let server: TestServer;
  let kv: KinesisVideoClient;
  let archived: KinesisVideoArchivedMediaClient;
  let browser: Browser;
  const tmp = mkdtempSync(join(tmpdir(), 'openkvs-console-events-'));

  beforeAll(async () => {
    server = await startTestServer({ putMediaCallsPerSecond: 1000 });
    kv = controlClient(server.url);
    archived = archivedClient(server.url);
    for (const name of [WITH_HOOK, MOCKED]) {
      await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24, MediaType: 'video/h264' }));
    }
    const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: MOCKED, timecodeType: 'RELATIVE' });
    expect(res.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    kv?.destroy();
    archived?.destroy();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function openStream(name: string, prepare?: (page: Page) => Promise<void>): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors = collectPageErrors(page);
    await prepare?.(page);
    await page.goto(`${server.url}/console/`);
    await page.waitForSelector('body[data-view="login"]');
    await page.fill('#access-key-id', TEST_ACCESS_KEY);
    await page.fill('#secret-access-key', TEST_SECRET);
    await page.click('#login-submit');
    await page.waitForSelector('#streams[data-state="loaded"]');
    await page.goto(`${server.url}/console/#/streams/${name}`);
    await page.waitForSelector('#timeline[data-state="loaded"]');
    return { page, errors };
  }

  const fragmentsOf = async (name: string): Promise<{ number: string; serverS: number; producerS: number }[]> => {
    const out = await archived.send(
      new ListFragmentsCommand({ StreamName: name, FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(0), EndTimestamp: new Date(Date.now() + 60_000) } } }),
    );
    return (out.Fragments ?? [])
      .map((f) => ({ number: f.FragmentNumber!, serverS: f.ServerTimestamp!.getTime() / 1000, producerS: f.ProducerTimestamp!.getTime() / 1000 }))
      .sort((a, b) => a.serverS - b.serverS);
  };

  const json = (route: Route, body: unknown, status = 200, errorType?: string): Promise<void> =>
    route.fulfill({ status, contentType: 'application/json', headers: errorType ? { 'x-amzn-ErrorType': errorType } : {}, body: JSON.stringify(body) });

  it('draws the events the API pages out as markers over the fragments, lists them, and plays from one', async () => {
    const frags = await fragmentsOf(MOCKED);
    expect(frags).toHaveLength(5);
    // One upload arrives in a burst, so its fragments share a server time: the events are spread 200 ms apart
    // within the first fragment's second, so that once fitted each marker has its own place on the axis.
    const events: ApiEvent[] = frags.map((f, i) => ({
      EventId: String(i + 1),
      HookName: i % 2 === 0 ? 'ml' : 'motion',
      Label: i % 2 === 0 ? 'person' : 'motion',
      ...(i === 4 ? {} : { Confidence: 0.5 + i / 10 }),
      FragmentNumber: f.number,
      ProducerTimestamp: f.producerS + 0.5,
      ServerTimestamp: frags[0]!.serverS + 0.1 + i * 0.2,
    }));
    const requests: Record<string, unknown>[] = [];
    const { page, errors } = await openStream(MOCKED, async (p) => {
      await p.route('**/openkvs/listFrameEvents', async (route) => {
        const body = JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>;
        requests.push(body);
        // two pages: the console must follow NextToken
        await json(route, body['NextToken'] === 'page-2' ? { Events: events.slice(3) } : { Events: events.slice(0, 3), NextToken: 'page-2' });
      });
      await p.route('**/openkvs/describeFrameConsumer', (route) =>
        json(route, {
          StreamName: MOCKED,
          Status: 'RUNNING',
          Hooks: [
            { Name: 'ml', Type: 'WEBHOOK', Uri: 'http://127.0.0.1:9/x', Calls: 12, Errors: 1, Timeouts: 2, Events: 3, LastError: 'HTTP 500' },
            { Name: 'motion', Type: 'MOTION', Calls: 12, Errors: 0, Timeouts: 0, Events: 2, LastError: null },
          ],
          Destination: { Uri: 'file://./frames', Delivered: 12, Errors: 0, LastError: null },
          FramesDecoded: 13,
          FramesDelivered: 12,
          FramesDropped: 1,
          QueueLength: 0,
          QueueCapacity: 32,
          DecoderRestarts: 0,
          LagMs: 420,
        }),
      );
    });
    await page.waitForSelector('#timeline[data-events="5"]');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ StreamName: MOCKED, TimestampType: 'SERVER_TIMESTAMP' });
    expect(requests[0]!['StartTimestamp']).toBeLessThan(frags[0]!.serverS);
    expect(requests[0]!['EndTimestamp']).toBeGreaterThan(frags[4]!.serverS);
    expect(requests[1]).toMatchObject({ ...requests[0], NextToken: 'page-2' });

    // markers: one per event, coloured per label, with the event in the tooltip
    const markers = await page.$$eval('#timeline svg g.event', (gs) =>
      gs.map((g) => ({ label: g.getAttribute('data-label'), fill: g.querySelector('polygon')!.getAttribute('fill'), title: g.querySelector('title')!.textContent })),
    );
    expect(markers.map((m) => m.label)).toEqual(['person', 'motion', 'person', 'motion', 'person']);
    expect(new Set(markers.map((m) => m.fill)).size).toBe(2);
    expect(markers[0]!.fill).toBe(markers[2]!.fill);
    expect(markers[0]!.title).toContain('person · confidence 0.50 · hook ml');
    expect(markers[0]!.title).toContain(`server time ${new Date(Math.round((frags[0]!.serverS + 0.1) * 1000)).toISOString()}`);
    expect(markers[0]!.title).toContain(`producer time ${new Date(Math.round((frags[0]!.producerS + 0.5) * 1000)).toISOString()}`);
    expect(markers[4]!.title).toMatch(/^person · hook ml/);
    expect(await page.locator('#timeline rect.frag').count()).toBe(5);
    expect(await page.getAttribute('#timeline svg', 'class')).toBe('with-events');

    // the list under the timeline
    expect(await page.isVisible('#events-panel')).toBe(true);
    const rows = await page.$$eval('#events tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows.map((r) => r.slice(2))).toEqual([
      ['person', '0.50', 'ml'],
      ['motion', '0.60', 'motion'],
      ['person', '0.70', 'ml'],
      ['motion', '0.80', 'motion'],
      ['person', '–', 'ml'],
    ]);
    const firstMs = Math.round((frags[0]!.serverS + 0.1) * 1000);
    expect(rows[0]![0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.${String(firstMs % 1000).padStart(3, '0')}$`));
    const producerMs = Math.round((frags[0]!.producerS + 0.5) * 1000);
    expect(rows[0]![1]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.${String(producerMs % 1000).padStart(3, '0')}$`));
    expect(await page.textContent('#events-summary')).toMatch(/^5 events · 2 labels/);

    // the consumer's status in the details column
    const consumer = await page.$$eval('#consumer dd', (dds) => Object.fromEntries(dds.map((dd) => [dd.getAttribute('data-field'), dd.textContent])));
    expect(consumer['Status']).toBe('RUNNING');
    expect(consumer['Frames delivered']).toBe('12');
    expect(consumer['Frames dropped']).toBe('1');
    expect(consumer['Lag']).toBe('0.4 s');
    expect(consumer['Hook ml (WEBHOOK)']).toBe('calls 12 · errors 1 · timeouts 2 · events 3\nHTTP 500');
    expect(consumer['Hook motion (MOTION)']).toBe('calls 12 · errors 0 · timeouts 0 · events 2');

    // a click on a row plays from the fragment holding the event
    await page.click('#events tbody tr:nth-child(4) button');
    await waitForExpression(page, "document.querySelector('#timeline rect.frag.selected') !== null");
    expect(await page.getAttribute('#timeline rect.frag.selected', 'data-fragment-number')).toBe(frags[3]!.number);
    expect(await page.textContent('#fragment-info')).toContain(`Event motion (0.80) from hook motion`);
    await waitForExpression(page, "['loading', 'playing', 'paused', 'ended'].includes(document.getElementById('player-status').dataset.state)");
    expect(await page.getAttribute('#events tbody tr:nth-child(4)', 'class')).toBe('selected');

    // and, once Fit has spread the markers apart (an hour-wide axis stacks them), a click on one does the same
    await page.click('#timeline-fit');
    const box = (await page.locator('#timeline g.event polygon').first().boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await waitForExpression(page, `document.querySelector('#timeline rect.frag.selected')?.getAttribute('data-fragment-number') === '${frags[0]!.number}'`);
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.close();
  });

  it('shows neither events nor a consumer when the server refuses those calls, and the timeline still works', async () => {
    for (const [status, type] of [
      [400, 'ResourceNotFoundException'],
      [404, 'UnknownOperationException'],
    ] as const) {
      const { page, errors } = await openStream(MOCKED, async (p) => {
        await p.route('**/openkvs/*', (route) => json(route, { message: 'no' }, status, type));
      });
      await page.waitForSelector('#timeline[data-fragments="5"]');
      await page.waitForSelector('#events[data-state="unavailable"]', { state: 'attached' });
      expect(await page.isHidden('#events-panel')).toBe(true);
      expect(await page.isHidden('#consumer-panel')).toBe(true);
      expect(await page.locator('#timeline g.event').count()).toBe(0);
      expect(await page.isHidden('#timeline-error')).toBe(true);
      expect(await page.isHidden('#stream-error')).toBe(true);
      expect(await page.getAttribute('#timeline svg', 'class')).toBeNull();
      expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
      await page.close();
    }
  });

  it('shows the events a MODULE hook stored for a pushed clip, with their labels, and the consumer running', async () => {
    // A hook from the operator's hooks directory (<dataDir>/hooks): labels each frame by its second's parity.
    mkdirSync(join(server.dataDir, 'hooks'), { recursive: true });
    writeFileSync(
      join(server.dataDir, 'hooks', 'seconds.mjs'),
      "export default function onFrame(frame) {\n  const even = Math.floor(frame.producerTimestamp / 1000) % 2 === 0;\n  return { label: even ? 'even-second' : 'odd-second', confidence: even ? 0.25 : 0.75 };\n}\n",
    );
    const call = async (op: string, body: unknown): Promise<Record<string, unknown>> => {
      const res = await signedPost(`${server.url}/openkvs/${op}`, JSON.stringify(body));
      const text = await res.text();
      expect(res.status, `${op}: ${text}`).toBe(200);
      return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    };
    await call('updateFrameHooks', { StreamName: WITH_HOOK, Hooks: [{ Name: 'seconds', Type: 'MODULE', Module: 'seconds.mjs', TimeoutMs: 5000 }] });
    await kv.send(
      new UpdateImageGenerationConfigurationCommand({
        StreamName: WITH_HOOK,
        ImageGenerationConfiguration: {
          Status: 'ENABLED',
          ImageSelectorType: 'PRODUCER_TIMESTAMP',
          DestinationConfig: { Uri: `file://localhost${join(tmp, 'frames')}`, DestinationRegion: 'us-east-1' },
          SamplingInterval: 1000,
          Format: 'JPEG',
          WidthPixels: 320,
        },
      }),
    );
    const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: WITH_HOOK, timecodeType: 'RELATIVE' });
    expect(res.acks.filter((a) => a.EventType === 'PERSISTED')).toHaveLength(5);

    // wait until the consumer has labelled the clip (one image a second: five frames, or six from a grid point
    // just before the clip's first frame) and the count holds still
    const list = async (): Promise<ApiEvent[]> =>
      ((await call('listFrameEvents', { StreamName: WITH_HOOK, StartTimestamp: Date.now() / 1000 - 3600, EndTimestamp: Date.now() / 1000 + 60, MaxResults: 1000 })).Events ?? []) as ApiEvent[];
    let events: ApiEvent[] = [];
    for (let seen = -1, deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      events = await list();
      if (events.length >= 5 && events.length === seen) {
        break;
      }
      seen = events.length;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(events.length).toBeGreaterThanOrEqual(5);
    expect(events.length).toBeLessThanOrEqual(6);
    const labels = events.map((e) => e.Label);
    expect(new Set(labels)).toEqual(new Set(['even-second', 'odd-second']));
    const byServerTime = [...events].sort((a, b) => a.ServerTimestamp - b.ServerTimestamp);

    const { page, errors } = await openStream(WITH_HOOK);
    await page.waitForSelector(`#timeline[data-events="${events.length}"]`);
    expect(await page.$$eval('#timeline svg g.event', (gs) => gs.map((g) => g.getAttribute('data-label')))).toEqual(byServerTime.map((e) => e.Label));
    const fills = await page.$$eval('#timeline svg g.event polygon', (ps) => ps.map((p) => p.getAttribute('fill')));
    expect(new Set(fills).size).toBe(2);
    const titles = await page.$$eval('#timeline svg g.event title', (ts) => ts.map((t) => t.textContent ?? ''));
    titles.forEach((t, i) => expect(t).toContain(`${byServerTime[i]!.Label} · confidence ${byServerTime[i]!.Label === 'even-second' ? '0.25' : '0.75'} · hook seconds`));
    const rows = await page.$$eval('#events tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(2).map((td) => td.textContent ?? '')));
    expect(rows).toEqual(byServerTime.map((e) => [e.Label, e.Label === 'even-second' ? '0.25' : '0.75', 'seconds']));

    // every marker sits over the bar of the fragment its event names (after Fit, so that bars have some width)
    await page.click('#timeline-fit');
    const placed = await page.evaluate<{ id: string; x: number; from: number; to: number }[]>(
      "[...document.querySelectorAll('#timeline svg g.event')].map((g) => ({ g, r: document.querySelector(`#timeline rect.frag[data-fragment-number=\"${CSS.escape(g.getAttribute('data-fragment') ?? '')}\"]`) })).map(({ g, r }) => ({ id: g.getAttribute('data-event-id'), x: Number(g.querySelector('line').getAttribute('x1')), from: r ? Number(r.getAttribute('x')) : NaN, to: r ? Number(r.getAttribute('x')) + Number(r.getAttribute('width')) : NaN }))",
    );
    expect(placed.map((p) => p.id).sort()).toEqual(events.map((e) => e.EventId).sort());
    for (const p of placed) {
      expect(p.x, `event ${p.id}`).toBeGreaterThanOrEqual(p.from - 0.5);
      expect(p.x, `event ${p.id}`).toBeLessThanOrEqual(p.to + 0.5);
    }

    await page.waitForSelector('#consumer-panel:not([hidden])');
    const consumer = await page.$$eval('#consumer dd', (dds) => Object.fromEntries(dds.map((dd) => [dd.getAttribute('data-field'), dd.textContent])));
    expect(consumer['Status']).toBe('RUNNING');
    expect(consumer['Frames delivered']).toBe(String(events.length));
    expect(consumer['Hook seconds (MODULE)']).toBe(`calls ${events.length} · errors 0 · timeouts 0 · events ${events.length}`);
    expect(errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    await page.close();
  });
});
