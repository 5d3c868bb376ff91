import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, EXIT, UsageError, client, parseTime, type CliIo } from './context.js';

const USAGE = `usage: openkvs fragments <stream> [--since TIME] [--until TIME] [--producer]
  TIME is ISO-8601 or epoch seconds; the range is by server timestamp unless --producer.`;

type Fragment = { FragmentNumber: string; FragmentSizeInBytes: number; ProducerTimestamp: number; ServerTimestamp: number; FragmentLengthInMilliseconds: number };

/** ListFragments, every page, one line per fragment. */
export async function fragmentsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...CLIENT_OPTIONS, since: { type: 'string' }, until: { type: 'string' }, producer: { type: 'boolean' } },
  });
  const [stream] = positionals;
  if (stream === undefined) {
    throw new UsageError(USAGE);
  }
  const kvs = client(values, io.env);
  const selector = {
    FragmentSelectorType: values.producer ? 'PRODUCER_TIMESTAMP' : 'SERVER_TIMESTAMP',
    TimestampRange: {
      StartTimestamp: values.since !== undefined ? parseTime(values.since, '--since') : 0,
      EndTimestamp: values.until !== undefined ? parseTime(values.until, '--until') : Date.now() / 1000 + 86_400,
    },
  };
  let token: string | undefined;
  let count = 0;
  io.stdout.write('fragment_number\tproducer_timestamp\tserver_timestamp\tduration_ms\tsize_bytes\n');
  do {
    const page = await kvs.call<{ Fragments?: Fragment[]; NextToken?: string }>('/listFragments', {
      StreamName: stream,
      ...(token ? { NextToken: token } : { FragmentSelector: selector }),
    });
    for (const f of page.Fragments ?? []) {
      count++;
      io.stdout.write(
        `${f.FragmentNumber}\t${new Date(f.ProducerTimestamp * 1000).toISOString()}\t${new Date(f.ServerTimestamp * 1000).toISOString()}\t${f.FragmentLengthInMilliseconds}\t${f.FragmentSizeInBytes}\n`,
      );
    }
    token = page.NextToken;
  } while (token);
  io.stderr.write(`${count} fragments\n`);
  return EXIT.OK;
}
