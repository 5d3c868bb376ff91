import { createHmac } from 'node:crypto';
import type { StreamRegistry } from '../../core/stream-registry.js';
import { KvsError, invalidArgument } from '../../errors/codes.js';
import { DEFAULT_MESSAGE_TTL_SECONDS, type ChannelRecord, type ChannelRegistry } from '../../signaling/channel-registry.js';
import { SIGNALING_PATHS } from '../../signaling/signaling-socket.js';
import { PATTERNS, type Input } from '../input.js';
import type { OperationTable } from '../operation.js';
import { ARN_RULE, STREAM_NAME_RULE, VERSION_RULE, decodeNameToken, encodeNameToken, streamRef } from './stream-ref.js';
import { tagList } from './tags.js';

// The signaling-channel half of the KVS control plane (kvs-api.md §2.0 "Signaling channels", §2.1).

const TTL_RULE = { min: 5, max: 120 } as const;
const LIST_DEFAULT = 500;
const PROTOCOLS = ['WSS', 'HTTPS', 'WEBRTC'] as const;

const channelRef = (input: Input): { name?: string | undefined; arn?: string | undefined } => ({
  name: input.str('ChannelName', STREAM_NAME_RULE),
  arn: input.str('ChannelARN', ARN_RULE),
});

function channelInfo(c: ChannelRecord): Record<string, unknown> {
  return {
    ChannelName: c.name,
    ChannelARN: c.arn,
    ChannelType: c.type,
    ChannelStatus: 'ACTIVE',
    CreationTime: c.creationTimeMs / 1000,
    SingleMasterConfiguration: { MessageTtlSeconds: c.messageTtlSeconds },
    Version: c.version,
  };
}


/** ws(s):// for the WebSocket, http(s):// for the rest, from the base URL the client reached (or publicUrl). */
function endpoints(baseUrl: string): { wss: (path: string) => string; https: string } {
  return { wss: (path) => baseUrl.replace(/^http/, 'ws') + path, https: baseUrl };
}

export type IceSettings = { turnUris: string[]; turnSecret: string | null; ttlSeconds: number };

/**
 * TURN credentials in the shared-secret scheme TURN servers such as coturn check (`use-auth-secret`): the username
 * is `<expiry epoch s>:<name>`, the password base64(HMAC-SHA1(secret, username)).
 */
function turnCredentials(secret: string, name: string, ttlSeconds: number, nowMs: number): { Username: string; Password: string } {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${name}`;
  return { Username: username, Password: createHmac('sha1', secret).update(username).digest('base64') };
}

export function signalingChannelOperations(deps: { channels: ChannelRegistry; registry: StreamRegistry; ice: IceSettings; now: () => number }): OperationTable {
  const { channels, registry } = deps;
  return {
    '/v1/get-ice-server-config': (input) => {
      const c = channels.resolve({ arn: input.str('ChannelARN', { ...ARN_RULE, required: true }) });
      const clientId = input.str('ClientId', { min: 1, max: 256, pattern: PATTERNS.name });
      input.enumOf('Service', ['TURN'] as const);
      const user = input.str('Username', { min: 1, max: 256, pattern: PATTERNS.name });
      const { turnUris, turnSecret, ttlSeconds } = deps.ice;
      if (turnUris.length === 0) {
        return { IceServerList: [] };
      }
      const creds = turnSecret === null ? { Username: 'openkvs', Password: 'openkvs' } : turnCredentials(turnSecret, user ?? clientId ?? c.name, ttlSeconds, deps.now());
      return { IceServerList: [{ Uris: turnUris, ...creds, Ttl: ttlSeconds }] };
    },
    '/createSignalingChannel': (input) => {
      const name = input.str('ChannelName', { ...STREAM_NAME_RULE, required: true });
      const type = input.enumOf('ChannelType', ['SINGLE_MASTER', 'FULL_MESH'] as const) ?? 'SINGLE_MASTER';
      if (type !== 'SINGLE_MASTER') {
        throw invalidArgument('Only SINGLE_MASTER signaling channels are supported.');
      }
      const ttl = input.obj('SingleMasterConfiguration')?.int('MessageTtlSeconds', TTL_RULE) ?? DEFAULT_MESSAGE_TTL_SECONDS;
      const tags = tagList(input, { required: false, minItems: 0 });
      const c = channels.create({ name, type, messageTtlSeconds: ttl });
      if (Object.keys(tags).length > 0) {
        registry.addTags(c.arn, tags);
      }
      return { ChannelARN: c.arn };
    },
    '/describeSignalingChannel': (input) => ({ ChannelInfo: channelInfo(channels.resolve(channelRef(input))) }),
    '/listSignalingChannels': (input) => {
      const max = input.int('MaxResults', { min: 1, max: 10_000 }) ?? LIST_DEFAULT;
      const token = input.str('NextToken', { min: 0, max: 1024, pattern: PATTERNS.nextToken });
      const cond = input.obj('ChannelNameCondition');
      cond?.enumOf('ComparisonOperator', ['BEGINS_WITH'] as const);
      const prefix = cond?.str('ComparisonValue', STREAM_NAME_RULE);
      const page = channels.list({ maxResults: max, afterName: token ? decodeNameToken(token) : undefined, prefix });
      const last = page.channels.at(-1);
      return { ChannelInfoList: page.channels.map(channelInfo), NextToken: page.more && last !== undefined ? encodeNameToken(last.name) : undefined };
    },
    '/updateSignalingChannel': (input) => {
      const arn = input.str('ChannelARN', { ...ARN_RULE, required: true });
      const version = input.str('CurrentVersion', { ...VERSION_RULE, required: true });
      channels.update(arn, version, { messageTtlSeconds: input.obj('SingleMasterConfiguration')?.int('MessageTtlSeconds', TTL_RULE) });
      return {};
    },
    '/deleteSignalingChannel': (input) => {
      channels.delete(input.str('ChannelARN', { ...ARN_RULE, required: true }), input.str('CurrentVersion', VERSION_RULE));
      return {};
    },
    '/getSignalingChannelEndpoint': (input, ctx) => {
      const c = channels.resolve({ arn: input.str('ChannelARN', { ...ARN_RULE, required: true }) });
      const cfg = input.obj('SingleMasterChannelEndpointConfiguration');
      const protocols = cfg?.strList('Protocols', { minItems: 1, maxItems: 5 }) ?? ['WSS', 'HTTPS'];
      for (const p of protocols) {
        if (!(PROTOCOLS as readonly string[]).includes(p)) {
          throw invalidArgument(`Protocols must be WSS, HTTPS or WEBRTC, not ${p}.`);
        }
      }
      const role = cfg?.enumOf('Role', ['MASTER', 'VIEWER'] as const) ?? 'MASTER';
      if (protocols.includes('WEBRTC') && c.storage.status !== 'ENABLED') {
        throw invalidArgument('The WEBRTC endpoint exists only for a channel whose media storage configuration is ENABLED.');
      }
      const ep = endpoints(ctx.baseUrl);
      // exactly the protocols asked for, in the order asked (joinStorageSession samples read entry 0)
      return {
        ResourceEndpointList: protocols.map((p) => ({ Protocol: p, ResourceEndpoint: p === 'WSS' ? ep.wss(SIGNALING_PATHS[role]) : ep.https })),
      };
    },
    '/updateMediaStorageConfiguration': (input) => {
      const arn = input.str('ChannelARN', { ...ARN_RULE, required: true });
      const cfg = input.obj('MediaStorageConfiguration', { required: true });
      const status = cfg.enumOf('Status', ['ENABLED', 'DISABLED'] as const, { required: true });
      // the WebRTC samples disable with an explicit "StreamARN": null, which reads as absent
      const streamArn = cfg.str('StreamARN', ARN_RULE);
      channels.resolve({ arn });
      if (status === 'ENABLED') {
        if (streamArn === undefined) {
          throw invalidArgument('MediaStorageConfiguration.StreamARN is required to enable media storage.');
        }
        const stream = registry.resolve({ arn: streamArn });
        if (stream.retentionHours === 0) {
          throw new KvsError('NoDataRetentionException', 'The stream must have data retention enabled (DataRetentionInHours > 0).');
        }
      }
      channels.setStorage(arn, { status, streamArn: streamArn ?? null });
      return {};
    },
    '/describeMediaStorageConfiguration': (input) => {
      const c = channels.resolve(channelRef(input));
      return { MediaStorageConfiguration: { Status: c.storage.status, ...(c.storage.streamArn !== null ? { StreamARN: c.storage.streamArn } : {}) } };
    },
    '/describeMappedResourceConfiguration': (input) => {
      const stream = registry.resolve(streamRef(input));
      input.int('MaxResults', { min: 1, max: 1 });
      return { MappedResourceConfigurationList: channels.mappedTo(stream.arn).slice(0, 1).map((c) => ({ Type: 'SIGNALING_CHANNEL', ARN: c.arn })) };
    },
  };
}
