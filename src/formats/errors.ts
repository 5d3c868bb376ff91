// The one error type every parser in src/formats throws for bad input, so callers (the ingest session,
// readers) can tell "the client sent garbage" (a 4xx) apart from a bug in the server (a 5xx).

export type ParseErrorCode =
  /** The bytes break the format: a truncated element, a size that does not fit its parent, bad lacing, … */
  | 'INVALID'
  /** The bytes may be well-formed but exceed a size cap or the range of a JavaScript number. */
  | 'TOO_LARGE';

export class ParseError extends Error {
  override readonly name = 'ParseError';
  /** Absolute byte offset in the parsed stream (or in the buffer given to a non-streaming helper). */
  readonly offset: number;
  readonly code: ParseErrorCode;
  /** TOO_LARGE because one fragment (a Cluster, an MP4 fragment) is over its cap, rather than malformed sizes. */
  readonly fragmentTooLarge: boolean;

  constructor(code: ParseErrorCode, offset: number, message: string, fragmentTooLarge = false) {
    super(`${message} (at byte ${offset})`);
    this.code = code;
    this.offset = offset;
    this.fragmentTooLarge = fragmentTooLarge;
  }
}

export function invalid(offset: number, message: string): ParseError {
  return new ParseError('INVALID', offset, message);
}

export function tooLarge(offset: number, message: string): ParseError {
  return new ParseError('TOO_LARGE', offset, message);
}

/** A fragment over the size cap: ingest answers this one with MAX_FRAGMENT_SIZE_REACHED, not INVALID_MKV_DATA. */
export function fragmentTooLarge(offset: number, message: string): ParseError {
  return new ParseError('TOO_LARGE', offset, message, true);
}
