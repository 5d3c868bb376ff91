import { KinesisVideoClient, ListStreamsCommand, CreateStreamCommand, DescribeStreamCommand, ListTagsForStreamCommand, UpdateImageGenerationConfigurationCommand, DescribeImageGenerationConfigurationCommand } from '@aws-sdk/client-kinesis-video';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { controlClient, startTestServer } from '../helpers/server.js';

const dataDir = mkdtempSync(join(tmpdir(), 'openkvs-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('restart on the same data dir', () => {
  it('keeps streams, tags and configurations', async () => {
    const first = await startTestServer({}, { dataDir });
    let kv = controlClient(first.url);
    const arn = (await kv.send(new CreateStreamCommand({ StreamName: 'persist', DataRetentionInHours: 5, Tags: { k: 'v' } }))).StreamARN;
    await kv.send(
      new UpdateImageGenerationConfigurationCommand({
        StreamName: 'persist',
        ImageGenerationConfiguration: { Status: 'ENABLED', ImageSelectorType: 'PRODUCER_TIMESTAMP', DestinationConfig: { Uri: 's3://b/p', DestinationRegion: 'us-east-1' }, SamplingInterval: 500, Format: 'PNG' },
      }),
    );
    const before = (await kv.send(new DescribeStreamCommand({ StreamName: 'persist' }))).StreamInfo;
    kv.destroy();
    await first.close();

    const second = await startTestServer({}, { dataDir });
    kv = controlClient(second.url);
    const after = (await kv.send(new DescribeStreamCommand({ StreamName: 'persist' }))).StreamInfo;
    expect(after).toEqual(before);
    expect(after?.StreamARN).toBe(arn);
    expect((await kv.send(new ListTagsForStreamCommand({ StreamName: 'persist' }))).Tags).toEqual({ k: 'v' });
    expect((await kv.send(new DescribeImageGenerationConfigurationCommand({ StreamName: 'persist' }))).ImageGenerationConfiguration?.Format).toBe('PNG');
    kv.destroy();
    await second.close();
  });

  it('generates root credentials once, mode 0600, and reuses them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openkvs-creds-'));
    const a = await startTestServer({ accessKeyId: undefined, secretAccessKey: undefined }, { dataDir: dir });
    expect(a.credentialsGenerated).toBe(true);
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
    await a.close();
    const b = await startTestServer({ accessKeyId: undefined, secretAccessKey: undefined }, { dataDir: dir });
    expect(b.credentialsGenerated).toBe(false);
    expect(b.credentials).toEqual(a.credentials);
    const kv = new KinesisVideoClient({ endpoint: b.url, region: 'us-east-1', credentials: b.credentials, maxAttempts: 1 });
    expect((await kv.send(new ListStreamsCommand({}))).StreamInfoList).toEqual([]);
    kv.destroy();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
