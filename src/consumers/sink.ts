import type { Frame, HookEvent } from './frame.js';

/**
 * Where a consumer's frames go: the image destination or a hook. deliver() resolves with the events the frame
 * produced (none for destinations) or rejects; a consumer runs each sink on its own queue so one slow sink never
 * holds back another.
 */
export interface FrameSink {
  readonly name: string;
  readonly type: 'DESTINATION' | 'MODULE' | 'WEBHOOK' | 'MOTION';
  deliver(frame: Frame): Promise<HookEvent[]>;
  close(): Promise<void>;
  /** Destinations: where a delivered frame went (file://…, s3://bucket/key, the endpoint), for image notifications. */
  locate?(frame: Frame): string;
}

/** A call that ran past its time limit (counted apart from other failures). */
export class SinkTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'SinkTimeoutError';
  }
}

/** Some of what a hook returned was not a valid event: the valid ones are still stored, the call counts as failed. */
export class InvalidEventsError extends Error {
  readonly events: HookEvent[];
  constructor(invalid: number, events: HookEvent[]) {
    super(`${invalid} invalid event(s) returned`);
    this.name = 'InvalidEventsError';
    this.events = events;
  }
}

export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
