// Child process of bench:webrtc: some of a step's werift viewers on one channel (the bench spreads a step over
// several children so that receiving — SRTP and RTP in JavaScript, like the server's sending — is not measured
// as the relay's limit). Prints "ready <failed>" once all have tried to connect, then on a "report" line on
// stdin prints one JSON line: per viewer the packets received, and a histogram of latencies in whole ms (arrival
// here minus the send time the bench master wrote into the payload, both as epoch ms from
// performance.timeOrigin + performance.now(), which agree across processes on one machine).

import { createInterface } from 'node:readline';
import { TestViewer } from '../test/helpers/webrtc-peers.js';

const [url, arn, countArg] = process.argv.slice(2);
const count = Number(countArg);
const now = (): number => performance.timeOrigin + performance.now();
const trace = process.env['OPENKVS_BENCH_TRACE'] !== undefined;

const received: number[] = [];
/** Packet indexes each viewer has had: a packet NACKed and resent by the relay counts once, its first arrival timed. */
const seen: Set<number>[] = [];
/** latency ms → packets; sparse, merged across children by the bench */
let histogram = new Map<number, number>();
/** with OPENKVS_BENCH_TRACE: packets and worst latency per second since the reset */
const perSecond: { n: number; worst: number }[] = [];
let resetAt = now();

const viewers = Array.from({ length: count }, (_, i) => {
  received.push(0);
  seen.push(new Set());
  return new TestViewer(`bench-${process.pid}-${i}`, {
    onVideo: (p) => {
      const index = p.payload.readUInt32LE(0);
      if (seen[i]!.has(index)) {
        return;
      }
      seen[i]!.add(index);
      received[i]!++;
      const at = now();
      const ms = Math.max(0, Math.round(at - p.payload.readDoubleLE(4)));
      histogram.set(ms, (histogram.get(ms) ?? 0) + 1);
      if (trace) {
        const s = (perSecond[Math.floor((at - resetAt) / 1000)] ??= { n: 0, worst: 0 });
        s.n++;
        s.worst = Math.max(s.worst, ms);
      }
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
    seen.forEach((s) => s.clear());
    histogram = new Map();
    perSecond.length = 0;
    resetAt = now();
    process.stdout.write('reset\n');
  } else if (line === 'report') {
    if (trace) {
      process.stderr.write(`viewers ${process.pid}: packets/s ${perSecond.map((s) => s.n).join(' ')}; worst ms ${perSecond.map((s) => s.worst).join(' ')}\n`);
    }
    process.stdout.write(JSON.stringify({ received, histogram: [...histogram] }) + '\n');
    await Promise.all(viewers.map((v) => v.close().catch(() => undefined)));
    process.exit(0);
  }
}
