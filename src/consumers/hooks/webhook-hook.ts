import { toEvents, type Frame, type HookEvent } from '../frame.js';
import { InvalidEventsError, type FrameSink } from '../sink.js';
import { postFrame } from './http-frame-post.js';

/**
 * A WEBHOOK hook (and the http(s) image destination, which ignores answers): each frame POSTed, signed; a JSON
 * answer `{"events": [...]}` becomes timeline events.
 */
export class WebhookHook implements FrameSink {
  readonly name: string;
  readonly type: 'WEBHOOK' | 'DESTINATION';
  readonly #uri: string;
  readonly #key: Buffer | string;

  constructor(name: string, type: 'WEBHOOK' | 'DESTINATION', uri: string, key: Buffer | string) {
    this.name = name;
    this.type = type;
    this.#uri = uri;
    this.#key = key;
  }

  async deliver(frame: Frame): Promise<HookEvent[]> {
    const answer = await postFrame(this.#uri, frame, this.#key);
    if (this.type === 'DESTINATION' || typeof answer !== 'object' || answer === null) {
      return [];
    }
    const { events, invalid } = toEvents((answer as { events?: unknown }).events);
    if (invalid > 0) {
      throw new InvalidEventsError(invalid, events);
    }
    return events;
  }

  locate(): string {
    return this.#uri;
  }

  async close(): Promise<void> {}
}
