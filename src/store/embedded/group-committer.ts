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
  /**
   * Files whose fdatasync failed, with the error. Linux reports a failed writeback once and marks the pages clean
   * (they may never reach the disk), so a later fdatasync of the same file succeeds although bytes written before
   * the failure are lost: nothing written to such a file may ever be indexed.
   */
  readonly #broken = new WeakMap<fsp.FileHandle, unknown>();

  constructor(writeIndex: (rows: Row[]) => void) {
    this.#writeIndex = writeIndex;
  }

  commit(fd: fsp.FileHandle, row: Row): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ fd, row, resolve, reject });
      this.#running ??= this.#loop();
    });
  }

  /** Whether a sync of this file failed: its writer must move on to a new file. */
  broken(fd: fsp.FileHandle): boolean {
    return this.#broken.has(fd);
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
        const files = [...new Set(batch.map((p) => p.fd))].filter((fd) => !this.#broken.has(fd));
        const synced = await Promise.allSettled(files.map((fd) => fd.datasync()));
        synced.forEach((r, i) => {
          if (r.status === 'rejected') {
            this.#broken.set(files[i]!, r.reason);
          }
        });
        // Rows on a file that failed now or before are refused; the others still commit (another stream's
        // segment, or this stream's new one).
        const good = batch.filter((p) => !this.#broken.has(p.fd));
        for (const p of batch) {
          if (this.#broken.has(p.fd)) {
            p.reject(this.#broken.get(p.fd));
          }
        }
        try {
          if (good.length > 0) {
            this.#writeIndex(good.map((p) => p.row));
          }
          for (const p of good) {
            p.resolve();
          }
        } catch (err) {
          for (const p of good) {
            p.reject(err);
          }
        }
      }
    } finally {
      this.#running = null;
    }
  }
}
