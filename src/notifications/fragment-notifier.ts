import { createHmac } from 'node:crypto';
import type { StreamRecord } from '../core/stream-record.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { parseTagsRun } from '../formats/mkv/mkv-tags.js';
import type { FragmentRecord } from '../store/fragment-store.js';
import type { FragmentFeed, FreshBytes } from '../stream/fragment-feed.js';
import type { Logger } from '../util/logger.js';
import { redactUrl } from '../util/redact-url.js';

/** The producer fragment-metadata name that asks KVS for a notification (KVS "notifications" feature). */
export const NOTIFICATION_TAG = 'AWS_KINESISVIDEO_NOTIFICATION';
/** Deliveries waiting or in flight at once; beyond it new notifications are dropped (and logged), never queued. */
const MAX_PENDING = 1000;
const ATTEMPTS = 4;
const FIRST_BACKOFF_MS = 500;
const REQUEST_TIMEOUT_MS = 10_000;

type Config = { Status?: unknown; DestinationConfig?: { Uri?: unknown } };

export type ImageDelivered = {
  fragmentNumber: string;
  producerTimestampMs: number;
  serverTimestampMs: number;
  format: 'JPEG' | 'PNG';
  /** Where the destination put it: file://…, s3://bucket/key or the http(s) endpoint. */
  location: string;
  notificationValues: string[];
};

export type NotifierDeps = { registry: StreamRegistry; feed: FragmentFeed; key: Buffer; log: Logger; fetch?: typeof fetch };

/**
 * UpdateNotificationConfiguration, honoured: when a stream's configuration is ENABLED with an http(s) Uri, each
 * PERSISTED fragment whose producer metadata carries AWS_KINESISVIDEO_NOTIFICATION is POSTed there as JSON (in place
 * of SNS), signed with HMAC-SHA256 (`x-openkvs-signature: sha256=<hex>` over the body), retried with backoff.
 * Images the frame consumers deliver for such fragments are notified the same way (`NotificationType: IMAGE`).
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
    const uri = stream === undefined ? undefined : this.#target(stream);
    if (stream === undefined || uri === undefined) {
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
    this.#send(uri, stream.name, f.fragmentNumber, {
      NotificationType: 'FRAGMENT',
      StreamArn: stream.arn,
      StreamName: stream.name,
      FragmentNumber: f.fragmentNumber,
      ProducerTimestamp: f.producerTimestampMs / 1000,
      ServerTimestamp: f.serverTimestampMs / 1000,
      NotificationValues: asked.map((t) => t.value),
      FragmentMetadata: Object.fromEntries(tags.map((t) => [t.name, t.value])),
    });
  }

  /**
   * An image of a fragment that asked for a notification was delivered (continuous image generation): POSTed like
   * a fragment notification, with where the image went.
   */
  notifyImage(stream: StreamRecord, image: ImageDelivered): void {
    const uri = this.#target(stream);
    if (uri === undefined) {
      return;
    }
    this.#send(uri, stream.name, image.fragmentNumber, {
      NotificationType: 'IMAGE',
      StreamArn: stream.arn,
      StreamName: stream.name,
      FragmentNumber: image.fragmentNumber,
      ProducerTimestamp: image.producerTimestampMs / 1000,
      ServerTimestamp: image.serverTimestampMs / 1000,
      NotificationValues: image.notificationValues,
      ImageFormat: image.format,
      ImageLocation: image.location,
    });
  }

  /** The http(s) Uri of a stream's ENABLED notification configuration. */
  #target(stream: StreamRecord): string | undefined {
    const config = stream.notification as Config | null;
    const uri = typeof config?.DestinationConfig?.Uri === 'string' ? config.DestinationConfig.Uri : undefined;
    return config?.Status === 'ENABLED' && uri !== undefined && /^https?:\/\//.test(uri) ? uri : undefined;
  }

  #send(uri: string, stream: string, fragmentNumber: string, payload: Record<string, unknown>): void {
    if (this.#closed) {
      return;
    }
    if (this.#pending >= MAX_PENDING) {
      this.#d.log.warn('notification dropped: too many pending', { stream, fragmentNumber });
      return;
    }
    this.#pending++;
    void this.#deliver(uri, JSON.stringify(payload), stream, fragmentNumber).finally(() => this.#pending--);
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
    this.#d.log.warn('notification not delivered', { stream, fragmentNumber, uri: redactUrl(uri) });
  }
}
