// Child process of bench:webrtc: N werift viewers on one channel. Prints "ready" once all are connected, then on
// a "report" line on stdin prints one JSON line: per viewer the packets received, and the latency of every packet
// (arrival here minus the send time the bench master wrote into the payload, both as epoch ms from
// performance.timeOrigin + performance.now(), which agree across processes on one machine).

import { createInterface } from 'node:readline';
import { percentile } from './report.js';
import { TestViewer } from '../test/helpers/webrtc-peers.js';

const [url, arn, countArg] = process.argv.slice(2);
const count = Number(countArg);
const now = (): number => performance.timeOrigin + performance.now();

const received: number[] = [];
const latencies: number[] = [];
const viewers = Array.from({ length: count }, (_, i) => {
  received.push(0);
  return new TestViewer(`bench-${process.pid}-${i}`, {
    onVideo: (p) => {
      received[i]!++;
      latencies.push(now() - p.payload.readDoubleLE(4));
    },
  });
});

// in batches: 150 simultaneous ICE/DTLS handshakes on 2 cores time out; a viewer that fails anyway is counted
const BATCH = 10;
let failed = 0;
for (let i = 0; i < viewers.length; i += BATCH) {
  const batch = viewers.slice(i, i + BATCH);
  const results = await Promise.allSettled(batch.map(async (v) => {
    await v.open(url!, arn!);
    await v.connected();
  }));
  failed += results.filter((r) => r.status === 'rejected').length;
}
process.stdout.write(`ready ${failed}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'reset') {
    received.fill(0);
    latencies.length = 0;
    process.stdout.write('reset\n');
  } else if (line === 'report') {
    latencies.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({ received, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) }) + '\n');
    await Promise.all(viewers.map((v) => v.close().catch(() => undefined)));
    process.exit(0);
  }
}
