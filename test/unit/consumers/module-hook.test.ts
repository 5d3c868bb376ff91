import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModuleHook } from '../../../src/consumers/hooks/module-hook.js';
import { InvalidEventsError, SinkTimeoutError } from '../../../src/consumers/sink.js';
import { makeFrame } from './make-frame.js';

const HOOKS: Record<string, string> = {
  // echoes what it was given, so the test sees the frame as the worker got it
  'echo.mjs': `
    export default function onFrame(frame) {
      return { label: 'echo', confidence: 0.5, data: {
        stream: frame.streamName, fragment: frame.fragmentNumber, producer: frame.producerTimestamp, server: frame.serverTimestamp,
        format: frame.format, size: [frame.width, frame.height], imageBytes: frame.image.length, imageIsBytes: frame.image instanceof Uint8Array,
        luma: [frame.luma.width, frame.luma.height, Array.from(frame.luma.data)], keys: Object.keys(frame).sort() } };
    }`,
  // TypeScript, with types that plain JS could not parse; counts calls so a worker restart shows
  'typed.ts': `
    type Luma = { width: number; height: number; data: Uint8Array };
    interface F { luma: Luma; fragmentNumber: string }
    let calls: number = 0;
    export default function onFrame(frame: F): { label: string; data: unknown }[] {
      calls++;
      const sum = frame.luma.data.reduce((s: number, v: number) => s + v, 0);
      return [{ label: 'typed', data: { calls, sum } }];
    }`,
  'named.mjs': `export function onFrame() { return [{ label: 'named' }, { label: 'second', box: { x: 0, y: 0, width: 1, height: 1 } }]; }`,
  'common.cjs': `module.exports = function (frame) { return { label: 'cjs-' + frame.format }; };`,
  'common-named.cjs': `exports.onFrame = () => ({ label: 'cjs-named' });`,
  'async.mjs': `export default async () => { await new Promise((r) => setTimeout(r, 20)); return { label: 'later' }; };`,
  'nothing.mjs': `export default () => undefined;`,
  'partly-invalid.mjs': `export default () => [{ label: 'good' }, { label: '' }, { label: 'bad', confidence: 7 }, 5];`,
  'throws.mjs': `export default function () { throw new Error('hook exploded'); }`,
  'rejects.mjs': `export default async function () { throw new TypeError('async hook exploded'); }`,
  'not-plain.mjs': `export default () => ({ label: 'f', data: () => 1 });`,
  // hangs only on the frames it is told to; counts calls so a restart shows
  'sometimes-hangs.mjs': `
    let calls = 0;
    export default function (frame) {
      calls++;
      if (frame.fragmentNumber === 'hang') { for (;;) {} }
      return { label: 'ok', data: { calls } };
    }`,
  'exits.mjs': `let calls = 0; export default (frame) => { calls++; if (frame.fragmentNumber === 'exit') { process.exit(3); } return { label: 'alive', data: { calls } }; };`,
  'no-function.mjs': `export const answer = 42;`,
  'syntax-error.mjs': `export default function ( {`,
  'load-throws.mjs': `throw new Error('cannot start: missing model file');`,
};

let dir: string;
const open: ModuleHook[] = [];

function hook(file: string, timeoutMs = 5000): ModuleHook {
  const h = new ModuleHook(file.replace(/\..*$/, ''), join(dir, file), timeoutMs);
  open.push(h);
  return h;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'openkvs-modhook-'));
  for (const [file, source] of Object.entries(HOOKS)) {
    writeFileSync(join(dir, file), source);
  }
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('ModuleHook', () => {
  it('runs the default export in a worker with the whole frame, and returns its events', async () => {
    const h = hook('echo.mjs');
    expect(h.type).toBe('MODULE');
    expect(h.name).toBe('echo');
    const f = makeFrame();
    expect(await h.deliver(f)).toEqual([
      {
        label: 'echo',
        confidence: 0.5,
        data: {
          stream: 'cam1',
          fragment: f.fragmentNumber,
          producer: f.producerTimestamp,
          server: f.serverTimestamp,
          format: 'JPEG',
          size: [640, 360],
          imageBytes: f.image.length,
          imageIsBytes: true,
          luma: [4, 2, Array.from(f.luma.data)],
          keys: ['format', 'fragmentNumber', 'height', 'image', 'luma', 'producerTimestamp', 'serverTimestamp', 'streamArn', 'streamName', 'width'],
        },
      },
    ]);
  });

  it.each<[string, unknown[]]>([
    ['named.mjs', [{ label: 'named' }, { label: 'second', box: { x: 0, y: 0, width: 1, height: 1 } }]],
    ['common.cjs', [{ label: 'cjs-PNG' }]],
    ['common-named.cjs', [{ label: 'cjs-named' }]],
    ['async.mjs', [{ label: 'later' }]],
    ['nothing.mjs', []],
  ])('%s → %j', async (file, events) => {
    expect(await hook(file).deliver(makeFrame({ format: 'PNG' }))).toEqual(events);
  });

  it('loads TypeScript, and keeps one worker (and its module state) across calls', async () => {
    const h = hook('typed.ts');
    const sum = Array.from(makeFrame().luma.data).reduce((s, v) => s + v, 0);
    expect(await h.deliver(makeFrame())).toEqual([{ label: 'typed', data: { calls: 1, sum } }]);
    expect(await h.deliver(makeFrame())).toEqual([{ label: 'typed', data: { calls: 2, sum } }]);
    expect(await h.deliver(makeFrame())).toEqual([{ label: 'typed', data: { calls: 3, sum } }]);
  });

  it('some events invalid: rejects with InvalidEventsError carrying the valid ones', async () => {
    const err = await hook('partly-invalid.mjs').deliver(makeFrame()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidEventsError);
    expect((err as InvalidEventsError).events).toEqual([{ label: 'good' }]);
    expect((err as Error).message).toBe('3 invalid event(s) returned');
  });

  it.each([
    ['throws.mjs', /Error: hook exploded/],
    ['rejects.mjs', /TypeError: async hook exploded/],
    ['not-plain.mjs', /the hook returned something that is not plain data/],
  ])('%s rejects with %s, and the next call runs again', async (file, message) => {
    const h = hook(file);
    await expect(h.deliver(makeFrame())).rejects.toThrow(message);
    await expect(h.deliver(makeFrame())).rejects.toThrow(message);
  });

  it('a busy loop past TimeoutMs rejects with SinkTimeoutError; the next call gets a fresh worker', async () => {
    const h = hook('sometimes-hangs.mjs', 300);
    expect(await h.deliver(makeFrame({ fragmentNumber: 'a' }))).toEqual([{ label: 'ok', data: { calls: 1 } }]);
    const err = await h.deliver(makeFrame({ fragmentNumber: 'hang' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SinkTimeoutError);
    expect((err as Error).message).toBe('no answer within 300 ms');
    // calls restarts at 1: the module was loaded again in a new worker
    expect(await h.deliver(makeFrame({ fragmentNumber: 'b' }))).toEqual([{ label: 'ok', data: { calls: 1 } }]);
    expect(await h.deliver(makeFrame({ fragmentNumber: 'c' }))).toEqual([{ label: 'ok', data: { calls: 2 } }]);
    // and it can time out again
    await expect(h.deliver(makeFrame({ fragmentNumber: 'hang' }))).rejects.toBeInstanceOf(SinkTimeoutError);
    expect(await h.deliver(makeFrame({ fragmentNumber: 'd' }))).toEqual([{ label: 'ok', data: { calls: 1 } }]);
  });

  it('a hook that exits its worker fails that call; the next call gets a fresh worker', async () => {
    const h = hook('exits.mjs');
    expect(await h.deliver(makeFrame({ fragmentNumber: 'a' }))).toEqual([{ label: 'alive', data: { calls: 1 } }]);
    await expect(h.deliver(makeFrame({ fragmentNumber: 'exit' }))).rejects.toThrow(/hook worker exited \(code 3\)/);
    expect(await h.deliver(makeFrame({ fragmentNumber: 'b' }))).toEqual([{ label: 'alive', data: { calls: 1 } }]);
  });

  it.each([
    ['no-function.mjs', /did not load: .*the module exports no function \(a default export or onFrame\)/],
    ['syntax-error.mjs', /did not load: .*SyntaxError/],
    ['load-throws.mjs', /did not load: .*cannot start: missing model file/],
    ['does-not-exist.mjs', /did not load: .*(Cannot find module|ERR_MODULE_NOT_FOUND)/],
  ])('%s fails to load with a clear message, naming the file', async (file, message) => {
    const h = hook(file);
    const err = (await h.deliver(makeFrame()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(join(dir, file));
    // right after, the same failure is answered without starting another worker
    await expect(h.deliver(makeFrame())).rejects.toBe(err);
  });

  it('close ends the worker; a later call starts a new one', async () => {
    const h = hook('typed.ts');
    expect(await h.deliver(makeFrame())).toMatchObject([{ data: { calls: 1 } }]);
    await h.close();
    expect(await h.deliver(makeFrame())).toMatchObject([{ data: { calls: 1 } }]);
    await h.close();
    await h.close(); // twice is fine
  });
});
