import type { AckErrorName } from './ack.js';

// What the ingest path tells an observer (src/metrics implements it). Declared here, by its caller, so ingest
// imports nothing of metrics; optional everywhere, so tests and tools build ingest without one.

/** Which fixed limit refused a PutMedia call (a refused fragment is its ERROR ack, 4013). */
export type IngestLimit = 'putmedia_calls' | 'putmedia_connections';

/** One stream's meter: the calls are per event on the upload's path, so they must stay cheap. */
export type IngestMeter = {
  connected(): void;
  disconnected(): void;
  /** Request body bytes as they arrive. */
  bytes(n: number): void;
  /** A fragment passed every check (RECEIVED): its frames, and ms from its first byte to its last. */
  received(frames: number, bytes: number, ingestMs: number): void;
  /** A fragment is durable (PERSISTED): ms from RECEIVED to it. */
  persisted(persistMs: number): void;
  ackError(error: AckErrorName): void;
  throttled(limit: IngestLimit): void;
};

export type IngestMeters = { forStream(streamName: string): IngestMeter };
