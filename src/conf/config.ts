// The configuration schema, its defaults and its one-time validation.
// Layers: defaults → config file (JSON) → environment (OPENKVS_*) → command-line flags; validated once, then frozen.

export type StreamCapacity = {
  /** Sustained ingest rate per stream (KVS: 12.5 MB/s per PutMedia session). */
  ingestBytesPerSecond: number;
  /** Fragments per second per stream (KVS: 5). */
  fragmentsPerSecond: number;
  /** Concurrent PutMedia connections per stream. */
  putMediaConnections: number;
  /** Largest fragment accepted (KVS: 50 MB → ack 4001). */
  maxFragmentBytes: number;
  /** Longest fragment accepted (KVS quota: 20 s → ack 4002). */
  maxFragmentDurationMs: number;
  /** Optional cap on the bytes a stream may hold; null = only retention limits it. */
  storageBudgetBytes: number | null;
  /** Concurrent GetMedia connections per stream. */
  getMediaConnections: number;
  /** Delivery rate of one GetMedia session (KVS: 25 MB/s); faster consumers are paced, not failed. */
  readBytesPerSecond: number;
};

export type LogLevelSetting = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export type Config = {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  accountId: string;
  /** 'on' (default) enforces SigV4 on every request; 'off' is for throwaway local use only. */
  auth: 'on' | 'off';
  /** Base URL handed out by GetDataEndpoint; derived from the listening address when unset. */
  publicUrl: string | null;
  logLevel: LogLevelSetting;
  /** 'auto' (default): human-readable lines when stderr is a terminal, one JSON object per line otherwise. */
  logFormat: 'auto' | 'json' | 'pretty';
  accessKeyId: string | null;
  secretAccessKey: string | null;
  /** Per-stream capacity given to new streams. */
  streamCapacity: StreamCapacity;
  /** PutMedia calls per second per stream (KVS: 5) → ClientLimitExceededException. */
  putMediaCallsPerSecond: number;
  /** GetMedia calls per second per stream (KVS: 5) → ClientLimitExceededException. */
  getMediaCallsPerSecond: number;
  /** Seconds without data after which a PutMedia request is closed (KVS: 30). */
  putMediaIdleTimeoutSeconds: number;
  /** Sustained requests per second one client (access key id, else address) may make on any route → ClientLimitExceededException. */
  requestsPerSecondPerClient: number;
  /** Requests one client may make at once above that rate. */
  requestBurstPerClient: number;
  /** Reverse proxies (addresses, CIDR subnets) whose X-Forwarded-For names the client for per-address limits. */
  trustedProxies: string[];
  /** Directory whose JS/TS modules may be registered as frame hooks; null = `<dataDir>/hooks`. */
  hooksDir: string | null;
  /** S3-compatible endpoint for `s3://` image destinations (path-style), e.g. http://127.0.0.1:9000. */
  s3Endpoint: string | null;
  s3Region: string | null;
  s3AccessKeyId: string | null;
  s3SecretAccessKey: string | null;
  /** PEM files: when both are set the one port serves HTTPS and WSS, and every endpoint handed out says so. */
  tlsCert: string | null;
  tlsKey: string | null;
  /**
   * Serve HTTPS and WSS with a certificate generated into `<dataDir>/tls/` on first start and reused after
   * (docs/tls.md); exclusive with tlsCert/tlsKey.
   */
  tlsSelfSigned: boolean;
  /** With TLS on, a second port serving plain HTTP and WS as well; null = none (the TLS port never speaks plain HTTP). */
  httpPort: number | null;
  /** TURN server URIs GetIceServerConfig returns (comma-separated in env/flags), e.g. turn:host:3478?transport=udp. */
  turnUris: string[];
  /** Shared secret of the TURN server (coturn `use-auth-secret`): GetIceServerConfig hands out time-limited credentials. */
  turnSecret: string | null;
  /**
   * Lifetime of those credentials (GetIceServerConfig's Ttl; KVS: 300). With turnUris and turnSecret set, a
   * signaling client still connected near its end is sent RECONNECT_ICE_SERVER (docs/signaling.md).
   */
  turnCredentialTtlSeconds: number;
  /** Viewers one signaling channel accepts at once (KVS: 10). */
  signalingMaxViewers: number;
  /** A signaling connection silent this long is closed (KVS: 600). */
  signalingIdleTimeoutSeconds: number;
  /** A signaling connection gets GO_AWAY after this long, and is closed a minute later (KVS: 3600). */
  signalingMaxConnectionSeconds: number;
  /** stun:/turn: URIs the server's own WebRTC peers (storage, relay) gather through; none by default. */
  webrtcIceServers: string[];
  /** Extra host addresses the server's peers offer as candidates, e.g. 127.0.0.1 (werift skips loopback). */
  webrtcHostAddresses: string[];
  /** Tests and single-machine development: the server's peers pair and answer 127.0.0.1 candidates only. */
  webrtcLoopbackOnly: boolean;
  /** 'on' (default, as KVS always encrypts): new fragments are sealed with AES-256-GCM under per-stream data keys (docs/encryption.md). */
  encryption: 'on' | 'off';
  /** The master key that wraps every KMS key's material; null = `<dataDir>/master.key`, generated on first start. */
  masterKeyFile: string | null;
  /** `Authorization: Bearer <token>` reads /metrics (Prometheus cannot sign SigV4); null = signed GETs only. */
  metricsToken: string | null;
  /** /ready answers 503 when the data dir's file system has less free space than this. */
  minFreeDiskBytes: number;
};

export const DEFAULT_PORT = 8080;

export const DEFAULT_STREAM_CAPACITY: StreamCapacity = {
  ingestBytesPerSecond: 12_500_000,
  fragmentsPerSecond: 5,
  putMediaConnections: 5,
  maxFragmentBytes: 50 * 1024 * 1024,
  maxFragmentDurationMs: 20_000,
  storageBudgetBytes: null,
  getMediaConnections: 10,
  readBytesPerSecond: 25_000_000,
};

export const DEFAULT_CONFIG: Config = {
  host: '127.0.0.1',
  port: DEFAULT_PORT,
  dataDir: './data',
  region: 'us-east-1',
  accountId: '000000000000',
  auth: 'on',
  publicUrl: null,
  logLevel: 'info',
  logFormat: 'auto',
  accessKeyId: null,
  secretAccessKey: null,
  streamCapacity: DEFAULT_STREAM_CAPACITY,
  putMediaCallsPerSecond: 5,
  getMediaCallsPerSecond: 5,
  putMediaIdleTimeoutSeconds: 30,
  requestsPerSecondPerClient: 500,
  requestBurstPerClient: 1000,
  trustedProxies: [],
  hooksDir: null,
  s3Endpoint: null,
  s3Region: null,
  s3AccessKeyId: null,
  s3SecretAccessKey: null,
  tlsCert: null,
  tlsKey: null,
  tlsSelfSigned: false,
  httpPort: null,
  turnUris: [],
  turnSecret: null,
  turnCredentialTtlSeconds: 300,
  signalingMaxViewers: 100,
  signalingIdleTimeoutSeconds: 600,
  signalingMaxConnectionSeconds: 3600,
  webrtcIceServers: [],
  webrtcHostAddresses: [],
  webrtcLoopbackOnly: false,
  encryption: 'on',
  masterKeyFile: null,
  metricsToken: null,
  minFreeDiskBytes: 1024 * 1024 * 1024,
};

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
