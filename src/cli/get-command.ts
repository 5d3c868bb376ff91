import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { MkvStreamParser } from '../formats/mkv/mkv-stream-parser.js';
import { CLIENT_OPTIONS, EXIT, UsageError, client, parseTime, type CliIo } from './context.js';

const USAGE = `usage: openkvs get <stream> [--start SELECTOR] [-o FILE] [--follow] [--max-fragments N] [--idle-exit SECONDS]
  SELECTOR: EARLIEST (default) | NOW | FRAGMENT_NUMBER:<n> | CONTINUATION_TOKEN:<token>
            | SERVER_TIMESTAMP:<time> | PRODUCER_TIMESTAMP:<time>   (time: ISO-8601 or epoch seconds)
  Writes the GetMedia chunks (MKV) to FILE or stdout. Without --follow it stops once no new fragment arrived
  for --idle-exit seconds (default 3) and prints the continuation token to resume from.`;

/** GetMedia to a file: counts fragments on the fly and reports the continuation token at the end. */
export async function getCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      start: { type: 'string' },
      output: { type: 'string', short: 'o' },
      follow: { type: 'boolean' },
      'max-fragments': { type: 'string' },
      'idle-exit': { type: 'string' },
    },
  });
  const [stream] = positionals;
  if (stream === undefined) {
    throw new UsageError(USAGE);
  }
  const maxFragments = values['max-fragments'] !== undefined ? Number(values['max-fragments']) : Infinity;
  const idleExitMs = Number(values['idle-exit'] ?? '3') * 1000;
  if (!(maxFragments > 0) || !(idleExitMs > 0)) {
    throw new UsageError(USAGE);
  }
  const res = await client(values, io.env).open('/getMedia', { StreamName: stream, StartSelector: startSelector(values.start ?? 'EARLIEST') });
  const out: NodeJS.WritableStream = values.output !== undefined ? createWriteStream(values.output) : io.stdout;
  const parser = new MkvStreamParser();
  let fragments = 0;
  let bytes = 0;
  let token: string | undefined;
  let idle: NodeJS.Timeout | undefined;
  const armIdle = (): void => {
    if (!values.follow) {
      clearTimeout(idle);
      idle = setTimeout(() => res.destroy(), idleExitMs);
    }
  };
  armIdle();
  try {
    for await (const chunk of res) {
      const buf = chunk as Buffer;
      bytes += buf.length;
      armIdle();
      if (!out.write(buf)) {
        await new Promise<void>((r) => out.once('drain', () => r()));
      }
      for (const ev of parser.push(buf)) {
        const t = ev.kind === 'tags' ? ev.tags.find((x) => x.name === 'AWS_KINESISVIDEO_CONTINUATION_TOKEN') : undefined;
        if (t !== undefined) {
          token = t.value;
          fragments++;
        }
      }
      if (fragments >= maxFragments) {
        break;
      }
    }
  } catch (err) {
    // the idle timer ends the response by destroying it; anything else is a real failure
    if (!res.destroyed) {
      throw err;
    }
  } finally {
    clearTimeout(idle);
    res.destroy();
    if (out !== io.stdout) {
      await new Promise<void>((r) => out.end(() => r()));
    }
  }
  io.stderr.write(`${fragments} fragments, ${bytes} bytes${token ? `; resume with --start CONTINUATION_TOKEN:${token}` : ''}\n`);
  return EXIT.OK;
}

function startSelector(spec: string): Record<string, unknown> {
  const [type, value] = spec.includes(':') ? [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)] : [spec, undefined];
  switch (type) {
    case 'EARLIEST':
    case 'NOW':
      return { StartSelectorType: type };
    case 'FRAGMENT_NUMBER':
      return { StartSelectorType: type, AfterFragmentNumber: value };
    case 'CONTINUATION_TOKEN':
      return { StartSelectorType: type, ContinuationToken: value };
    case 'SERVER_TIMESTAMP':
    case 'PRODUCER_TIMESTAMP':
      if (value === undefined) {
        throw new UsageError(`--start ${type} needs a time: ${type}:<time>`);
      }
      return { StartSelectorType: type, StartTimestamp: parseTime(value, '--start') };
    default:
      throw new UsageError(`--start: unknown selector "${spec}"\n${USAGE}`);
  }
}
