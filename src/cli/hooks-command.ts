import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENT_OPTIONS, EXIT, UsageError, client, parseTime, type CliIo } from './context.js';

const USAGE = `usage: openkvs hooks <set|clear|describe|events> <stream> [options]
  set <stream> [--module FILE[:name]] ... [--webhook URL[:name]] ... [--secret S] [--motion[=THRESHOLD]] [--timeout-ms N]
      replace the stream's hooks (POST /openkvs/updateFrameHooks). FILE is relative to the server's hooks
      directory; names default to the module's basename, "webhook" and "motion". --secret signs the webhooks,
      --timeout-ms (100-60000) limits each module call. A URL's ":name" suffix must not be all digits (a port).
  clear <stream>
      remove every hook of the stream
  describe <stream>
      the stream's frame consumer and hook counters (POST /openkvs/describeFrameConsumer), as JSON
  events <stream> [--from TIME] [--to TIME] [--label L] [--server-time]
      timeline events (POST /openkvs/listFrameEvents), oldest first: time, label, confidence, hook, fragment.
      TIME is ISO-8601 or epoch seconds; default the last hour, by producer time unless --server-time.`;

/** Hook names as the server accepts them. */
const NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
const EVENTS_PAGE = 1000;

export type HookSpec =
  | { Name: string; Type: 'MODULE'; Module: string; TimeoutMs?: number }
  | { Name: string; Type: 'WEBHOOK'; Uri: string; Secret?: string }
  | { Name: string; Type: 'MOTION'; Threshold?: number };

type FrameEvent = {
  EventId: string;
  HookName: string;
  Label: string;
  Confidence?: number | null;
  FragmentNumber: string;
  ProducerTimestamp: number;
  ServerTimestamp: number;
};

/** `openkvs hooks …`: frame hooks and timeline events, the openkvs extension described in docs/frames.md. */
export async function hooksCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    // `--motion` alone means the default threshold: parseArgs has no optional-value options.
    args: args.map((a) => (a === '--motion' ? '--motion=' : a)),
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      module: { type: 'string', multiple: true },
      webhook: { type: 'string', multiple: true },
      secret: { type: 'string' },
      motion: { type: 'string' },
      'timeout-ms': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      label: { type: 'string' },
      'server-time': { type: 'boolean' },
    },
  });
  const [action, stream, ...extra] = positionals;
  if (action === undefined || !['set', 'clear', 'describe', 'events'].includes(action)) {
    throw new UsageError(USAGE);
  }
  if (stream === undefined) {
    throw new UsageError(`hooks ${action}: a stream name is required\n${USAGE}`);
  }
  if (extra.length > 0) {
    throw new UsageError(`hooks ${action}: unexpected argument "${extra[0]}"\n${USAGE}`);
  }
  switch (action) {
    case 'set': {
      const hooks = hookSpecs(values);
      if (hooks.length === 0) {
        throw new UsageError(`hooks set: give at least one of --module, --webhook, --motion (or use "hooks clear")\n${USAGE}`);
      }
      await client(values, io.env).call('/openkvs/updateFrameHooks', { StreamName: stream, Hooks: hooks });
      io.stdout.write(`${stream}: ${hooks.length} hook${hooks.length === 1 ? '' : 's'}: ${hooks.map((h) => `${h.Name} (${h.Type})`).join(', ')}\n`);
      return EXIT.OK;
    }
    case 'clear':
      await client(values, io.env).call('/openkvs/updateFrameHooks', { StreamName: stream, Hooks: [] });
      io.stdout.write(`${stream}: hooks cleared\n`);
      return EXIT.OK;
    case 'describe':
      io.stdout.write(JSON.stringify(await client(values, io.env).call('/openkvs/describeFrameConsumer', { StreamName: stream }), null, 2) + '\n');
      return EXIT.OK;
    default:
      return listEvents(stream, values, io);
  }
}

type Flags = {
  module?: string[] | undefined;
  webhook?: string[] | undefined;
  secret?: string | undefined;
  motion?: string | undefined;
  'timeout-ms'?: string | undefined;
};

/** The Hooks list `hooks set` sends, in flag order by kind: modules, webhooks, motion. */
export function hookSpecs(values: Flags): HookSpec[] {
  const hooks: HookSpec[] = [];
  let timeoutMs: number | undefined;
  if (values['timeout-ms'] !== undefined) {
    if (!/^\d+$/.test(values['timeout-ms'])) {
      throw new UsageError(`--timeout-ms: expected a whole number of milliseconds, got "${values['timeout-ms']}"`);
    }
    timeoutMs = Number(values['timeout-ms']);
    if ((values.module ?? []).length === 0) {
      throw new UsageError('--timeout-ms applies to --module hooks; none was given');
    }
  }
  if (values.secret !== undefined && (values.webhook ?? []).length === 0) {
    throw new UsageError('--secret applies to --webhook hooks; none was given');
  }
  for (const spec of values.module ?? []) {
    const { value: file, name } = splitName(spec, (rest) => rest !== '');
    if (file === '') {
      throw new UsageError(`--module: expected FILE[:name], got "${spec}"`);
    }
    hooks.push({ Name: name ?? defaultModuleName(file), Type: 'MODULE', Module: file, ...(timeoutMs !== undefined ? { TimeoutMs: timeoutMs } : {}) });
  }
  for (const spec of values.webhook ?? []) {
    // A trailing ":9000" is a port, not a name: names made only of digits cannot be given this way.
    const { value: uri, name } = splitName(spec, (rest, suffix) => !/^\d+$/.test(suffix) && isHttpUrl(rest));
    if (!isHttpUrl(uri)) {
      throw new UsageError(`--webhook: expected an http:// or https:// URL, optionally followed by :name, got "${spec}"`);
    }
    hooks.push({ Name: name ?? 'webhook', Type: 'WEBHOOK', Uri: uri, ...(values.secret !== undefined ? { Secret: values.secret } : {}) });
  }
  if (values.motion !== undefined) {
    let threshold: number | undefined;
    if (values.motion !== '') {
      threshold = Number(values.motion);
      if (!/^(\d+(\.\d*)?|\.\d+)$/.test(values.motion) || !(threshold > 0 && threshold <= 1)) {
        throw new UsageError(`--motion: expected a threshold above 0 and at most 1 (the share of changed pixels), got "${values.motion}"`);
      }
    }
    hooks.push({ Name: 'motion', Type: 'MOTION', ...(threshold !== undefined ? { Threshold: threshold } : {}) });
  }
  const seen = new Set<string>();
  for (const h of hooks) {
    if (seen.has(h.Name)) {
      throw new UsageError(`two hooks are named "${h.Name}": name them with FILE:name or URL:name`);
    }
    seen.add(h.Name);
  }
  return hooks;
}

/** "value:name" → value and name when the part after the last colon is a hook name and accept() agrees. */
function splitName(spec: string, accept: (rest: string, suffix: string) => boolean): { value: string; name?: string } {
  const at = spec.lastIndexOf(':');
  if (at > 0) {
    const suffix = spec.slice(at + 1);
    const rest = spec.slice(0, at);
    if (NAME.test(suffix) && accept(rest, suffix)) {
      return { value: rest, name: suffix };
    }
  }
  return { value: spec };
}

function defaultModuleName(file: string): string {
  const base = basename(file, extname(file)) || basename(file);
  const name = base.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 64);
  if (!NAME.test(name)) {
    throw new UsageError(`--module: cannot name a hook after "${file}": give one with FILE:name`);
  }
  return name;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
  } catch {
    return false;
  }
}

async function listEvents(stream: string, values: { from?: string | undefined; to?: string | undefined; label?: string | undefined; 'server-time'?: boolean | undefined } & Parameters<typeof client>[0], io: CliIo): Promise<number> {
  const to = values.to !== undefined ? parseTime(values.to, '--to') : Date.now() / 1000;
  const from = values.from !== undefined ? parseTime(values.from, '--from') : to - 3600;
  if (!(from < to)) {
    throw new UsageError('hooks events: --from must be before --to');
  }
  const serverTime = values['server-time'] === true;
  const kvs = client(values, io.env);
  const request = {
    StreamName: stream,
    StartTimestamp: from,
    EndTimestamp: to,
    TimestampType: serverTime ? 'SERVER_TIMESTAMP' : 'PRODUCER_TIMESTAMP',
    ...(values.label !== undefined ? { Label: values.label } : {}),
    MaxResults: EVENTS_PAGE,
  };
  let token: string | undefined;
  let count = 0;
  do {
    const page = await kvs.call<{ Events?: FrameEvent[]; NextToken?: string | null }>('/openkvs/listFrameEvents', { ...request, ...(token ? { NextToken: token } : {}) });
    for (const e of page.Events ?? []) {
      count++;
      io.stdout.write(formatEvent(e, serverTime) + '\n');
    }
    token = page.NextToken ?? undefined;
  } while (token);
  io.stderr.write(`${count} event${count === 1 ? '' : 's'}\n`);
  return EXIT.OK;
}

/** One event line: time (ISO, UTC), label, confidence, hook, fragment number; tab-separated. */
export function formatEvent(e: FrameEvent, serverTime = false): string {
  const seconds = serverTime ? e.ServerTimestamp : e.ProducerTimestamp;
  const confidence = typeof e.Confidence === 'number' ? e.Confidence.toFixed(3) : '-';
  return `${new Date(Math.round(seconds * 1000)).toISOString()}\t${e.Label}\t${confidence}\t${e.HookName}\t${e.FragmentNumber}`;
}
