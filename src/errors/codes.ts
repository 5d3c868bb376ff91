// The one registry of error names openkvs sends, with their HTTP status.
// Names and statuses follow the KVS service models (kvs-api.md §1.5); docs/errors.md lists the same table
// and test/unit/errors/codes.test.ts keeps the two in sync.

export const ERROR_STATUS = {
  // KVS modelled exceptions
  InvalidArgumentException: 400,
  ClientLimitExceededException: 400,
  ResourceNotFoundException: 404,
  ResourceInUseException: 400,
  AccountStreamLimitExceededException: 400,
  InvalidResourceFormatException: 400,
  TagsPerResourceExceededLimitException: 400,
  VersionMismatchException: 400,
  NoDataRetentionException: 400,
  NotAuthorizedException: 401,
  AccessDeniedException: 401,
  InvalidEndpointException: 400,
  ConnectionLimitExceededException: 400,
  UnsupportedStreamMediaTypeException: 400,
  MissingCodecPrivateDataException: 400,
  InvalidCodecPrivateDataException: 400,
  InvalidMediaFrameException: 400,
  AccountChannelLimitExceededException: 400,
  InvalidClientException: 400,
  SessionExpiredException: 400,
  // Encryption-at-rest key problems on JSON reads (docs/encryption.md): the names Kinesis Data Streams uses, as the
  // kinesis-video models name none; PutMedia reports the same problems as ack ErrorIds 4500–4506
  KMSAccessDeniedException: 400,
  KMSDisabledException: 400,
  KMSInvalidStateException: 400,
  KMSNotFoundException: 400,
  // AWS front-door (authentication) errors
  MissingAuthenticationTokenException: 403,
  IncompleteSignatureException: 403,
  InvalidSignatureException: 403,
  UnrecognizedClientException: 403,
  // Requests that never reach an operation
  SerializationException: 400,
  UnknownOperationException: 404,
  UnsupportedOperationException: 501,
  RequestEntityTooLargeException: 413,
  InternalFailure: 500,
  ServiceUnavailableException: 503,
} as const;

export type ErrorName = keyof typeof ERROR_STATUS;

/** An error that travels to the client as a KVS-shaped response. */
export class KvsError extends Error {
  readonly errorName: ErrorName;
  readonly status: number;

  /** `status` only where a service models the same name with another status (AccessDeniedException: 401 or 403). */
  constructor(errorName: ErrorName, message: string, status?: number) {
    super(message);
    this.name = 'KvsError';
    this.errorName = errorName;
    this.status = status ?? ERROR_STATUS[errorName];
  }
}

export const invalidArgument = (message: string): KvsError => new KvsError('InvalidArgumentException', message);
export const notFound = (message: string): KvsError => new KvsError('ResourceNotFoundException', message);
