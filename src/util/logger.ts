// A tiny structured logger: one JSON object per line on stderr, with a fixed component prefix.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Logger = {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
};

export type LogSink = (line: string) => void;

export function createLogger(level: LogLevel | 'silent', sink: LogSink = (l) => process.stderr.write(l + '\n'), component = 'openkvs'): Logger {
  const min = level === 'silent' ? Infinity : LEVELS[level];
  const write = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[lvl] < min) {
      return;
    }
    sink(JSON.stringify({ t: new Date().toISOString(), level: lvl, c: component, msg, ...fields }, bigintSafe));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (c) => createLogger(level, sink, `${component}.${c}`),
  };
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
