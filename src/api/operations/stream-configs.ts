import type { StreamRegistry } from '../../core/stream-registry.js';
import { destinationOf } from '../../consumers/image-generation.js';
import { invalidArgument } from '../../errors/codes.js';
import type { Input } from '../input.js';
import type { OperationTable } from '../operation.js';
import { VERSION_RULE, streamRef } from './stream-ref.js';

// Image generation, notification and storage-tier configurations, validated and stored; the frame consumers
// (src/consumers) and the notifier (src/notifications) act on them.

const URI_RULE = { min: 1, max: 255, pattern: /^[a-zA-Z_0-9]+:(\/\/)?([^/]+)\/?([^*]*)$/ } as const;
const REGION_RULE = { min: 9, max: 14, pattern: /^[a-z]+(-[a-z]+)?-[a-z]+-[0-9]$/ } as const;
const STATUS = ['ENABLED', 'DISABLED'] as const;

function imageGenerationConfig(cfg: Input, streamRegion: string): Record<string, unknown> {
  const dest = cfg.obj('DestinationConfig', { required: true });
  const destinationRegion = dest.str('DestinationRegion', { ...REGION_RULE, required: true });
  if (destinationRegion !== streamRegion) {
    throw invalidArgument(`DestinationRegion ${destinationRegion} must match the stream's region ${streamRegion}.`);
  }
  const formatConfig = cfg.strMap('FormatConfig', { minItems: 1, value: { min: 0, max: 256, pattern: /^[a-zA-Z_0-9]+/ } });
  if (formatConfig !== undefined) {
    const keys = Object.keys(formatConfig);
    if (keys.length !== 1 || keys[0] !== 'JPEGQuality') {
      throw invalidArgument('FormatConfig accepts exactly one key: JPEGQuality.');
    }
    const q = Number(formatConfig['JPEGQuality']);
    if (!Number.isInteger(q) || q < 1 || q > 100) {
      throw invalidArgument('FormatConfig.JPEGQuality must be an integer from 1 to 100.');
    }
  }
  const uri = dest.str('Uri', { ...URI_RULE, required: true });
  if (destinationOf(uri, '.') === null) {
    throw invalidArgument('DestinationConfig.Uri must be s3://bucket[/prefix], http(s)://…, file://./dir or file://localhost/dir.');
  }
  return {
    Status: cfg.enumOf('Status', STATUS, { required: true }),
    ImageSelectorType: cfg.enumOf('ImageSelectorType', ['SERVER_TIMESTAMP', 'PRODUCER_TIMESTAMP'] as const, { required: true }),
    DestinationConfig: { Uri: uri, DestinationRegion: destinationRegion },
    SamplingInterval: cfg.int('SamplingInterval', { required: true, min: 200, max: 20_000 }),
    Format: cfg.enumOf('Format', ['JPEG', 'PNG'] as const, { required: true }),
    FormatConfig: formatConfig,
    WidthPixels: cfg.int('WidthPixels', { min: 1, max: 3840 }),
    HeightPixels: cfg.int('HeightPixels', { min: 1, max: 2160 }),
  };
}

function notificationConfig(cfg: Input): Record<string, unknown> {
  const dest = cfg.obj('DestinationConfig', { required: true });
  return {
    Status: cfg.enumOf('Status', STATUS, { required: true }),
    DestinationConfig: { Uri: dest.str('Uri', { ...URI_RULE, required: true }) },
  };
}

export function streamConfigOperations(registry: StreamRegistry, region: string): OperationTable {
  return {
    '/describeImageGenerationConfiguration': (input) => {
      const s = registry.resolve(streamRef(input));
      return s.imageGeneration === null ? {} : { ImageGenerationConfiguration: s.imageGeneration };
    },
    '/updateImageGenerationConfiguration': (input) => {
      const ref = streamRef(input);
      const cfg = input.obj('ImageGenerationConfiguration');
      registry.setConfiguration(ref, 'image_generation_json', cfg === undefined ? null : imageGenerationConfig(cfg, region));
      return {};
    },
    '/describeNotificationConfiguration': (input) => {
      const s = registry.resolve(streamRef(input));
      return s.notification === null ? {} : { NotificationConfiguration: s.notification };
    },
    '/updateNotificationConfiguration': (input) => {
      const ref = streamRef(input);
      const cfg = input.obj('NotificationConfiguration');
      registry.setConfiguration(ref, 'notification_json', cfg === undefined ? null : notificationConfig(cfg));
      return {};
    },
    '/describeStreamStorageConfiguration': (input) => {
      const s = registry.resolve(streamRef(input));
      return { StreamName: s.name, StreamARN: s.arn, StreamStorageConfiguration: { DefaultStorageTier: s.storageTier } };
    },
    '/updateStreamStorageConfiguration': (input) => {
      const ref = streamRef(input);
      const version = input.str('CurrentVersion', { ...VERSION_RULE, required: true });
      const tier = input.obj('StreamStorageConfiguration', { required: true }).enumOf('DefaultStorageTier', ['HOT', 'WARM'] as const, { required: true });
      registry.updateStorageTier(ref, version, tier);
      return {};
    },
  };
}
