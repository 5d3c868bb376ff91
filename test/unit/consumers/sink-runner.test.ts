import { describe, expect, it } from 'vitest';
import type { Frame, HookEvent } from '../../../src/consumers/frame.js';
import { SinkRunner, type InFlight, type SinkStats } from '../../../src/consumers/sink-runner.js';
import { InvalidEventsError, SinkTimeoutError, errorText, type FrameSink } from '../../../src/consumers/sink.js';
import { makeFrame } from './make-frame.js';

type Outcome = HookEvent[] | Error;

/** A sink that answers each frame from a script (by producer timestamp), optionally held back by a gate. */
class ScriptedSink implements FrameSink {
  readonly name = 'scripted';
  readonly type = 'MODULE' as const;
  readonly seen: number[] = [];
  gate: Promise<void> = Promise.resolve();
  constructor(readonly script: (ts: number) => Outcome) {}
  async deliver(frame: Frame): Promise<HookEvent[]> {
    this.seen.push(frame.producerTimestamp);
    await this.gate;
    const out = this.script(frame.producerTimestamp);
    if (out instanceof Error) {
      throw out;
    }
    return out;
  }
  async close(): Promise<void> {}
}

type Harness = { runner: SinkRunner; stored: { ts: number; events: HookEvent[] }[]; settled: InFlight[]; entries: InFlight[]; push: (ts: number) => void };

function harness(sink: FrameSink, capacity = 32, store?: (frame: Frame, events: HookEvent[]) => void): Harness {
  const stored: { ts: number; events: HookEvent[] }[] = [];
  const settled: InFlight[] = [];
  const entries: InFlight[] = [];
  const runner = new SinkRunner(sink, capacity, store ?? ((frame, events) => stored.push({ ts: frame.producerTimestamp, events })), (e) => settled.push(e));
  const push = (ts: number): void => {
    const e: InFlight = { frame: makeFrame({ producerTimestamp: ts }), pending: 1, dropped: false };
    entries.push(e);
    runner.push(e);
  };
  return { runner, stored, settled, entries, push };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

const ev = (label: string): HookEvent => ({ label });
const stats = (over: Partial<SinkStats>): SinkStats => ({ calls: 0, delivered: 0, errors: 0, timeouts: 0, events: 0, dropped: 0, lastError: null, ...over });

describe('SinkRunner', () => {
  it.each<[string, (ts: number) => Outcome, SinkStats, number]>([
    ['delivers without events', () => [], stats({ calls: 3, delivered: 3 }), 0],
    ['stores the events each call returns', (ts) => (ts === 2 ? [] : [ev('a'), ev('b')]), stats({ calls: 3, delivered: 3, events: 4 }), 2],
    ['counts a thrown error and keeps its message', (ts) => (ts === 2 ? new Error('boom') : []), stats({ calls: 3, delivered: 2, errors: 1, lastError: 'boom' }), 0],
    ['counts a SinkTimeoutError as a timeout, not an error', (ts) => (ts === 1 ? new SinkTimeoutError(250) : [ev('x')]), stats({ calls: 3, delivered: 2, timeouts: 1, events: 2, lastError: 'no answer within 250 ms' }), 2],
    [
      'InvalidEventsError: valid events stored, call counted failed',
      (ts) => (ts === 3 ? new InvalidEventsError(2, [ev('ok1'), ev('ok2')]) : []),
      stats({ calls: 3, delivered: 2, errors: 1, events: 2, lastError: '2 invalid event(s) returned' }),
      1,
    ],
    ['InvalidEventsError with no valid events stores nothing', () => new InvalidEventsError(1, []), stats({ calls: 3, errors: 3, lastError: '1 invalid event(s) returned' }), 0],
  ])('%s', async (_name, script, expected, storedCalls) => {
    const h = harness(new ScriptedSink(script));
    [1, 2, 3].forEach(h.push);
    await until('3 settled', () => h.settled.length === 3);
    expect(h.runner.stats).toEqual(expected);
    expect(h.stored).toHaveLength(storedCalls);
    expect(h.settled).toEqual(h.entries);
    expect(h.settled.every((e) => !e.dropped)).toBe(true);
  });

  it('hands the stored events the frame they came from', async () => {
    const h = harness(new ScriptedSink((ts) => (ts === 2 ? new InvalidEventsError(1, [ev('kept')]) : [ev(`t${ts}`)])));
    [1, 2, 3].forEach(h.push);
    await until('3 settled', () => h.settled.length === 3);
    expect(h.stored).toEqual([
      { ts: 1, events: [ev('t1')] },
      { ts: 2, events: [ev('kept')] },
      { ts: 3, events: [ev('t3')] },
    ]);
  });

  it('a store that throws counts as an error, the delivery still counts as delivered', async () => {
    const h = harness(new ScriptedSink(() => [ev('a')]), 32, () => {
      throw new Error('disk full');
    });
    h.push(1);
    await until('settled', () => h.settled.length === 1);
    expect(h.runner.stats).toEqual(stats({ calls: 1, delivered: 1, errors: 1, lastError: 'events not stored: disk full' }));
  });

  it('a slow sink drops its oldest queued frames, counted, each settled once (dropped ones at once)', async () => {
    const sink = new ScriptedSink(() => [ev('e')]);
    let open!: () => void;
    sink.gate = new Promise((r) => (open = r));
    const h = harness(sink, 3);
    h.push(1);
    await until('frame 1 taken', () => sink.seen.length === 1);
    // frame 1 is in the sink; 2..8 go to a queue of 3: 2, 3, 4, 5 are pushed out by 5..8
    [2, 3, 4, 5, 6, 7, 8].forEach(h.push);
    expect(h.runner.queueLength).toBe(3);
    expect(h.runner.stats.dropped).toBe(4);
    expect(h.settled.map((e) => [e.frame.producerTimestamp, e.dropped])).toEqual([
      [2, true],
      [3, true],
      [4, true],
      [5, true],
    ]);
    open();
    await until('all settled', () => h.settled.length === 8);
    expect(sink.seen).toEqual([1, 6, 7, 8]);
    expect(h.settled.slice(4).map((e) => [e.frame.producerTimestamp, e.dropped])).toEqual([
      [1, false],
      [6, false],
      [7, false],
      [8, false],
    ]);
    // every entry exactly once
    expect(new Set(h.settled).size).toBe(8);
    expect(h.settled.length).toBe(8);
    expect(h.runner.stats).toEqual(stats({ calls: 4, delivered: 4, events: 4, dropped: 4 }));
    expect(h.runner.queueLength).toBe(0);
  });

  it('close stops the loop: queued frames are neither delivered nor settled', async () => {
    const sink = new ScriptedSink(() => []);
    let open!: () => void;
    sink.gate = new Promise((r) => (open = r));
    const h = harness(sink, 8);
    h.push(1);
    await until('frame 1 taken', () => sink.seen.length === 1);
    h.push(2);
    h.push(3);
    h.runner.close();
    open();
    await until('frame 1 settled', () => h.settled.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.seen).toEqual([1]);
    expect(h.settled.map((e) => e.frame.producerTimestamp)).toEqual([1]);
    expect(h.runner.queueLength).toBe(0);
  });

  it('keeps the last error as text, cut at 500 chars', async () => {
    const long = 'x'.repeat(600);
    const h = harness(new ScriptedSink(() => new Error(long)));
    h.push(1);
    await until('settled', () => h.settled.length === 1);
    expect(h.runner.stats.lastError).toBe(`${'x'.repeat(500)}…`);
    expect(errorText('plain string')).toBe('plain string');
    expect(errorText(42)).toBe('42');
  });
});
