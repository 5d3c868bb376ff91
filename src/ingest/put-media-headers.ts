import { PATTERNS } from '../api/input.js';
import { invalidArgument } from '../errors/codes.js';

export type TimecodeType = 'ABSOLUTE' | 'RELATIVE';

export type PutMediaHeaders = {
  streamName?: string;
  streamArn?: string;
  timecodeType: TimecodeType;
  /** Epoch ms the producer started; for RELATIVE timecodes the base of every producer timestamp. */
  producerStartMs: number;
  ackRequired: boolean;
  contentType: string | undefined;
};

type HeaderBag = Record<string, string | string[] | undefined>;

const one = (h: HeaderBag, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Validate PutMedia headers before the 200 is sent (errors here are ordinary KVS errors).
 * Without x-amzn-fragment-timecode-type the upload is taken as RELATIVE to its start (what a plain
 * `curl --data-binary @clip.mkv` expects); without a start timestamp the request's arrival time is used.
 */
export function parsePutMediaHeaders(h: HeaderBag, arrivalMs: number): PutMediaHeaders {
  const streamName = one(h, 'x-amzn-stream-name');
  const streamArn = one(h, 'x-amzn-stream-arn');
  if (streamName === undefined && streamArn === undefined) {
    throw invalidArgument('PutMedia needs an x-amzn-stream-name or x-amzn-stream-arn header.');
  }
  if (streamName !== undefined && streamArn !== undefined) {
    throw invalidArgument('Specify either x-amzn-stream-name or x-amzn-stream-arn, but not both.');
  }
  if (streamName !== undefined && (streamName.length > 256 || !PATTERNS.name.test(streamName))) {
    throw invalidArgument(`x-amzn-stream-name is not a valid stream name: ${streamName.slice(0, 80)}`);
  }
  if (streamArn !== undefined && (streamArn.length > 1024 || !PATTERNS.arn.test(streamArn))) {
    throw invalidArgument(`x-amzn-stream-arn is not a valid stream ARN: ${streamArn.slice(0, 80)}`);
  }
  const type = one(h, 'x-amzn-fragment-timecode-type') ?? 'RELATIVE';
  if (type !== 'ABSOLUTE' && type !== 'RELATIVE') {
    throw invalidArgument(`x-amzn-fragment-timecode-type must be ABSOLUTE or RELATIVE, got ${type.slice(0, 40)}.`);
  }
  const start = one(h, 'x-amzn-producer-start-timestamp');
  const producerStartMs = start === undefined ? arrivalMs : parseProducerTimestamp(start);
  const ack = one(h, 'x-amzn-fragment-acknowledgment-required') ?? '1';
  if (ack !== '0' && ack !== '1') {
    throw invalidArgument('x-amzn-fragment-acknowledgment-required must be 1 or 0.');
  }
  return {
    ...(streamName !== undefined ? { streamName } : {}),
    ...(streamArn !== undefined ? { streamArn } : {}),
    timecodeType: type,
    producerStartMs,
    ackRequired: ack === '1',
    contentType: one(h, 'content-type'),
  };
}

/**
 * "seconds.millis". The KVS producer SDKs format it with "%llu.%llu" and do not zero-pad the millisecond part,
 * so a fraction of one to three digits is an integer count of milliseconds ("1700000000.5" = 5 ms); longer
 * fractions are read as a decimal fraction of a second.
 */
export function parseProducerTimestamp(s: string): number {
  const m = /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(s.trim());
  if (m === null) {
    throw invalidArgument(`x-amzn-producer-start-timestamp must be seconds[.millis], got ${s.slice(0, 40)}.`);
  }
  const seconds = Number(m[1]);
  const frac = m[2];
  if (frac === undefined) {
    return seconds * 1000;
  }
  const ms = frac.length <= 3 ? Number(frac) : Math.round(Number(`0.${frac}`) * 1000);
  return seconds * 1000 + ms;
}
