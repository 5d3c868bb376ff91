import type { StreamRegistry } from '../../core/stream-registry.js';
import { KvsError, invalidArgument } from '../../errors/codes.js';
import type { ImageSampler } from '../../frames/image-sampler.js';
import type { Input } from '../input.js';
import { epochSeconds, type OperationTable } from '../operation.js';
import { streamRef } from './stream-ref.js';

export type GetImagesDeps = { registry: StreamRegistry; sampler: ImageSampler | null };

const SELECTOR_TYPES = ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const;
const FORMATS = ['JPEG', 'PNG'] as const;
const MAX_RANGE_MS = 300_000;
const MIN_INTERVAL_MS = 200;
/** The model gives no default interval; KVS image generation's default sampling is 3 s. */
const DEFAULT_INTERVAL_MS = 3000;
/** KVS: "The default limit is 25 images per API response. Providing a MaxResults greater than this value will result in a page size of 25." */
const PAGE_SIZE = 25;
const DEFAULT_JPEG_QUALITY = 80;
const NEXT_TOKEN_RULE = { min: 1, max: 4096, pattern: /^[a-zA-Z0-9+/]+={0,2}$/ } as const;

/** What a NextToken carries: the request it continues, and the index of the next sample time. */
type Token = { arn: string; kind: 'S' | 'P'; from: number; to: number; every: number; next: number };

/** GetImages: one entry per sample time in the range — an image (base64) or NO_MEDIA / MEDIA_ERROR. */
export function getImagesOperations(deps: GetImagesDeps): OperationTable {
  return {
    '/getImages': async (input) => {
      const ref = streamRef(input);
      const type = input.enumOf('ImageSelectorType', SELECTOR_TYPES, { required: true });
      const fromMs = input.timestamp('StartTimestamp', { required: true }) ?? 0;
      const toMs = input.timestamp('EndTimestamp', { required: true }) ?? 0;
      const every = input.int('SamplingInterval', { min: 1 }) ?? DEFAULT_INTERVAL_MS;
      const format = input.enumOf('Format', FORMATS, { required: true });
      const quality = jpegQuality(input);
      const width = input.int('WidthPixels', { min: 1, max: 3840 });
      const height = input.int('HeightPixels', { min: 1, max: 2160 });
      const max = input.int('MaxResults', { min: 1, max: 100 }) ?? PAGE_SIZE;
      const tokenText = input.str('NextToken', NEXT_TOKEN_RULE);
      if (every < MIN_INTERVAL_MS) {
        throw invalidArgument(`SamplingInterval must be at least ${MIN_INTERVAL_MS} ms.`);
      }
      if (toMs < fromMs || toMs - fromMs > MAX_RANGE_MS) {
        throw invalidArgument('EndTimestamp must not be before StartTimestamp nor more than 300 seconds after it.');
      }
      const stream = deps.registry.resolve(ref);
      if (stream.retentionHours === 0) {
        throw new KvsError('NoDataRetentionException', `Stream ${stream.name} keeps no data (DataRetentionInHours is 0), so it has no images.`);
      }
      if (deps.sampler === null) {
        throw new KvsError('InternalFailure', 'No ffmpeg binary was found (set FFMPEG_PATH or install ffmpeg).');
      }
      const kind = type === 'PRODUCER_TIMESTAMP' ? 'P' : 'S';
      let next = 0;
      if (tokenText !== undefined) {
        const t = decodeToken(tokenText);
        if (t.arn !== stream.arn || t.kind !== kind || t.from !== fromMs || t.to !== toMs || t.every !== every) {
          throw invalidArgument('NextToken does not belong to this stream and request.');
        }
        next = t.next;
      }
      // Sample times: from the start every interval up to the end; a range shorter than the interval gives the start.
      const total = Math.floor((toMs - fromMs) / every) + 1;
      const count = Math.min(Math.min(max, PAGE_SIZE), total - next);
      const times = Array.from({ length: Math.max(0, count) }, (_, i) => fromMs + (next + i) * every);
      const sampled = await deps.sampler.sample(stream, kind === 'P' ? 'producer' : 'server', times, every, { format, quality, width, height });
      const after = next + times.length;
      return {
        Images: sampled.map((s) => ({
          TimeStamp: epochSeconds(s.timestampMs),
          ...(s.image !== undefined ? { ImageContent: Buffer.from(s.image).toString('base64') } : { Error: s.error }),
        })),
        NextToken: after < total ? encodeToken({ arn: stream.arn, kind, from: fromMs, to: toMs, every, next: after }) : undefined,
      };
    },
  };
}

function jpegQuality(input: Input): number {
  const config = input.strMap('FormatConfig', { key: { min: 1, max: 64 }, value: { min: 0, max: 256 } });
  const raw = config?.['JPEGQuality'];
  if (config !== undefined && Object.keys(config).some((k) => k !== 'JPEGQuality')) {
    throw invalidArgument('FormatConfig accepts only JPEGQuality.');
  }
  if (raw === undefined) {
    return DEFAULT_JPEG_QUALITY;
  }
  const q = Number(raw);
  if (!/^[0-9]{1,3}$/.test(raw) || q < 1 || q > 100) {
    throw invalidArgument('FormatConfig.JPEGQuality must be an integer from 1 to 100.');
  }
  return q;
}

function encodeToken(t: Token): string {
  return Buffer.from(JSON.stringify(t), 'utf8').toString('base64');
}

function decodeToken(text: string): Token {
  const bad = (): Error => invalidArgument('NextToken is not a token this server issued.');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) {
    throw bad();
  }
  try {
    const t = JSON.parse(bytes.toString('utf8')) as Partial<Token>;
    const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
    if (typeof t.arn !== 'string' || (t.kind !== 'S' && t.kind !== 'P') || !num(t.from) || !num(t.to) || !num(t.every) || !num(t.next)) {
      throw bad();
    }
    return t as Token;
  } catch {
    throw bad();
  }
}
