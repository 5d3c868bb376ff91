/**
 * Packaged segments recently served (init segments, moof+mdat, TS): many players of one stream ask for the same
 * few, and packaging means a disk read and a remux. Bounded by bytes; least recently used first out.
 */
export class MediaCache {
  readonly #max: number;
  readonly #items = new Map<string, Uint8Array>();
  #bytes = 0;

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  async get(key: string, make: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const hit = this.#items.get(key);
    if (hit !== undefined) {
      this.#items.delete(key);
      this.#items.set(key, hit);
      return hit;
    }
    const made = await make();
    if (made.length <= this.#max / 4 && !this.#items.has(key)) {
      this.#items.set(key, made);
      this.#bytes += made.length;
      while (this.#bytes > this.#max) {
        const [oldKey, old] = this.#items.entries().next().value as [string, Uint8Array];
        this.#items.delete(oldKey);
        this.#bytes -= old.length;
      }
    }
    return made;
  }
}
