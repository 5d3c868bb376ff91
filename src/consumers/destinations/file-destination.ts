import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { Frame, HookEvent } from '../frame.js';
import { frameObjectKey } from '../frame-files.js';
import type { FrameSink } from '../sink.js';

/** Images written as files under a directory (`file://./dir` or `file://localhost/abs/dir`). */
export class FileDestination implements FrameSink {
  readonly name = 'destination';
  readonly type = 'DESTINATION' as const;
  readonly #dir: string;
  readonly #selector: 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP';

  constructor(dir: string, selector: 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP') {
    this.#dir = dir;
    this.#selector = selector;
  }

  locate(frame: Frame): string {
    return `file://localhost${this.#path(frame)}`;
  }

  #path(frame: Frame): string {
    const dir = resolve(this.#dir);
    const path = resolve(dir, frameObjectKey('', frame, this.#selector));
    // names are validated at the API, but a stream stored before "." and ".." were refused must not write elsewhere
    if (!path.startsWith(dir.endsWith(sep) ? dir : dir + sep)) {
      throw new Error(`image path for stream ${JSON.stringify(frame.streamName)} leaves the destination directory`);
    }
    return path;
  }

  async deliver(frame: Frame): Promise<HookEvent[]> {
    const path = this.#path(frame);
    await mkdir(dirname(path), { recursive: true });
    // written aside then renamed: a reader of the directory never sees half an image
    const tmp = `${path}.tmp`;
    await writeFile(tmp, frame.image);
    await rename(tmp, path);
    return [];
  }

  async close(): Promise<void> {}
}
