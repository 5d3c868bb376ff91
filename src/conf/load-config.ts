import { readFileSync } from 'node:fs';
import { isProxyEntry } from '../util/client-key.js';
import { ConfigError, DEFAULT_CONFIG, DEFAULT_STREAM_CAPACITY, type Config, type StreamCapacity } from './config.js';

/** Raw, unvalidated layers; values may be strings (env, flags) or JSON values (file). */
export type ConfigLayer = Record<string, unknown>;

export const ENV_KEYS: Record<string, string> = {
  OPENKVS_HOST: 'host',
  OPENKVS_PORT: 'port',
  OPENKVS_DATA_DIR: 'dataDir',
  OPENKVS_REGION: 'region',
  OPENKVS_ACCOUNT_ID: 'accountId',
  OPENKVS_AUTH: 'auth',
  OPENKVS_PUBLIC_URL: 'publicUrl',
  OPENKVS_LOG_LEVEL: 'logLevel',
  OPENKVS_LOG_FORMAT: 'logFormat',
  OPENKVS_ACCESS_KEY_ID: 'accessKeyId',
  OPENKVS_SECRET_ACCESS_KEY: 'secretAccessKey',
  OPENKVS_PUT_MEDIA_CALLS_PER_SECOND: 'putMediaCallsPerSecond',
  OPENKVS_PUT_MEDIA_IDLE_TIMEOUT_SECONDS: 'putMediaIdleTimeoutSeconds',
  OPENKVS_GET_MEDIA_CALLS_PER_SECOND: 'getMediaCallsPerSecond',
  OPENKVS_REQUESTS_PER_SECOND_PER_CLIENT: 'requestsPerSecondPerClient',
  OPENKVS_REQUEST_BURST_PER_CLIENT: 'requestBurstPerClient',
  OPENKVS_TRUSTED_PROXIES: 'trustedProxies',
  OPENKVS_HOOKS_DIR: 'hooksDir',
  OPENKVS_S3_ENDPOINT: 's3Endpoint',
  OPENKVS_S3_REGION: 's3Region',
  OPENKVS_S3_ACCESS_KEY_ID: 's3AccessKeyId',
  OPENKVS_S3_SECRET_ACCESS_KEY: 's3SecretAccessKey',
  OPENKVS_TLS_CERT: 'tlsCert',
  OPENKVS_TLS_KEY: 'tlsKey',
  OPENKVS_TLS_SELF_SIGNED: 'tlsSelfSigned',
  OPENKVS_HTTP_PORT: 'httpPort',
  OPENKVS_TURN_URIS: 'turnUris',
  OPENKVS_TURN_SECRET: 'turnSecret',
  OPENKVS_TURN_CREDENTIAL_TTL_SECONDS: 'turnCredentialTtlSeconds',
  OPENKVS_SIGNALING_MAX_VIEWERS: 'signalingMaxViewers',
  OPENKVS_SIGNALING_IDLE_TIMEOUT_SECONDS: 'signalingIdleTimeoutSeconds',
  OPENKVS_SIGNALING_MAX_CONNECTION_SECONDS: 'signalingMaxConnectionSeconds',
  OPENKVS_WEBRTC_ICE_SERVERS: 'webrtcIceServers',
  OPENKVS_WEBRTC_HOST_ADDRESSES: 'webrtcHostAddresses',
  OPENKVS_WEBRTC_LOOPBACK_ONLY: 'webrtcLoopbackOnly',
  OPENKVS_ENCRYPTION: 'encryption',
  OPENKVS_MASTER_KEY_FILE: 'masterKeyFile',
  OPENKVS_METRICS_TOKEN: 'metricsToken',
  OPENKVS_MIN_FREE_DISK_BYTES: 'minFreeDiskBytes',
};

export function envLayer(env: NodeJS.ProcessEnv): ConfigLayer {
  const layer: ConfigLayer = {};
  for (const [envKey, key] of Object.entries(ENV_KEYS)) {
    const v = env[envKey];
    if (v !== undefined && v !== '') {
      layer[key] = v;
    }
  }
  return layer;
}

export function fileLayer(path: string): ConfigLayer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`config file ${path}: ${(err as Error).message}`]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('top level must be a JSON object');
    }
    return parsed as ConfigLayer;
  } catch (err) {
    throw new ConfigError([`config file ${path}: ${(err as Error).message}`]);
  }
}

const CONFIG_KEYS = new Set(Object.keys(DEFAULT_CONFIG));
const CAPACITY_KEYS = new Set(Object.keys(DEFAULT_STREAM_CAPACITY));

/** Merge the layers (later wins), validate everything at once and freeze the result. */
export function resolveConfig(...layers: ConfigLayer[]): Readonly<Config> {
  const problems: string[] = [];
  const merged: ConfigLayer = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (!CONFIG_KEYS.has(k)) {
        problems.push(`unknown setting "${k}"`);
        continue;
      }
      merged[k] = v;
    }
  }
  const v = new Validator(problems);
  const d = DEFAULT_CONFIG;
  const config: Config = {
    host: v.str(merged, 'host', d.host, /^[A-Za-z0-9.:_-]+$/),
    port: v.int(merged, 'port', d.port, 0, 65535),
    dataDir: v.str(merged, 'dataDir', d.dataDir, /^.+$/),
    region: v.str(merged, 'region', d.region, /^[a-z]{2}(-[a-z]+)+-\d$/),
    accountId: v.str(merged, 'accountId', d.accountId, /^\d{12}$/),
    auth: v.oneOf(merged, 'auth', d.auth, ['on', 'off'] as const),
    publicUrl: v.optStr(merged, 'publicUrl', /^https?:\/\/[^/\s]+(\/[^\s]*[^/\s])?$/, 'an http(s) URL without a trailing slash'),
    logLevel: v.oneOf(merged, 'logLevel', d.logLevel, ['debug', 'info', 'warn', 'error', 'silent'] as const),
    logFormat: v.oneOf(merged, 'logFormat', d.logFormat, ['auto', 'json', 'pretty'] as const),
    accessKeyId: v.optStr(merged, 'accessKeyId', /^[A-Z0-9]{16,128}$/, '16-128 upper-case letters or digits'),
    secretAccessKey: v.optStr(merged, 'secretAccessKey', /^\S{16,128}$/, '16-128 non-space characters'),
    streamCapacity: v.capacity(merged['streamCapacity']),
    putMediaCallsPerSecond: v.int(merged, 'putMediaCallsPerSecond', d.putMediaCallsPerSecond, 1, 100_000),
    putMediaIdleTimeoutSeconds: v.int(merged, 'putMediaIdleTimeoutSeconds', d.putMediaIdleTimeoutSeconds, 1, 3600),
    getMediaCallsPerSecond: v.int(merged, 'getMediaCallsPerSecond', d.getMediaCallsPerSecond, 1, 100_000),
    requestsPerSecondPerClient: v.int(merged, 'requestsPerSecondPerClient', d.requestsPerSecondPerClient, 1, 1_000_000),
    requestBurstPerClient: v.int(merged, 'requestBurstPerClient', d.requestBurstPerClient, 1, 1_000_000),
    trustedProxies: v.proxyList(merged, 'trustedProxies'),
    hooksDir: v.optStr(merged, 'hooksDir', /^.+$/, 'a directory path'),
    s3Endpoint: v.optStr(merged, 's3Endpoint', /^https?:\/\/[^/\s]+\/?$/, 'an http(s) URL with no path'),
    s3Region: v.optStr(merged, 's3Region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'a region name'),
    s3AccessKeyId: v.optStr(merged, 's3AccessKeyId', /^\S{3,128}$/, '3-128 non-space characters'),
    s3SecretAccessKey: v.optStr(merged, 's3SecretAccessKey', /^\S{3,128}$/, '3-128 non-space characters'),
    tlsCert: v.optStr(merged, 'tlsCert', /^.+$/, 'a PEM certificate file path'),
    tlsKey: v.optStr(merged, 'tlsKey', /^.+$/, 'a PEM private key file path'),
    tlsSelfSigned: v.bool(merged, 'tlsSelfSigned', d.tlsSelfSigned),
    httpPort: merged['httpPort'] === undefined || merged['httpPort'] === null ? null : v.intValue('httpPort', merged['httpPort'], 0, 0, 65535),
    turnUris: v.uriList(merged, 'turnUris', /^turns?:[^\s,]+$/),
    turnSecret: v.optStr(merged, 'turnSecret', /^\S{8,256}$/, '8-256 non-space characters'),
    turnCredentialTtlSeconds: v.int(merged, 'turnCredentialTtlSeconds', d.turnCredentialTtlSeconds, 5, 86_400),
    signalingMaxViewers: v.int(merged, 'signalingMaxViewers', d.signalingMaxViewers, 1, 100_000),
    signalingIdleTimeoutSeconds: v.int(merged, 'signalingIdleTimeoutSeconds', d.signalingIdleTimeoutSeconds, 1, 86_400),
    signalingMaxConnectionSeconds: v.int(merged, 'signalingMaxConnectionSeconds', d.signalingMaxConnectionSeconds, 1, 7 * 86_400),
    webrtcIceServers: v.uriList(merged, 'webrtcIceServers', /^(stuns?|turns?):[^\s,]+$/),
    webrtcHostAddresses: v.uriList(merged, 'webrtcHostAddresses', /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/),
    webrtcLoopbackOnly: v.bool(merged, 'webrtcLoopbackOnly', d.webrtcLoopbackOnly),
    encryption: v.oneOf(merged, 'encryption', d.encryption, ['on', 'off'] as const),
    masterKeyFile: v.optStr(merged, 'masterKeyFile', /^.+$/, 'a file path'),
    metricsToken: v.optStr(merged, 'metricsToken', /^[A-Za-z0-9._~+/=-]{16,512}$/, '16-512 characters of a bearer token (letters, digits, ._~+/=-)'),
    minFreeDiskBytes: v.int(merged, 'minFreeDiskBytes', d.minFreeDiskBytes, 0, Number.MAX_SAFE_INTEGER),
  };
  if ((config.accessKeyId === null) !== (config.secretAccessKey === null)) {
    problems.push('accessKeyId and secretAccessKey must be set together (OPENKVS_ACCESS_KEY_ID / OPENKVS_SECRET_ACCESS_KEY)');
  }
  if ((config.tlsCert === null) !== (config.tlsKey === null)) {
    problems.push('tlsCert and tlsKey must be set together (--tls-cert / --tls-key)');
  }
  if (config.tlsSelfSigned && config.tlsCert !== null) {
    problems.push('tlsSelfSigned and tlsCert/tlsKey are exclusive: serve either the given certificate or a generated one');
  }
  if (config.httpPort !== null && config.tlsCert === null && !config.tlsSelfSigned) {
    problems.push('httpPort needs TLS on the main port (tlsCert/tlsKey or tlsSelfSigned): without it the main port already serves plain HTTP');
  }
  if (config.httpPort !== null && config.httpPort !== 0 && config.httpPort === config.port) {
    problems.push(`httpPort and port must differ (both ${config.port})`);
  }
  if ((config.s3AccessKeyId === null) !== (config.s3SecretAccessKey === null)) {
    problems.push('s3AccessKeyId and s3SecretAccessKey must be set together');
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return deepFreeze(config);
}

class Validator {
  constructor(private readonly problems: string[]) {}

  str(src: ConfigLayer, key: string, def: string, pattern: RegExp): string {
    const raw = src[key];
    if (raw === undefined) {
      return def;
    }
    if (typeof raw !== 'string' || !pattern.test(raw)) {
      this.problems.push(`${key}: expected a string matching ${pattern}, got ${JSON.stringify(raw)}`);
      return def;
    }
    return raw;
  }

  optStr(src: ConfigLayer, key: string, pattern: RegExp, what: string): string | null {
    const raw = src[key];
    if (raw === undefined || raw === null) {
      return null;
    }
    if (typeof raw !== 'string' || !pattern.test(raw)) {
      this.problems.push(`${key}: expected ${what}, got ${JSON.stringify(raw)}`);
      return null;
    }
    return raw;
  }

  int(src: ConfigLayer, key: string, def: number, min: number, max: number): number {
    return this.intValue(key, src[key], def, min, max) ?? def;
  }

  intValue(key: string, raw: unknown, def: number, min: number, max: number): number | null {
    if (raw === undefined) {
      return def;
    }
    const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return null;
    }
    return n;
  }

  /** Addresses or CIDR subnets (IPv4 or IPv6): a JSON array, or one comma-separated string. */
  proxyList(src: ConfigLayer, key: string): string[] {
    const raw = src[key];
    if (raw === undefined || raw === null || raw === '') {
      return [];
    }
    const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
    if (!Array.isArray(list) || !list.every((e): e is string => typeof e === 'string' && isProxyEntry(e))) {
      this.problems.push(`${key}: expected IP addresses or CIDR subnets (10.0.0.1, 10.0.0.0/8, fd00::/8), got ${JSON.stringify(raw)}`);
      return [];
    }
    return list;
  }

  /** A list of URIs: a JSON array, or one comma-separated string (environment, flags). */
  uriList(src: ConfigLayer, key: string, pattern: RegExp): string[] {
    const raw = src[key];
    if (raw === undefined || raw === null || raw === '') {
      return [];
    }
    const list = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : raw;
    if (!Array.isArray(list) || !list.every((u): u is string => typeof u === 'string' && pattern.test(u))) {
      this.problems.push(`${key}: expected URIs matching ${pattern}, got ${JSON.stringify(raw)}`);
      return [];
    }
    return list;
  }

  /** true/false, or their spellings in an environment variable or flag. */
  bool(src: ConfigLayer, key: string, def: boolean): boolean {
    const raw = src[key];
    if (raw === undefined) {
      return def;
    }
    if (raw === true || raw === 'true' || raw === '1') {
      return true;
    }
    if (raw === false || raw === 'false' || raw === '0') {
      return false;
    }
    this.problems.push(`${key}: expected true or false, got ${JSON.stringify(raw)}`);
    return def;
  }

  oneOf<T extends string>(src: ConfigLayer, key: string, def: T, allowed: readonly T[]): T {
    const raw = src[key];
    if (raw === undefined) {
      return def;
    }
    if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${key}: expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
      return def;
    }
    return raw as T;
  }

  capacity(raw: unknown): StreamCapacity {
    const d = DEFAULT_STREAM_CAPACITY;
    if (raw === undefined) {
      return d;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.problems.push('streamCapacity: expected an object');
      return d;
    }
    const src = raw as ConfigLayer;
    for (const k of Object.keys(src)) {
      if (!CAPACITY_KEYS.has(k)) {
        this.problems.push(`streamCapacity: unknown setting "${k}"`);
      }
    }
    const int = (k: keyof StreamCapacity, def: number, min: number, max: number): number =>
      this.intValue(`streamCapacity.${k}`, src[k], def, min, max) ?? def;
    const budget = src['storageBudgetBytes'];
    return {
      ingestBytesPerSecond: int('ingestBytesPerSecond', d.ingestBytesPerSecond, 1024, 10_000_000_000),
      fragmentsPerSecond: int('fragmentsPerSecond', d.fragmentsPerSecond, 1, 10_000),
      putMediaConnections: int('putMediaConnections', d.putMediaConnections, 1, 10_000),
      maxFragmentBytes: int('maxFragmentBytes', d.maxFragmentBytes, 1024, 1024 * 1024 * 1024),
      maxFragmentDurationMs: int('maxFragmentDurationMs', d.maxFragmentDurationMs, 100, 3_600_000),
      storageBudgetBytes:
        budget === undefined || budget === null ? null : this.intValue('streamCapacity.storageBudgetBytes', budget, 0, 1, Number.MAX_SAFE_INTEGER),
      getMediaConnections: int('getMediaConnections', d.getMediaConnections, 1, 10_000),
      readBytesPerSecond: int('readBytesPerSecond', d.readBytesPerSecond, 1024, 10_000_000_000),
    };
  }
}

function deepFreeze<T>(obj: T): Readonly<T> {
  if (typeof obj === 'object' && obj !== null) {
    for (const v of Object.values(obj)) {
      deepFreeze(v);
    }
    Object.freeze(obj);
  }
  return obj;
}
