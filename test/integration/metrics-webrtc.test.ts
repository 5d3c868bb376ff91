// The relay's gauges in /metrics while a relayed call is up: a werift master and two viewers on loopback, the
// server's peers with webrtcLoopbackOnly (as webrtc-relay.test.ts runs them).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape } from '../helpers/metrics-scrape.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signedPost } from '../helpers/signed-fetch.js';
import { until } from '../helpers/until.js';
import { TestMaster, TestViewer } from '../helpers/webrtc-peers.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ webrtcLoopbackOnly: true, webrtcHostAddresses: ['127.0.0.1'] });
});

afterAll(async () => {
  await server.stop();
});

async function call<T>(op: string, body: unknown): Promise<T> {
  const res = await signedPost(`${server.url}/${op}`, JSON.stringify(body));
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${op}: ${res.status} ${text}`);
  }
  return (text === '' ? {} : JSON.parse(text)) as T;
}

describe('WebRTC metrics', () => {
  it("report a relayed channel's viewers and upstream while the call is up, and nothing once it ended", async () => {
    const { ChannelARN } = await call<{ ChannelARN: string }>('createSignalingChannel', { ChannelName: 'metrics-relay' });
    await call('openkvs/updateSignalingChannelRelay', { ChannelARN, Relay: 'ENABLED' });
    const viewers = [new TestViewer('metrics-v1'), new TestViewer('metrics-v2')];
    const master = new TestMaster();
    await master.open(server.url, ChannelARN);
    await Promise.all(viewers.map((v) => v.open(server.url, ChannelARN)));
    await Promise.all(viewers.map((v) => v.connected()));
    await master.connected();

    const channel = { channel: 'metrics-relay' };
    const m = await until('the relay gauges', async () => {
      const now = await scrape(server.url);
      return now.value('openkvs_webrtc_relay_connected_viewers', channel) === 2 && now.value('openkvs_webrtc_relay_upstream_connected', channel) === 1 ? now : undefined;
    });
    expect(m.value('openkvs_webrtc_relay_viewers', channel)).toBe(2);
    expect(m.value('openkvs_webrtc_relay_dropped_packets', channel)).toBe(0);
    expect(m.has('openkvs_webrtc_storage_sessions', channel)).toBe(false);

    await Promise.all(viewers.map((v) => v.close()));
    await master.close();
    await until('the relay session to end', async () => !(await scrape(server.url)).has('openkvs_webrtc_relay_viewers', channel));
  });
});
