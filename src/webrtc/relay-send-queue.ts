// One relay viewer's outgoing packets (house style R17a: live fan-out drops, never blocks). The fan-out loop only
// pushes here. Up to MAX_IN_FLIGHT sends run at once, started in push order: over UDP werift's send resolves one
// event-loop turn later (the socket's send callback), so awaiting each send before the next held every viewer to
// one packet per turn — with 100 viewers the turn grew past a viewer's packet interval and queues built up seconds
// of delay while the server sat mostly idle. Over TCP (ICE-TCP, TURN over TCP/TLS) a viewer that stops reading
// makes its sends wait: its in-flight slots stay taken, its queue fills and its packets are dropped and counted,
// while every other viewer's sends keep going.

/** About 1 s of 1–2 Mbps video in 1200-byte packets: rides out a hiccup, drops rather than buffering seconds. */
export const RELAY_QUEUE_PACKETS = 256;
/** Sends started and not yet settled, per viewer: enough for a frame's packets in one turn, little for a stalled link. */
export const MAX_IN_FLIGHT = 32;

export type SendQueueStats = { sent: number; dropped: number; queued: number };

export class SendQueue<T> {
  readonly #capacity: number;
  readonly #maxInFlight: number;
  readonly #send: (item: T) => Promise<unknown> | void;
  #items: T[] = [];
  #head = 0;
  #inFlight = 0;
  #closed = false;
  #sent = 0;
  #dropped = 0;

  constructor(send: (item: T) => Promise<unknown> | void, capacity = RELAY_QUEUE_PACKETS, maxInFlight = MAX_IN_FLIGHT) {
    this.#send = send;
    this.#capacity = capacity;
    this.#maxInFlight = maxInFlight;
  }

  get stats(): SendQueueStats {
    return { sent: this.#sent, dropped: this.#dropped, queued: this.#items.length - this.#head };
  }

  /** Sends one item now, queues it behind the sends in flight, or drops it (counted) when the queue is full; false when dropped or closed. */
  push(item: T): boolean {
    if (this.#closed) {
      return false;
    }
    if (this.#inFlight < this.#maxInFlight && this.#head === this.#items.length) {
      this.#start(item);
      return true;
    }
    if (this.#items.length - this.#head >= this.#capacity) {
      this.#dropped++;
      return false;
    }
    this.#items.push(item);
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#items = [];
    this.#head = 0;
  }

  #start(item: T): void {
    this.#inFlight++;
    let result: Promise<unknown> | void;
    try {
      result = this.#send(item);
    } catch {
      this.#settled(false);
      return;
    }
    if (result === undefined) {
      this.#settled(true);
    } else {
      result.then(
        () => this.#settled(true),
        // a viewer whose transport failed: its peer's state change removes it; until then its packets are lost
        () => this.#settled(false),
      );
    }
  }

  #settled(ok: boolean): void {
    this.#inFlight--;
    if (ok) {
      this.#sent++;
    } else {
      this.#dropped++;
    }
    while (!this.#closed && this.#inFlight < this.#maxInFlight && this.#head < this.#items.length) {
      const next = this.#items[this.#head] as T;
      this.#head++;
      this.#start(next);
    }
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      // compact now and then instead of shift() per item (O(n) each)
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
