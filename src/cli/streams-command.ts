import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, EXIT, UsageError, client, type CliIo } from './context.js';

const USAGE = `usage: openkvs streams <create|list|describe|delete|update-capacity> [options]
  create <name> [--retention-hours N] [--media-type T] [--capacity key=value ...]
  list [--prefix P]
  describe <name>
  delete <name>
  update-capacity <name> key=value ...   (fragmentsPerSecond, ingestBytesPerSecond, putMediaConnections,
                                           maxFragmentBytes, maxFragmentDurationMs, getMediaConnections,
                                           readBytesPerSecond, storageBudgetBytes)`;

export async function streamsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      'retention-hours': { type: 'string' },
      'media-type': { type: 'string' },
      capacity: { type: 'string', multiple: true },
      prefix: { type: 'string' },
    },
  });
  const [action, name, ...rest] = positionals;
  const kvs = client(values, io.env);
  const out = (v: unknown): void => {
    io.stdout.write(JSON.stringify(v, null, 2) + '\n');
  };
  const need = (): string => {
    if (name === undefined) {
      throw new UsageError(`streams ${action ?? ''}: a stream name is required\n${USAGE}`);
    }
    return name;
  };
  switch (action) {
    case 'create': {
      const capacity = values.capacity !== undefined ? keyValues(values.capacity) : undefined;
      out(
        await kvs.call('/createStream', {
          StreamName: need(),
          DataRetentionInHours: values['retention-hours'] !== undefined ? integer(values['retention-hours'], '--retention-hours') : 24,
          ...(values['media-type'] !== undefined ? { MediaType: values['media-type'] } : {}),
          ...(capacity !== undefined ? { Capacity: capacity } : {}),
        }),
      );
      return EXIT.OK;
    }
    case 'list': {
      let token: string | undefined;
      do {
        const page = await kvs.call<{ StreamInfoList?: { StreamName: string; Status: string; DataRetentionInHours: number; CreationTime: number }[]; NextToken?: string }>(
          '/listStreams',
          { ...(values.prefix ? { StreamNameCondition: { ComparisonOperator: 'BEGINS_WITH', ComparisonValue: values.prefix } } : {}), ...(token ? { NextToken: token } : {}) },
        );
        for (const s of page.StreamInfoList ?? []) {
          io.stdout.write(`${s.StreamName}\t${s.Status}\tretention=${s.DataRetentionInHours}h\tcreated=${new Date(s.CreationTime * 1000).toISOString()}\n`);
        }
        token = page.NextToken;
      } while (token);
      return EXIT.OK;
    }
    case 'describe':
      out(await kvs.call('/describeStream', { StreamName: need() }));
      return EXIT.OK;
    case 'delete': {
      const info = await kvs.call<{ StreamInfo: { StreamARN: string } }>('/describeStream', { StreamName: need() });
      await kvs.call('/deleteStream', { StreamARN: info.StreamInfo.StreamARN });
      io.stdout.write(`deleted ${name}\n`);
      return EXIT.OK;
    }
    case 'update-capacity': {
      if (rest.length === 0) {
        throw new UsageError(`streams update-capacity: give at least one key=value\n${USAGE}`);
      }
      const info = await kvs.call<{ StreamInfo: { Version: string } }>('/describeStream', { StreamName: need() });
      await kvs.call('/updateStream', { StreamName: name, CurrentVersion: info.StreamInfo.Version, Capacity: keyValues(rest) });
      out((await kvs.call<{ StreamInfo: { Capacity: unknown } }>('/describeStream', { StreamName: name })).StreamInfo.Capacity);
      return EXIT.OK;
    }
    default:
      throw new UsageError(USAGE);
  }
}

function keyValues(pairs: string[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const p of pairs) {
    const m = /^([A-Za-z]+)=(\d+|null)$/.exec(p);
    if (m === null || m[1] === undefined || m[2] === undefined) {
      throw new UsageError(`expected key=value with an integer value, got "${p}"`);
    }
    out[m[1]] = m[2] === 'null' ? null : Number(m[2]);
  }
  return out;
}

function integer(v: string, what: string): number {
  if (!/^\d+$/.test(v)) {
    throw new UsageError(`${what}: expected a whole number, got "${v}"`);
  }
  return Number(v);
}
