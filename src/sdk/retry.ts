// What the producer does about each failure, and how long it waits before trying again.

export type RetryOptions = {
  /** Consecutive failed connections without a single PERSISTED ack before giving up. */
  maxAttempts: number;
  /** Backoff ceiling of the first retry; doubles with each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
};

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 10, baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * Exponential backoff with full jitter (a uniformly random wait between 0 and the exponential ceiling): producers
 * that lost the same server at the same moment spread out instead of reconnecting in lockstep.
 * `attempt` counts from 1; `random` returns [0, 1).
 */
export function backoffDelayMs(attempt: number, opts: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}

/**
 * How an ERROR ack is handled:
 * - `skip`: that fragment can never be accepted as it is (too long, out of order, bad timestamp); it is reported
 *   as failed and the upload goes on with the next one.
 * - `resend`: the fragment was refused for now (capacity, storage failure); the upload is drained, and after a
 *   backoff that fragment and every later unacknowledged one are sent again on a new connection.
 * - `reconnect`: the server ended the whole upload for a passing reason (shutdown, read error, connection age).
 * - `fatal`: retrying cannot help (invalid media, fragment over the size limit, stream gone, KMS); the client stops.
 */
export type AckErrorAction = 'skip' | 'resend' | 'reconnect' | 'fatal';

const ACK_ERROR_ACTIONS: ReadonlyMap<number, AckErrorAction> = new Map([
  [4000, 'reconnect'], // STREAM_READ_ERROR
  [4001, 'fatal'], // MAX_FRAGMENT_SIZE_REACHED: ends the upload, and the same bytes would be refused again
  [4002, 'skip'], // MAX_FRAGMENT_DURATION_REACHED
  [4003, 'reconnect'], // MAX_CONNECTION_DURATION_REACHED: rotate
  [4004, 'skip'], // FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS
  [4005, 'fatal'], // MORE_THAN_ONE_TRACK_FOUND
  [4006, 'fatal'], // INVALID_MKV_DATA
  [4007, 'skip'], // INVALID_PRODUCER_TIMESTAMP
  [4008, 'fatal'], // STREAM_NOT_ACTIVE
  [4009, 'fatal'], // fragment metadata limit
  [4010, 'fatal'], // block track number not in Tracks
  [4011, 'fatal'], // frames missing for a track
  [4012, 'fatal'], // too many tracks
  [4013, 'resend'], // openkvs: the stream's capacity is exhausted for now
  [4507, 'fatal'], // STREAM_DELETED
  [5000, 'reconnect'], // INTERNAL_ERROR (openkvs: shutting down)
  [5001, 'resend'], // ARCHIVAL_ERROR
]);

export function ackErrorAction(errorId: number): AckErrorAction {
  // 4500–4506 are KMS problems: not something a reconnect fixes; unknown ids are not assumed to be transient.
  return ACK_ERROR_ACTIONS.get(errorId) ?? 'fatal';
}

/** Errors answered before the upload starts (ordinary KVS error responses): only throttling (the KVS limit exceptions, 429) and 5xx are retried. */
export function httpErrorRetryable(status: number, errorType: string | undefined): boolean {
  if (status >= 500 || status === 429) {
    return true;
  }
  return errorType === 'ClientLimitExceededException' || errorType === 'ConnectionLimitExceededException';
}
