// The floor for bench/ingest.ts: the least work any durable PutMedia must do. One HTTP server, no auth, no
// parsing, no index: each request body is a sequence of frames (4-byte big-endian length, then that many
// bytes — one frame per cluster), each frame is appended to the request's own file and fdatasync'd, and only
// then acknowledged with one line (`<frame index>\n`). openkvs's cost over this is what the bench reports.

import { mkdirSync, promises as fsp } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const FRAME_HEADER_BYTES = 4;
/** Same durable-path backpressure as openkvs (MAX_UNPERSISTED_FRAGMENTS): stop reading while this many wait. */
const MAX_QUEUED_FRAMES = 8;

export function frameHeader(length: number): Buffer {
  const b = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  b.writeUInt32BE(length, 0);
  return b;
}

/** Splits a byte stream of frames (4-byte big-endian length, then that many bytes) and hands over each frame. */
export function frameReader(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let chunks: Buffer[] = [];
  let have = 0;
  let need = FRAME_HEADER_BYTES;
  let inHeader = true;
  return (chunk) => {
    chunks.push(chunk);
    have += chunk.length;
    while (have >= need) {
      const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
      const piece = all.subarray(0, need);
      const rest = all.subarray(need);
      chunks = rest.length > 0 ? [rest] : [];
      have = rest.length;
      if (inHeader) {
        need = piece.readUInt32BE(0);
        inHeader = false;
      } else {
        need = FRAME_HEADER_BYTES;
        inHeader = true;
        onFrame(piece);
      }
    }
  };
}

export type FloorServer = { url: string; server: Server; close(): Promise<void> };

export async function startFloorServer(opts: { dir: string; port?: number; host?: string }): Promise<FloorServer> {
  mkdirSync(opts.dir, { recursive: true });
  let requests = 0;
  const server = createServer((req, res) => {
    void handle(req, res, join(opts.dir, `${++requests}.bin`)).catch((err: unknown) => {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  res.socket?.setNoDelay(true);
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.flushHeaders();
  const fh = await fsp.open(path, 'w');
  let filePos = 0;
  const queue: Buffer[] = [];
  let frames = 0;
  let working = false;
  let ended = false;
  let wake: (() => void) | null = null;

  // One writer per request: frames are appended and made durable strictly in order, then acked.
  const writer = (async () => {
    for (;;) {
      const frame = queue.shift();
      if (frame === undefined) {
        if (ended) {
          return;
        }
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      working = true;
      let off = 0;
      while (off < frame.length) {
        const { bytesWritten } = await fh.write(frame, off, frame.length - off, filePos + off);
        off += bytesWritten;
      }
      filePos += frame.length;
      await fh.datasync();
      res.write(`${frames++}\n`);
      working = false;
      if (req.isPaused() && queue.length < MAX_QUEUED_FRAMES) {
        req.resume();
      }
    }
  })();
  const kick = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };

  const split = frameReader((frame) => {
    queue.push(frame);
    kick();
  });
  req.on('data', (chunk: Buffer) => {
    split(chunk);
    if (queue.length + (working ? 1 : 0) >= MAX_QUEUED_FRAMES) {
      req.pause();
    }
  });
  try {
    await new Promise<void>((resolveEnd, reject) => {
      req.once('end', resolveEnd);
      req.once('error', reject);
    });
  } finally {
    ended = true;
    kick();
    await writer.finally(() => fh.close());
  }
  res.end();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' }, dir: { type: 'string' } }, strict: true });
  if (values.dir === undefined) {
    process.stderr.write('usage: floor-server --dir DIR [--port N] [--host ADDR]\n');
    process.exit(2);
  }
  const floor = await startFloorServer({ dir: values.dir, port: Number(values.port ?? 0), ...(values.host !== undefined ? { host: values.host } : {}) });
  process.stdout.write(`floor: serving ${floor.url}\n`);
  process.once('SIGTERM', () => void floor.close().then(() => process.exit(0)));
}
