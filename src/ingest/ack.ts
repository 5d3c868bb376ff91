// PutMedia acknowledgement events: one JSON object per line, keys exactly as the KVS producer SDKs (PIC) and the
// Java PutMedia client parse them (kvs-api.md §3.1): EventType, FragmentTimecode (bare number), FragmentNumber
// (string), ErrorId (bare number), ErrorCode.

import { KMS_ACK_ERRORS, type KmsProblem } from '../errors/kms-error.js';

export const AckErrorId = {
  STREAM_READ_ERROR: 4000,
  MAX_FRAGMENT_SIZE_REACHED: 4001,
  MAX_FRAGMENT_DURATION_REACHED: 4002,
  MAX_CONNECTION_DURATION_REACHED: 4003,
  FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS: 4004,
  INVALID_MKV_DATA: 4006,
  INVALID_PRODUCER_TIMESTAMP: 4007,
  STREAM_NOT_ACTIVE: 4008,
  FRAGMENT_METADATA_LIMIT_REACHED: 4009,
  /** openkvs: the stream's fixed capacity (fragments/s, bytes/s or byte budget) is exhausted; no ErrorCode is sent. */
  CAPACITY_EXCEEDED: 4013,
  ...KMS_ACK_ERRORS,
  INTERNAL_ERROR: 5000,
  ARCHIVAL_ERROR: 5001,
} as const;

export type AckErrorName = keyof typeof AckErrorId;

/** The symbolic ErrorCode the Java client knows; only sent for ids it has an enum value for. */
const JAVA_ERROR_CODES = new Set<AckErrorName>([
  'STREAM_READ_ERROR',
  'MAX_FRAGMENT_SIZE_REACHED',
  'MAX_FRAGMENT_DURATION_REACHED',
  'MAX_CONNECTION_DURATION_REACHED',
  'FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS',
  'INVALID_MKV_DATA',
  'INVALID_PRODUCER_TIMESTAMP',
  'STREAM_NOT_ACTIVE',
  ...(Object.keys(KMS_ACK_ERRORS) as KmsProblem[]),
  'INTERNAL_ERROR',
  'ARCHIVAL_ERROR',
]);

export type Ack =
  | { type: 'BUFFERING' | 'RECEIVED' | 'PERSISTED'; timecode: number; fragmentNumber: string }
  | { type: 'IDLE' }
  | { type: 'ERROR'; error: AckErrorName; timecode?: number; fragmentNumber?: string };

export function formatAck(ack: Ack): string {
  switch (ack.type) {
    case 'IDLE':
      return '{"EventType":"IDLE"}\n';
    case 'ERROR': {
      const parts = ['"EventType":"ERROR"'];
      if (ack.timecode !== undefined) {
        parts.push(`"FragmentTimecode":${ack.timecode}`);
      }
      if (ack.fragmentNumber !== undefined) {
        parts.push(`"FragmentNumber":"${ack.fragmentNumber}"`);
      }
      parts.push(`"ErrorId":${AckErrorId[ack.error]}`);
      if (JAVA_ERROR_CODES.has(ack.error)) {
        parts.push(`"ErrorCode":"${ack.error}"`);
      }
      return `{${parts.join(',')}}\n`;
    }
    default:
      return `{"EventType":"${ack.type}","FragmentTimecode":${ack.timecode},"FragmentNumber":"${ack.fragmentNumber}"}\n`;
  }
}
