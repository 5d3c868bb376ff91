// Relay mode end to end: a werift master sends the 1 s-GOP fixture as RTP in real time; viewers connect through
// the server's relay (raw presigned signaling WebSockets, werift peers on loopback), and what each one receives
// must decode. The server's peers run with webrtcLoopbackOnly, the test peers with the same filters.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_CLIENT_ID } from '../../src/webrtc/relay-session.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signedPost } from '../helpers/signed-fetch.js';
import { decodedVideo, decodedVideoFrames, filmFixture, playFixture, speakFixture } from '../helpers/webrtc-play.js';
import { TestMaster, TestViewer } from '../helpers/webrtc-peers.js';

const VIEWERS = 20;
let server: TestServer;
let dir: string;
let n = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openkvs-relay-'));
  server = await startTestServer({ signalingMaxViewers: VIEWERS + 5, webrtcLoopbackOnly: true, webrtcHostAddresses: ['127.0.0.1'] });
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call<T>(op: string, body: unknown): Promise<T> {
  const res = await signedPost(`${server.url}/${op}`, JSON.stringify(body));
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${op}: ${res.status} ${text}`);
  }
  return (text === '' ? {} : JSON.parse(text)) as T;
}

async function relayChannel(): Promise<string> {
  const { ChannelARN } = await call<{ ChannelARN: string }>('createSignalingChannel', { ChannelName: `relay-${++n}` });
  await call('openkvs/updateSignalingChannelRelay', { ChannelARN, Relay: 'ENABLED' });
  return ChannelARN;
}

const play = (master: TestMaster): Promise<unknown> => playFixture((kind, p) => master.send(kind, p));
const speak = (viewer: TestViewer): Promise<Uint8Array[]> => speakFixture((p) => viewer.sendAudio(p));
const film = (viewer: TestViewer, rel: string): Promise<Set<string>> => filmFixture(rel, (p) => viewer.sendVideo(p));
const decodedFrames = (viewer: TestViewer): Promise<number> => decodedVideoFrames(viewer.video, join(dir, `${viewer.id}.h264`));

async function session(arn: string, viewers: TestViewer[]): Promise<TestMaster> {
  const master = new TestMaster();
  await master.open(server.url, arn);
  await Promise.all(viewers.map((v) => v.open(server.url, arn)));
  await Promise.all(viewers.map((v) => v.connected()));
  await master.connected();
  // The viewers' side of DTLS can finish before the relay's: a pre-encoded master cannot answer a key-frame
  // request, so whatever the relay sent a viewer before its side was up (the first GOP) would be lost for good.
  for (;;) {
    const { Session } = await call<{ Session?: { ConnectedViewers?: number; Upstream?: string } }>('openkvs/describeSignalingChannelRelay', { ChannelARN: arn });
    if (Session?.ConnectedViewers === viewers.length && Session.Upstream === 'CONNECTED') {
      return master;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('relay mode', () => {
  it('is an openkvs channel setting, refused with KVS errors for unknown channels and bad values', async () => {
    const { ChannelARN } = await call<{ ChannelARN: string }>('createSignalingChannel', { ChannelName: `relay-${++n}` });
    expect(await call('openkvs/describeSignalingChannelRelay', { ChannelARN })).toEqual({ ChannelARN, Relay: 'DISABLED' });
    await call('openkvs/updateSignalingChannelRelay', { ChannelARN, Relay: 'ENABLED' });
    expect(await call('openkvs/describeSignalingChannelRelay', { ChannelARN })).toEqual({ ChannelARN, Relay: 'ENABLED' });
    const bad = await signedPost(`${server.url}/openkvs/updateSignalingChannelRelay`, JSON.stringify({ ChannelARN, Relay: 'ON' }));
    expect([bad.status, bad.headers.get('x-amzn-errortype')]).toEqual([400, 'InvalidArgumentException']);
    const missing = await signedPost(`${server.url}/openkvs/describeSignalingChannelRelay`, JSON.stringify({ ChannelARN: ChannelARN.replace(/\/\d+$/, '/1') }));
    expect([missing.status, missing.headers.get('x-amzn-errortype')]).toEqual([404, 'ResourceNotFoundException']);
  });

  it('relays one master connection to 20 viewers who all decode the video, and a viewer is heard by the master', async () => {
    const arn = await relayChannel();
    const viewers = Array.from({ length: VIEWERS }, (_, i) => new TestViewer(`viewer-${n}-${i}`, { sendAudio: i === 0 }));
    const master = await session(arn, viewers);

    const [, spoken] = await Promise.all([play(master), speak(viewers[0]!)]);
    await new Promise((r) => setTimeout(r, 500));

    // one upstream connection: the master saw one offer, from the relay, and has one peer
    expect(master.offersFrom).toEqual([RELAY_CLIENT_ID]);
    expect(master.peers).toHaveLength(1);
    const described = await call<{ Session: Record<string, unknown> }>('openkvs/describeSignalingChannelRelay', { ChannelARN: arn });
    expect(described.Session).toMatchObject({ Viewers: VIEWERS, ConnectedViewers: VIEWERS, Upstream: 'CONNECTED', UpstreamConnections: 1, DroppedPackets: 0 });
    // key-frame requests from 20 joining viewers were coalesced before they reached the master
    expect(master.pliCount).toBeGreaterThanOrEqual(1);
    expect(master.pliCount).toBeLessThan(VIEWERS);

    const frames = await Promise.all(viewers.map(decodedFrames));
    expect(frames).toEqual(viewers.map(() => 150));
    expect(viewers.every((v) => v.audioPackets > 200)).toBe(true);

    // the speaking viewer's Opus frames reached the master unchanged
    const sent = new Set(spoken.map((f) => Buffer.from(f).toString('hex')));
    expect(master.receivedAudio.length).toBeGreaterThan(200);
    expect(master.receivedAudio.every((p) => sent.has(p.toString('hex')))).toBe(true);

    await Promise.all(viewers.map((v) => v.close()));
    await master.close();
  });

  it("carries viewers' cameras to the master: the first viewer filming, then the one it hears, switched at a key frame", async () => {
    const arn = await relayChannel();
    const first = new TestViewer(`camera-${n}-first`, { sendVideo: true });
    const talker = new TestViewer(`camera-${n}-talker`, { sendVideo: true, sendAudio: true });
    const master = new TestMaster({ watchViewers: true });
    await master.open(server.url, arn);
    await Promise.all([first, talker].map((v) => v.open(server.url, arn)));
    await Promise.all([first.connected(), talker.connected(), master.connected()]);

    // `first` films alone for 2 s; then `talker` films and speaks, so the master's view follows its voice
    const talking = (async () => {
      await new Promise((r) => setTimeout(r, 2000));
      return Promise.all([film(talker, 'mkv/h264-5s-1s-gop.mkv'), speak(talker)]);
    })();
    // once the talker is shown, the master asks for a key frame: it must reach the talker, not the first viewer
    const masterAsks = (async () => {
      await new Promise((r) => setTimeout(r, 3500));
      const before = { first: first.pliCount, talker: talker.pliCount };
      const peer = master.peers[0]!;
      await peer.video.receiver.sendRtcpPLI(master.receivedVideo.at(-1)!.header.ssrc);
      for (let i = 0; i < 100 && talker.pliCount === before.talker; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return { first: first.pliCount - before.first, talker: talker.pliCount - before.talker };
    })();
    const [fromFirst, [fromTalker], asked] = await Promise.all([film(first, 'mkv/h264-bframes-5s.mkv'), talking, masterAsks]);
    await new Promise((r) => setTimeout(r, 500));
    expect(asked).toEqual({ first: 0, talker: 1 });

    // still one upstream connection, and the master got both cameras, one after the other, never mixed
    expect(master.peers).toHaveLength(1);
    const origin = master.receivedVideo.map((p) => {
      const hex = p.payload.toString('hex');
      return fromTalker.has(hex) ? 'talker' : fromFirst.has(hex) ? 'first' : 'unknown';
    });
    const switchAt = origin.indexOf('talker');
    expect(origin.slice(0, 10)).toEqual(Array(10).fill('first'));
    expect(switchAt).toBeGreaterThan(0);
    expect(origin.slice(switchAt).every((o) => o === 'talker')).toBe(true);
    expect(origin.length - switchAt).toBeGreaterThan(100);
    // the talker was asked for a key frame when it was chosen, and the spliced stream decodes throughout
    expect(talker.pliCount).toBeGreaterThanOrEqual(1);
    const seen = await decodedVideo(master.receivedVideo, join(dir, `master-${n}.h264`));
    expect(seen.accessUnits).toBeGreaterThan(100);
    expect(seen.frames).toBe(seen.accessUnits);

    await Promise.all([first.close(), talker.close()]);
    await master.close();
  });

  it('keeps sending everything to 19 viewers while the 20th has stalled', async () => {
    const arn = await relayChannel();
    const viewers = Array.from({ length: VIEWERS }, (_, i) => new TestViewer(`stall-${n}-${i}`));
    const master = await session(arn, viewers);
    const stalled = viewers[VIEWERS - 1]!;
    stalled.stall();

    await play(master);
    await new Promise((r) => setTimeout(r, 500));

    const frames = await Promise.all(viewers.slice(0, -1).map(decodedFrames));
    expect(frames).toEqual(frames.map(() => 150));
    expect(stalled.video.length).toBe(0);

    await Promise.all(viewers.map((v) => v.close()));
    await master.close();
  });

  it('closes the viewers (and sends them GO_AWAY) when the master leaves, and connects upstream only once the master is there', async () => {
    const arn = await relayChannel();
    const viewer = new TestViewer(`early-${n}`);
    await viewer.open(server.url, arn);
    await viewer.connected();
    const before = await call<{ Session: Record<string, unknown> }>('openkvs/describeSignalingChannelRelay', { ChannelARN: arn });
    expect(before.Session).toMatchObject({ Viewers: 1, Upstream: 'NONE', UpstreamConnections: 0 });

    const master = new TestMaster();
    await master.open(server.url, arn);
    await master.connected();
    expect(master.offersFrom).toEqual([RELAY_CLIENT_ID]);

    await master.close();
    for (let i = 0; i < 500 && !viewer.notices.includes('GO_AWAY'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(viewer.notices).toEqual(['GO_AWAY']);
    expect(await call('openkvs/describeSignalingChannelRelay', { ChannelARN: arn })).toEqual({ ChannelARN: arn, Relay: 'ENABLED' });
    await viewer.close();
  });
});
