// SendAlexaOfferToMaster (kvs-api.md §5.1) with the AWS SDK's signaling client: the "Alexa device" is a werift peer
// that has no signaling WebSocket; the master is a werift master on the channel's WebSocket. The answer that comes
// back in the HTTP response must be the master's, good enough to connect with.

import { CreateSignalingChannelCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoSignalingClient, SendAlexaOfferToMasterCommand } from '@aws-sdk/client-kinesis-video-signaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection } from 'werift';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { decodePayload, encodePayload } from '../helpers/signaling-ws.js';
import { TestMaster, loopbackPeerConfig } from '../helpers/webrtc-peers.js';

const REGION = 'us-east-1';
const credentials = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET };
let server: TestServer;
let kv: KinesisVideoClient;
let signaling: KinesisVideoSignalingClient;
let n = 0;

beforeAll(async () => {
  server = await startTestServer({ region: REGION });
  kv = new KinesisVideoClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
  signaling = new KinesisVideoSignalingClient({ endpoint: server.url, region: REGION, credentials, maxAttempts: 1 });
});

afterAll(async () => {
  kv.destroy();
  signaling.destroy();
  await server.stop();
});

const channel = async (): Promise<string> => (await kv.send(new CreateSignalingChannelCommand({ ChannelName: `alexa-${++n}` }))).ChannelARN!;

/** An offering peer, as a display device would be: non-trickle, loopback candidates only. */
async function alexaOffer(): Promise<{ pc: RTCPeerConnection; payload: string }> {
  const pc = new RTCPeerConnection(loopbackPeerConfig());
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await pc.iceGatheringStateChange.watch((s) => s === 'complete');
  }
  const sdp = pc.localDescription!.sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || l.includes(' 127.0.0.1 ')).join('\r\n');
  return { pc, payload: encodePayload({ type: 'offer', sdp }) };
}

describe('SendAlexaOfferToMaster', () => {
  it("delivers the offer to the master as from SenderClientId and returns the master's answer, which connects", async () => {
    const arn = await channel();
    const master = new TestMaster();
    await master.open(server.url, arn);
    const { pc, payload } = await alexaOffer();
    const out = await signaling.send(new SendAlexaOfferToMasterCommand({ ChannelARN: arn, SenderClientId: 'echo-show', MessagePayload: payload }));
    expect(master.offersFrom).toEqual(['echo-show']);
    const answer = decodePayload<{ type: 'answer'; sdp: string }>(out.Answer!);
    expect(answer.type).toBe('answer');
    const connected = pc.connectionStateChange.watch((s) => s === 'connected');
    await pc.setRemoteDescription(answer);
    await connected;
    await pc.close();
    await master.close();
  });

  it('waits for a master that connects after the call (the offer is held in the queue)', async () => {
    const arn = await channel();
    const { pc, payload } = await alexaOffer();
    const call = signaling.send(new SendAlexaOfferToMasterCommand({ ChannelARN: arn, SenderClientId: 'late-show', MessagePayload: payload }));
    const master = new TestMaster();
    await master.open(server.url, arn);
    const out = await call;
    expect(master.offersFrom).toEqual(['late-show']);
    expect(decodePayload<{ type: string }>(out.Answer!).type).toBe('answer');
    await pc.close();
    await master.close();
  });

  it('answers ServiceUnavailableException (retryable) when no master answers in time, and KVS errors for bad input', async () => {
    const arn = await channel();
    const { pc, payload } = await alexaOffer();
    await pc.close();
    await expect(signaling.send(new SendAlexaOfferToMasterCommand({ ChannelARN: arn, SenderClientId: 'nobody-home', MessagePayload: payload }))).rejects.toMatchObject({ name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } });
    await expect(signaling.send(new SendAlexaOfferToMasterCommand({ ChannelARN: arn.replace(/\/\d+$/, '/1'), SenderClientId: 's', MessagePayload: payload }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(signaling.send(new SendAlexaOfferToMasterCommand({ ChannelARN: arn, SenderClientId: 's', MessagePayload: 'not base64!' }))).rejects.toMatchObject({ name: 'InvalidArgumentException' });
    await expect(signaling.send(new SendAlexaOfferToMasterCommand({ ChannelARN: arn, SenderClientId: 'no spaces', MessagePayload: payload }))).rejects.toMatchObject({ name: 'InvalidArgumentException' });
  }, 15_000);
});
