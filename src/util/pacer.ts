/**
 * Holds a sender to a byte rate (GetMedia: KVS's 25 MB/s per session): a reader catching up on a backlog is
 * slowed, never failed. One second of burst; the wait ends early when the signal aborts.
 */
export class Pacer {
  readonly #start = Date.now();
  #sent = 0;

  async before(bytes: number, bytesPerSecond: number, signal: AbortSignal): Promise<void> {
    this.#sent += bytes;
    const dueMs = ((this.#sent - bytesPerSecond) / bytesPerSecond) * 1000;
    const waitMs = dueMs - (Date.now() - this.#start);
    if (waitMs > 0 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done);
      });
    }
  }
}
