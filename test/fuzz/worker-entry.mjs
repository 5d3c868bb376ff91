// Worker threads do not inherit tsx's loader on Node 20 (its module hooks are per thread), so the worker
// starts in plain JavaScript and loads the TypeScript worker through tsx's API.
import { workerData } from 'node:worker_threads';

const { tsImport } = await import('tsx/esm/api');
await tsImport(workerData.entry, import.meta.url);
