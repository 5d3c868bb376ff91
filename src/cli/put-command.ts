import { createReadStream } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { parseArgs } from 'node:util';
import { PutMediaClient, PutMediaError } from '../sdk/index.js';
import { CLIENT_OPTIONS, EXIT, UsageError, client, clientConfig, type CliIo } from './context.js';
import { ServiceError } from './kvs-http.js';

const USAGE = `usage: openkvs put <stream> [file|-] [--timecode-type RELATIVE|ABSOLUTE]
  Uploads MKV or MP4 from a file or stdin (ffmpeg … -f matroska - | openkvs put cam1 -), resending anything not
  PERSISTED after a connection loss. Timecodes are RELATIVE to the upload's start by default (what ffmpeg and
  GStreamer write); use ABSOLUTE for producers whose cluster timecodes are epoch milliseconds.`;

/** PutMedia through the producer SDK, with a progress line on a terminal and one line per fragment otherwise. */
export async function putCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...CLIENT_OPTIONS, 'timecode-type': { type: 'string' } } });
  const [stream, source = '-'] = positionals;
  if (stream === undefined) {
    throw new UsageError(USAGE);
  }
  const timecodeType = values['timecode-type'] ?? 'RELATIVE';
  if (timecodeType !== 'RELATIVE' && timecodeType !== 'ABSOLUTE') {
    throw new UsageError(`--timecode-type must be RELATIVE or ABSOLUTE\n${USAGE}`);
  }
  // Describe first: a missing stream is a clear error before any byte is read, and retention decides which ack ends a fragment.
  const info = await client(values, io.env).call<{ StreamInfo: { DataRetentionInHours: number } }>('/describeStream', { StreamName: stream });
  const cfg = clientConfig(values, io.env);
  const agent = cfg.ca !== undefined && cfg.endpoint.startsWith('https:') ? new HttpsAgent({ ca: cfg.ca, keepAlive: false }) : undefined;
  const put = new PutMediaClient({
    ...(agent !== undefined ? { agent } : {}),
    endpoint: cfg.endpoint,
    region: cfg.region,
    credentials: cfg.credentials,
    streamName: stream,
    timecodeType,
    producerStartTimeMs: Date.now(),
    completeOn: info.StreamInfo.DataRetentionInHours === 0 ? 'received' : 'persisted',
  });
  const started = Date.now();
  let bytes = 0;
  let acked = 0;
  const tty = io.stdout.isTTY === true;
  const progress = (): void => {
    const secs = Math.max((Date.now() - started) / 1000, 0.001);
    io.stdout.write(`\r${(bytes / 1e6).toFixed(1)} MB sent, ${acked} fragments acked, ${((bytes * 8) / secs / 1e6).toFixed(2)} Mb/s   `);
  };
  put.on('persisted', (f) => {
    acked++;
    if (tty) {
      progress();
    } else {
      io.stdout.write(`persisted ${f.fragmentNumber} timecode ${f.timecode}\n`);
    }
  });
  put.on('reconnecting', (r) => io.stderr.write(`${tty ? '\n' : ''}reconnecting in ${r.delayMs} ms (attempt ${r.attempt}): ${r.cause.message}\n`));
  put.on('fragment-failed', (f) => io.stderr.write(`${tty ? '\n' : ''}fragment at timecode ${f.timecode} refused: ERROR ${f.errorId}${f.errorCode ? ` ${f.errorCode}` : ''}\n`));
  const input = source === '-' ? io.stdin : createReadStream(source);
  try {
    for await (const chunk of input) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      bytes += buf.length;
      await put.write(buf);
      if (tty) {
        progress();
      }
    }
    const summary = await put.end();
    io.stdout.write(
      `${tty ? '\n' : ''}done: ${summary.fragments} fragments, ${summary.persisted} persisted, ${summary.receivedOnly} received (no retention), ` +
        `${summary.failed.length} refused, ${summary.resent} re-sent over ${summary.connections} connections, ${bytes} bytes in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    return summary.failed.length > 0 ? EXIT.SERVICE_ERROR : EXIT.OK;
  } catch (err) {
    put.destroy();
    if (err instanceof PutMediaError && err.kind === 'http' && err.errorType !== undefined) {
      throw new ServiceError(err.errorType, err.message, err.status ?? 0);
    }
    throw err;
  } finally {
    agent?.destroy();
  }
}
