import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { toEvents, type Frame, type HookEvent } from '../frame.js';
import { InvalidEventsError, SinkTimeoutError, type FrameSink } from '../sink.js';

/** Heap for one hook worker: a runaway hook fails alone instead of exhausting the server. */
const WORKER_HEAP_MB = 256;
/** After a worker fails to load its module, wait this long before trying again. */
const RELOAD_BACKOFF_MS = 2000;

// The worker's whole program. It is evaluated as a script so it needs no file of its own next to the compiled
// output; it loads the hook module (TypeScript through tsx's tsImport) and answers one call at a time.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const mod = workerData.tsxApi
    ? await (await import(workerData.tsxApi)).tsImport(workerData.moduleUrl, workerData.moduleUrl)
    : await import(workerData.moduleUrl);
  // a file Node takes for CommonJS arrives with its exports under default
  const fn = [mod.default, mod.onFrame, mod.default && mod.default.default, mod.default && mod.default.onFrame].find((f) => typeof f === 'function');
  if (fn === undefined) { throw new Error('the module exports no function (a default export or onFrame)'); }
  parentPort.on('message', async ({ id, frame }) => {
    try {
      const result = await fn(frame);
      try { parentPort.postMessage({ id, ok: true, result }); }
      catch (e) { parentPort.postMessage({ id, ok: false, error: 'the hook returned something that is not plain data: ' + e.message }); }
    } catch (e) {
      parentPort.postMessage({ id, ok: false, error: String((e && e.stack) || e) });
    }
  });
  parentPort.postMessage({ ready: true });
})().catch((e) => parentPort.postMessage({ fatal: String((e && e.stack) || e) }));
`;

/**
 * tsx's ESM registration entry as a file URL. require.resolve answers with the CommonJS build, which cannot register
 * ESM hooks from a worker; its ESM twin sits next to it.
 */
function tsxEsmApi(): string {
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const esm = cjs.replace(/\.cjs$/, '.mjs');
  return pathToFileURL(existsSync(esm) ? esm : cjs).href;
}

type Reply = { id?: number; ok?: boolean; result?: unknown; error?: string; ready?: boolean; fatal?: string };

/**
 * A MODULE hook: the operator's JS/TS module run in its own worker thread. A call that throws fails alone; one that
 * runs past the time limit (even a busy loop) gets its worker terminated and a fresh one for the next frame, so
 * ingest and the other streams never wait on it.
 */
export class ModuleHook implements FrameSink {
  readonly name: string;
  readonly type = 'MODULE' as const;
  readonly #path: string;
  readonly #timeoutMs: number;
  #worker: Worker | null = null;
  #ready: Promise<Worker> | null = null;
  #nextId = 1;
  #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #loadFailedAt = 0;
  #loadError: Error | null = null;

  constructor(name: string, absolutePath: string, timeoutMs: number) {
    this.name = name;
    this.#path = absolutePath;
    this.#timeoutMs = timeoutMs;
  }

  async deliver(frame: Frame): Promise<HookEvent[]> {
    const worker = await this.#start();
    const id = this.#nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.#discard(worker);
        reject(new SinkTimeoutError(this.#timeoutMs));
      }, this.#timeoutMs);
      this.#pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      worker.postMessage({ id, frame });
    });
    if (reply.ok !== true) {
      throw new Error(reply.error ?? 'hook failed');
    }
    const { events, invalid } = toEvents(reply.result);
    if (invalid > 0) {
      throw new InvalidEventsError(invalid, events);
    }
    return events;
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = null;
    this.#ready = null;
    await w?.terminate();
  }

  #start(): Promise<Worker> {
    if (this.#ready !== null) {
      return this.#ready;
    }
    if (this.#loadError !== null && Date.now() - this.#loadFailedAt < RELOAD_BACKOFF_MS) {
      return Promise.reject(this.#loadError);
    }
    const ts = /\.(ts|mts|cts)$/.test(this.#path);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { moduleUrl: pathToFileURL(this.#path).href, tsxApi: ts ? tsxEsmApi() : null },
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    this.#worker = worker;
    this.#ready = new Promise<Worker>((resolve, reject) => {
      const fail = (err: Error): void => {
        this.#loadError = err;
        this.#loadFailedAt = Date.now();
        this.#discard(worker);
        reject(err);
      };
      worker.on('message', (m: Reply) => {
        if (m.ready === true) {
          this.#loadError = null;
          resolve(worker);
        } else if (m.fatal !== undefined) {
          fail(new Error(`hook module ${this.#path} did not load: ${m.fatal}`));
        } else if (m.id !== undefined) {
          const p = this.#pending.get(m.id);
          this.#pending.delete(m.id);
          p?.resolve(m);
        }
      });
      worker.on('error', (err) => {
        fail(err);
        this.#failPending(err);
      });
      worker.on('exit', (code) => {
        if (this.#worker === worker) {
          this.#discard(worker);
          this.#failPending(new Error(`hook worker exited (code ${code})`));
        }
      });
    });
    this.#ready.catch(() => undefined);
    return this.#ready;
  }

  #discard(worker: Worker): void {
    if (this.#worker === worker) {
      this.#worker = null;
      this.#ready = null;
    }
    void worker.terminate();
  }

  #failPending(err: Error): void {
    for (const p of this.#pending.values()) {
      p.reject(err);
    }
    this.#pending.clear();
  }
}
