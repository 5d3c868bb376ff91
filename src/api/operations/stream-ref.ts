import type { StreamRef } from '../../core/stream-record.js';
import { invalidArgument } from '../../errors/codes.js';
import { PATTERNS, type Input } from '../input.js';

export const STREAM_NAME_RULE = { min: 1, max: 256, pattern: PATTERNS.name } as const;
export const ARN_RULE = { min: 1, max: 1024, pattern: PATTERNS.arn } as const;
export const VERSION_RULE = { min: 1, max: 64, pattern: PATTERNS.version } as const;

/** Read the StreamName / StreamARN pair nearly every stream operation takes. */
export function streamRef(input: Input): StreamRef {
  return { name: input.str('StreamName', STREAM_NAME_RULE), arn: input.str('StreamARN', ARN_RULE) };
}

// Control-plane NextToken pattern is [a-zA-Z0-9+/=]*: lists paged by name (streams, signaling channels) hand out
// base64 of the last name returned.
export const encodeNameToken = (name: string): string => Buffer.from(name, 'utf8').toString('base64');

export function decodeNameToken(token: string): string {
  const name = Buffer.from(token, 'base64').toString('utf8');
  if (!PATTERNS.name.test(name)) {
    throw invalidArgument('NextToken is not valid.');
  }
  return name;
}
