import type { StreamRef } from '../../core/stream-record.js';
import { PATTERNS, type Input } from '../input.js';

export const STREAM_NAME_RULE = { min: 1, max: 256, pattern: PATTERNS.name } as const;
export const ARN_RULE = { min: 1, max: 1024, pattern: PATTERNS.arn } as const;
export const VERSION_RULE = { min: 1, max: 64, pattern: PATTERNS.version } as const;

/** Read the StreamName / StreamARN pair nearly every stream operation takes. */
export function streamRef(input: Input): StreamRef {
  return { name: input.str('StreamName', STREAM_NAME_RULE), arn: input.str('StreamARN', ARN_RULE) };
}
