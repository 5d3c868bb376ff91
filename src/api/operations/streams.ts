import type { StreamCapacity } from '../../conf/config.js';
import type { StreamRecord } from '../../core/stream-record.js';
import type { StreamRegistry } from '../../core/stream-registry.js';
import { PATTERNS, type Input } from '../input.js';
import { checkCapacityChange, mergeCapacity } from '../../core/capacity.js';
import { epochSeconds, type OperationTable } from '../operation.js';
import { ARN_RULE, STREAM_NAME_RULE, VERSION_RULE, decodeNameToken as decodeToken, encodeNameToken as encodeToken, streamRef } from './stream-ref.js';
import { TAG_MAP_RULE } from './tags.js';

export type StreamsDeps = {
  registry: StreamRegistry;
  defaultCapacity: () => StreamCapacity;
  region: string;
  now: () => number;
};

/** openkvs extension member on CreateStream/UpdateStream: {"Capacity": {"fragmentsPerSecond": 10, …}}. */
function capacityMember(input: Input): Record<string, unknown> | undefined {
  return input.rawObject(CAPACITY_MEMBER);
}

export const CAPACITY_MEMBER = 'Capacity';

const DEVICE_RULE = { min: 1, max: 128, pattern: PATTERNS.name } as const;
const MEDIA_TYPE_RULE = { min: 1, max: 128, pattern: PATTERNS.mediaType } as const;
const API_NAMES = [
  'PUT_MEDIA',
  'GET_MEDIA',
  'LIST_FRAGMENTS',
  'GET_MEDIA_FOR_FRAGMENT_LIST',
  'GET_HLS_STREAMING_SESSION_URL',
  'GET_DASH_STREAMING_SESSION_URL',
  'GET_CLIP',
  'GET_IMAGES',
] as const;
const LIST_STREAMS_DEFAULT = 10_000;

export function streamInfo(s: StreamRecord, region: string): Record<string, unknown> {
  return {
    DeviceName: s.deviceName ?? undefined,
    StreamName: s.name,
    StreamARN: s.arn,
    MediaType: s.mediaType ?? undefined,
    KmsKeyId: s.kmsKeyId ?? `arn:aws:kms:${region}:${s.arn.split(':')[4] ?? ''}:alias/aws/kinesisvideo`,
    Version: s.version,
    Status: s.status,
    CreationTime: epochSeconds(s.creationTimeMs),
    DataRetentionInHours: s.retentionHours,
    // openkvs extensions (the SDKs ignore members they do not model)
    Capacity: s.capacity,
    CapacityChangesLast24h: s.capacityChanges.length,
  };
}

export function streamOperations(deps: StreamsDeps): OperationTable {
  const { registry } = deps;
  return {
    '/createStream': (input) => {
      const storage = input.obj('StreamStorageConfiguration');
      const stream = registry.create({
        name: input.str('StreamName', { ...STREAM_NAME_RULE, required: true }),
        deviceName: input.str('DeviceName', DEVICE_RULE),
        mediaType: input.str('MediaType', MEDIA_TYPE_RULE),
        kmsKeyId: input.str('KmsKeyId', { min: 1, max: 2048, pattern: PATTERNS.kmsKeyId }),
        retentionHours: input.int('DataRetentionInHours', { min: 0 }) ?? 0,
        tags: input.strMap('Tags', TAG_MAP_RULE) ?? {},
        storageTier: storage?.enumOf('DefaultStorageTier', ['HOT', 'WARM'] as const, { required: true }) ?? 'HOT',
        capacity: capacityMember(input) === undefined ? deps.defaultCapacity() : mergeCapacity(deps.defaultCapacity(), capacityMember(input) ?? {}),
      });
      return { StreamARN: stream.arn };
    },

    '/describeStream': (input) => ({ StreamInfo: streamInfo(registry.resolve(streamRef(input)), deps.region) }),

    '/listStreams': (input) => {
      const max = input.int('MaxResults', { min: 1, max: 10_000 }) ?? LIST_STREAMS_DEFAULT;
      const token = input.str('NextToken', { min: 0, max: 1024, pattern: PATTERNS.nextToken });
      const cond = input.obj('StreamNameCondition');
      cond?.enumOf('ComparisonOperator', ['BEGINS_WITH'] as const);
      const prefix = cond?.str('ComparisonValue', { min: 1, max: 256, pattern: PATTERNS.name });
      const afterName = token ? decodeToken(token) : undefined;
      const page = registry.list({ maxResults: max, afterName, prefix });
      const last = page.streams.at(-1);
      return {
        StreamInfoList: page.streams.map((s) => streamInfo(s, deps.region)),
        NextToken: page.more && last !== undefined ? encodeToken(last.name) : undefined,
      };
    },

    '/deleteStream': (input) => {
      const arn = input.str('StreamARN', { ...ARN_RULE, required: true });
      registry.delete(arn, input.str('CurrentVersion', VERSION_RULE));
      return {};
    },

    '/updateStream': (input) => {
      const ref = streamRef(input);
      let version = input.str('CurrentVersion', { ...VERSION_RULE, required: true });
      const deviceName = input.str('DeviceName', DEVICE_RULE);
      const mediaType = input.str('MediaType', MEDIA_TYPE_RULE);
      const capacity = capacityMember(input);
      if (capacity !== undefined) {
        const s = registry.resolve(ref);
        const next = mergeCapacity(s.capacity, capacity);
        registry.setCapacity(ref, version, next, checkCapacityChange(s.capacity, next, s.capacityChanges, deps.now()));
        if (deviceName === undefined && mediaType === undefined) {
          return {};
        }
        version = registry.resolve(ref).version;
      }
      registry.update(ref, version, { deviceName, mediaType });
      return {};
    },

    '/updateDataRetention': (input) => {
      const ref = streamRef(input);
      const version = input.str('CurrentVersion', { ...VERSION_RULE, required: true });
      const op = input.enumOf('Operation', ['INCREASE_DATA_RETENTION', 'DECREASE_DATA_RETENTION'] as const, { required: true });
      const hours = input.int('DataRetentionChangeInHours', { required: true, min: 1 });
      registry.updateRetention(ref, version, op, hours);
      return {};
    },

    '/getDataEndpoint': (input, ctx) => {
      input.enumOf('APIName', API_NAMES, { required: true });
      registry.resolve(streamRef(input));
      return { DataEndpoint: ctx.baseUrl };
    },
  };
}

