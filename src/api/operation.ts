import type { Input } from './input.js';

export type OperationContext = {
  requestId: string;
  /** Base URL of this server as the client reached it (scheme://host[:port], no trailing slash). */
  baseUrl: string;
};

/** A modelled JSON operation: validated input view in, JSON-serialisable output (or undefined → `{}`) out. */
export type Operation = (input: Input, ctx: OperationContext) => unknown;

/** Exact, case-sensitive request path → operation. */
export type OperationTable = Record<string, Operation>;

/** Epoch milliseconds → the epoch-seconds JSON number every KVS timestamp uses on the wire. */
export const epochSeconds = (ms: number): number => ms / 1000;
