// One relay viewer's outgoing packets (house style R17a: live fan-out drops, never blocks). The fan-out loop only
// pushes here; the queue's own pump awaits each send. Over UDP werift's send resolves at once, but over TCP
// (ICE-TCP, TURN over TCP/TLS) a viewer that stops reading makes its sends wait — then this viewer's queue
// fills and its packets are dropped and counted, while every other viewer's pump keeps going.

/** About 1 s of 1–2 Mbps video in 1200-byte packets: rides out a hiccup, drops rather than buffering seconds. */
export const RELAY_QUEUE_PACKETS = 256;

export type SendQueueStats = { sent: number; dropped: number; queued: number };

export class SendQueue<T> {
  readonly #capacity: number;
  readonly #send: (item: T) => Promise<unknown> | void;
  #items: T[] = [];
  #head = 0;
  #pumping = false;
  #closed = false;
  #sent = 0;
  #dropped = 0;

  constructor(send: (item: T) => Promise<unknown> | void, capacity = RELAY_QUEUE_PACKETS) {
    this.#send = send;
    this.#capacity = capacity;
  }

  get stats(): SendQueueStats {
    return { sent: this.#sent, dropped: this.#dropped, queued: this.#items.length - this.#head };
  }

  /** Queues one item, or drops it (counted) when the queue is full; false when dropped or closed. */
  push(item: T): boolean {
    if (this.#closed) {
      return false;
    }
    if (this.#items.length - this.#head >= this.#capacity) {
      this.#dropped++;
      return false;
    }
    this.#items.push(item);
    if (!this.#pumping) {
      this.#pumping = true;
      void this.#pump();
    }
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#items = [];
    this.#head = 0;
  }

  async #pump(): Promise<void> {
    while (!this.#closed && this.#head < this.#items.length) {
      const item = this.#items[this.#head] as T;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        // compact now and then instead of shift() per item (O(n) each)
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      try {
        await this.#send(item);
        this.#sent++;
      } catch {
        // a viewer whose transport failed: its peer's state change removes it; until then its packets are lost
        this.#dropped++;
      }
    }
    this.#items = this.#items.slice(this.#head);
    this.#head = 0;
    this.#pumping = false;
  }
}
