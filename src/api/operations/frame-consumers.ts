import type { FragmentReader } from '../../core/fragment-reader.js';
import type { StreamRegistry } from '../../core/stream-registry.js';
import { DEFAULT_HOOK_TIMEOUT_MS, MAX_HOOKS_PER_STREAM, type HookConfig } from '../../consumers/hook-config.js';
import type { FrameConsumers } from '../../consumers/frame-consumers.js';
import { QUEUE_CAPACITY } from '../../consumers/frame-consumer.js';
import { DEFAULT_MOTION_THRESHOLD } from '../../consumers/hooks/motion-detector.js';
import { imageGenerationOf } from '../../consumers/image-generation.js';
import { invalidArgument } from '../../errors/codes.js';
import type { Input } from '../input.js';
import type { OperationTable } from '../operation.js';
import { streamRef } from './stream-ref.js';

// openkvs extensions (docs/frames.md): hooks on a stream's continuous frame consumer, its status, and the events
// hooks put on the stream's timeline. Signed and routed like the KVS operations.

const HOOK_NAME = { min: 1, max: 64, pattern: /^[a-zA-Z0-9_.-]+$/ } as const;
const HTTP_URI = { min: 1, max: 2048, pattern: /^https?:\/\/\S+$/ } as const;
const MAX_EVENT_RESULTS = 1000;
const DEFAULT_EVENT_RESULTS = 100;

function hookConfig(h: Input): HookConfig {
  const name = h.str('Name', { ...HOOK_NAME, required: true });
  const type = h.enumOf('Type', ['MODULE', 'WEBHOOK', 'MOTION'] as const, { required: true });
  switch (type) {
    case 'MODULE':
      return { Name: name, Type: type, Module: h.str('Module', { min: 1, max: 1024, required: true }), TimeoutMs: h.int('TimeoutMs', { min: 100, max: 60_000 }) ?? DEFAULT_HOOK_TIMEOUT_MS };
    case 'WEBHOOK': {
      const secret = h.str('Secret', { min: 1, max: 256 });
      return { Name: name, Type: type, Uri: h.str('Uri', { ...HTTP_URI, required: true }), ...(secret !== undefined ? { Secret: secret } : {}) };
    }
    case 'MOTION':
      return { Name: name, Type: type, Threshold: h.num('Threshold', { min: 0.0001, max: 1 }) ?? DEFAULT_MOTION_THRESHOLD };
  }
}

const seconds = (ms: number): number => ms / 1000;

export function frameConsumerOperations(deps: { registry: StreamRegistry; consumers: FrameConsumers; reader: FragmentReader }): OperationTable {
  const { registry, consumers } = deps;
  return {
    '/openkvs/updateFrameHooks': (input) => {
      const stream = registry.resolve(streamRef(input));
      const hooks = (input.objList('Hooks', { required: true, maxItems: MAX_HOOKS_PER_STREAM }) ?? []).map(hookConfig);
      if (new Set(hooks.map((h) => h.Name)).size !== hooks.length) {
        throw invalidArgument('Hook names must be unique within a stream.');
      }
      consumers.setHooks(stream, hooks);
      return {};
    },
    '/openkvs/describeFrameConsumer': (input) => {
      const stream = registry.resolve(streamRef(input));
      const config = imageGenerationOf(stream.imageGeneration);
      const consumer = consumers.consumer(stream.id);
      const runners = consumer?.runners ?? [];
      const unavailable = config?.status === 'ENABLED' ? consumers.unavailableReason() : null;
      const ck = consumer?.checkpoint ?? consumers.checkpoints.get(stream.id);
      const newest = deps.reader.list(stream, { newestFirst: true, limit: 1 })[0];
      const hooks = consumers.hooks.get(stream.id).map((h) => {
        const r = runners.find((x) => x.sink.name === h.Name);
        const { Secret: _secret, ...shown } = h as HookConfig & { Secret?: string };
        return { ...shown, Calls: r?.stats.calls ?? 0, Errors: r?.stats.errors ?? 0, Timeouts: r?.stats.timeouts ?? 0, Events: r?.stats.events ?? 0, Dropped: r?.stats.dropped ?? 0, LastError: r?.stats.lastError ?? null };
      });
      const dest = runners.find((r) => r.sink.type === 'DESTINATION');
      const stats = consumer?.stats;
      return {
        StreamName: stream.name,
        StreamARN: stream.arn,
        Status: unavailable !== null ? 'FAILED' : consumer !== undefined ? 'RUNNING' : 'STOPPED',
        ...(unavailable !== null ? { LastError: unavailable } : stats?.lastError ? { LastError: stats.lastError } : {}),
        Hooks: hooks,
        ...(config !== null ? { Destination: { Uri: config.uri, Delivered: dest?.stats.delivered ?? 0, Errors: dest?.stats.errors ?? 0, Dropped: dest?.stats.dropped ?? 0, LastError: dest?.stats.lastError ?? null } } : {}),
        ...(ck !== undefined ? { Checkpoint: { FragmentNumber: ck.fragmentNumber, ProducerTimestamp: seconds(ck.producerTimestampMs), ServerTimestamp: seconds(ck.serverTimestampMs) } } : {}),
        FramesDecoded: stats?.framesDecoded ?? 0,
        FramesDelivered: stats?.framesDelivered ?? 0,
        FramesDropped: stats?.framesDropped ?? 0,
        FragmentsFed: stats?.fragmentsFed ?? 0,
        DecoderRestarts: stats?.decoderRestarts ?? 0,
        QueueLength: Math.max(0, ...runners.map((r) => r.queueLength)),
        QueueCapacity: QUEUE_CAPACITY,
        LagMs: ck !== undefined && newest !== undefined && consumer !== undefined ? Math.max(0, newest.serverTimestampMs + newest.durationMs - ck.serverTimestampMs) : null,
      };
    },
    '/openkvs/listFrameEvents': (input) => {
      const stream = registry.resolve(streamRef(input));
      const fromMs = input.timestamp('StartTimestamp', { required: true })!;
      const toMs = input.timestamp('EndTimestamp', { required: true })!;
      if (toMs <= fromMs) {
        throw invalidArgument('EndTimestamp must be after StartTimestamp.');
      }
      const kind = input.enumOf('TimestampType', ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const) === 'SERVER_TIMESTAMP' ? 'server' : 'producer';
      const label = input.str('Label', { min: 1, max: 128 });
      const nextToken = input.str('NextToken', { min: 1, max: 512 });
      const page = consumers.events.list(stream.id, {
        kind,
        fromMs,
        toMs,
        limit: input.int('MaxResults', { min: 1, max: MAX_EVENT_RESULTS }) ?? DEFAULT_EVENT_RESULTS,
        ...(label !== undefined ? { label } : {}),
        ...(nextToken !== undefined ? { nextToken } : {}),
      });
      return {
        Events: page.events.map((e) => ({
          EventId: String(e.id),
          HookName: e.hookName,
          Label: e.label,
          ...(e.confidence !== null ? { Confidence: e.confidence } : {}),
          ...(e.box !== null ? { Box: e.box } : {}),
          ...(e.data !== null ? { Data: e.data } : {}),
          FragmentNumber: e.fragmentNumber,
          ProducerTimestamp: seconds(e.producerTimestampMs),
          ServerTimestamp: seconds(e.serverTimestampMs),
        })),
        ...(page.nextToken !== undefined ? { NextToken: page.nextToken } : {}),
      };
    },
  };
}
