import type { FragmentRecord } from '../store/fragment-store.js';

export type FragmentListener = (fragment: FragmentRecord) => void;
/** The bytes of a fragment just committed, as the store laid them out (producer Tags, then the Cluster). */
export type FreshBytes = { tagsBytes: Uint8Array | null; clusterBytes: Uint8Array };

/**
 * Live fan-out of "a fragment became readable" (PERSISTED, or RECEIVED for retention-0 streams) to live readers.
 * Listeners only get the record, never the bytes: each reader fetches bytes at its own pace, so a slow consumer
 * can never hold the producer back or make the server buffer for it.
 */
export class FragmentFeed {
  readonly #listeners = new Map<number, Set<FragmentListener>>();
  readonly #onFresh: ((fragment: FragmentRecord, bytes: FreshBytes) => void) | undefined;
  readonly #everyStream = new Set<(fragment: FragmentRecord, bytes: FreshBytes | undefined) => void>();

  /** `onFresh` sees each published fragment's bytes first: live readers then never wait on a disk read. */
  constructor(onFresh?: (fragment: FragmentRecord, bytes: FreshBytes) => void) {
    this.#onFresh = onFresh;
  }

  subscribe(streamId: number, listener: FragmentListener): () => void {
    let set = this.#listeners.get(streamId);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(streamId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(streamId) === set) {
        this.#listeners.delete(streamId);
      }
    };
  }

  /** Every stream's fragments, with their bytes when the publisher has them (notifications, frame consumers). */
  watchAll(listener: (fragment: FragmentRecord, bytes: FreshBytes | undefined) => void): () => void {
    this.#everyStream.add(listener);
    return () => this.#everyStream.delete(listener);
  }

  publish(fragment: FragmentRecord, bytes?: FreshBytes): void {
    for (const l of this.#everyStream) {
      try {
        l(fragment, bytes);
      } catch {
        // a watcher's failure is its own; the producer's path must go on
      }
    }
    const set = this.#listeners.get(fragment.streamId);
    if (set === undefined) {
      return;
    }
    if (bytes !== undefined) {
      this.#onFresh?.(fragment, bytes);
    }
    for (const l of [...set]) {
      try {
        l(fragment);
      } catch {
        // a reader's failure is its own; the producer's path must go on
      }
    }
  }

  listenerCount(streamId: number): number {
    return this.#listeners.get(streamId)?.size ?? 0;
  }
}
