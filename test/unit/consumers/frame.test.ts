import { describe, expect, it } from 'vitest';
import { MAX_EVENTS_PER_FRAME, MAX_EVENT_DATA_BYTES, MAX_LABEL_CHARS, frameMetadata, toEvents } from '../../../src/consumers/frame.js';
import { makeFrame } from './make-frame.js';

/** `data` whose JSON text is exactly `bytes` bytes long: a string of n ASCII chars is n + 2 bytes of JSON. */
const dataOfBytes = (bytes: number): string => 'x'.repeat(bytes - 2);

const circular: Record<string, unknown> = { a: 1 };
circular['self'] = circular;

describe('toEvents', () => {
  it('limits are the documented ones', () => {
    expect([MAX_EVENTS_PER_FRAME, MAX_LABEL_CHARS, MAX_EVENT_DATA_BYTES]).toEqual([32, 128, 16 * 1024]);
  });

  it.each([
    ['undefined (no events)', undefined],
    ['null', null],
    ['an empty array', []],
  ])('%s → nothing, nothing invalid', (_name, value) => {
    expect(toEvents(value)).toEqual({ events: [], invalid: 0 });
  });

  it.each([
    ['label only', { label: 'a' }, { label: 'a' }],
    ['128-char label', { label: 'l'.repeat(128) }, { label: 'l'.repeat(128) }],
    ['confidence 0', { label: 'a', confidence: 0 }, { label: 'a', confidence: 0 }],
    ['confidence 1', { label: 'a', confidence: 1 }, { label: 'a', confidence: 1 }],
    ['confidence 0.42', { label: 'a', confidence: 0.42 }, { label: 'a', confidence: 0.42 }],
    ['box at the fraction limits', { label: 'a', box: { x: 0, y: 0, width: 1, height: 1 } }, { label: 'a', box: { x: 0, y: 0, width: 1, height: 1 } }],
    ['box extra keys dropped', { label: 'a', box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4, z: 9 } }, { label: 'a', box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 } }],
    ['unknown keys dropped', { label: 'a', colour: 'red', confidence: 0.5 }, { label: 'a', confidence: 0.5 }],
    ['data object', { label: 'a', data: { count: 3, tags: ['x'] } }, { label: 'a', data: { count: 3, tags: ['x'] } }],
    ['data null', { label: 'a', data: null }, { label: 'a', data: null }],
    ['data of exactly 16 KiB of JSON', { label: 'a', data: dataOfBytes(16 * 1024) }, { label: 'a', data: dataOfBytes(16 * 1024) }],
    ['data as its JSON copy (Date → string, undefined fields gone)', { label: 'a', data: { d: new Date(0), u: undefined } }, { label: 'a', data: { d: '1970-01-01T00:00:00.000Z' } }],
  ])('valid: %s', (_name, input, expected) => {
    expect(toEvents(input)).toEqual({ events: [expected], invalid: 0 });
    expect(toEvents([input])).toEqual({ events: [expected], invalid: 0 });
  });

  it.each([
    ['a number', 7],
    ['a string', 'motion'],
    ['a boolean', true],
    ['false', false],
    ['an array inside the array', [[{ label: 'a' }]]],
    ['no label', { confidence: 0.5 }],
    ['empty label', { label: '' }],
    ['129-char label', { label: 'l'.repeat(129) }],
    ['non-string label', { label: 5 }],
    ['confidence below 0', { label: 'a', confidence: -0.01 }],
    ['confidence above 1', { label: 'a', confidence: 1.01 }],
    ['confidence NaN', { label: 'a', confidence: Number.NaN }],
    ['confidence Infinity', { label: 'a', confidence: Number.POSITIVE_INFINITY }],
    ['confidence as a string', { label: 'a', confidence: '0.5' }],
    ['confidence null', { label: 'a', confidence: null }],
    ['box null', { label: 'a', box: null }],
    ['box not an object', { label: 'a', box: 'top-left' }],
    ['box missing height', { label: 'a', box: { x: 0, y: 0, width: 1 } }],
    ['box x above 1 (pixels, not fractions)', { label: 'a', box: { x: 12, y: 0, width: 0.5, height: 0.5 } }],
    ['box negative y', { label: 'a', box: { x: 0, y: -0.1, width: 0.5, height: 0.5 } }],
    ['box width as a string', { label: 'a', box: { x: 0, y: 0, width: '0.5', height: 0.5 } }],
    ['data one byte over 16 KiB', { label: 'a', data: dataOfBytes(16 * 1024 + 1) }],
    ['data over 16 KiB in UTF-8 bytes though not in chars', { label: 'a', data: 'é'.repeat(9000) }],
    ['data a BigInt', { label: 'a', data: 10n }],
    ['data circular', { label: 'a', data: circular }],
    ['data a function', { label: 'a', data: () => 1 }],
  ])('invalid: %s', (_name, input) => {
    expect(toEvents(input)).toEqual({ events: [], invalid: 1 });
  });

  it('keeps the valid events of a mixed array, in order, and counts the rest', () => {
    const r = toEvents([{ label: 'a' }, 3, { label: '' }, { label: 'b', confidence: 2 }, { label: 'c', confidence: 0.5 }, null]);
    expect(r).toEqual({ events: [{ label: 'a' }, { label: 'c', confidence: 0.5 }], invalid: 4 });
  });

  it.each([
    [31, 31, 0],
    [32, 32, 0],
    [33, 32, 1],
    [100, 32, 68],
  ])('%i valid events → %i kept, %i counted invalid', (n, kept, invalid) => {
    const r = toEvents(Array.from({ length: n }, (_, i) => ({ label: `e${i}` })));
    expect(r.events).toHaveLength(kept);
    expect(r.events.at(-1)).toEqual({ label: `e${kept - 1}` });
    expect(r.invalid).toBe(invalid);
  });

  it('invalid entries do not use up the 32 slots', () => {
    const list = [...Array.from({ length: 10 }, () => ({ label: '' })), ...Array.from({ length: 32 }, (_, i) => ({ label: `e${i}` }))];
    expect(toEvents(list)).toMatchObject({ invalid: 10 });
    expect(toEvents(list).events).toHaveLength(32);
  });

  it('returns copies: changing what the hook returned afterwards changes nothing', () => {
    const data = { n: 1 };
    const box = { x: 0.1, y: 0.1, width: 0.1, height: 0.1 };
    const { events } = toEvents({ label: 'a', box, data });
    data.n = 2;
    box.x = 0.9;
    expect(events[0]).toEqual({ label: 'a', box: { x: 0.1, y: 0.1, width: 0.1, height: 0.1 }, data: { n: 1 } });
  });
});

describe('frameMetadata', () => {
  it('is the frame without image and luma', () => {
    const f = makeFrame();
    const meta = frameMetadata(f);
    expect(meta).toEqual({
      streamName: f.streamName,
      streamArn: f.streamArn,
      fragmentNumber: f.fragmentNumber,
      producerTimestamp: f.producerTimestamp,
      serverTimestamp: f.serverTimestamp,
      format: 'JPEG',
      width: 640,
      height: 360,
    });
    expect(Object.keys(meta)).not.toContain('image');
    expect(Object.keys(meta)).not.toContain('luma');
  });
});
