import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/media.js';
import { signPutMediaHeaders } from '../helpers/put-media-client.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

const clip = fixture('mkv/h264-5s-1s-gop.mkv');
const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

/**
 * A producer that keeps writing its body after the server ended the upload must still be able to read the ERROR
 * ack that says why: cutting the connection at once resets it, and the producer's next write fails (EPIPE) before
 * it has read the ack (what PutMediaClient then retries as a connection failure instead of a shutdown).
 */
describe('PutMedia ended early by the server', () => {
  it('keeps the connection readable while the producer is still writing, so it reads the 5000 ack of a shutdown', async () => {
    const server = await startTestServer();
    servers.push(server);
    const kv = controlClient(server.url);
    await kv.send(new CreateStreamCommand({ StreamName: 'early', DataRetentionInHours: 1 }));
    kv.destroy();
    const url = new URL('/putMedia', server.url);
    const headers = await signPutMediaHeaders(url, { streamName: 'early' });

    const socket = connect(Number(url.port), url.hostname);
    const errors: string[] = [];
    let response = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (response += d));
    socket.on('error', (err) => errors.push(err.message));
    // As Node's http client without a keep-alive agent sends it: Node ends such a response by closing the socket.
    socket.write(`POST /putMedia HTTP/1.1\r\nconnection: close\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
    let writing = true;
    const writer = (async () => {
      for (let off = 0; off < clip.length && writing && !socket.destroyed; off += 1000) {
        const chunk = clip.subarray(off, Math.min(clip.length, off + 1000));
        socket.write(`${chunk.length.toString(16)}\r\n`);
        socket.write(chunk);
        socket.write('\r\n');
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    await until('a first stored fragment', () => server.store.list({ streamId: server.registry.find({ name: 'early' })!.id, notBeforeServerMs: 0 }).length > 0);
    // Stop reading, shut the server down and go on writing for a while, as a producer busy sending would.
    socket.pause();
    const closed = server.close();
    await new Promise((r) => setTimeout(r, 300));
    socket.resume();
    await until('the end of the ack stream', () => response.includes('\r\n0\r\n\r\n') || socket.destroyed, 5000);
    writing = false;
    await writer;
    socket.end('0\r\n\r\n');
    await closed;

    expect(errors).toEqual([]);
    expect(response).toMatch(/^HTTP\/1\.1 200/);
    expect(response).toContain('"EventType":"PERSISTED"');
    expect(response).toMatch(/"EventType":"ERROR".*"ErrorId":5000,"ErrorCode":"INTERNAL_ERROR"/);
    expect(response.endsWith('\r\n0\r\n\r\n')).toBe(true);
  });
});
