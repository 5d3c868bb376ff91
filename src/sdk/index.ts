// The openkvs producer SDK: PutMedia (absent from the AWS SDKs) with KVS-producer resilience, and a frame-level
// H.264 → Matroska writer to feed it.
export {
  PutMediaClient,
  PutMediaError,
  type FailedFragment,
  type FragmentRef,
  type PutMediaClientEvents,
  type PutMediaClientOptions,
  type PutMediaCredentials,
  type PutMediaErrorKind,
  type PutMediaSummary,
} from './put-media-client.js';
export { AckStreamError, AckStreamParser, parseAckLine, type AckEvent } from './ack-stream.js';
export { DEFAULT_RETRY, ackErrorAction, backoffDelayMs, httpErrorRetryable, type AckErrorAction, type RetryOptions } from './retry.js';
export { MediaUnitSplitter, sealCluster, type MediaUnit } from './media-units.js';
export { H264FrameWriter, type H264FrameWriterOptions, type H264TrackOptions } from './frame-writer.js';
export {
  annexBToAvcc,
  buildAvcDecoderConfig,
  parseSps,
  splitAccessUnit,
  splitAnnexB,
  splitAvcc,
  toLengthPrefixed,
  type SpsInfo,
} from './h264.js';
