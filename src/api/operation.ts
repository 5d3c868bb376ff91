import type { Input } from './input.js';

export type OperationContext = {
  requestId: string;
  /** Base URL of this server as the client reached it (scheme://host[:port], no trailing slash). */
  baseUrl: string;
};

/**
 * A media response (GetMedia, GetMediaForFragmentList): HTTP 200 with this content type and the chunks as they
 * come. Validate before returning one: the 200 is sent at once, so later failures can only cut the response.
 * A body given as a function gets an AbortSignal that fires when the client goes away, so a long wait (a live
 * tail) can end at once.
 */
export type MediaPiece = Uint8Array | readonly Uint8Array[];

export class MediaResponse {
  constructor(
    readonly contentType: string,
    /** Each item is one piece, or the pieces of one unit written together (no copy into one buffer). */
    readonly body: AsyncIterable<MediaPiece> | ((signal: AbortSignal) => AsyncIterable<MediaPiece>),
  ) {}
}

/** A modelled operation: validated input view in, JSON-serialisable output (or undefined → `{}`) or a MediaResponse out. */
export type Operation = (input: Input, ctx: OperationContext) => unknown;

/** Exact, case-sensitive request path → operation. */
export type OperationTable = Record<string, Operation>;

/** Epoch milliseconds → the epoch-seconds JSON number every KVS timestamp uses on the wire. */
export const epochSeconds = (ms: number): number => ms / 1000;
