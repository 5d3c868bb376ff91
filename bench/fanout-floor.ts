// The floors for bench/read.ts: the least work any server must do (1) to hand each new fragment to N open HTTP
// responses, (2) to send stored files over HTTP. No auth, no MKV parsing, no index. POST /getMedia with a body
// `{"files":[…]}` streams those files in order (1 MiB reads) and ends; any other POST /getMedia opens a chunked
// response for live fragments (no disk, no backpressure handling). POST /putMedia carries frames (4-byte big-endian length, then the bytes — the first frame is
// the MKV header, each later one a cluster). Each cluster is acked PERSISTED at once and written to every open
// response followed by the KVS trailing tags, so the bench's client measures it exactly as it measures openkvs.

import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { trailingFragmentTags } from '../src/formats/mkv/kvs-fragment-tags.js';
import { frameReader } from './floor-server.js';

const consumers = new Set<ServerResponse>();

async function openConsumer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body = '';
  for await (const d of req) {
    body += String(d);
  }
  res.writeHead(200, { 'content-type': 'video/webm' });
  res.flushHeaders();
  const files = (JSON.parse(body) as { files?: string[] }).files;
  if (files === undefined) {
    consumers.add(res);
    res.once('close', () => consumers.delete(res));
    return;
  }
  for (const f of files) {
    await pipeline(createReadStream(f, { highWaterMark: 1024 * 1024 }), res, { end: false });
  }
  res.end();
}

function producer(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  let frames = 0;
  req.on(
    'data',
    frameReader((piece) => {
      if (frames++ === 0) {
        return; // the MKV header: openkvs sends it inside each chunk; here it is simply dropped
      }
      const fragmentNumber = String(frames).padStart(8, '0');
      res.write(`{"EventType":"PERSISTED","FragmentNumber":"${fragmentNumber}"}\n`);
      const tags = trailingFragmentTags(0, fragmentNumber);
      for (const c of consumers) {
        c.cork();
        c.write(piece);
        c.write(tags);
        c.uncork();
      }
    }),
  );
  req.once('end', () => res.end());
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { port: { type: 'string' } }, strict: true });
  const server = createServer((req, res) => {
    if (req.url === '/getMedia') {
      openConsumer(req, res).catch(() => res.destroy());
    } else if (req.url === '/putMedia') {
      producer(req, res);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(Number(values.port ?? 0), '127.0.0.1', r));
  process.stdout.write(`floor: serving http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  process.once('SIGTERM', () => {
    for (const c of consumers) {
      c.destroy();
    }
    server.close(() => process.exit(0));
  });
}
