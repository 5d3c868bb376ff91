/**
 * The bounded queue between a consumer's decoder and its delivery: when delivery falls behind, the oldest items
 * are dropped (and counted) so the newest frames keep flowing and memory stays bounded.
 */
export class FrameQueue<T> {
  readonly capacity: number;
  readonly #items: T[] = [];
  #waiter: (() => void) | null = null;
  #closed = false;
  dropped = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get length(): number {
    return this.#items.length;
  }

  /** Adds an item; returns the items dropped to make room (oldest first). */
  push(item: T): T[] {
    if (this.#closed) {
      return [item];
    }
    this.#items.push(item);
    const over = this.#items.length - this.capacity;
    const dropped = over > 0 ? this.#items.splice(0, over) : [];
    this.dropped += dropped.length;
    this.#wake();
    return dropped;
  }

  /** The oldest item, waiting for one; undefined once closed. */
  async take(): Promise<T | undefined> {
    while (this.#items.length === 0 && !this.#closed) {
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
    return this.#items.shift();
  }

  close(): void {
    this.#closed = true;
    this.#items.length = 0;
    this.#wake();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = null;
    w?.();
  }
}
