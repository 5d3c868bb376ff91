import type { Request, Response } from 'express';
import type { StreamingRoute } from '../api/app.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { KvsError, notFound } from '../errors/codes.js';
import type { IngestParser } from '../media/parse-events.js';
import type { FragmentStore } from '../store/fragment-store.js';
import type { MemoryBuffer } from '../store/memory-buffer.js';
import type { FragmentFeed } from '../stream/fragment-feed.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { formatAck, type Ack } from './ack.js';
import { IngestSession } from './ingest-session.js';
import { parsePutMediaHeaders } from './put-media-headers.js';
import type { LimiterRegistry } from './limiter-registry.js';
import type { IngestMeter, IngestMeters } from './ingest-meter.js';

/** While this many fragments of one upload wait for fsync, stop reading its body (durable-path backpressure). */
export const MAX_UNPERSISTED_FRAGMENTS = 8;
/** Bytes needed to tell MKV from MP4. */
const SNIFF_BYTES = 12;
/** An IDLE ack goes out after this long without data, and again at this interval. */
export const IDLE_ACK_INTERVAL_MS = 3000;
/**
 * After an upload ends early, how long its connection keeps reading (and dropping) what the producer still sends.
 * Cutting a connection with unread bytes resets it, and a producer that is writing then gets EPIPE before it has
 * read the ERROR ack that says why; lingering lets it read the ack and end its body.
 */
export const EARLY_END_LINGER_MS = 2000;

export type ChooseParser = (head: Uint8Array, contentType: string | undefined, maxFragmentBytes: number) => IngestParser;

export type PutMediaDeps = {
  registry: StreamRegistry;
  store: FragmentStore;
  buffer: MemoryBuffer;
  limiters: LimiterRegistry;
  clock: Clock;
  chooseParser: ChooseParser;
  feed: FragmentFeed;
  idleTimeoutMs: number;
  log: Logger;
  meters?: IngestMeters;
};

type LiveUpload = { streamId: number; abort(error: 'STREAM_NOT_ACTIVE' | 'INTERNAL_ERROR'): void; done: Promise<void> };

/** POST /putMedia: headers are validated before the 200; after it, everything is said with acks. */
export class PutMediaService {
  readonly #d: PutMediaDeps;
  readonly #uploads = new Set<LiveUpload>();
  #closing = false;

  constructor(deps: PutMediaDeps) {
    this.#d = deps;
    deps.registry.onDeleted((s) => {
      for (const u of this.#uploads) {
        if (u.streamId === s.id) {
          u.abort('STREAM_NOT_ACTIVE');
        }
      }
    });
  }

  get activeUploads(): number {
    return this.#uploads.size;
  }

  readonly route: StreamingRoute = async (req, res, ctx) => {
    const d = this.#d;
    if (this.#closing) {
      throw new KvsError('ServiceUnavailableException', 'The server is shutting down; reconnect to another endpoint or retry shortly.');
    }
    const headers = parsePutMediaHeaders(req.headers, d.clock.now());
    const stream = d.registry.find({ name: headers.streamName, arn: headers.streamArn });
    if (stream === undefined) {
      throw notFound(`The requested stream ${headers.streamName ?? headers.streamArn} is not found or not active.`);
    }
    const limiter = d.limiters.forStream(stream);
    const meter = d.meters?.forStream(stream.name);
    if (limiter.connections >= limiter.capacity.putMediaConnections) {
      meter?.throttled('putmedia_connections');
      throw new KvsError('ConnectionLimitExceededException', `The stream ${stream.name} already has ${limiter.connections} PutMedia connections (its capacity).`);
    }
    if (!limiter.tryCall()) {
      meter?.throttled('putmedia_calls');
      throw new KvsError('ClientLimitExceededException', `PutMedia is called too often on stream ${stream.name}.`);
    }
    limiter.connections++;
    meter?.connected();
    try {
      await this.#stream(req, res, stream.id, headers, limiter, ctx.body, meter);
    } finally {
      limiter.connections--;
      meter?.disconnected();
    }
  };

  /** Finish every upload (shutdown): each ends with what was received so far. */
  async closeAll(): Promise<void> {
    // From now on new uploads are refused (503, retryable), so none starts after the in-flight ones were ended.
    this.#closing = true;
    for (const u of this.#uploads) {
      u.abort('INTERNAL_ERROR');
    }
    await Promise.all([...this.#uploads].map((u) => u.done));
  }

  async #stream(req: Request, res: Response, streamId: number, headers: ReturnType<typeof parsePutMediaHeaders>, limiter: ReturnType<LimiterRegistry['forStream']>, preread: Buffer | null, meter: IngestMeter | undefined): Promise<void> {
    const d = this.#d;
    res.socket?.setNoDelay(true);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const send = (ack: Ack): void => {
      if (ack.type === 'ERROR') {
        meter?.ackError(ack.error);
      }
      if (!res.writableEnded) {
        res.write(formatAck(ack));
      }
    };

    let session: IngestSession | null = null;
    let head: Buffer[] = [];
    let headBytes = 0;
    const start = (): IngestSession => {
      const first = Buffer.concat(head);
      head = [];
      const parser = d.chooseParser(first, headers.contentType, limiter.capacity.maxFragmentBytes);
      const s = new IngestSession(parser, {
        stream: () => d.registry.byId(streamId),
        store: d.store,
        buffer: d.buffer,
        feed: d.feed,
        limiter,
        clock: d.clock,
        headers,
        send,
        log: d.log,
        meter,
      });
      if (first.length > 0) {
        s.push(first);
      }
      return s;
    };

    let lastData = Date.now();
    let lastIdle = 0;
    let finished = false;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));

    /** `linger`: the producer may still be writing (an upload ended by an error, not by the idle timeout). */
    const finish = async (linger = true): Promise<void> => {
      if (finished) {
        return;
      }
      finished = true;
      clearInterval(idleTimer);
      req.off('data', onData);
      if (session !== null) {
        await session.settled();
      }
      if (!req.complete) {
        req.resume();
        if (linger) {
          // The ERROR ack is out, but ending the response now lets Node close the connection (at once for
          // `Connection: close`) with the producer's bytes unread: a reset, and its next write fails (EPIPE) before
          // it has read why. Keep the response open and drop what it sends until it ends its body, for a while.
          await lingerUntilEnded(req, EARLY_END_LINGER_MS);
        }
      }
      res.end();
      if (!req.complete) {
        res.once('finish', () => req.destroy());
      }
      this.#uploads.delete(upload);
      resolveDone();
    };

    const upload: LiveUpload = {
      streamId,
      abort: (error) => {
        if (finished) {
          return;
        }
        if (session === null) {
          send({ type: 'ERROR', error });
        } else {
          session.abort(error);
        }
        void finish();
      },
      done,
    };
    this.#uploads.add(upload);

    const onData = (chunk: Buffer): void => {
      lastData = Date.now();
      meter?.bytes(chunk.length);
      if (session === null) {
        head.push(chunk);
        headBytes += chunk.length;
        if (headBytes < SNIFF_BYTES) {
          return;
        }
        session = start();
      } else {
        session.push(chunk);
      }
      const s = session;
      if (s.failed) {
        void finish();
        return;
      }
      if (s.inFlight >= MAX_UNPERSISTED_FRAGMENTS) {
        req.pause();
        void s.settled().then(() => {
          if (!finished) {
            req.resume();
          }
        });
      }
    };

    const idleTimer = setInterval(() => {
      const now = Date.now();
      if (now - lastData >= d.idleTimeoutMs) {
        // No data for the idle timeout: the upload is over. Treat it as the end of the body, so a trailing
        // unknown-size cluster (complete, but waiting for the next element to prove it) is still stored.
        clearInterval(idleTimer);
        onEnd(false);
        return;
      }
      if (now - lastData >= IDLE_ACK_INTERVAL_MS && now - lastIdle >= IDLE_ACK_INTERVAL_MS && headers.ackRequired) {
        lastIdle = now;
        send({ type: 'IDLE' });
      }
    }, 500);

    function onEnd(linger = true): void {
      // Bytes arriving after the idle timeout ended the upload are not parsed any more.
      req.off('data', onData);
      void (async () => {
        if (finished) {
          return;
        }
        session ??= start();
        await session.end();
        await finish(linger);
      })();
    }
    if (preread !== null) {
      // The body was read already to check a signature over its hash.
      onData(preread);
      onEnd();
    } else {
      req.on('data', onData);
      req.once('end', () => onEnd());
      req.once('close', () => {
        if (!req.complete) {
          // The producer went away mid-upload: keep what was completely received, send nothing more.
          void finish();
        }
      });
      req.once('error', () => void finish());
    }
    await done;
  }
}

/** Resolves when the request body has ended, the connection closed, or after ms. */
function lingerUntilEnded(req: Request, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (req.complete || req.destroyed || req.socket.destroyed) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      req.off('end', done);
      req.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    req.once('end', done);
    req.once('close', done);
  });
}
