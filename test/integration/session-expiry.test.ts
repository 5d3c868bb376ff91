import { CreateStreamCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { GetDASHStreamingSessionURLCommand, GetHLSStreamingSessionURLCommand, type KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';

// A streaming session's URLs — playlists, init and media segments, DASH manifests — stop working the moment its
// Expires has passed, and no edit of the token buys more time. Expiry is judged on the wall clock (as signatures are),
// so the test moves Date rather than waiting.

describe('HLS and DASH session tokens cannot be replayed past their expiry', () => {
  const start = Date.now();
  /** The expiry a session URL's token carries (issue time + Expires on the server's wall clock). */
  const expiryOf = (url: string): number =>
    (JSON.parse(Buffer.from(new URL(url).searchParams.get('SessionToken')!.split('.')[0]!, 'base64url').toString('utf8')) as { expiresMs: number }).expiresMs;
  let server: TestServer;
  let kv: KinesisVideoClient;
  let archived: KinesisVideoArchivedMediaClient;
  let hlsUrls: string[];
  let dashUrls: string[];

  beforeAll(async () => {
    server = await startTestServer();
    kv = controlClient(server.url);
    archived = archivedClient(server.url);
    await kv.send(new CreateStreamCommand({ StreamName: 'exp', DataRetentionInHours: 24 }));
    const res = await putMedia(server.url, fixture('mkv/h264-5s-1s-gop.mkv'), { streamName: 'exp', timecodeType: 'RELATIVE', producerStartTimestamp: (start / 1000).toFixed(3) });
    expect(res.acks.filter((a) => a.EventType === 'ERROR')).toEqual([]);
  });
  afterAll(async () => {
    vi.useRealTimers();
    kv.destroy();
    archived.destroy();
    await server.stop();
  });

  const range = (): { StartTimestamp: Date; EndTimestamp: Date } => ({ StartTimestamp: new Date(start - 60_000), EndTimestamp: new Date(start + 60_000) });
  const hlsSession = async (): Promise<string> =>
    (await archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: 'exp', PlaybackMode: 'ON_DEMAND', Expires: 300, HLSFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: range() } })))
      .HLSStreamingSessionURL!;
  const text = async (url: string): Promise<string> => {
    const res = await fetch(url);
    expect(res.status, url).toBe(200);
    return res.text();
  };

  it('every URL of a session works while it lasts', async () => {
    const master = await hlsSession();
    const mediaPlaylist = new URL((await text(master)).split('\n').find((l) => l.startsWith('getHLSMediaPlaylist'))!, master).href;
    const playlist = await text(mediaPlaylist);
    const init = new URL(/#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!, mediaPlaylist).href;
    const segment = new URL(playlist.split('\n').find((l) => l.startsWith('getMP4MediaFragment'))!, mediaPlaylist).href;
    hlsUrls = [master, mediaPlaylist, init, segment];
    const dash = (await archived.send(new GetDASHStreamingSessionURLCommand({ StreamName: 'exp', PlaybackMode: 'ON_DEMAND', Expires: 300, DASHFragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: range() } })))
      .DASHStreamingSessionURL!;
    const mpd = await text(dash);
    const dashSegment = new URL(/media="([^"]+)"/.exec(mpd)![1]!.replace(/&amp;/g, '&'), dash).href;
    dashUrls = [dash, dashSegment];
    for (const url of [...hlsUrls, ...dashUrls]) {
      expect((await fetch(url)).status, url).toBe(200);
    }
    expect(expiryOf(master) - start).toBeGreaterThanOrEqual(300_000);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Math.min(expiryOf(master), expiryOf(dash)) - 1);
    for (const url of [...hlsUrls, ...dashUrls]) {
      expect((await fetch(url)).status, url).toBe(200);
    }
  });

  it('from the expiry on, each is NotAuthorizedException (401) saying so', async () => {
    vi.setSystemTime(Math.max(expiryOf(hlsUrls[0]!), expiryOf(dashUrls[0]!)));
    for (const url of [...hlsUrls, ...dashUrls]) {
      const res = await fetch(url);
      expect([res.status, res.headers.get('x-amzn-errortype')], url).toEqual([401, 'NotAuthorizedException']);
      expect(((await res.json()) as { message: string }).message).toMatch(/expired/);
    }
  });

  it('a token whose expiry was edited, or whose claims carry another session\'s signature, is refused', async () => {
    const [old] = hlsUrls;
    const oldToken = new URL(old!).searchParams.get('SessionToken')!;
    const [body, mac] = oldToken.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const fresh = await hlsSession();
    const freshMac = new URL(fresh).searchParams.get('SessionToken')!.split('.')[1]!;
    const extended = Buffer.from(JSON.stringify({ ...claims, expiresMs: Date.now() + 86_400_000 })).toString('base64url');
    for (const token of [`${extended}.${mac}`, `${extended}.${freshMac}`, `${body}.${freshMac}`]) {
      const url = new URL(fresh);
      url.searchParams.set('SessionToken', token);
      const res = await fetch(url);
      expect([res.status, res.headers.get('x-amzn-errortype')]).toEqual([401, 'NotAuthorizedException']);
    }
    expect((await fetch(fresh)).status).toBe(200);
  });
});
