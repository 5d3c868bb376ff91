import { KvsError, type ErrorName } from './codes.js';

/** The KVS KMS problems, in ack ErrorId order (kvs-api.md §3.1: 4500–4506). */
export const KMS_ACK_ERRORS = {
  KMS_KEY_ACCESS_DENIED: 4500,
  KMS_KEY_DISABLED: 4501,
  KMS_KEY_VALIDATION_ERROR: 4502,
  KMS_KEY_UNAVAILABLE: 4503,
  KMS_KEY_INVALID_USAGE: 4504,
  KMS_KEY_INVALID_STATE: 4505,
  KMS_KEY_NOT_FOUND: 4506,
} as const;

export type KmsProblem = keyof typeof KMS_ACK_ERRORS;

const JSON_NAME: Record<KmsProblem, ErrorName> = {
  KMS_KEY_ACCESS_DENIED: 'KMSAccessDeniedException',
  KMS_KEY_DISABLED: 'KMSDisabledException',
  KMS_KEY_VALIDATION_ERROR: 'KMSInvalidStateException',
  KMS_KEY_UNAVAILABLE: 'KMSInvalidStateException',
  KMS_KEY_INVALID_USAGE: 'KMSInvalidStateException',
  KMS_KEY_INVALID_STATE: 'KMSInvalidStateException',
  KMS_KEY_NOT_FOUND: 'KMSNotFoundException',
};

/**
 * A stream's key cannot seal or open its fragments. One error, three faces: an ERROR ack at PutMedia, an error
 * chunk in GetMedia output (AWS_KINESISVIDEO_ERROR_ID), and a KVS-shaped JSON error everywhere else.
 */
export class KmsKeyError extends KvsError {
  readonly problem: KmsProblem;
  readonly errorId: number;

  constructor(problem: KmsProblem, message: string) {
    super(JSON_NAME[problem], message);
    this.problem = problem;
    this.errorId = KMS_ACK_ERRORS[problem];
  }
}
