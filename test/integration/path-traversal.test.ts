import {
  CreateSignalingChannelCommand,
  CreateStreamCommand,
  DescribeSignalingChannelCommand,
  DescribeStreamCommand,
  ListStreamsCommand,
  UpdateImageGenerationConfigurationCommand,
  type KinesisVideoClient,
} from '@aws-sdk/client-kinesis-video';
import { GetHLSStreamingSessionURLCommand, ListFragmentsCommand, type KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { GetMediaCommand, KinesisVideoMediaClient } from '@aws-sdk/client-kinesis-video-media';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/media.js';
import { putMedia } from '../helpers/put-media-client.js';
import { signedPost } from '../helpers/signed-fetch.js';
import { TEST_ACCESS_KEY, TEST_SECRET, archivedClient, controlClient, startTestServer, type TestServer } from '../helpers/server.js';

// Every name, ARN and path a caller controls that could reach the filesystem or SQL, fed the usual traversal shapes
// through the real AWS SDK clients: each is refused as invalid (or, when its shape is valid, found not to exist), and
// nothing appears outside the server's data directory or under an odd name inside it.

const ACCOUNT = '000000000000';
const BAD_NAMES = ['../x', 'a/b', '..', '.', '%2e%2e', '..%2f..%2fx', 'a\u0000b', 'a\\b', '\uff43\uff41\uff4d1', 'ca\u043c1', 'x'.repeat(257), ''];
/** What an HTTP client can put in a header at all (no NUL, latin1 only). */
const BAD_HEADER_NAMES = ['../x', 'a/b', '..', '.', '%2e%2e', 'a\\b', 'x'.repeat(257)];
const BAD_ARNS = [
  `arn:aws:kinesisvideo:us-west-2:${ACCOUNT}:stream/../1`,
  `arn:aws:kinesisvideo:us-west-2:${ACCOUNT}:stream/../../etc/1`,
  `arn:aws:kinesisvideo:us-west-2:${ACCOUNT}:stream/a/../b/1`,
  `arn:aws:kinesisvideo:us-west-2:${ACCOUNT}:stream/%2e%2e/1`,
  `arn:aws:kinesisvideo:us-west-2:${ACCOUNT}:stream/x\u0000/1`,
  `arn:aws:kinesisvideo:us-west-2:${ACCOUNT}:stream/..`,
];
const MISSING_ARN = `arn:aws:kinesisvideo:us-west-2:${ACCOUNT}:stream/..x/1`;

type Tree = Set<string>;
function tree(root: string): Tree {
  const out = new Set<string>();
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true }) as { name: string; parentPath?: string; path?: string }[]) {
    out.add(relative(root, join(e.parentPath ?? e.path ?? root, e.name)));
  }
  return out;
}

describe('names, ARNs and paths are validated before any filesystem or SQL use', () => {
  let parent: string;
  let server: TestServer;
  let kv: KinesisVideoClient;
  let archived: KinesisVideoArchivedMediaClient;
  let media: KinesisVideoMediaClient;
  let before: Tree;
  let cwdBefore: Tree;

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'openkvs-traversal-'));
    // a hook module outside the hooks directory: if it were ever loaded it would leave a marker behind
    writeFileSync(join(parent, 'evil.mjs'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(join(parent, 'PWNED'))}, 'x');\nexport default () => [];\n`);
    const dataDir = join(parent, 'data');
    mkdirSync(join(dataDir, 'hooks'), { recursive: true });
    symlinkSync(join(parent, 'evil.mjs'), join(dataDir, 'hooks', 'link.mjs'));
    server = await startTestServer({}, { dataDir });
    kv = controlClient(server.url);
    archived = archivedClient(server.url, 'us-west-2');
    media = new KinesisVideoMediaClient({ endpoint: server.url, region: 'us-west-2', credentials: { accessKeyId: TEST_ACCESS_KEY, secretAccessKey: TEST_SECRET }, maxAttempts: 1 });
    await kv.send(new CreateStreamCommand({ StreamName: 'trav', DataRetentionInHours: 1 }));
    before = tree(parent);
    cwdBefore = new Set(readdirSync(dirname(process.cwd())));
  });

  afterAll(async () => {
    kv.destroy();
    archived.destroy();
    media.destroy();
    await server.stop();
    rmSync(parent, { recursive: true, force: true });
  });

  const refused = async (what: string, p: Promise<unknown>, names = ['InvalidArgumentException']): Promise<void> => {
    const err = await p.then(
      () => null,
      (e: unknown) => e as { name?: string },
    );
    expect(err?.name, what).toBeDefined();
    expect(names, `${what}: ${err?.name}`).toContain(err?.name);
  };

  it('stream names: CreateStream, DescribeStream, GetMedia, ListFragments, GetHLSStreamingSessionURL', async () => {
    for (const name of BAD_NAMES) {
      const n = JSON.stringify(name.slice(0, 20));
      await refused(`CreateStream ${n}`, kv.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 1 })));
      await refused(`DescribeStream ${n}`, kv.send(new DescribeStreamCommand({ StreamName: name })));
      await refused(`GetMedia ${n}`, media.send(new GetMediaCommand({ StreamName: name, StartSelector: { StartSelectorType: 'EARLIEST' } })));
      await refused(
        `ListFragments ${n}`,
        archived.send(new ListFragmentsCommand({ StreamName: name, FragmentSelector: { FragmentSelectorType: 'SERVER_TIMESTAMP', TimestampRange: { StartTimestamp: new Date(0), EndTimestamp: new Date() } } })),
      );
      await refused(`GetHLSStreamingSessionURL ${n}`, archived.send(new GetHLSStreamingSessionURLCommand({ StreamName: name, PlaybackMode: 'LIVE' })));
    }
    const names = (await kv.send(new ListStreamsCommand({}))).StreamInfoList?.map((s) => s.StreamName);
    expect(names).toEqual(['trav']);
  });

  it('stream ARNs with traversal segments are invalid; a valid shape that names nothing is not found', async () => {
    for (const arn of BAD_ARNS) {
      await refused(`DescribeStream ${arn}`, kv.send(new DescribeStreamCommand({ StreamARN: arn })));
      // GetMedia's model pattern for StreamARN admits "..": the lookup is a bound SQL parameter, so it is simply not found
      await refused(`GetMedia ${arn}`, media.send(new GetMediaCommand({ StreamARN: arn, StartSelector: { StartSelectorType: 'EARLIEST' } })), ['InvalidArgumentException', 'ResourceNotFoundException']);
      await refused(`GetHLSStreamingSessionURL ${arn}`, archived.send(new GetHLSStreamingSessionURLCommand({ StreamARN: arn, PlaybackMode: 'LIVE' })));
    }
    await refused('DescribeStream missing', kv.send(new DescribeStreamCommand({ StreamARN: MISSING_ARN })), ['ResourceNotFoundException']);
  });

  it('PutMedia stream-name and stream-ARN headers', async () => {
    const body = fixture('mkv/h264-5s-1s-gop.mkv');
    for (const name of BAD_HEADER_NAMES) {
      const res = await putMedia(server.url, body, { streamName: name });
      expect([res.status, res.headers['x-amzn-errortype']], name.slice(0, 20)).toEqual([400, 'InvalidArgumentException']);
    }
    for (const arn of BAD_ARNS.filter((a) => !a.includes('\u0000'))) {
      const res = await putMedia(server.url, body, { streamArn: arn });
      expect([res.status, res.headers['x-amzn-errortype']], arn).toEqual([400, 'InvalidArgumentException']);
    }
    const missing = await putMedia(server.url, body, { streamArn: MISSING_ARN });
    expect([missing.status, missing.headers['x-amzn-errortype']]).toEqual([404, 'ResourceNotFoundException']);
  });

  it('signaling channel names and ARNs', async () => {
    for (const name of BAD_NAMES) {
      await refused(`CreateSignalingChannel ${JSON.stringify(name.slice(0, 20))}`, kv.send(new CreateSignalingChannelCommand({ ChannelName: name })));
      await refused(`DescribeSignalingChannel ${JSON.stringify(name.slice(0, 20))}`, kv.send(new DescribeSignalingChannelCommand({ ChannelName: name })));
    }
    for (const arn of BAD_ARNS.map((a) => a.replace(':stream/', ':channel/'))) {
      await refused(`DescribeSignalingChannel ${arn}`, kv.send(new DescribeSignalingChannelCommand({ ChannelARN: arn })));
    }
  });

  it('image destinations: file:// and s3:// paths with traversal, NUL or backslashes', async () => {
    const uris = [
      `file://localhost${parent}/data/../escape`,
      `file://localhost${parent}/data/frames/../../escape`,
      'file://./../escape',
      'file://../escape',
      `file://localhost${parent}/es\u0000cape`,
      `file://localhost${parent}\\..\\escape`,
      's3://bucket/../other-bucket',
      's3://../other-bucket',
    ];
    for (const Uri of uris) {
      await refused(
        `UpdateImageGenerationConfiguration ${JSON.stringify(Uri)}`,
        kv.send(
          new UpdateImageGenerationConfigurationCommand({
            StreamName: 'trav',
            ImageGenerationConfiguration: { Status: 'ENABLED', ImageSelectorType: 'SERVER_TIMESTAMP', DestinationConfig: { Uri, DestinationRegion: 'us-west-2' }, SamplingInterval: 1000, Format: 'JPEG' },
          }),
        ),
      );
    }
  });

  it('frame hook modules outside the hooks directory, by path, absolute path, NUL or symbolic link', async () => {
    for (const Module of ['../evil.mjs', '../../evil.mjs', join(parent, 'evil.mjs'), '%2e%2e/evil.mjs', 'x\u0000.mjs', 'link.mjs', '..']) {
      const res = await signedPost(`${server.url}/openkvs/updateFrameHooks`, JSON.stringify({ StreamName: 'trav', Hooks: [{ Name: 'h', Type: 'MODULE', Module }] }));
      expect([res.status, res.headers.get('x-amzn-errortype')], JSON.stringify(Module)).toEqual([400, 'InvalidArgumentException']);
    }
  });

  it('afterwards: nothing new outside the data directory, and nothing under an odd name inside it', async () => {
    const after = tree(parent);
    const added = [...after].filter((p) => !before.has(p));
    expect(added.filter((p) => !p.startsWith(`data/`))).toEqual([]);
    for (const p of after) {
      expect(p, p).toMatch(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/);
      expect(p.split('/').some((s) => s === '..' || s.includes('escape') || s === 'PWNED'), p).toBe(false);
    }
    expect([...new Set(readdirSync(dirname(process.cwd())))].filter((n) => !cwdBefore.has(n))).toEqual([]);
  });
});
