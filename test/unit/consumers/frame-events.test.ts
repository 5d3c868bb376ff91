import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { HookEvent } from '../../../src/consumers/frame.js';
import { FrameEvents, type EventQuery, type StoredEvent } from '../../../src/consumers/frame-events.js';
import { KvsError } from '../../../src/errors/codes.js';
import { openDatabase, type Db } from '../../../src/store/database.js';
import { makeFrame } from './make-frame.js';

const dirs: string[] = [];
let db: Db;
let events: FrameEvents;

beforeEach(() => {
  const dir = mkdtempSync(join(tmpdir(), 'openkvs-events-'));
  dirs.push(dir);
  db = openDatabase(dir);
  events = new FrameEvents(db);
  return () => db.close();
});

afterAll(() => {
  for (const d of dirs) {
    rmSync(d, { recursive: true, force: true });
  }
});

const T = 1_764_280_000_000;

/** Adds one frame's events for stream `streamId`: producer time T+p, server time T+s. */
function add(streamId: number, hook: string, p: number, s: number, list: HookEvent[], fragmentNumber = String(1000 + p)): void {
  events.add(streamId, hook, makeFrame({ producerTimestamp: T + p, serverTimestamp: T + s, fragmentNumber }), list);
}

const q = (over: Partial<EventQuery>): EventQuery => ({ kind: 'producer', fromMs: T, toMs: T + 100_000, limit: 100, ...over });
const labels = (list: StoredEvent[]): string[] => list.map((e) => e.label);

/** Every page of a query, following NextToken to the end. */
function allPages(streamId: number, query: EventQuery): { pages: StoredEvent[][]; tokens: string[] } {
  const pages: StoredEvent[][] = [];
  const tokens: string[] = [];
  let token: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const r = events.list(streamId, token === undefined ? query : { ...query, nextToken: token });
    pages.push(r.events);
    if (r.nextToken === undefined) {
      return { pages, tokens };
    }
    tokens.push(r.nextToken);
    token = r.nextToken;
  }
  throw new Error('paging never ended');
}

describe('FrameEvents', () => {
  it('stores every field and reads it back', () => {
    add(1, 'ml', 1500, 1620, [
      { label: 'person', confidence: 0.71, box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 }, data: { count: 3, tags: ['a'] } },
      { label: 'bare' },
      { label: 'zero', confidence: 0, data: null },
    ], '91343852333181432392682062607743920146264883612');
    const { events: list, nextToken } = events.list(1, q({}));
    expect(nextToken).toBeUndefined();
    expect(list.map(({ id: _id, ...rest }) => rest)).toEqual([
      { hookName: 'ml', label: 'person', confidence: 0.71, box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 }, data: { count: 3, tags: ['a'] }, fragmentNumber: '91343852333181432392682062607743920146264883612', producerTimestampMs: T + 1500, serverTimestampMs: T + 1620 },
      { hookName: 'ml', label: 'bare', confidence: null, box: null, data: null, fragmentNumber: '91343852333181432392682062607743920146264883612', producerTimestampMs: T + 1500, serverTimestampMs: T + 1620 },
      { hookName: 'ml', label: 'zero', confidence: 0, box: null, data: null, fragmentNumber: '91343852333181432392682062607743920146264883612', producerTimestampMs: T + 1500, serverTimestampMs: T + 1620 },
    ]);
    expect(list[0]!.id).toBeLessThan(list[1]!.id);
  });

  it('adding no events writes nothing', () => {
    add(1, 'h', 0, 0, []);
    expect(events.list(1, q({})).events).toEqual([]);
  });

  describe('ranges', () => {
    // producer order a, b, c, d; server order d, c, b, a (a producer whose clock runs the other way round)
    beforeEach(() => {
      add(1, 'h', 1000, 9000, [{ label: 'a' }]);
      add(1, 'h', 2000, 8000, [{ label: 'b' }]);
      add(1, 'h', 3000, 7000, [{ label: 'c' }]);
      add(1, 'h', 4000, 6000, [{ label: 'd' }]);
      add(2, 'h', 2000, 8000, [{ label: 'other-stream' }]);
    });

    it.each<[string, Partial<EventQuery>, string[]]>([
      ['producer, everything, oldest first', {}, ['a', 'b', 'c', 'd']],
      ['server, everything, oldest first', { kind: 'server' }, ['d', 'c', 'b', 'a']],
      ['producer, start inclusive', { fromMs: T + 2000 }, ['b', 'c', 'd']],
      ['producer, end exclusive', { toMs: T + 3000 }, ['a', 'b']],
      ['producer, both bounds', { fromMs: T + 2000, toMs: T + 4000 }, ['b', 'c']],
      ['producer, 1 ms window on an event', { fromMs: T + 3000, toMs: T + 3001 }, ['c']],
      ['producer, empty window', { fromMs: T + 3000, toMs: T + 3000 }, []],
      ['producer, range with server values', { fromMs: T + 6000, toMs: T + 10_000 }, []],
      ['server, start inclusive end exclusive', { kind: 'server', fromMs: T + 7000, toMs: T + 9000 }, ['c', 'b']],
      ['server, range with producer values', { kind: 'server', fromMs: T, toMs: T + 5000 }, []],
    ])('%s', (_name, over, expected) => {
      expect(labels(events.list(1, q(over)).events)).toEqual(expected);
    });

    it('keeps streams apart', () => {
      expect(labels(events.list(2, q({})).events)).toEqual(['other-stream']);
      expect(events.list(3, q({})).events).toEqual([]);
    });
  });

  it.each<[string | undefined, string[]]>([
    [undefined, ['motion', 'person', 'motion', 'car', 'Motion']],
    ['motion', ['motion', 'motion']],
    ['Motion', ['Motion']],
    ['car', ['car']],
    ['nothing', []],
  ])('label filter %s (exact match)', (label, expected) => {
    add(1, 'm', 1000, 1000, [{ label: 'motion' }, { label: 'person' }]);
    add(1, 'm', 2000, 2000, [{ label: 'motion' }, { label: 'car' }, { label: 'Motion' }]);
    expect(labels(events.list(1, q(label === undefined ? {} : { label })).events)).toEqual(expected);
  });

  describe('keyset paging', () => {
    // 23 events on 9 frames; several frames share a timestamp, several events share a frame
    const FRAMES: [number, number, number][] = [
      // producer offset, server offset, events on the frame
      [1000, 5000, 3],
      [1000, 5000, 2], // a second frame at the same instant (another hook)
      [2000, 4000, 1],
      [3000, 3000, 4],
      [3000, 6000, 1],
      [4000, 1000, 5],
      [5000, 2000, 1],
      [6000, 2000, 2],
      [7000, 2000, 4],
    ];
    beforeEach(() => {
      let n = 0;
      for (const [p, s, count] of FRAMES) {
        add(1, 'h', p, s, Array.from({ length: count }, () => ({ label: n++ % 3 === 0 ? 'x' : 'y', data: { n: n - 1 } })));
      }
    });

    const ns = (list: StoredEvent[]): number[] => list.map((e) => (e.data as { n: number }).n);

    it.each<[EventQuery['kind'], number, string | undefined]>([
      ['producer', 1, undefined],
      ['producer', 2, undefined],
      ['producer', 3, undefined],
      ['producer', 5, undefined],
      ['producer', 22, undefined],
      ['producer', 23, undefined],
      ['producer', 1000, undefined],
      ['server', 1, undefined],
      ['server', 4, undefined],
      ['server', 7, undefined],
      ['producer', 2, 'x'],
      ['server', 3, 'y'],
    ])('%s time, %i a page, label %s: every event once, in order', (kind, limit, label) => {
      const query = q({ kind, limit, ...(label !== undefined ? { label } : {}) });
      const whole = events.list(1, { ...query, limit: 1000 }).events;
      expect(whole.length).toBe(label === undefined ? 23 : label === 'x' ? 8 : 15);
      const { pages, tokens } = allPages(1, query);
      expect(pages.flat().map((e) => e.id)).toEqual(whole.map((e) => e.id));
      expect(new Set(pages.flat().map((e) => e.id)).size).toBe(whole.length);
      expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
      expect(pages.at(-1)!.length).toBeGreaterThan(0);
      expect(pages.length).toBe(Math.max(1, Math.ceil(whole.length / limit)));
      expect(new Set(tokens).size).toBe(tokens.length);
      // oldest first on the chosen clock, ties by insertion
      const ts = whole.map((e) => (kind === 'producer' ? e.producerTimestampMs : e.serverTimestampMs));
      expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    });

    it('the producer order is by timestamp, then insertion', () => {
      expect(ns(events.list(1, q({ limit: 1000 })).events)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    });

    it('the server order is by server timestamp, then insertion', () => {
      expect(ns(events.list(1, q({ kind: 'server', limit: 1000 })).events)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 6, 7, 8, 9, 5, 0, 1, 2, 3, 4, 10]);
    });

    it('a page that ends exactly at the last event has no NextToken', () => {
      const r = events.list(1, q({ limit: 23 }));
      expect(r.events).toHaveLength(23);
      expect(r.nextToken).toBeUndefined();
    });

    it('events added after a page was read show up on the next page when they sort after it', () => {
      const first = events.list(1, q({ limit: 20 }));
      add(1, 'late', 8000, 8000, [{ label: 'late' }]);
      const rest = events.list(1, q({ limit: 20, nextToken: first.nextToken! }));
      expect(labels(rest.events).at(-1)).toBe('late');
      expect(rest.events).toHaveLength(4);
    });
  });

  it.each([
    ['not base64 JSON', 'garbage!!'],
    ['empty', ''],
    ['an object', Buffer.from('{"ts":1,"id":2}').toString('base64url')],
    ['one number', Buffer.from('[1]').toString('base64url')],
    ['three numbers', Buffer.from('[1,2,3]').toString('base64url')],
    ['a fraction', Buffer.from('[1.5,2]').toString('base64url')],
    ['strings', Buffer.from('["1","2"]').toString('base64url')],
    ['beyond safe integers', Buffer.from('[1e300,2]').toString('base64url')],
  ])('a NextToken that is %s → InvalidArgumentException', (_name, token) => {
    add(1, 'h', 1000, 1000, [{ label: 'a' }]);
    let err: unknown;
    try {
      events.list(1, q({ nextToken: token }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KvsError);
    expect((err as KvsError).errorName).toBe('InvalidArgumentException');
    expect((err as KvsError).message).toBe('NextToken is not one this API returned.');
  });

  it('expire deletes by server time (strictly older than the cutoff), for one stream only, and says how many', () => {
    add(1, 'h', 9000, 1000, [{ label: 'old' }, { label: 'old2' }]);
    add(1, 'h', 1000, 2000, [{ label: 'edge' }]);
    add(1, 'h', 500, 3000, [{ label: 'new' }]);
    add(2, 'h', 1000, 1000, [{ label: 'other' }]);
    expect(events.expire(1, T + 2000)).toBe(2);
    expect(labels(events.list(1, q({ kind: 'server' })).events)).toEqual(['edge', 'new']);
    expect(labels(events.list(2, q({})).events)).toEqual(['other']);
    expect(events.expire(1, T + 2000)).toBe(0);
    expect(events.expire(1, T + 1_000_000)).toBe(2);
    expect(events.list(1, q({})).events).toEqual([]);
  });

  it('drop deletes one stream’s events', () => {
    add(1, 'h', 1000, 1000, [{ label: 'a' }, { label: 'b' }]);
    add(2, 'h', 1000, 1000, [{ label: 'c' }]);
    events.drop(1);
    expect(events.list(1, q({})).events).toEqual([]);
    expect(labels(events.list(2, q({})).events)).toEqual(['c']);
  });
});
