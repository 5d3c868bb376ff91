// The server of the soak test (bench/soak.ts forks it with --expose-gc): openkvs in this process, answering the
// parent's IPC 'sample' with what only the process itself can measure — its heap after a full GC (live objects,
// not garbage waiting for the collector) and the event loop's delay since the previous sample.
// argv: <dataDir>. Logs (warn and above, JSON) go to stderr, which the parent keeps.

import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { resolveConfig } from '../src/conf/load-config.js';
import { findFfmpeg } from '../src/frames/ffmpeg-binary.js';
import { startOpenKvs } from '../src/server.js';

export type SoakSample = {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Event-loop delay over the window since the previous sample, ms (the forced GC of a sample is left out). */
  loopP50: number;
  loopP99: number;
  loopMax: number;
  /** How long the forced full GC took. */
  gcMs: number;
};

export type SoakServerMessage = { type: 'ready'; url: string } | ({ type: 'sample' } & SoakSample);
export type SoakParentMessage = { type: 'sample' } | { type: 'stop' };

const send = (m: SoakServerMessage): void => {
  process.send!(m);
};

const gc = (globalThis as { gc?: () => void }).gc;
if (process.send === undefined || gc === undefined) {
  throw new Error('bench/soak-server.ts is forked by bench/soak.ts with --expose-gc');
}
const dataDir = process.argv[2];
if (dataDir === undefined) {
  throw new Error('usage: soak-server.ts <dataDir>');
}

const config = resolveConfig({
  port: 0,
  dataDir,
  logLevel: 'warn',
  logFormat: 'json',
  accessKeyId: process.env['OPENKVS_ACCESS_KEY_ID'],
  secretAccessKey: process.env['OPENKVS_SECRET_ACCESS_KEY'],
});
const server = await startOpenKvs(config, { ffmpeg: findFfmpeg(process.env) });

const RESOLUTION_MS = 10;
const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
loop.enable();
// The monitor records the time between its timer's runs, the resolution included: an idle loop reads 10 ms.
const ms = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);

process.on('message', (m: SoakParentMessage) => {
  if (m.type === 'stop') {
    void server.close().then(() => process.exit(0));
    return;
  }
  const window = loop.count > 0 ? { loopP50: ms(loop.percentile(50)), loopP99: ms(loop.percentile(99)), loopMax: ms(loop.max) } : { loopP50: NaN, loopP99: NaN, loopMax: NaN };
  const t0 = performance.now();
  gc();
  const gcMs = performance.now() - t0;
  const mem = process.memoryUsage();
  send({ type: 'sample', rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, arrayBuffers: mem.arrayBuffers, gcMs, ...window });
  // The GC just forced shows up as one late tick of the delay monitor; start the next window after it.
  setTimeout(() => loop.reset(), 50);
});

send({ type: 'ready', url: server.url });
