import { createHmac } from 'node:crypto';
import type { StreamRegistry } from '../core/stream-registry.js';
import { parseTagsRun } from '../formats/mkv/mkv-tags.js';
import type { FragmentRecord } from '../store/fragment-store.js';
import type { FragmentFeed, FreshBytes } from '../stream/fragment-feed.js';
import type { Logger } from '../util/logger.js';

/** The producer fragment-metadata name that asks KVS for a notification (KVS "notifications" feature). */
export const NOTIFICATION_TAG = 'AWS_KINESISVIDEO_NOTIFICATION';
/** Deliveries waiting or in flight at once; beyond it new notifications are dropped (and logged), never queued. */
const MAX_PENDING = 1000;
const ATTEMPTS = 4;
const FIRST_BACKOFF_MS = 500;
const REQUEST_TIMEOUT_MS = 10_000;

type Config = { Status?: unknown; DestinationConfig?: { Uri?: unknown } };

export type NotifierDeps = { registry: StreamRegistry; feed: FragmentFeed; key: Buffer; log: Logger; fetch?: typeof fetch };

/**
 * UpdateNotificationConfiguration, honoured: when a stream's configuration is ENABLED with an http(s) Uri, each
 * PERSISTED fragment whose producer metadata carries AWS_KINESISVIDEO_NOTIFICATION is POSTed there as JSON (in place
 * of SNS), signed with HMAC-SHA256 (`x-openkvs-signature: sha256=<hex>` over the body), retried with backoff.
 * Delivery never holds up ingest: it runs after the ack, bounded, and failures are only logged.
 */
export class FragmentNotifier {
  readonly #d: NotifierDeps;
  readonly #stop: () => void;
  #pending = 0;
  #closed = false;

  constructor(deps: NotifierDeps) {
    this.#d = deps;
    this.#stop = deps.feed.watchAll((f, bytes) => this.#onFragment(f, bytes));
  }

  close(): void {
    this.#closed = true;
    this.#stop();
  }

  #onFragment(f: FragmentRecord, bytes: FreshBytes | undefined): void {
    if (bytes?.tagsBytes === null || bytes?.tagsBytes === undefined) {
      return;
    }
    const stream = this.#d.registry.byId(f.streamId);
    const config = stream?.notification as Config | null | undefined;
    const uri = typeof config?.DestinationConfig?.Uri === 'string' ? config.DestinationConfig.Uri : undefined;
    if (stream === undefined || config?.Status !== 'ENABLED' || uri === undefined || !/^https?:\/\//.test(uri)) {
      return;
    }
    let tags;
    try {
      tags = parseTagsRun(bytes.tagsBytes);
    } catch {
      return; // the ingest parser accepted them; unreadable here means nothing to notify about
    }
    const asked = tags.filter((t) => t.name === NOTIFICATION_TAG);
    if (asked.length === 0) {
      return;
    }
    if (this.#pending >= MAX_PENDING) {
      this.#d.log.warn('notification dropped: too many pending', { stream: stream.name, fragmentNumber: f.fragmentNumber });
      return;
    }
    const body = JSON.stringify({
      StreamArn: stream.arn,
      StreamName: stream.name,
      FragmentNumber: f.fragmentNumber,
      ProducerTimestamp: f.producerTimestampMs / 1000,
      ServerTimestamp: f.serverTimestampMs / 1000,
      NotificationValues: asked.map((t) => t.value),
      FragmentMetadata: Object.fromEntries(tags.map((t) => [t.name, t.value])),
    });
    this.#pending++;
    void this.#deliver(uri, body, stream.name, f.fragmentNumber).finally(() => this.#pending--);
  }

  async #deliver(uri: string, body: string, stream: string, fragmentNumber: string): Promise<void> {
    const signature = createHmac('sha256', this.#d.key).update(body).digest('hex');
    const post = this.#d.fetch ?? fetch;
    for (let attempt = 1; attempt <= ATTEMPTS && !this.#closed; attempt++) {
      try {
        const res = await post(uri, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-openkvs-signature': `sha256=${signature}`, 'x-openkvs-attempt': String(attempt) },
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          return;
        }
      } catch {
        // network error: retried below
      }
      await new Promise((r) => setTimeout(r, FIRST_BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random())));
    }
    this.#d.log.warn('notification not delivered', { stream, fragmentNumber, uri });
  }
}
