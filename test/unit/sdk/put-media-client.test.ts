// PutMediaClient against a scripted PutMedia endpoint: each test decides what the "server" acknowledges, when,
// and how connections end, to pin down resend, drain, backpressure and completion rules.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MkvStreamParser } from '../../../src/formats/mkv/mkv-stream-parser.js';
import { writeCluster, writeMkvHeader } from '../../../src/formats/mkv/mkv-writer.js';
import { PutMediaClient, type PutMediaClientOptions } from '../../../src/sdk/put-media-client.js';
import { clustersOf, fixture } from '../../helpers/media.js';

const CLIP = fixture('mkv/h264-5s-1s-gop.mkv');
const HEADER = writeMkvHeader({ timecodeScaleNs: 1_000_000, tracks: [{ number: 1, kind: 'video', codecId: 'V_MPEG4/ISO/AVC', width: 16, height: 16 }] });
const cluster = (timecode: number, size: number): Uint8Array => writeCluster(timecode, [{ track: 1, timecode, keyframe: true, data: new Uint8Array(size).fill(7) }]);
const TIMECODES = clustersOf(CLIP).map((c) => c.timecode); // 0, 1000, 2000, 3000, 4000

type Upload = {
  index: number;
  req: IncomingMessage;
  res: ServerResponse;
  headers: IncomingMessage['headers'];
  /** Cluster timecodes received so far on this connection, in order. */
  fragments: number[];
  headerCount: number;
  ended: boolean;
  ack(line: Record<string, unknown>): void;
  onFragment?: (timecode: number, n: number) => void;
  onEnd?: () => void;
};

/** A PutMedia endpoint whose behaviour each test scripts per connection. */
class ScriptedEndpoint {
  readonly uploads: Upload[] = [];
  #server: Server;
  #script: (u: Upload) => void;
  url = '';

  constructor(script: (u: Upload) => void) {
    this.#script = script;
    this.#server = createServer((req, res) => this.#accept(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(r));
  }

  #accept(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const parser = new MkvStreamParser();
    const u: Upload = {
      index: this.uploads.length,
      req,
      res,
      headers: req.headers,
      fragments: [],
      headerCount: 0,
      ended: false,
      ack: (line) => {
        if (!res.writableEnded && !res.destroyed) {
          res.write(`${JSON.stringify(line)}\n`);
        }
      },
    };
    this.uploads.push(u);
    this.#script(u);
    req.on('data', (chunk: Buffer) => {
      for (const ev of parser.push(chunk)) {
        if (ev.kind === 'header') {
          u.headerCount++;
        } else if (ev.kind === 'fragment') {
          u.fragments.push(ev.fragment.timecode);
          u.onFragment?.(ev.fragment.timecode, u.fragments.length);
        }
      }
    });
    req.on('end', () => {
      u.ended = true;
      u.onEnd?.();
    });
    req.on('error', () => undefined);
  }
}

/** A well-behaved server's acks for one fragment. */
function fullAcks(u: Upload, timecode: number, number: string): void {
  u.ack({ EventType: 'BUFFERING', FragmentTimecode: timecode, FragmentNumber: number });
  u.ack({ EventType: 'RECEIVED', FragmentTimecode: timecode, FragmentNumber: number });
  u.ack({ EventType: 'PERSISTED', FragmentTimecode: timecode, FragmentNumber: number });
}

const behave = (u: Upload): void => {
  u.onFragment = (tc, n) => fullAcks(u, tc, `${u.index}${n}`);
  u.onEnd = () => u.res.end();
};

let endpoint: ScriptedEndpoint | undefined;
afterEach(async () => {
  await endpoint?.stop();
  endpoint = undefined;
});

async function start(script: (u: Upload) => void): Promise<ScriptedEndpoint> {
  endpoint = await new ScriptedEndpoint(script).start();
  return endpoint;
}

function client(url: string, extra: Partial<PutMediaClientOptions> = {}): PutMediaClient {
  return new PutMediaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
    streamName: 'cam',
    retry: { maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 50 },
    random: () => 0.5,
    ...extra,
  });
}

async function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('PutMediaClient (scripted endpoint)', () => {
  it('sends the KVS producer headers, signed over transfer-encoding with the empty-payload hash', async () => {
    const ep = await start(behave);
    const c = client(ep.url, { producerStartTimeMs: 1_700_000_000_005, timecodeType: 'RELATIVE' });
    await c.write(CLIP);
    await within(c.end(), 'end()');
    const h = ep.uploads[0]!.headers;
    expect(h).toMatchObject({
      'transfer-encoding': 'chunked',
      'x-amzn-stream-name': 'cam',
      'x-amzn-fragment-timecode-type': 'RELATIVE',
      'x-amzn-fragment-acknowledgment-required': '1',
      'x-amzn-producer-start-timestamp': '1700000000.5',
      'x-amz-security-token': 'token',
    });
    expect(h['x-amz-content-sha256']).toBeUndefined();
    expect(h['authorization']).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/kinesisvideo\/aws4_request, SignedHeaders=[^,]*transfer-encoding[^,]*x-amzn-stream-name/);
  });

  it('after an abrupt loss, resends every fragment without PERSISTED (RECEIVED ones too) and never a PERSISTED one', async () => {
    const ep = await start((u) => {
      if (u.index > 0) {
        behave(u);
        return;
      }
      u.onFragment = (tc, n) => {
        if (n === 1) {
          fullAcks(u, tc, '1');
        } else if (n === 2) {
          u.ack({ EventType: 'BUFFERING', FragmentTimecode: tc, FragmentNumber: '2' });
          u.ack({ EventType: 'RECEIVED', FragmentTimecode: tc, FragmentNumber: '2' });
          // The connection dies before PERSISTED: the duplicate window, from the client's side.
          setTimeout(() => u.req.socket.destroy(), 20);
        }
      };
    });
    const c = client(ep.url);
    await c.write(CLIP);
    const summary = await within(c.end(), 'end()');
    expect(ep.uploads).toHaveLength(2);
    expect(ep.uploads[1]!.headerCount).toBe(1);
    expect(ep.uploads[1]!.fragments).toEqual(TIMECODES.slice(1));
    expect(summary).toMatchObject({ fragments: 5, persisted: 5, resent: ep.uploads[0]!.fragments.length - 1, connections: 2 });
  });

  it('drains on 4013: stops sending, ends the body, keeps what the server PERSISTED meanwhile, resends the rest', async () => {
    const ep = await start((u) => {
      if (u.index > 0) {
        behave(u);
        return;
      }
      u.onFragment = (tc, n) => {
        u.ack({ EventType: 'BUFFERING', FragmentTimecode: tc, FragmentNumber: `${n}` });
        if (n === 2) {
          u.ack({ EventType: 'ERROR', FragmentTimecode: tc, FragmentNumber: `${n}`, ErrorId: 4013 });
        } else {
          u.ack({ EventType: 'RECEIVED', FragmentTimecode: tc, FragmentNumber: `${n}` });
          u.ack({ EventType: 'PERSISTED', FragmentTimecode: tc, FragmentNumber: `${n}` });
        }
      };
      u.onEnd = () => u.res.end();
    });
    const c = client(ep.url);
    const reconnects: number[] = [];
    c.on('reconnecting', (r) => reconnects.push(r.cause.errorId ?? 0));
    await c.write(CLIP);
    const summary = await within(c.end(), 'end()');
    const first = ep.uploads[0]!;
    expect(first.ended).toBe(true); // drained, not cut
    expect(reconnects).toEqual([4013]);
    // Whatever the first connection persisted after the refusal is not sent again.
    expect(ep.uploads[1]!.fragments).toEqual(TIMECODES.filter((_, i) => i === 1 || i >= first.fragments.length));
    expect(summary.persisted).toBe(5);
  });

  it('skips a fragment refused for good (4002) and keeps the connection', async () => {
    const ep = await start((u) => {
      u.onFragment = (tc, n) => {
        if (n === 3) {
          u.ack({ EventType: 'BUFFERING', FragmentTimecode: tc, FragmentNumber: '3' });
          u.ack({ EventType: 'ERROR', FragmentTimecode: tc, FragmentNumber: '3', ErrorId: 4002, ErrorCode: 'MAX_FRAGMENT_DURATION_REACHED' });
        } else {
          fullAcks(u, tc, `${n}`);
        }
      };
      u.onEnd = () => u.res.end();
    });
    const summary = await within(client(ep.url).pipeFrom([CLIP]), 'the upload');
    expect(summary).toMatchObject({ persisted: 4, connections: 1, resent: 0, failed: [{ timecode: 2000, fragmentNumber: '3', errorId: 4002, errorCode: 'MAX_FRAGMENT_DURATION_REACHED' }] });
  });

  it('stops on a fatal ERROR ack (4006) and rejects end()', async () => {
    const ep = await start((u) => {
      u.onFragment = (tc) => u.ack({ EventType: 'ERROR', FragmentTimecode: tc, FragmentNumber: '1', ErrorId: 4006, ErrorCode: 'INVALID_MKV_DATA' });
    });
    const c = client(ep.url);
    await c.write(CLIP);
    await expect(within(c.end(), 'end()')).rejects.toMatchObject({ kind: 'ack', errorId: 4006, retryable: false });
    expect(ep.uploads).toHaveLength(1);
  });

  it('retries ClientLimitExceededException, and gives up after maxAttempts failures without progress', async () => {
    let calls = 0;
    const ep = await new ScriptedEndpoint(() => undefined).start();
    endpoint = ep;
    const server = createServer((req, res) => {
      calls++;
      req.resume();
      res.writeHead(400, { 'x-amzn-ErrorType': 'ClientLimitExceededException:http://internal', 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'slow down' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } });
      await c.write(CLIP);
      const err = await within(c.end(), 'end()').catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'gave-up', cause: { kind: 'http', status: 400, errorType: 'ClientLimitExceededException', retryable: true } });
      expect(calls).toBe(3);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('treats a BUFFERING ack that matches no sent fragment as a broken connection', async () => {
    const ep = await start((u) => {
      if (u.index > 0) {
        behave(u);
        return;
      }
      u.onFragment = () => u.ack({ EventType: 'BUFFERING', FragmentTimecode: 999_999, FragmentNumber: '1' });
    });
    const c = client(ep.url);
    const causes: string[] = [];
    c.on('reconnecting', (r) => causes.push(r.cause.kind));
    await c.write(CLIP);
    expect(await within(c.end(), 'end()')).toMatchObject({ persisted: 5, connections: 2 });
    expect(causes).toEqual(['protocol']);
  });

  it('gives up on a connection whose fragments get no ack within ackTimeoutMs', async () => {
    const ep = await start((u) => {
      if (u.index > 0) {
        behave(u);
      }
    });
    const c = client(ep.url, { ackTimeoutMs: 200 });
    const causes: string[] = [];
    c.on('reconnecting', (r) => causes.push(r.cause.message));
    await c.write(CLIP);
    expect(await within(c.end(), 'end()')).toMatchObject({ persisted: 5, connections: 2, resent: 5 });
    expect(causes).toEqual(['no acknowledgement for 200 ms']);
  });

  it('completes RECEIVED-only fragments when the server ends cleanly (a stream without retention): no resend', async () => {
    const ep = await start((u) => {
      u.onFragment = (tc, n) => {
        u.ack({ EventType: 'BUFFERING', FragmentTimecode: tc, FragmentNumber: `${n}` });
        u.ack({ EventType: 'RECEIVED', FragmentTimecode: tc, FragmentNumber: `${n}` });
      };
      u.onEnd = () => u.res.end();
    });
    const summary = await within(client(ep.url).pipeFrom([CLIP]), 'the upload');
    expect(summary).toMatchObject({ persisted: 0, receivedOnly: 5, connections: 1, resent: 0 });
  });

  it('with completeOn received, finishes fragments at RECEIVED and still counts a later PERSISTED', async () => {
    const ep = await start((u) => {
      u.onFragment = (tc, n) => {
        u.ack({ EventType: 'BUFFERING', FragmentTimecode: tc, FragmentNumber: `${n}` });
        u.ack({ EventType: 'RECEIVED', FragmentTimecode: tc, FragmentNumber: `${n}` });
        if (n % 2 === 1) {
          u.ack({ EventType: 'PERSISTED', FragmentTimecode: tc, FragmentNumber: `${n}` });
        }
      };
      u.onEnd = () => u.res.end();
    });
    const c = client(ep.url, { completeOn: 'received' });
    const persisted: number[] = [];
    c.on('persisted', (f) => persisted.push(f.timecode));
    const summary = await within(c.pipeFrom([CLIP]), 'the upload');
    expect(summary).toMatchObject({ persisted: 3, receivedOnly: 2, connections: 1, resent: 0 });
    expect(persisted).toEqual([0, 2000, 4000]);
  });

  it('bounds memory: write() waits while unpersisted fragments exceed maxBufferedBytes, until PERSISTED frees them', async () => {
    const held: (() => void)[] = [];
    const ep = await start((u) => {
      u.onFragment = (tc, n) => {
        u.ack({ EventType: 'BUFFERING', FragmentTimecode: tc, FragmentNumber: `${n}` });
        u.ack({ EventType: 'RECEIVED', FragmentTimecode: tc, FragmentNumber: `${n}` });
        held.push(() => u.ack({ EventType: 'PERSISTED', FragmentTimecode: tc, FragmentNumber: `${n}` }));
      };
      u.onEnd = () => u.res.end();
    });
    const clusters = [0, 1, 2, 3].map((i) => cluster(i * 1000, 10_000));
    // Two fragments fit under the bound, a third does not.
    const c = client(ep.url, { maxBufferedBytes: clusters[0]!.length + clusters[1]!.length + 1 });
    await c.write(HEADER);
    await c.write(clusters[0]!);
    await c.write(clusters[1]!);
    let third = false;
    const blocked = c.write(clusters[2]!).then(() => (third = true));
    await until(() => held.length === 3, 'three fragments at the server');
    expect(third).toBe(false);
    expect(c.bufferedBytes).toBe(clusters[0]!.length + clusters[1]!.length + clusters[2]!.length);
    held.shift()!();
    await within(blocked, 'the blocked write');
    expect(third).toBe(true);
    held.splice(0).forEach((f) => f());
    await within(c.write(clusters[3]!), 'the last write');
    await until(() => held.length === 1, 'the last fragment');
    held.splice(0).forEach((f) => f());
    expect(await within(c.end(), 'end()')).toMatchObject({ persisted: 4, resent: 0 });
    expect(c.bufferedBytes).toBe(0);
  });

  it('rotates the connection after connectionMaxDurationMs by draining it: nothing is sent twice', async () => {
    const ep = await start(behave);
    const c = client(ep.url, { connectionMaxDurationMs: 50 });
    const clusters = clustersOf(CLIP);
    await c.write(CLIP.subarray(0, Buffer.from(CLIP).indexOf(Buffer.from(clusters[0]!.bytes))));
    for (const cl of clusters) {
      await c.write(cl.bytes);
      await until(() => c.summary.persisted === c.summary.fragments, 'the fragment PERSISTED');
      await new Promise((r) => setTimeout(r, 60));
    }
    // What follows the last cluster in the file (Cues…): the Segment has a known size and must be complete.
    const lastCluster = clusters.at(-1)!.bytes;
    await c.write(CLIP.subarray(Buffer.from(CLIP).indexOf(Buffer.from(lastCluster)) + lastCluster.length));
    const summary = await within(c.end(), 'end()');
    expect(summary).toMatchObject({ persisted: 5, resent: 0 });
    expect(ep.uploads.length).toBeGreaterThan(1);
    expect(ep.uploads.every((u) => u.ended && u.headerCount === 1)).toBe(true);
    expect(ep.uploads.flatMap((u) => u.fragments)).toEqual(TIMECODES);
  });

  it('needs exactly one of streamName and streamArn', () => {
    const base = { endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
    expect(() => new PutMediaClient(base)).toThrow(TypeError);
    expect(() => new PutMediaClient({ ...base, streamName: 'a', streamArn: 'arn:aws:kinesisvideo:us-east-1:1:stream/a/1' })).toThrow(TypeError);
  });
});
