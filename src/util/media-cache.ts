/**
 * Bytes that are expensive to make and asked for again soon (packaged HLS/DASH segments, generated images): many
 * players of one stream ask for the same few. Bounded by bytes; least recently used first out.
 */
export class MediaCache {
  readonly #max: number;
  readonly #items = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  async get(key: string, make: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hit = this.peek(key);
    if (hit !== undefined) {
      return hit;
    }
    const made = await make();
    this.put(key, made);
    return made;
  }

  /** The cached bytes (now the most recently used), or undefined. */
  peek(key: string): Uint8Array | undefined {
    const hit = this.#items.get(key);
    if (hit !== undefined) {
      this.#items.delete(key);
      this.#items.set(key, hit);
    }
    return hit;
  }

  put(key: string, value: Uint8Array): void {
    if (value.length > this.#max / 4 || this.#items.has(key)) {
      return;
    }
    this.#items.set(key, value);
    this.#bytes += value.length;
    while (this.#bytes > this.#max) {
      const [oldKey, old] = this.#items.entries().next().value as [string, Uint8Array];
      this.#items.delete(oldKey);
      this.#bytes -= old.length;
    }
  }
}
