import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { frameMetadata } from '../../../src/consumers/frame.js';
import { postFrame } from '../../../src/consumers/hooks/http-frame-post.js';
import { WebhookHook } from '../../../src/consumers/hooks/webhook-hook.js';
import { InvalidEventsError } from '../../../src/consumers/sink.js';
import { makeFrame } from './make-frame.js';

type Received = { headers: IncomingHttpHeaders; body: Buffer; url: string };
type Answer = { status: number; body: string; type?: string };

let server: Server;
let base: string;
const received: Received[] = [];
/** Answers to give, in order; the last one repeats. */
let answers: Answer[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks), url: req.url ?? '' });
      const a = answers.length > 1 ? answers.shift()! : answers[0]!;
      res.statusCode = a.status;
      res.setHeader('content-type', a.type ?? 'application/json');
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  received.length = 0;
  answers = [{ status: 200, body: '' }];
});

const json = (v: unknown, status = 200): Answer => ({ status, body: JSON.stringify(v) });

async function parts(r: Received): Promise<{ metadata: unknown; metadataType: string; image: Uint8Array; imageType: string; imageName: string }> {
  const form = await new Response(r.body, { headers: { 'content-type': r.headers['content-type'] ?? '' } }).formData();
  const meta = form.get('metadata') as File;
  const image = form.get('image') as File;
  return { metadata: JSON.parse(await meta.text()), metadataType: meta.type, image: new Uint8Array(await image.arrayBuffer()), imageType: image.type, imageName: image.name };
}

describe('postFrame', () => {
  it.each([
    ['JPEG, string secret', 'JPEG', 's3cr3t', 'image/jpeg', 'frame.jpg'],
    ['PNG, Buffer key', 'PNG', Buffer.from('00112233445566778899aabbccddeeff', 'hex'), 'image/png', 'frame.png'],
  ] as const)('%s: multipart metadata + image, HMAC-SHA256 of the exact body', async (_name, format, key, imageType, imageName) => {
    const frame = makeFrame({ format });
    await postFrame(`${base}/frames?x=1`, frame, key);
    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.url).toBe('/frames?x=1');
    expect(r.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(r.headers['x-openkvs-signature']).toBe(`sha256=${createHmac('sha256', key).update(r.body).digest('hex')}`);
    expect(r.headers['x-openkvs-attempt']).toBe('1');
    const p = await parts(r);
    expect(p.metadata).toEqual(frameMetadata(frame));
    expect(p.metadataType).toBe('application/json');
    expect(p.image).toEqual(frame.image);
    expect(p.imageType).toBe(imageType);
    expect(p.imageName).toBe(imageName);
  });

  it.each<[string, Answer, unknown]>([
    ['a JSON answer', json({ events: [{ label: 'a' }] }), { events: [{ label: 'a' }] }],
    ['an empty answer', { status: 200, body: '' }, undefined],
    ['a non-JSON answer', { status: 200, body: 'thanks', type: 'text/plain' }, undefined],
    ['a 204', { status: 204, body: '' }, undefined],
  ])('resolves with %s parsed', async (_name, answer, expected) => {
    answers = [answer];
    expect(await postFrame(base, makeFrame(), 'k')).toEqual(expected);
  });

  it.each<[string, Answer[], number, string | null]>([
    ['500 then 200: retried', [{ status: 500, body: '' }, json({ ok: 1 })], 2, null],
    ['503, 502, then 200: three attempts', [{ status: 503, body: '' }, { status: 502, body: '' }, json({ ok: 1 })], 3, null],
    ['429 then 200: retried', [{ status: 429, body: '' }, json({ ok: 1 })], 2, null],
    ['500 every time: fails after 3 attempts', [{ status: 500, body: '' }], 3, 'HTTP 500'],
    ['404: no retry', [{ status: 404, body: '' }], 1, 'HTTP 404'],
    ['401: no retry', [{ status: 401, body: '' }], 1, 'HTTP 401'],
  ])('%s', async (_name, script, attempts, error) => {
    answers = script;
    const result = postFrame(`${base}/x`, makeFrame(), 'k');
    if (error === null) {
      expect(await result).toEqual({ ok: 1 });
    } else {
      await expect(result).rejects.toThrow(`POST ${base}/x: ${error}`);
    }
    expect(received.map((r) => r.headers['x-openkvs-attempt'])).toEqual(Array.from({ length: attempts }, (_, i) => String(i + 1)));
    // every attempt carries the same body and signature
    expect(new Set(received.map((r) => r.headers['x-openkvs-signature'])).size).toBe(1);
    expect(new Set(received.map((r) => r.body.toString('base64'))).size).toBe(1);
  });

  it('a refused connection is retried, then rejected with the network error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const started = Date.now();
    await expect(postFrame(`http://127.0.0.1:${port}/`, makeFrame(), 'k')).rejects.toThrow(/fetch failed/);
    // backoff 200 + 400 ms between the three attempts
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });
});

describe('WebhookHook', () => {
  it.each<[string, Answer, unknown[]]>([
    ['events', json({ events: [{ label: 'person', confidence: 0.9, box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 } }, { label: 'car' }] }), [{ label: 'person', confidence: 0.9, box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 } }, { label: 'car' }]],
    ['one event, not in an array', json({ events: { label: 'one' } }), [{ label: 'one' }]],
    ['no events key', json({ ok: true }), []],
    ['events null', json({ events: null }), []],
    ['an empty body', { status: 200, body: '' }, []],
    ['text', { status: 200, body: 'OK', type: 'text/plain' }, []],
    ['a JSON array (not an object with events)', json([{ label: 'x' }]), []],
    ['a JSON string', json('fine'), []],
  ])('answer with %s', async (_name, answer, events) => {
    answers = [answer];
    const h = new WebhookHook('ml', 'WEBHOOK', `${base}/ml`, 'secret');
    expect(h.name).toBe('ml');
    expect(h.type).toBe('WEBHOOK');
    expect(await h.deliver(makeFrame())).toEqual(events);
    expect(received).toHaveLength(1);
  });

  it('invalid events in the answer: InvalidEventsError with the valid ones', async () => {
    answers = [json({ events: [{ label: 'ok' }, { label: 'bad', confidence: 3 }] })];
    const err = await new WebhookHook('ml', 'WEBHOOK', base, 'secret').deliver(makeFrame()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidEventsError);
    expect((err as InvalidEventsError).events).toEqual([{ label: 'ok' }]);
  });

  it('as the http(s) image destination it ignores whatever comes back', async () => {
    answers = [json({ events: [{ label: 'x' }, { label: '' }] })];
    const h = new WebhookHook('destination', 'DESTINATION', base, Buffer.from('key'));
    expect(await h.deliver(makeFrame())).toEqual([]);
    expect(received[0]!.headers['x-openkvs-signature']).toBe(`sha256=${createHmac('sha256', Buffer.from('key')).update(received[0]!.body).digest('hex')}`);
    expect(h.locate()).toBe(base);
  });

  it('a failing endpoint rejects the delivery', async () => {
    answers = [{ status: 400, body: 'no' }];
    await expect(new WebhookHook('ml', 'WEBHOOK', base, 's').deliver(makeFrame())).rejects.toThrow(/HTTP 400/);
  });
});
