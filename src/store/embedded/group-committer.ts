import type { promises as fsp } from 'node:fs';

type Pending<Row> = { fd: fsp.FileHandle; row: Row; resolve: () => void; reject: (e: unknown) => void };

/**
 * Group commit: appends that arrive while a commit is running wait for the next one, and each commit makes a
 * whole batch durable with one fdatasync per touched file plus one SQLite transaction (one WAL fsync) for all
 * their index rows. Data is synced before its index row is written, so an index row never points at bytes
 * that could be lost.
 */
export class GroupCommitter<Row> {
  readonly #writeIndex: (rows: Row[]) => void;
  #queue: Pending<Row>[] = [];
  #running: Promise<void> | null = null;

  constructor(writeIndex: (rows: Row[]) => void) {
    this.#writeIndex = writeIndex;
  }

  commit(fd: fsp.FileHandle, row: Row): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ fd, row, resolve, reject });
      this.#running ??= this.#loop();
    });
  }

  async drain(): Promise<void> {
    while (this.#running !== null) {
      await this.#running;
    }
  }

  async #loop(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        try {
          const files = new Set(batch.map((p) => p.fd));
          await Promise.all([...files].map((fd) => fd.datasync()));
          this.#writeIndex(batch.map((p) => p.row));
          for (const p of batch) {
            p.resolve();
          }
        } catch (err) {
          for (const p of batch) {
            p.reject(err);
          }
        }
      }
    } finally {
      this.#running = null;
    }
  }
}
