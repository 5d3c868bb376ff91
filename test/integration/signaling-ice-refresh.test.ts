// RECONNECT_ICE_SERVER (kvs-api.md §5.2; docs/signaling.md): with TURN credentials that expire, a signaling client
// still connected shortly before its credentials' end is told once to refresh its ICE servers and reconnect. A short
// credential lifetime (5 s, so the notice comes after 4 s) keeps the test quick.

import { CreateSignalingChannelCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { GetIceServerConfigCommand, KinesisVideoSignalingClient } from '@aws-sdk/client-kinesis-video-signaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { openSignaling, type SignalMessage } from '../helpers/signaling-ws.js';
import { until } from '../helpers/until.js';

const REGION = 'us-east-1';
const TTL_SECONDS = 5;
const credentials = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET };
let server: TestServer;
let kv: KinesisVideoClient;
let signaling: KinesisVideoSignalingClient;

beforeAll(async () => {
  server = await startTestServer({ region: REGION, turnUris: 'turn:127.0.0.1:3478?transport=udp', turnSecret: 'turn-shared-secret', turnCredentialTtlSeconds: TTL_SECONDS });
  kv = new KinesisVideoClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
  signaling = new KinesisVideoSignalingClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
});

afterAll(async () => {
  kv.destroy();
  signaling.destroy();
  await server.stop();
});

describe('RECONNECT_ICE_SERVER', () => {
  it('is sent once to each client whose TURN credentials are about to expire, and the connection keeps working', async () => {
    const arn = (await kv.send(new CreateSignalingChannelCommand({ ChannelName: 'ice-refresh' }))).ChannelARN!;
    const ice = await signaling.send(new GetIceServerConfigCommand({ ChannelARN: arn, ClientId: 'viewer-1' }));
    expect(ice.IceServerList?.[0]?.Ttl).toBe(TTL_SECONDS);

    const master = await openSignaling(server.url, arn, 'MASTER');
    const viewer = await openSignaling(server.url, arn, 'VIEWER', 'viewer-1');
    const toMaster: SignalMessage[] = [];
    const toViewer: SignalMessage[] = [];
    master.onMessage((m) => toMaster.push(m));
    viewer.onMessage((m) => toViewer.push(m));

    const notice = (ms: SignalMessage[]): SignalMessage[] => ms.filter((m) => m.messageType === 'RECONNECT_ICE_SERVER');
    await until('RECONNECT_ICE_SERVER to both', () => notice(toMaster).length > 0 && notice(toViewer).length > 0, 15_000);
    // exactly the frame KVS documents, nothing else
    expect(notice(toMaster)).toEqual([{ messageType: 'RECONNECT_ICE_SERVER' }]);
    expect(notice(toViewer)).toEqual([{ messageType: 'RECONNECT_ICE_SERVER' }]);

    // the notice does not close anything: routing goes on, and no second notice follows on the same connection
    viewer.send('SDP_OFFER', { type: 'offer', sdp: 'v=0' });
    await until('the offer at the master', () => toMaster.some((m) => m.messageType === 'SDP_OFFER'), 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(notice(toMaster)).toHaveLength(1);
    expect(notice(toViewer)).toHaveLength(1);

    // a reconnecting client starts a new credential period
    await viewer.close();
    const again = await openSignaling(server.url, arn, 'VIEWER', 'viewer-1');
    const toAgain: SignalMessage[] = [];
    again.onMessage((m) => toAgain.push(m));
    await until('RECONNECT_ICE_SERVER on the new connection', () => notice(toAgain).length > 0, 15_000);
    await Promise.all([again.close(), master.close()]);
  }, 30_000);
});
