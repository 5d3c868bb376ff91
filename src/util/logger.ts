// Structured logs through pino: one JSON object per line on stderr (or human-readable lines on a terminal), a
// component per child logger, the id of the HTTP request being handled on every line logged while it is open, and
// a redaction safety net so a credential passed as a field never reaches the output.

import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** 'auto': human-readable when stderr is a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export type Logger = {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
};

/** Receives each line without its newline, synchronously (tests capture lines through it). */
export type LogSink = (line: string) => void;

export type LoggerOptions = {
  /** Default 'auto'. A sink gets JSON under 'auto': it is a program, not a terminal. */
  format?: LogFormat;
  /** ANSI colours in pretty lines; default: when writing to a terminal stderr and NO_COLOR is unset. */
  color?: boolean;
};

/** What the logger adds to lines logged inside an HTTP request (src/api/access-log.ts opens it). */
export type RequestLogContext = {
  readonly requestId: string;
  /**
   * Cleared when the response ends: work begun inside a request (a timer, a consumer it started) keeps this
   * context for its whole life, and must not be stamped with a request that is long gone.
   */
  open: boolean;
};

const requestContext = new AsyncLocalStorage<RequestLogContext>();

/** Run `fn` (and everything it starts) with lines carrying the request's id while `ctx.open`. */
export function runInRequestContext<T>(ctx: RequestLogContext, fn: () => T): T {
  return requestContext.run(ctx, fn);
}

/**
 * Field names whose values are credentials, at the top level or one object down (e.g. `headers.authorization`).
 * A safety net: code should not log them at all.
 */
const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'secretAccessKey',
  'SecretAccessKey',
  'sessionToken',
  'SessionToken',
  'token',
  'Token',
  'secret',
  'password',
  'Password',
  'masterKey',
  '"X-Amz-Signature"',
  '"x-amz-signature"',
  '"X-Amz-Security-Token"',
  '"x-amz-security-token"',
];
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => (k.startsWith('"') ? [`[${k}]`, `*[${k}]`] : [k, `*.${k}`]));
export const REDACTED = '[Redacted]';

/** Credentials inside URLs or header values that were logged as one string (a presigned URL, a session URL). */
const SECRET_IN_STRING = /\b(X-Amz-Signature|X-Amz-Security-Token|SessionToken|Signature)=[^&\s"',]+/gi;

export function createLogger(level: LogLevel | 'silent', sink?: LogSink, options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'auto';
  const toTerminal = sink === undefined && process.stderr.isTTY;
  const pretty = format === 'pretty' || (format === 'auto' && toTerminal);
  const color = options.color ?? (toTerminal && process.env['NO_COLOR'] === undefined);
  const write: LogSink = sink ?? ((line) => process.stderr.write(line + '\n'));
  const destination: DestinationStream = {
    write(chunk: string): void {
      const line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
      write(pretty ? prettyLine(line, color) : line);
    },
  };
  const root = pino(
    {
      level,
      base: null,
      messageKey: 'msg',
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => scrubFields(fields),
      },
      mixin: () => {
        const ctx = requestContext.getStore();
        return ctx?.open === true ? { requestId: ctx.requestId } : {};
      },
    },
    destination,
  );
  return wrap(root, 'openkvs', root.child({ component: 'openkvs' }));
}

function wrap(root: PinoLogger, component: string, p: PinoLogger): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    // from the root each time: pino children append bindings, and a nested child would repeat `component`
    child: (c) => {
      const name = `${component}.${c}`;
      return wrap(root, name, root.child({ component: name }));
    },
  };
}

/**
 * bigints as strings (fragment numbers exceed 2^53; pino would write them as lossy JSON numbers) and credentials
 * inside string values cut out. Only copies what it changes.
 */
function scrubFields(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(fields)) {
    const clean = scrubValue(v, 0);
    if (clean !== v) {
      out ??= { ...fields };
      out[k] = clean;
    }
  }
  return out ?? fields;
}

function scrubValue(v: unknown, depth: number): unknown {
  if (typeof v === 'bigint') {
    return v.toString();
  }
  if (typeof v === 'string') {
    return v.includes('=') ? v.replace(SECRET_IN_STRING, `$1=${REDACTED}`) : v;
  }
  if (depth < 3 && typeof v === 'object' && v !== null && !(v instanceof Error) && !ArrayBuffer.isView(v)) {
    if (Array.isArray(v)) {
      let copy: unknown[] | null = null;
      v.forEach((item, i) => {
        const clean = scrubValue(item, depth + 1);
        if (clean !== item) {
          copy ??= [...v];
          copy[i] = clean;
        }
      });
      return copy ?? v;
    }
    const obj = v as Record<string, unknown>;
    let copy: Record<string, unknown> | null = null;
    for (const [k, item] of Object.entries(obj)) {
      const clean = scrubValue(item, depth + 1);
      if (clean !== item) {
        copy ??= { ...obj };
        copy[k] = clean;
      }
    }
    return copy ?? v;
  }
  return v;
}

const LEVEL_COLOR: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[35m' };
const DIM = '\x1b[2m';
const CYAN = '\x1b[36m';
const RESET = '\x1b[0m';
const SHOWN_FIRST = new Set(['time', 'level', 'component', 'msg']);

/**
 * `12:34:56.789 INFO  openkvs.http request method=POST path=/createStream status=200 …`: the time of day, the
 * level, the component, the message and the other fields as key=value; a multi-line value (a stack) follows on
 * indented lines. A line that is not JSON is passed through.
 */
export function prettyLine(json: string, color: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const paint = (code: string, s: string): string => (color ? `${code}${s}${RESET}` : s);
  const time = typeof o['time'] === 'string' ? o['time'].slice(11, 23) : '';
  const level = String(o['level'] ?? '');
  const parts = [paint(DIM, time), paint(LEVEL_COLOR[level] ?? '', level.toUpperCase().padEnd(5)), paint(CYAN, String(o['component'] ?? 'openkvs')), String(o['msg'] ?? '')];
  const tails: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (SHOWN_FIRST.has(k)) {
      continue;
    }
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (text.includes('\n')) {
      tails.push(`  ${k}:\n${text.replace(/^/gm, '    ')}`);
      continue;
    }
    parts.push(`${paint(DIM, `${k}=`)}${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : text}`);
  }
  return [parts.filter((p) => p !== '').join(' '), ...tails].join('\n');
}
