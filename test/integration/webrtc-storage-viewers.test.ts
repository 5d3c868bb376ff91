// Storage-session viewers (JoinStorageSessionAsViewer, kvs-api.md §5.3) end to end: the operator flow and both
// Join calls through the AWS SDK clients, a werift master (raw signaling), werift viewers answering the storage
// session's offers — one signalling through a raw presigned WebSocket, one through the KVS WebRTC JS SDK — all on
// loopback over TLS. What the viewers receive must decode, a viewer must be heard by the master, and the master's
// recording must go on while viewers come and go.

import { GetSignalingChannelEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient, ListFragmentsCommand } from '@aws-sdk/client-kinesis-video-archived-media';
import { JoinStorageSessionAsViewerCommand, JoinStorageSessionCommand, KinesisVideoWebRTCStorageClient } from '@aws-sdk/client-kinesis-video-webrtc-storage';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_CLIENT_ID } from '../../src/webrtc/storage-session.js';
import { TEST_ACCESS_KEY, TEST_SECRET, startTestServer, type TestServer } from '../helpers/server.js';
import { StorageViewerPeer } from '../helpers/storage-viewer-peer.js';
import { createStorageChannel } from '../helpers/storage-channel.js';
import { until } from '../helpers/until.js';
import { selfSignedCert, trustingHandler, trustWebSocketsTo, type TestCert } from '../helpers/tls.js';
import { TestMaster, rtp } from '../helpers/webrtc-peers.js';
import { decodedVideoFrames, playFixture, speakFixture } from '../helpers/webrtc-play.js';

const REGION = 'us-east-1';
const MAX_VIEWERS = 3;
const credentials = { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET };
let cert: TestCert;
let server: TestServer;
let kv: KinesisVideoClient;
let archive: KinesisVideoArchivedMediaClient;
let storage: KinesisVideoWebRTCStorageClient;
let dir: string;
let n = 0;

beforeAll(async () => {
  cert = await selfSignedCert();
  server = await startTestServer({ tlsCert: cert.certFile, tlsKey: cert.keyFile, region: REGION, signalingMaxViewers: MAX_VIEWERS, webrtcHostAddresses: ['127.0.0.1'], webrtcLoopbackOnly: true });
  const client = { endpoint: server.url, region: REGION, credentials, maxAttempts: 1, requestHandler: trustingHandler(cert.cert) };
  kv = new KinesisVideoClient(client);
  archive = new KinesisVideoArchivedMediaClient(client);
  storage = new KinesisVideoWebRTCStorageClient(client);
  trustWebSocketsTo(cert.cert);
  dir = mkdtempSync(join(tmpdir(), 'openkvs-storage-viewers-'));
});

afterAll(async () => {
  kv.destroy();
  archive.destroy();
  storage.destroy();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function storageChannel(withStorage = true): Promise<{ channelArn: string; streamName: string; channelId: number }> {
  const i = ++n;
  const { channelArn, streamName } = await createStorageChannel(kv, { stream: `viewers-${i}`, channel: `viewers-ch-${i}` }, withStorage);
  return { channelArn, streamName, channelId: server.channels.find(channelArn)!.id };
}

async function viewerWss(channelArn: string): Promise<string> {
  const out = await kv.send(new GetSignalingChannelEndpointCommand({ ChannelARN: channelArn, SingleMasterChannelEndpointConfiguration: { Protocols: ['WSS', 'WEBRTC'], Role: 'VIEWER' } }));
  const eps = Object.fromEntries(out.ResourceEndpointList!.map((e) => [e.Protocol!, e.ResourceEndpoint!]));
  expect(eps['WEBRTC']).toBe(server.url);
  return eps['WSS']!;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const joinAsViewer = (channelArn: string, clientId: string): Promise<unknown> => storage.send(new JoinStorageSessionAsViewerCommand({ channelArn, clientId }));

async function fragmentCount(streamName: string): Promise<number> {
  const out = await archive.send(new ListFragmentsCommand({ StreamName: streamName, MaxResults: 1000, FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(Date.now() - 3_600_000), EndTimestamp: new Date(Date.now() + 60_000) } } }));
  return out.Fragments?.length ?? 0;
}

describe('JoinStorageSessionAsViewer', () => {
  it('viewers joined before and after the master get decodable video and its audio, a viewer is heard by the master, and the recording goes on while viewers come and go', async () => {
    const { channelArn, streamName, channelId } = await storageChannel();
    const wss = await viewerWss(channelArn);

    // a viewer may join first and wait: its peer connects to the storage session before any master is there
    const early = new StorageViewerPeer(`early-${n}`);
    await early.openRaw(server.url, channelArn, cert.cert);
    await joinAsViewer(channelArn, early.id);
    await early.connected();

    const master = new TestMaster();
    await master.open(server.url, channelArn, { ca: cert.cert });
    await storage.send(new JoinStorageSessionCommand({ channelArn }));
    await master.connected();

    // the KVS WebRTC JS SDK as the second viewer's signaling client
    const late = new StorageViewerPeer(`late-${n}`);
    await late.openSdk(wss, channelArn, REGION);
    await joinAsViewer(channelArn, late.id);
    await late.connected();

    // a third viewer comes during the show and leaves before its end
    const passer = new StorageViewerPeer(`passer-${n}`);
    const passing = (async () => {
      await sleep(1000);
      await passer.openRaw(server.url, channelArn, cert.cert);
      await joinAsViewer(channelArn, passer.id);
      await passer.connected();
      await sleep(1500);
      await passer.close();
    })();
    const [played, spoken] = await Promise.all([playFixture((kind, p) => master.send(kind, p)), speakFixture((p) => early.sendAudio(p)), passing]);
    await sleep(500);

    // one connection to the master, from the storage session; the viewers never reached it
    expect(master.offersFrom).toEqual([STORAGE_CLIENT_ID]);
    expect(master.peers).toHaveLength(1);
    const stats = server.storage.viewers(channelId)?.stats;
    expect(stats).toMatchObject({ viewers: 2, connectedViewers: 2, droppedPackets: 0 });
    // a viewer leaving never ends the recording, and every viewer's audio went into it
    const recording = server.storage.current(channelId)?.stats;
    expect(recording?.viewerAudioPackets, JSON.stringify(recording)).toBeGreaterThan(200);

    const context = JSON.stringify({ stats, recording, early: early.video.length, late: late.video.length });
    const frames = await Promise.all([decodedVideoFrames(early.video, join(dir, `${early.id}.h264`)), decodedVideoFrames(late.video, join(dir, `${late.id}.h264`))]);
    for (const f of frames) {
      // everyone was connected before the first key frame; a lost packet on a loaded machine may cost one GOP
      expect(f, context).toBeGreaterThanOrEqual(played.videoFrames - 30);
      expect(f).toBeLessThanOrEqual(played.videoFrames);
    }
    expect(passer.video.length).toBeGreaterThan(0);
    expect(early.audioPackets).toBeGreaterThan(200);
    expect(late.audioPackets).toBeGreaterThan(200);

    // the talking viewer's Opus frames reached the master unchanged
    const said = new Set(spoken.map((f) => Buffer.from(f).toString('hex')));
    expect(master.receivedAudio.length).toBeGreaterThan(200);
    expect(master.receivedAudio.every((p) => said.has(p.toString('hex')))).toBe(true);

    // the master leaving ends the session: its last fragment is stored, the viewers' peers are closed (GO_AWAY)
    await master.close();
    await until('the storage session to end', () => (server.storage.current(channelId) === undefined ? true : undefined));
    expect(server.storage.viewers(channelId)).toBeUndefined();
    await until('GO_AWAY to the raw viewer', () => (early.notices.includes('GO_AWAY') ? true : undefined));
    const fragments = await until('the recording', async () => {
      const c = await fragmentCount(streamName);
      return c >= 4 ? c : undefined;
    });
    // 5 s with a key frame every second
    expect(fragments).toBeLessThanOrEqual(6);
    await Promise.all([early.close(), late.close()]);
  }, 60_000);

  it('a re-join with the same clientId replaces the peer; an offline viewer gets its offer when it connects; one viewer over signalingMaxViewers is refused; offering a call of its own or disconnecting leaves', async () => {
    const { channelArn, channelId } = await storageChannel();
    const v = new StorageViewerPeer(`rejoin-${n}`);
    await v.openRaw(server.url, channelArn, cert.cert);
    await joinAsViewer(channelArn, v.id);
    await v.connected();
    await joinAsViewer(channelArn, v.id);
    await until('the second offer', () => (v.offers === 2 ? true : undefined));
    await v.connected();
    await until('the server side of the new peer', () => (server.storage.viewers(channelId)?.stats.connectedViewers === 1 ? true : undefined));
    expect(server.storage.viewers(channelId)?.stats.viewers).toBe(1);

    // viewers not connected to signaling yet: accepted, their offers wait in the channel's message queue
    const offline = [`queued-${n}-a`, `queued-${n}-b`];
    for (const id of offline) {
      await joinAsViewer(channelArn, id);
    }
    expect(server.storage.viewers(channelId)?.size).toBe(MAX_VIEWERS);
    await expect(joinAsViewer(channelArn, `one-too-many-${n}`)).rejects.toMatchObject({
      name: 'ClientLimitExceededException',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining('maximum number of viewers connected to the session') as unknown,
    });
    // a re-join is not one more viewer
    await joinAsViewer(channelArn, v.id);
    await until('the third offer', () => (v.offers === 3 ? true : undefined));

    const late = new StorageViewerPeer(offline[0]!);
    await late.openRaw(server.url, channelArn, cert.cert);
    await late.connected();
    expect(late.offers).toBe(1);

    // a viewer offering a call of its own has left the storage session; leaving signaling leaves it too
    v.sendOwnOffer('v=0');
    await until('the offering viewer to leave', () => (server.storage.viewers(channelId)?.has(v.id) !== true ? true : undefined));
    await Promise.all([v.close(), late.close()]);
    await until('the disconnected viewer to leave', () => (server.storage.viewers(channelId)?.has(late.id) !== true ? true : undefined));
  }, 30_000);

  it('keeps its viewers when a newer JoinStorageSession replaces the session, takes their messages before relay mode does, and closes them when the master leaves', async () => {
    const { channelArn, channelId } = await storageChannel();
    // relay mode takes every viewer's messages; a storage viewer's must still reach the storage session
    server.channels.setRelay(channelArn, true);
    const master = new TestMaster();
    await master.open(server.url, channelArn, { ca: cert.cert });
    await storage.send(new JoinStorageSessionCommand({ channelArn }));
    await master.connected();
    const v = new StorageViewerPeer(`kept-${n}`);
    await v.openRaw(server.url, channelArn, cert.cert);
    await joinAsViewer(channelArn, v.id);
    await v.connected();

    const first = server.storage.current(channelId);
    await storage.send(new JoinStorageSessionCommand({ channelArn }));
    expect(server.storage.current(channelId)).not.toBe(first);
    await until("the master's second peer", () => (master.peers[1]?.pc.connectionState === 'connected' ? true : undefined));
    expect(server.storage.viewers(channelId)?.has(v.id)).toBe(true);

    // the newer session's media reaches the viewer that joined the older one
    v.video = [];
    const played = await playFixture((kind, p) => {
      const newest = master.peers[1]!;
      void (kind === 'video' ? newest.video : newest.audio).sender.sendRtp(rtp(p));
    });
    await sleep(500);
    expect(await decodedVideoFrames(v.video, join(dir, `${v.id}.h264`))).toBeGreaterThanOrEqual(played.videoFrames - 30);
    expect(master.offersFrom).toEqual([STORAGE_CLIENT_ID, STORAGE_CLIENT_ID]);
    expect(server.relay.stats(channelId)).toBeNull();

    await master.close();
    await until('GO_AWAY to the viewer', () => (v.notices.includes('GO_AWAY') ? true : undefined));
    expect(server.storage.viewers(channelId)).toBeUndefined();
    await v.close();
  }, 30_000);

  it('refuses an unknown channel, a channel without media storage, a malformed or reserved clientId', async () => {
    const withStorage = await storageChannel();
    const without = await storageChannel(false);
    await expect(joinAsViewer(withStorage.channelArn.replace(/\/\d+$/, '/1'), 'v1')).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
    await expect(joinAsViewer(without.channelArn, 'v1')).rejects.toMatchObject({ name: 'InvalidArgumentException', $metadata: { httpStatusCode: 400 } });
    await expect(joinAsViewer(withStorage.channelArn, 'not a client id')).rejects.toMatchObject({ name: 'InvalidArgumentException' });
    await expect(joinAsViewer(withStorage.channelArn, STORAGE_CLIENT_ID)).rejects.toMatchObject({ name: 'InvalidArgumentException' });
    expect(server.storage.viewers(withStorage.channelId)).toBeUndefined();
  });
});
