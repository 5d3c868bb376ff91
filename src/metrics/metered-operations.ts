import type { Input } from '../api/input.js';
import type { Operation, OperationTable } from '../api/operation.js';
import type { StreamRegistry } from '../core/stream-registry.js';
import { KvsError } from '../errors/codes.js';
import type { ServerMetrics } from './server-metrics.js';

// Read-side metrics taken around the operations themselves, so the operations stay unaware of them: the stream
// is the one the request named (looked up after the call: a refused call for an unknown stream counts nowhere).

type StreamOf = (input: Input) => string | undefined;

/** The operation table with the metered operations wrapped; the others unchanged. */
export function meterOperations(ops: OperationTable, metrics: ServerMetrics, registry: StreamRegistry): OperationTable {
  const streamOf: StreamOf = (input) => {
    try {
      return registry.find({ name: input.str('StreamName'), arn: input.str('StreamARN') })?.name;
    } catch {
      return undefined;
    }
  };
  const out = { ...ops };
  const wrap = (path: string, w: (op: Operation) => Operation): void => {
    const op = ops[path];
    if (op !== undefined) {
      out[path] = w(op);
    }
  };
  wrap('/getHLSStreamingSessionURL', (op) => counted(op, streamOf, (s) => metrics.hlsSessions.inc(s, {})));
  wrap('/getDASHStreamingSessionURL', (op) => counted(op, streamOf, (s) => metrics.dashSessions.inc(s, {})));
  wrap('/getClip', (op) => counted(op, streamOf, (s) => metrics.clips.inc(s, {})));
  wrap('/getMedia', (op) => throttleCounted(op, streamOf, metrics, 'getmedia'));
  wrap('/getImages', (op) => images(op, streamOf, metrics));
  return out;
}

function counted(op: Operation, streamOf: StreamOf, onSuccess: (stream: string) => void): Operation {
  return async (input, ctx) => {
    const out: unknown = await op(input, ctx);
    const stream = streamOf(input);
    if (stream !== undefined) {
      onSuccess(stream);
    }
    return out;
  };
}

/** GetMedia's ClientLimitExceeded (calls per second) and ConnectionLimitExceeded (readers) as throttles. */
function throttleCounted(op: Operation, streamOf: StreamOf, metrics: ServerMetrics, prefix: string): Operation {
  return async (input, ctx) => {
    try {
      return await op(input, ctx);
    } catch (err) {
      const stream = streamOf(input);
      if (stream !== undefined && err instanceof KvsError) {
        const limit = LIMITS[err.errorName];
        if (limit !== undefined) {
          metrics.throttles.inc(stream, { limit: `${prefix}_${limit}` });
        }
      }
      throw err;
    }
  };
}

const LIMITS: Record<string, string> = { ClientLimitExceededException: 'calls', ConnectionLimitExceededException: 'connections' };

function images(op: Operation, streamOf: StreamOf, metrics: ServerMetrics): Operation {
  return async (input, ctx) => {
    const started = performance.now();
    let outcome = 'ok';
    try {
      const out: unknown = await op(input, ctx);
      const stream = streamOf(input);
      if (stream !== undefined) {
        for (const image of imagesOf(out)) {
          metrics.images.inc(stream, { result: image.ImageContent !== undefined ? 'image' : String(image.Error ?? 'unknown') });
        }
      }
      return out;
    } catch (err) {
      outcome = err instanceof KvsError ? err.errorName : 'InternalFailure';
      throw err;
    } finally {
      const stream = streamOf(input);
      if (stream !== undefined) {
        metrics.imagesRequests.inc(stream, { outcome });
        metrics.imagesLatency.child(stream).observe((performance.now() - started) / 1000);
      }
    }
  };
}

function imagesOf(out: unknown): { ImageContent?: unknown; Error?: unknown }[] {
  const list = (out as { Images?: unknown } | null)?.Images;
  return Array.isArray(list) ? (list as { ImageContent?: unknown; Error?: unknown }[]) : [];
}
