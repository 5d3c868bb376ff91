import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app.js';
import type { OperationTable } from './api/operation.js';
import { archivedMediaOperations } from './api/operations/archived-media.js';
import { getMediaOperations } from './api/operations/get-media.js';
import { streamConfigOperations } from './api/operations/stream-configs.js';
import { streamOperations } from './api/operations/streams.js';
import { tagOperations } from './api/operations/tags.js';
import { unsupportedOperations } from './api/operations/unsupported.js';
import { loadOrCreateRootCredentials, type Credentials } from './auth/credentials.js';
import { consoleRouter } from './console/console-route.js';
import { SigV4Verifier } from './auth/sigv4-verifier.js';
import type { Config } from './conf/config.js';
import { ReadLimits } from './core/read-limits.js';
import { StreamRegistry } from './core/stream-registry.js';
import { chooseParser } from './ingest/choose-parser.js';
import { LimiterRegistry } from './ingest/limiter-registry.js';
import { PutMediaService } from './ingest/put-media-route.js';
import { RetentionSweeper } from './retention/retention-sweeper.js';
import { openDatabase, type Db } from './store/database.js';
import { EmbeddedFragmentStore } from './store/embedded/embedded-fragment-store.js';
import { KmsService } from './kms/kms-service.js';
import { loadOrCreateMasterKey } from './kms/master-key.js';
import { SecretBox } from './iam/secret-box.js';
import { kmsKeyOperations } from './api/operations/kms-keys.js';
import type { FragmentStore } from './store/fragment-store.js';
import { MemoryBuffer } from './store/memory-buffer.js';
import { FragmentReader } from './core/fragment-reader.js';
import { FragmentFeed } from './stream/fragment-feed.js';
import { getClipOperations } from './api/operations/get-clip.js';
import { getImagesOperations } from './api/operations/get-images.js';
import type { FfmpegBinary } from './frames/ffmpeg-binary.js';
import { ImageSampler } from './frames/image-sampler.js';
import { streamingSessionOperations } from './api/operations/streaming-sessions.js';
import { packager } from './playback/packager.js';
import { PlaybackService } from './playback/playback-service.js';
import { playbackRouter } from './playback/playback-routes.js';
import { loadOrCreateSecretKey, NOTIFICATION_KEY_FILE, SESSION_KEY_FILE } from './util/secret-key.js';
import { FragmentNotifier } from './notifications/fragment-notifier.js';
import { FrameConsumers } from './consumers/frame-consumers.js';
import { frameConsumerOperations } from './api/operations/frame-consumers.js';
import { webrtcStorageOperations } from './api/operations/webrtc-storage.js';
import { alexaOfferOperations } from './api/operations/alexa-offer.js';
import { StorageSessions } from './webrtc/storage-sessions.js';
import { ffmpegAacEncoder } from './webrtc/aac-encoder.js';
import { mkdirSync } from 'node:fs';
import { ChannelRegistry } from './signaling/channel-registry.js';
import { SignalingHub, iceRefreshAfterMs } from './signaling/signaling-hub.js';
import { signalingUpgrade } from './signaling/signaling-socket.js';
import { signalingChannelOperations } from './api/operations/signaling-channels.js';
import { signalingRelayOperations } from './api/operations/signaling-relay.js';
import { RelayService } from './webrtc/relay-service.js';
import { peerSettingsOf } from './webrtc/peer-config.js';
import { join, resolve } from 'node:path';
import { SessionTokens } from './playback/session-token.js';
import { systemClock, type Clock } from './util/clock.js';
import { ClientKeys } from './util/client-key.js';
import { ClientRateLimiter } from './util/client-rate-limiter.js';
import { createLogger, type Logger } from './util/logger.js';
import { serverTls, type ServerTls } from './tls/server-tls.js';
import { refusePlainHttp } from './tls/plain-http-refusal.js';
import { AccessKeyStore } from './iam/access-keys.js';
import { Authorizer } from './iam/authorizer.js';
import { accessKeyOperations } from './api/operations/access-keys.js';
import { OpenKvsMetrics } from './metrics/openkvs-metrics.js';
import { meterOperations } from './metrics/metered-operations.js';

export type StartOptions = {
  clock?: Clock;
  logger?: Logger;
  /** How long shutdown waits for in-flight requests before cutting connections. */
  shutdownGraceMs?: number;
  /** The ffmpeg that decodes images (frames/ffmpeg-binary.ts findFfmpeg); GetImages fails clearly without one. */
  ffmpeg?: FfmpegBinary | null;
};

export type RunningServer = {
  /** Base URL clients use (http(s)://host:port). */
  url: string;
  /** With TLS and httpPort set: the plain-HTTP listener's base URL; otherwise null. */
  httpUrl: string | null;
  /** The certificate the main port serves (its file is the CA bundle clients need when self-signed); null without TLS. */
  tls: Omit<ServerTls, 'cert' | 'key'> | null;
  port: number;
  credentials: Credentials;
  credentialsGenerated: boolean;
  credentialsPath: string | null;
  registry: StreamRegistry;
  store: FragmentStore;
  buffer: MemoryBuffer;
  retention: RetentionSweeper;
  feed: FragmentFeed;
  reader: FragmentReader;
  /** WebRTC ingestion: one recording peer per channel (JoinStorageSession). */
  storage: StorageSessions;
  channels: ChannelRegistry;
  hub: SignalingHub;
  relay: RelayService;
  close(): Promise<void>;
};

/** Composition root: build every component from the validated config and start listening. */
export async function startOpenKvs(config: Readonly<Config>, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel, undefined, { format: config.logFormat });
  const db: Db = openDatabase(config.dataDir);
  const configured = config.accessKeyId !== null && config.secretAccessKey !== null ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } : null;
  const creds = loadOrCreateRootCredentials(config.dataDir, configured);
  const registry = new StreamRegistry(db, { region: config.region, accountId: config.accountId, clock });

  const master = loadOrCreateMasterKey(config.dataDir, config.masterKeyFile);
  if (master.generated) {
    logger.info('generated the master key of encryption at rest: back it up, the stored media cannot be read without it (docs/encryption.md)', { path: master.path });
  }
  const accessKeys = new AccessKeyStore(db, clock, new SecretBox(master.key), logger.child('iam'));
  const kms = new KmsService(db, {
    master: master.key,
    region: config.region,
    accountId: config.accountId,
    encrypt: config.encryption === 'on',
    kmsKeyRefOf: (id) => registry.byId(id)?.kmsKeyId,
    kmsKeyRefsInUse: () => registry.all().map((s) => s.kmsKeyId),
    now: () => clock.now(),
  });
  const masterProblem = kms.checkMasterKey();
  if (masterProblem !== null) {
    logger.warn('the master key does not open the stored keys: encrypted streams answer KMS errors until the right one is configured', { path: master.path, problem: masterProblem });
  }
  const store = new EmbeddedFragmentStore(db, config.dataDir, clock, kms.cipher);
  if (store.recovery.lostSegments > 0) {
    logger.warn('segment files named by the index are missing: their fragments were dropped from the index (docs/operations.md, restore)', store.recovery);
  }
  const buffer = new MemoryBuffer();
  const metrics = new OpenKvsMetrics({ registry, nowMs: () => clock.now() });
  const retention = new RetentionSweeper(registry, metrics.countingExpiry(store), buffer, clock, logger.child('retention'));
  const reader = new FragmentReader(store, buffer, clock, (id) => kms.cipher.assertReadable(id));
  const feed = new FragmentFeed((f, bytes) => reader.remember(f, bytes));
  // one limiter per stream, shared by PutMedia and WebRTC recordings: both draw on the same capacity
  const limiters = new LimiterRegistry(registry, config.putMediaCallsPerSecond, clock);
  const putMedia = new PutMediaService({
    registry,
    store,
    buffer,
    limiters,
    clock,
    chooseParser,
    feed,
    idleTimeoutMs: config.putMediaIdleTimeoutSeconds * 1000,
    log: logger.child('ingest'),
    meters: metrics.ingest,
  });

  let verifier: SigV4Verifier | null = null;
  if (config.auth === 'on') {
    // Signature skew is judged against the real wall clock, whatever clock drives retention and rates.
    verifier = new SigV4Verifier((id) => (id === creds.credentials.accessKeyId ? creds.credentials : accessKeys.credentialsOf(id)), () => Date.now());
  } else {
    logger.warn('AUTH IS OFF: every request is accepted without a signature. Use only for throwaway local testing.');
  }

  const tokens = new SessionTokens(loadOrCreateSecretKey(config.dataDir, SESSION_KEY_FILE));
  const notificationKey = loadOrCreateSecretKey(config.dataDir, NOTIFICATION_KEY_FILE);
  const notifier = new FragmentNotifier({ registry, feed, key: notificationKey, log: logger.child('notifications') });
  const ffmpeg = options.ffmpeg ?? null;
  const playback = new PlaybackService({ registry, reader, tokens, clock, packager });
  const hooksDir = resolve(config.hooksDir ?? join(config.dataDir, 'hooks'));
  mkdirSync(hooksDir, { recursive: true });
  const consumers = new FrameConsumers({
    db,
    registry,
    reader,
    feed,
    ffmpeg,
    clock,
    log: logger.child('frames'),
    hooksDir,
    s3:
      config.s3Endpoint === null
        ? null
        : { endpoint: config.s3Endpoint, region: config.s3Region ?? config.region, accessKeyId: config.s3AccessKeyId ?? '', secretAccessKey: config.s3SecretAccessKey ?? '' },
    signingKey: notificationKey,
    cwd: process.cwd(),
    notifier,
  });

  const channels = new ChannelRegistry(db, { region: config.region, accountId: config.accountId, clock });
  const authorizer = new Authorizer({
    keys: accessKeys,
    rootAccessKeyId: creds.credentials.accessKeyId,
    region: config.region,
    accountId: config.accountId,
    streamArnOf: (name) => registry.find({ name })?.arn,
    channelArnOf: (name) => channels.findByName(name)?.arn,
    log: logger.child('iam'),
  });
  const hub = new SignalingHub(
    channels,
    {
      maxViewers: config.signalingMaxViewers,
      idleTimeoutMs: config.signalingIdleTimeoutSeconds * 1000,
      maxConnectionMs: config.signalingMaxConnectionSeconds * 1000,
      goAwayGraceMs: 60_000,
      iceRefreshAfterMs: config.turnUris.length > 0 && config.turnSecret !== null ? iceRefreshAfterMs(config.turnCredentialTtlSeconds) : null,
    },
    logger.child('signaling'),
  );
  const relay = new RelayService({ hub, channels, peer: peerSettingsOf(config), log: logger.child('relay') });
  relay.start();

  const storage = new StorageSessions({ hub, channels, webrtc: config, writer: { registry, store, buffer, feed, limiters, clock }, aacEncoder: ffmpegAacEncoder(ffmpeg), now: () => clock.now(), log: logger.child('webrtc-storage') });

  const served: OperationTable = {
    ...streamOperations({ registry, defaultCapacity: () => config.streamCapacity, region: config.region, now: () => clock.now() }),
    ...tagOperations({ registry, resourceExists: (arn) => registry.find({ arn }) !== undefined || channels.find(arn) !== undefined }),
    ...signalingChannelOperations({ channels, registry, ice: { turnUris: config.turnUris, turnSecret: config.turnSecret, ttlSeconds: config.turnCredentialTtlSeconds }, now: () => clock.now() }),
    ...webrtcStorageOperations({ channels, sessions: storage }),
    ...streamConfigOperations(registry, config.region),
    ...getMediaOperations({ registry, reader, feed, limits: new ReadLimits(config.getMediaCallsPerSecond, clock), clock, meter: metrics.getMedia }),
    ...archivedMediaOperations({ registry, reader }),
    ...streamingSessionOperations({ registry, reader, tokens, clock, packager }),
    ...getClipOperations({ registry, reader, packager }),
    ...kmsKeyOperations({ kms }),
    ...getImagesOperations({ registry, sampler: ffmpeg === null ? null : new ImageSampler(reader, () => ffmpeg.path) }),
    ...frameConsumerOperations({ registry, consumers, reader }),
    ...signalingRelayOperations({ channels, relay }),
    ...alexaOfferOperations({ channels, hub }),
    ...accessKeyOperations({ keys: accessKeys }),
  };
  const operations: OperationTable = meterOperations({ ...served, ...unsupportedOperations(new Set(Object.keys(served))) }, metrics.metrics, registry);
  metrics.attach({ registry, store, buffer, db, feed, reader, consumers, channels, relay, storage, nowMs: () => clock.now() });

  let ready = false;
  // one table for HTTP and signaling upgrades: a client's budget is the same whichever door it knocks on
  const clientLimiter = new ClientRateLimiter(config.requestsPerSecondPerClient, config.requestBurstPerClient, clock, undefined, new ClientKeys(config.trustedProxies));
  clientLimiter.onRefused = (limit) => metrics.metrics.clientThrottles.inc({ limit });
  hub.onMessageRefused = () => metrics.metrics.clientThrottles.inc({ limit: 'signaling_messages' });
  const app = createApp({ logger, verifier, authorizer, operations, streamingRoutes: { '/putMedia': putMedia.route }, routers: [metrics.router({ verifier, authorizer, token: config.metricsToken }, { db, dataDir: config.dataDir, minFreeDiskBytes: config.minFreeDiskBytes, accepting: () => ready && server.listening }), playbackRouter(playback), consoleRouter({ region: config.region })], publicUrl: config.publicUrl, isReady: () => ready, clientLimiter });
  const tls = await serverTls(config, logger.child('tls'));
  const server: Server = tls === null ? createServer(app) : refusePlainHttp(createTlsServer(tls, app));
  // plain HTTP beside TLS only when asked for, and on a port of its own: the TLS port never answers in clear
  const plain: Server | null = tls !== null && config.httpPort !== null ? createServer(app) : null;
  // PutMedia streams for hours, and Node's default 5-minute requestTimeout aborts any request still uploading by
  // then. Bodies read whole have their own bound (readBody), stalled uploads putMediaIdleTimeoutSeconds; headersTimeout stays.
  for (const s of plain === null ? [server] : [server, plain]) {
    s.requestTimeout = 0;
  }
  const upgrade = signalingUpgrade({ hub, channels, verifier, authorizer, log: logger.child('signaling'), accessLog: logger.child('http'), clientLimiter });
  server.on('upgrade', (req, socket, head) => {
    if (!upgrade(req, socket, head as Buffer)) {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    }
  });
  // signaling over ws:// on the plain port: the same handler, whichever socket the upgrade came in on
  plain?.on('upgrade', (req, socket, head) => server.emit('upgrade', req, socket, head));
  await listen(server, config.port, config.host);
  if (plain !== null) {
    await listen(plain, config.httpPort ?? 0, config.host);
  }
  retention.start();
  consumers.start();
  ready = true;
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const urlHost = host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host;
  const url = `${tls === null ? 'http' : 'https'}://${urlHost}:${port}`;
  const httpUrl = plain === null ? null : `http://${urlHost}:${(plain.address() as AddressInfo).port}`;
  logger.info('listening', { url, httpUrl, dataDir: config.dataDir, region: config.region, auth: config.auth });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ready = false;
      await putMedia.closeAll();
      await storage.close();
      notifier.close();
      relay.close();
      hub.close();
      await consumers.close();
      await Promise.all([server, plain].map((s) => (s === null ? undefined : closeServer(s, options.shutdownGraceMs ?? 5000))));
      await retention.close();
      await store.close();
      db.close();
      logger.info('stopped');
    })();
    return closing;
  };

  return {
    url,
    httpUrl,
    tls: tls === null ? null : { certFile: tls.certFile, selfSigned: tls.selfSigned, generated: tls.generated },
    port,
    credentials: creds.credentials,
    credentialsGenerated: creds.generated,
    credentialsPath: creds.path,
    registry,
    store,
    buffer,
    retention,
    feed,
    reader,
    storage,
    channels,
    hub,
    relay,
    close,
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting; in-flight requests get graceMs to finish before their connections are cut. */
function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
