// The openkvs producer client: PutMedia as the KVS producer SDKs speak it (signed chunked POST, MKV up,
// newline-delimited acks down, full duplex), with the producer SDKs' resilience: every fragment is kept until
// the server says PERSISTED, and a broken or refused upload is resumed on a new connection.
//
// Delivery guarantee. A fragment whose PERSISTED ack arrived is never sent again; every other fragment is sent
// again after a reconnect, in order, behind the stored header. Openkvs fsyncs a fragment before it writes its
// PERSISTED ack, so the server can end up holding a fragment twice in exactly one case: it made the fragment
// durable and the connection broke before that ack reached the client (lost in flight). To keep that window
// small, every deliberate stop — a capacity or archival refusal, a server shutdown (5000), connection rotation,
// the end of the input — is a drain, not a cut: the client stops sending, ends the request body, and reads acks
// until the server ends the response, so the server has answered every fragment it got before the client decides
// what to send again. Only an abrupt loss (network failure, server crash, ack timeout) can leave fragments in
// the window, at most those between fsync and ack delivery (openkvs has at most 8 per upload in flight).
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { EventEmitter } from 'node:events';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ParseError } from '../formats/errors.js';
import { AckStreamError, AckStreamParser, type AckEvent } from './ack-stream.js';
import { MediaUnitSplitter, type MediaUnit } from './media-units.js';
import { DEFAULT_RETRY, ackErrorAction, backoffDelayMs, httpErrorRetryable, type RetryOptions } from './retry.js';

export type PutMediaCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export type PutMediaClientOptions = {
  /** The PutMedia data endpoint (GetDataEndpoint's answer for PUT_MEDIA), e.g. http://127.0.0.1:8080. */
  endpoint: string;
  region: string;
  credentials: PutMediaCredentials;
  streamName?: string;
  streamArn?: string;
  /**
   * ABSOLUTE (default): cluster timecodes are producer timestamps (epoch ms at the default 1 ms TimecodeScale).
   * With ABSOLUTE a re-sent fragment keeps its timestamp whichever connection carries it.
   */
  timecodeType?: 'ABSOLUTE' | 'RELATIVE';
  /** Base of RELATIVE timecodes (epoch ms). Fixed for the client's life so re-sent fragments keep their timestamps. */
  producerStartTimeMs?: number;
  retry?: Partial<RetryOptions>;
  /** Bound on media held (fragments not yet PERSISTED + input not yet cut into fragments); write() waits above it. */
  maxBufferedBytes?: number;
  /** Rotate to a new connection after this long (the KVS producers' 40-minute streaming token). */
  connectionMaxDurationMs?: number;
  /** A connection whose fragments get no ack for this long is given up and the upload resumed elsewhere. */
  ackTimeoutMs?: number;
  /** How long a draining connection may take to end its response before it is cut. */
  drainTimeoutMs?: number;
  /**
   * Which ack completes a fragment (frees it, ends its resends). `persisted` (default): the fragment is durable.
   * `received`: the server has it whole, for streams without retention (they never send PERSISTED) or producers
   * that prefer never sending a fragment twice over never losing one. Even with `persisted`, a fragment that got
   * RECEIVED on a connection the server then ended cleanly after the body ended counts as done (receivedOnly):
   * that is how a stream without retention answers, and sending it again could only duplicate it.
   */
  completeOn?: 'persisted' | 'received';
  /** Largest fragment taken from the input (default 50 MiB, the KVS limit). */
  maxFragmentBytes?: number;
  agent?: HttpAgent | HttpsAgent;
  /** Jitter source for the backoff, [0, 1). */
  random?: () => number;
  userAgent?: string;
};

export type FragmentRef = { timecode: number; fragmentNumber?: string };
export type FailedFragment = FragmentRef & { errorId: number; errorCode?: string };

export type PutMediaSummary = {
  /** Fragments cut from the input. */
  fragments: number;
  persisted: number;
  /** Completed by RECEIVED without PERSISTED: a stream without retention (the server keeps them in memory only). */
  receivedOnly: number;
  /** Fragments the server refused for good (4002/4004/4007) and the client therefore skipped. */
  failed: FailedFragment[];
  /** Fragment sends beyond each fragment's first. */
  resent: number;
  /** PutMedia requests made. */
  connections: number;
  /** Producer Tags after the input's last cluster: not sent, as the server stores tags only with a following fragment. */
  droppedTrailingTagsBytes: number;
};

export type PutMediaErrorKind =
  /** An error response before the upload started (status, errorType). */
  | 'http'
  /** An ERROR ack (errorId, errorCode). */
  | 'ack'
  /** The connection failed or ended with fragments unanswered. */
  | 'connection'
  /** The response is not an ack stream, or acks do not match what was sent. */
  | 'protocol'
  /** The producer's bytes are not valid MKV/MP4. */
  | 'input'
  /** Retries exhausted; `cause` is the last failure. */
  | 'gave-up'
  /** destroy() was called. */
  | 'destroyed';

export class PutMediaError extends Error {
  override readonly name = 'PutMediaError';
  readonly kind: PutMediaErrorKind;
  readonly retryable: boolean;
  readonly status?: number;
  readonly errorType?: string;
  readonly errorId?: number;
  readonly errorCode?: string;

  constructor(
    kind: PutMediaErrorKind,
    message: string,
    extra: { retryable?: boolean; status?: number; errorType?: string; errorId?: number; errorCode?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.kind = kind;
    this.retryable = extra.retryable ?? false;
    if (extra.status !== undefined) {
      this.status = extra.status;
    }
    if (extra.errorType !== undefined) {
      this.errorType = extra.errorType;
    }
    if (extra.errorId !== undefined) {
      this.errorId = extra.errorId;
    }
    if (extra.errorCode !== undefined) {
      this.errorCode = extra.errorCode;
    }
  }
}

export type PutMediaClientEvents = {
  /** Every ack as it arrives, from every connection. */
  ack: [AckEvent];
  persisted: [Required<FragmentRef>];
  'fragment-failed': [FailedFragment];
  /** A connection failed for a passing reason; the next one opens after `delayMs`. */
  reconnecting: [{ attempt: number; delayMs: number; cause: PutMediaError }];
  /** The client stopped for good; also the rejection of write()/end(). Emitted only while someone listens. */
  error: [PutMediaError];
};

type Header = { bytes: Uint8Array };

type Entry = {
  seq: number;
  header: Header;
  timecode: number;
  bytes: Uint8Array;
  state: 'pending' | 'persisted' | 'received' | 'failed';
  sends: number;
  fragmentNumber?: string;
};

type Conn = {
  req: ClientRequest;
  openedAt: number;
  /** Sequence number of the next entry this connection considers sending. */
  nextSeq: number;
  lastHeader: Header | null;
  /** Entries sent on this connection in order; BUFFERING acks are matched to them by position. */
  sent: Entry[];
  bufferingIdx: number;
  /** Every fragment number this connection announced, kept after completion: later acks for it are not errors. */
  byNumber: Map<string, Entry>;
  received: Set<Entry>;
  acks: AckStreamParser;
  stopSending: boolean;
  requestEnded: boolean;
  waitingDrain: boolean;
  responseComplete: boolean;
  cause: PutMediaError | null;
  throttled: boolean;
  persistedAny: boolean;
  /** Last ack, or the send that started the current wait for one. */
  lastAckAt: number;
  drainDeadline: number;
  watchdog: NodeJS.Timeout;
  closed: boolean;
};

const EMPTY = new Uint8Array(0);
const WATCHDOG_INTERVAL_MS = 1000;

export class PutMediaClient extends EventEmitter<PutMediaClientEvents> {
  readonly #url: URL;
  readonly #opts: PutMediaClientOptions;
  readonly #retry: RetryOptions;
  readonly #signer: SignatureV4;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #ownAgent: boolean;
  readonly #producerStartMs: number;
  readonly #maxBufferedBytes: number;
  readonly #splitter: MediaUnitSplitter;

  #header: Header | null = null;
  #entries: Entry[] = [];
  #nextSeq = 0;
  #retainedBytes = 0;
  #conn: Conn | null = null;
  #connecting = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #failuresWithoutProgress = 0;
  #backoffLevel = 0;
  #inputEnded = false;
  #failure: PutMediaError | null = null;
  #finished = false;
  #done: { promise: Promise<PutMediaSummary>; resolve: (s: PutMediaSummary) => void; reject: (e: PutMediaError) => void } | null = null;
  #waiters: (() => void)[] = [];
  readonly #iteratorEnders = new Set<() => void>();
  readonly #summary: PutMediaSummary = { fragments: 0, persisted: 0, receivedOnly: 0, failed: [], resent: 0, connections: 0, droppedTrailingTagsBytes: 0 };

  constructor(options: PutMediaClientOptions) {
    super();
    if ((options.streamName === undefined) === (options.streamArn === undefined)) {
      throw new TypeError('PutMediaClient needs exactly one of streamName and streamArn.');
    }
    this.#opts = options;
    this.#url = new URL(`${options.endpoint.replace(/\/+$/, '')}/putMedia`);
    if (this.#url.protocol !== 'http:' && this.#url.protocol !== 'https:') {
      throw new TypeError(`PutMediaClient endpoint must be http(s), got ${options.endpoint}`);
    }
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#signer = new SignatureV4({ credentials: options.credentials, region: options.region, service: 'kinesisvideo', sha256: Sha256, applyChecksum: false });
    this.#ownAgent = options.agent === undefined;
    // A socket per upload: a pooled keep-alive socket the server already closed would fail the next upload.
    this.#agent = options.agent ?? (this.#url.protocol === 'https:' ? new HttpsAgent({ keepAlive: false }) : new HttpAgent({ keepAlive: false }));
    this.#producerStartMs = options.producerStartTimeMs ?? Date.now();
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.#splitter = new MediaUnitSplitter(options.maxFragmentBytes === undefined ? {} : { maxFragmentBytes: options.maxFragmentBytes });
  }

  /** Media bytes held: fragments not yet completed plus input not yet cut into fragments. */
  get bufferedBytes(): number {
    return this.#retainedBytes + this.#splitter.pendingInputBytes;
  }

  get summary(): Readonly<PutMediaSummary> {
    return this.#summary;
  }

  /**
   * Takes the next bytes of the MKV (or MP4) stream, in chunks of any size. Resolves once the client holds no more
   * than maxBufferedBytes, so a producer that awaits each write is slowed to what the server accepts.
   */
  async write(chunk: Uint8Array): Promise<void> {
    this.#throwIfStopped();
    if (this.#inputEnded) {
      throw new Error('PutMediaClient.write() after end()');
    }
    this.#addUnits(() => this.#splitter.push(chunk));
    this.#kick();
    while (this.#failure === null && this.bufferedBytes > this.#maxBufferedBytes && this.#hasPending()) {
      await this.#nextChange();
    }
    this.#throwIfStopped();
  }

  /** No more input: resolves when every fragment is PERSISTED or skipped, and the last connection has closed. */
  async end(): Promise<PutMediaSummary> {
    this.#throwIfStopped();
    if (this.#done === null) {
      let resolve!: (s: PutMediaSummary) => void;
      let reject!: (e: PutMediaError) => void;
      const promise = new Promise<PutMediaSummary>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // The caller gets this promise below; the guard keeps a failure inside end() itself from also counting as unhandled.
      promise.catch(() => undefined);
      this.#done = { promise, resolve, reject };
      this.#inputEnded = true;
      this.#addUnits(() => this.#splitter.end());
      this.#summary.droppedTrailingTagsBytes = this.#splitter.danglingTagsBytes;
      this.#kick();
      this.#checkDone();
    }
    return this.#done.promise;
  }

  /** Writes everything a readable (or any iterable of chunks) yields, awaiting each write, then end(). */
  async pipeFrom(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>): Promise<PutMediaSummary> {
    try {
      for await (const chunk of source) {
        await this.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      }
    } catch (err) {
      (source as { destroy?: (e?: Error) => void }).destroy?.();
      throw err;
    }
    return this.end();
  }

  /** Stops at once: the connection is cut, unfinished fragments are abandoned, write()/end() reject. */
  destroy(): void {
    this.#fail(new PutMediaError('destroyed', 'PutMediaClient was destroyed'));
  }

  /** Acks as an async iterator, from now until the client finishes or stops. */
  acks(): AsyncIterableIterator<AckEvent> {
    const queue: AckEvent[] = [];
    let wake: (() => void) | null = null;
    let over = this.#finished || this.#failure !== null;
    const onAck = (a: AckEvent): void => {
      queue.push(a);
      wake?.();
    };
    const onOver = (): void => {
      over = true;
      wake?.();
    };
    const cleanup = (): void => {
      this.off('ack', onAck);
      this.#iteratorEnders.delete(onOver);
    };
    this.on('ack', onAck);
    this.#iteratorEnders.add(onOver);
    const it: AsyncIterableIterator<AckEvent> = {
      [Symbol.asyncIterator]: () => it,
      next: async () => {
        for (;;) {
          const a = queue.shift();
          if (a !== undefined) {
            return { value: a, done: false };
          }
          if (over) {
            cleanup();
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => (wake = r));
          wake = null;
        }
      },
      return: async () => {
        cleanup();
        return { value: undefined, done: true };
      },
    };
    return it;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<AckEvent> {
    return this.acks();
  }

  // ---- input ----

  #addUnits(cut: () => MediaUnit[]): void {
    let units: MediaUnit[];
    try {
      units = cut();
    } catch (err) {
      const e = new PutMediaError('input', `the producer's media is not valid MKV/MP4: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      this.#fail(e);
      throw err instanceof ParseError ? e : err;
    }
    for (const u of units) {
      if (u.kind === 'header') {
        if (this.#header === null || !sameBytes(this.#header.bytes, u.bytes)) {
          this.#header = { bytes: u.bytes };
        }
        continue;
      }
      if (this.#header === null) {
        throw new Error('MediaUnitSplitter produced a fragment before a header');
      }
      this.#entries.push({ seq: this.#nextSeq++, header: this.#header, timecode: u.timecode, bytes: u.bytes, state: 'pending', sends: 0 });
      this.#retainedBytes += u.bytes.length;
      this.#summary.fragments++;
    }
  }

  #hasPending(): boolean {
    return this.#entries.some((e) => e.state === 'pending');
  }

  // ---- connections ----

  /** Makes progress: feeds the open connection, or opens one when there is something to send. */
  #kick(): void {
    if (this.#failure !== null || this.#connecting || this.#retryTimer !== null) {
      return;
    }
    if (this.#conn !== null) {
      this.#pump(this.#conn);
    } else if (this.#hasPending()) {
      void this.#open();
    }
  }

  async #open(): Promise<void> {
    this.#connecting = true;
    let headers: Record<string, string>;
    try {
      headers = await this.#signedHeaders();
    } catch (err) {
      this.#connecting = false;
      this.#fail(new PutMediaError('http', `signing the PutMedia request failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      return;
    }
    this.#connecting = false;
    if (this.#failure !== null) {
      return;
    }
    const send = this.#url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(this.#url, { method: 'POST', headers, agent: this.#agent });
    const now = Date.now();
    const first = this.#entries[0]?.seq ?? this.#nextSeq;
    const conn: Conn = {
      req,
      openedAt: now,
      nextSeq: first,
      lastHeader: null,
      sent: [],
      bufferingIdx: 0,
      byNumber: new Map(),
      received: new Set(),
      acks: new AckStreamParser(),
      stopSending: false,
      requestEnded: false,
      waitingDrain: false,
      responseComplete: false,
      cause: null,
      throttled: false,
      persistedAny: false,
      lastAckAt: now,
      drainDeadline: Infinity,
      watchdog: setInterval(() => this.#watch(conn), WATCHDOG_INTERVAL_MS),
      closed: false,
    };
    conn.watchdog.unref();
    this.#conn = conn;
    this.#summary.connections++;
    req.on('response', (res) => this.#onResponse(conn, res));
    req.on('error', (err) => this.#closeConn(conn, new PutMediaError('connection', `PutMedia connection failed: ${err.message}`, { retryable: true, cause: err })));
    req.on('close', () => {
      if (!conn.closed && !conn.responseComplete) {
        // Response handlers close it with the real reason; this catches a request that ended without one.
        setImmediate(() => this.#closeConn(conn, new PutMediaError('connection', 'the PutMedia connection closed before the response ended', { retryable: true })));
      }
    });
    this.#pump(conn);
  }

  async #signedHeaders(): Promise<Record<string, string>> {
    const u = this.#url;
    const o = this.#opts;
    const start = this.#producerStartMs;
    const headers: Record<string, string> = {
      host: u.host,
      'transfer-encoding': 'chunked',
      'user-agent': o.userAgent ?? 'openkvs-producer-sdk',
      'x-amzn-fragment-acknowledgment-required': '1',
      'x-amzn-fragment-timecode-type': o.timecodeType ?? 'ABSOLUTE',
      // The producer SDKs' "%llu.%llu" form: the millisecond part is not zero-padded (and openkvs reads it so).
      'x-amzn-producer-start-timestamp': `${Math.floor(start / 1000)}.${start % 1000}`,
      ...(o.streamName !== undefined ? { 'x-amzn-stream-name': o.streamName } : {}),
      ...(o.streamArn !== undefined ? { 'x-amzn-stream-arn': o.streamArn } : {}),
    };
    // As the KVS producer SDKs sign: payload hash of the empty string, no x-amz-content-sha256, transfer-encoding
    // signed (the media is streamed, so it cannot be hashed up front).
    const signed = await this.#signer.sign(
      {
        method: 'POST',
        protocol: u.protocol,
        hostname: u.hostname,
        ...(u.port !== '' ? { port: Number(u.port) } : {}),
        path: u.pathname,
        query: {},
        headers,
        body: undefined,
      },
      { signableHeaders: new Set(['transfer-encoding']) },
    );
    return signed.headers as Record<string, string>;
  }

  #pump(conn: Conn): void {
    if (conn.closed || conn.stopSending || conn.waitingDrain) {
      return;
    }
    const base = this.#entries[0]?.seq ?? this.#nextSeq;
    for (let i = Math.max(0, conn.nextSeq - base); i < this.#entries.length; i++) {
      const e = this.#entries[i];
      if (e === undefined) {
        break;
      }
      conn.nextSeq = e.seq + 1;
      if (e.state !== 'pending') {
        continue;
      }
      if (e.header !== conn.lastHeader) {
        conn.req.write(e.header.bytes);
        conn.lastHeader = e.header;
      }
      if (!conn.sent.some((s) => s.state === 'pending')) {
        // The ack timeout counts from the oldest unanswered send, not from an ack of long ago.
        conn.lastAckAt = Date.now();
      }
      conn.sent.push(e);
      e.sends++;
      if (e.sends > 1) {
        this.#summary.resent++;
      }
      if (!conn.req.write(e.bytes)) {
        conn.waitingDrain = true;
        conn.req.once('drain', () => {
          conn.waitingDrain = false;
          this.#pump(conn);
        });
        return;
      }
    }
    if (this.#inputEnded) {
      this.#endRequest(conn);
    } else if (Date.now() - conn.openedAt >= (this.#opts.connectionMaxDurationMs ?? 40 * 60_000)) {
      this.#drain(conn, null);
    }
  }

  #onResponse(conn: Conn, res: IncomingMessage): void {
    res.on('error', (err) => this.#closeConn(conn, new PutMediaError('connection', `PutMedia response failed: ${err.message}`, { retryable: true, cause: err })));
    if (res.statusCode !== 200) {
      conn.stopSending = true;
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        if (size < 64 * 1024) {
          parts.push(d);
          size += d.length;
        }
      });
      res.on('end', () => {
        conn.responseComplete = true;
        const err = httpError(res, Buffer.concat(parts).toString('utf8'));
        if (!err.retryable) {
          this.#fail(err);
          return;
        }
        conn.cause ??= err;
        this.#closeConn(conn, null);
      });
      return;
    }
    res.on('data', (d: Buffer) => {
      let acks: AckEvent[];
      try {
        acks = conn.acks.push(d);
      } catch (err) {
        this.#protocolError(conn, err instanceof AckStreamError ? err.message : String(err));
        return;
      }
      for (const a of acks) {
        if (conn.closed) {
          return;
        }
        this.#onAck(conn, a);
      }
    });
    res.on('end', () => {
      try {
        for (const a of conn.acks.end()) {
          this.#onAck(conn, a);
        }
      } catch (err) {
        this.#protocolError(conn, err instanceof AckStreamError ? err.message : String(err));
        return;
      }
      conn.responseComplete = true;
      this.#closeConn(conn, null);
    });
  }

  #onAck(conn: Conn, ack: AckEvent): void {
    this.emit('ack', ack);
    if (this.#failure !== null || conn.closed) {
      return;
    }
    if (ack.type !== 'idle') {
      conn.lastAckAt = Date.now();
    }
    switch (ack.type) {
      case 'buffering': {
        const e = conn.sent[conn.bufferingIdx];
        if (e === undefined || e.timecode !== ack.timecode) {
          this.#protocolError(conn, `BUFFERING for timecode ${ack.timecode} does not match the next fragment sent (${e === undefined ? 'none' : e.timecode})`);
          return;
        }
        conn.bufferingIdx++;
        e.fragmentNumber = ack.fragmentNumber;
        conn.byNumber.set(ack.fragmentNumber, e);
        return;
      }
      case 'received': {
        const e = conn.byNumber.get(ack.fragmentNumber);
        if (e === undefined) {
          this.#protocolError(conn, `RECEIVED for fragment ${ack.fragmentNumber}, which got no BUFFERING`);
          return;
        }
        if (this.#opts.completeOn === 'received') {
          this.#failuresWithoutProgress = 0;
          this.#complete(conn, e, 'received');
        } else if (e.state === 'pending') {
          conn.received.add(e);
        }
        return;
      }
      case 'persisted': {
        const e = conn.byNumber.get(ack.fragmentNumber);
        if (e === undefined) {
          this.#protocolError(conn, `PERSISTED for fragment ${ack.fragmentNumber}, which got no BUFFERING`);
          return;
        }
        conn.persistedAny = true;
        this.#failuresWithoutProgress = 0;
        if (e.state === 'received') {
          // completeOn 'received' finished it already; the stream does persist after all.
          e.state = 'persisted';
          this.#summary.receivedOnly--;
          this.#summary.persisted++;
          this.emit('persisted', { timecode: e.timecode, fragmentNumber: ack.fragmentNumber });
          return;
        }
        this.#complete(conn, e, 'persisted');
        return;
      }
      case 'error':
        this.#onErrorAck(conn, ack);
        return;
      case 'idle':
        return;
    }
  }

  #onErrorAck(conn: Conn, ack: Extract<AckEvent, { type: 'error' }>): void {
    const action = ackErrorAction(ack.errorId);
    const e = ack.fragmentNumber === undefined ? undefined : conn.byNumber.get(ack.fragmentNumber);
    const where = ack.timecode === undefined ? '' : ` (fragment timecode ${ack.timecode})`;
    const err = new PutMediaError('ack', `PutMedia ERROR ack ${ack.errorId}${ack.errorCode === undefined ? '' : ` ${ack.errorCode}`}${where}`, {
      retryable: action !== 'fatal',
      errorId: ack.errorId,
      ...(ack.errorCode !== undefined ? { errorCode: ack.errorCode } : {}),
    });
    switch (action) {
      case 'skip':
        if (e === undefined) {
          // Nothing to skip: treat it like an upload-level problem rather than guess which fragment it meant.
          this.#drain(conn, err);
          return;
        }
        this.#complete(conn, e, 'failed', { errorId: ack.errorId, ...(ack.errorCode !== undefined ? { errorCode: ack.errorCode } : {}) });
        return;
      case 'resend':
        conn.throttled ||= ack.errorId === 4013;
        this.#drain(conn, err);
        return;
      case 'reconnect':
        this.#drain(conn, err);
        return;
      case 'fatal':
        this.#fail(err);
        return;
    }
  }

  #complete(conn: Conn, e: Entry, state: 'persisted' | 'received' | 'failed', error?: { errorId: number; errorCode?: string }): void {
    if (e.state !== 'pending') {
      return;
    }
    e.state = state;
    this.#retainedBytes -= e.bytes.length;
    e.bytes = EMPTY;
    conn.received.delete(e);
    while (conn.bufferingIdx > 0 && conn.sent[0] !== undefined && conn.sent[0].state !== 'pending') {
      conn.sent.shift();
      conn.bufferingIdx--;
    }
    while (this.#entries[0] !== undefined && this.#entries[0].state !== 'pending') {
      this.#entries.shift();
    }
    const ref = { timecode: e.timecode, fragmentNumber: e.fragmentNumber ?? '' };
    if (state === 'persisted') {
      this.#summary.persisted++;
      this.emit('persisted', ref);
    } else if (state === 'received') {
      this.#summary.receivedOnly++;
    } else if (error !== undefined) {
      const failed: FailedFragment = { timecode: e.timecode, ...(e.fragmentNumber !== undefined ? { fragmentNumber: e.fragmentNumber } : {}), ...error };
      this.#summary.failed.push(failed);
      this.emit('fragment-failed', failed);
    }
    this.#notify();
    this.#checkDone();
  }

  /** Stop sending, end the body, and let the server answer everything it got before the connection closes. */
  #drain(conn: Conn, cause: PutMediaError | null): void {
    if (cause !== null) {
      conn.cause ??= cause;
    }
    conn.stopSending = true;
    this.#endRequest(conn);
  }

  #endRequest(conn: Conn): void {
    if (!conn.requestEnded && !conn.closed) {
      conn.requestEnded = true;
      conn.drainDeadline = Date.now() + (this.#opts.drainTimeoutMs ?? 30_000);
      conn.req.end();
    }
  }

  #protocolError(conn: Conn, message: string): void {
    conn.cause ??= new PutMediaError('protocol', message, { retryable: true });
    this.#closeConn(conn, null);
  }

  #watch(conn: Conn): void {
    const now = Date.now();
    if (now > conn.drainDeadline) {
      conn.cause ??= new PutMediaError('connection', 'the server did not end the PutMedia response after the upload was ended', { retryable: true });
      this.#closeConn(conn, null);
      return;
    }
    const ackTimeout = this.#opts.ackTimeoutMs ?? 30_000;
    if (now - conn.lastAckAt > ackTimeout && conn.sent.some((e) => e.state === 'pending')) {
      conn.cause ??= new PutMediaError('connection', `no acknowledgement for ${ackTimeout} ms`, { retryable: true });
      this.#closeConn(conn, null);
      return;
    }
    this.#pump(conn);
  }

  #closeConn(conn: Conn, err: PutMediaError | null): void {
    if (conn.closed) {
      return;
    }
    conn.closed = true;
    clearInterval(conn.watchdog);
    if (!conn.responseComplete || !conn.requestEnded) {
      conn.req.destroy();
    }
    if (this.#conn === conn) {
      this.#conn = null;
    }
    if (this.#failure !== null) {
      return;
    }
    const cause = conn.cause ?? err;
    if (cause === null && conn.responseComplete && conn.requestEnded) {
      // The server answered everything after the body ended: a fragment it RECEIVED without PERSISTED is held
      // by a stream without retention; sending it again would only duplicate it.
      for (const e of [...conn.received]) {
        this.#complete(conn, e, 'received');
      }
    }
    const unanswered = conn.sent.filter((e) => e.state === 'pending').length;
    if (cause === null && unanswered === 0) {
      // A clean end: the input ended, the connection was rotated, or the server closed an idle upload.
      this.#backoffLevel = 0;
      this.#kick();
      this.#checkDone();
      return;
    }
    this.#scheduleRetry(cause ?? new PutMediaError('connection', `the PutMedia response ended with ${unanswered} fragments unanswered`, { retryable: true }), conn);
  }

  #scheduleRetry(cause: PutMediaError, conn: Conn): void {
    if (!conn.persistedAny) {
      this.#failuresWithoutProgress++;
    }
    if (this.#failuresWithoutProgress >= this.#retry.maxAttempts) {
      this.#fail(new PutMediaError('gave-up', `PutMedia failed ${this.#failuresWithoutProgress} times in a row: ${cause.message}`, { cause }));
      return;
    }
    // A connection that worked before it broke starts the backoff over; one refused for capacity keeps climbing,
    // since the stream is still over its rate however many fragments got through.
    if (conn.persistedAny && !conn.throttled) {
      this.#backoffLevel = 0;
    }
    this.#backoffLevel++;
    const delayMs = backoffDelayMs(this.#backoffLevel, this.#retry, this.#opts.random);
    this.emit('reconnecting', { attempt: this.#backoffLevel, delayMs, cause });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#kick();
    }, delayMs);
  }

  // ---- completion ----

  #checkDone(): void {
    if (this.#finished || this.#failure !== null || this.#done === null || !this.#inputEnded) {
      return;
    }
    if (this.#hasPending() || this.#conn !== null || this.#connecting) {
      return;
    }
    this.#finished = true;
    if (this.#retryTimer !== null) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
    this.#release();
    this.#done.resolve({ ...this.#summary, failed: [...this.#summary.failed] });
  }

  #fail(err: PutMediaError): void {
    if (this.#failure !== null || this.#finished) {
      return;
    }
    this.#failure = err;
    if (this.#retryTimer !== null) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
    const conn = this.#conn;
    if (conn !== null) {
      conn.cause ??= err;
      this.#closeConn(conn, err);
    }
    this.#release();
    this.#done?.reject(err);
    if (this.listenerCount('error') > 0) {
      this.emit('error', err);
    }
  }

  #release(): void {
    this.#notify();
    for (const end of this.#iteratorEnders) {
      end();
    }
    if (this.#ownAgent) {
      this.#agent.destroy();
    }
  }

  #throwIfStopped(): void {
    if (this.#failure !== null) {
      throw this.#failure;
    }
  }

  #nextChange(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      w();
    }
  }
}

function httpError(res: IncomingMessage, body: string): PutMediaError {
  const status = res.statusCode ?? 0;
  let errorType = String(res.headers['x-amzn-errortype'] ?? '').split(':')[0] ?? '';
  let message = body.slice(0, 300);
  try {
    const j = JSON.parse(body) as { __type?: unknown; message?: unknown; Message?: unknown };
    if (errorType === '' && typeof j.__type === 'string') {
      errorType = j.__type.split('#').pop() ?? '';
    }
    const m = j.message ?? j.Message;
    if (typeof m === 'string') {
      message = m;
    }
  } catch {
    // not JSON (a proxy's error page): the status and the raw text are all there is
  }
  const retryable = httpErrorRetryable(status, errorType === '' ? undefined : errorType);
  return new PutMediaError('http', `PutMedia answered ${status}${errorType === '' ? '' : ` ${errorType}`}: ${message}`, {
    retryable,
    status,
    ...(errorType !== '' ? { errorType } : {}),
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}
