import { CreateStreamCommand, UpdateImageGenerationConfigurationCommand, UpdateNotificationConfigurationCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MkvStreamParser } from '../../src/formats/mkv/mkv-stream-parser.js';
import { writeTags } from '../../src/formats/mkv/mkv-writer.js';
import { NOTIFICATION_KEY_FILE } from '../../src/util/secret-key.js';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { controlClient, startTestServer, type TestServer } from '../helpers/server.js';

type Received = { headers: Record<string, string | string[] | undefined>; body: string };

let server: TestServer;
let kv: KinesisVideoClient;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
let n = 0;

beforeAll(async () => {
  server = await startTestServer({ putMediaCallsPerSecond: 1000 });
  kv = controlClient(server.url);
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/kvs-notifications`;
});
afterAll(async () => {
  kv.destroy();
  await server.stop();
  await new Promise<void>((r) => receiver.close(() => r()));
});

/** The 5-cluster fixture with producer fragment metadata in front of clusters 2 and 4; only cluster 2 asks for a notification. */
function bodyWithMetadata(): Uint8Array {
  const events = new MkvStreamParser().push(fixture('mkv/h264-5s-1s-gop.mkv'));
  const header = events.find((e) => e.kind === 'header');
  const clusters = events.flatMap((e) => (e.kind === 'fragment' ? [e.fragment.bytes] : []));
  if (header?.kind !== 'header' || clusters.length < 4) {
    throw new Error('fixture did not parse');
  }
  const parts = [header.header.bytes];
  clusters.forEach((c, i) => {
    if (i === 1) {
      parts.push(writeTags([{ name: 'AWS_KINESISVIDEO_NOTIFICATION', value: 'motion' }, { name: 'camera', value: 'front-door' }]));
    } else if (i === 3) {
      parts.push(writeTags([{ name: 'camera', value: 'front-door' }]));
    }
    parts.push(c);
  });
  return Buffer.concat(parts);
}

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('notifications (UpdateNotificationConfiguration)', () => {
  it('POSTs a signed notification for each fragment whose metadata asks for one, and only then', async () => {
    const name = `nt-${++n}`;
    await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 1 }));
    await kv.send(new UpdateNotificationConfigurationCommand({ StreamName: name, NotificationConfiguration: { Status: 'ENABLED', DestinationConfig: { Uri: receiverUrl } } }));
    const before = received.length;
    const res = await putMedia(server.url, bodyWithMetadata(), { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: '1750000000.000' });
    const persisted = res.acks.filter((a) => a.EventType === 'PERSISTED').map((a) => a.FragmentNumber!);
    expect(persisted).toHaveLength(5);
    await waitFor(() => received.length > before);
    await new Promise((r) => setTimeout(r, 300)); // room for any notification that should not come
    const mine = received.slice(before);
    expect(mine).toHaveLength(1);
    const note = JSON.parse(mine[0]!.body) as Record<string, unknown>;
    expect(note).toMatchObject({
      StreamName: name,
      FragmentNumber: persisted[1],
      ProducerTimestamp: 1750000001,
      NotificationValues: ['motion'],
      FragmentMetadata: { AWS_KINESISVIDEO_NOTIFICATION: 'motion', camera: 'front-door' },
    });
    const key = Buffer.from(readFileSync(join(server.dataDir, NOTIFICATION_KEY_FILE), 'utf8').trim(), 'base64');
    expect(mine[0]!.headers['x-openkvs-signature']).toBe(`sha256=${createHmac('sha256', key).update(mine[0]!.body).digest('hex')}`);
  });

  it('notifies each image continuous image generation delivers for a fragment that asked, with where it went', async () => {
    const name = `nt-${++n}`;
    const dir = join(server.dataDir, 'images', name);
    await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 1 }));
    await kv.send(new UpdateNotificationConfigurationCommand({ StreamName: name, NotificationConfiguration: { Status: 'ENABLED', DestinationConfig: { Uri: receiverUrl } } }));
    await kv.send(
      new UpdateImageGenerationConfigurationCommand({
        StreamName: name,
        ImageGenerationConfiguration: { Status: 'ENABLED', ImageSelectorType: 'PRODUCER_TIMESTAMP', DestinationConfig: { Uri: `file://localhost${dir}`, DestinationRegion: 'us-east-1' }, SamplingInterval: 500, Format: 'JPEG' },
      }),
    );
    const before = received.length;
    const res = await putMedia(server.url, bodyWithMetadata(), { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: '1750000000.000' });
    const persisted = res.acks.filter((a) => a.EventType === 'PERSISTED').map((a) => a.FragmentNumber!);
    const images = (): Record<string, unknown>[] => received.slice(before).map((r) => JSON.parse(r.body) as Record<string, unknown>).filter((b) => b['NotificationType'] === 'IMAGE');
    await waitFor(() => images().length >= 2, 20_000);
    await new Promise((r) => setTimeout(r, 1500)); // room for any image notification that should not come
    // the one tagged fragment (the second second) holds two images at 500 ms sampling
    expect(images().map((b) => b['ProducerTimestamp'])).toEqual([1750000001, 1750000001.5]);
    for (const b of images()) {
      expect(b).toMatchObject({ StreamName: name, FragmentNumber: persisted[1], NotificationValues: ['motion'], ImageFormat: 'JPEG' });
      const location = b['ImageLocation'] as string;
      expect(location.startsWith(`file://localhost${dir}/${name}/`)).toBe(true);
      expect(readFileSync(location.slice('file://localhost'.length)).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    }
    const fragments = received.slice(before).map((r) => JSON.parse(r.body) as Record<string, unknown>).filter((b) => b['NotificationType'] === 'FRAGMENT');
    expect(fragments.map((b) => b['FragmentNumber'])).toEqual([persisted[1]]);
  });

  it('sends nothing while the configuration is DISABLED', async () => {
    const name = `nt-${++n}`;
    await kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 1 }));
    await kv.send(new UpdateNotificationConfigurationCommand({ StreamName: name, NotificationConfiguration: { Status: 'DISABLED', DestinationConfig: { Uri: receiverUrl } } }));
    const before = received.length;
    await putMedia(server.url, bodyWithMetadata(), { streamName: name, timecodeType: 'RELATIVE', producerStartTimestamp: '1750000000.000' });
    await new Promise((r) => setTimeout(r, 500));
    expect(received.length).toBe(before);
  });
});
