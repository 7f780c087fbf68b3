// Structured logs for journald: one event per line on stderr, text or JSON.
//   text: 2026-11-22T02:30:00.123Z info  tcp_listen addr=127.0.0.1:20000 bus=can0
//   json: {"time":"2026-11-22T02:30:00.123Z","level":"info","event":"tcp_listen","addr":"127.0.0.1:20000","bus":"can0"}
// Under systemd (stderr is the journal stream) each line instead starts with its syslog
// priority and carries no timestamp, journald's own:
//   text: <6>info  tcp_listen addr=127.0.0.1:20000 bus=can0
// so `journalctl -p warning -u ampio-bridge` separates warnings from info.
// A logger never throws: a broken pipe or an odd field value must not take the bridge down.
import fs from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. {conn_id, remote}); shares level and output. */
  child(fields: LogFields): Logger;
  /** Whether `level` is written: guard expensive field computation with it. */
  enabled(level: LogLevel): boolean;
  /** Changes level/format for this logger and all its children (SIGHUP reload). */
  reconfigure(options: { format?: LogFormat; level?: LogLevel }): void;
}

export interface LoggerOptions {
  format: LogFormat;
  level: LogLevel;
  /** Where lines go; anything with write(string). Defaults to process.stderr. */
  stream?: { write(chunk: string): unknown };
  /** Wall clock in ms since the epoch (tests pass a fixed one). */
  now?: () => number;
  /** Lines go to journald: `<N>` priority prefix, no own timestamp (see isJournalStream). */
  journal?: boolean;
}

/** syslog priorities (sd-daemon(3) prefixes): err 3, warning 4, info 6, debug 7. */
const PRIORITY: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

/**
 * Whether `stream` is connected to the journal. systemd sets JOURNAL_STREAM=<dev>:<inode> of
 * the stderr it connected; comparing it with the stream's own fstat (as systemd.exec(5)
 * advises) keeps a redirected stderr (`serve 2>file` inside a unit) plain.
 */
export function isJournalStream(env: Record<string, string | undefined>, stream: unknown): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  const fd = (stream as { fd?: unknown } | null)?.fd;
  if (!m || typeof fd !== 'number') return false;
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]) && st.ino === BigInt(m[2]);
  } catch {
    return false;
  }
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** Reserved keys of the JSON form; fields with these names are renamed rather than lost. */
const RESERVED = new Set(['time', 'level', 'event']);

interface Shared {
  journal: boolean;
  format: LogFormat;
  threshold: number;
  stream: { write(chunk: string): unknown };
  now: () => number;
}

export function createLogger(options: LoggerOptions): Logger {
  const shared: Shared = {
    journal: options.journal === true,
    format: options.format,
    threshold: RANK[options.level] ?? RANK.info,
    stream: options.stream ?? process.stderr,
    now: options.now ?? Date.now,
  };
  return makeLogger(shared, undefined);
}

function makeLogger(shared: Shared, bound: LogFields | undefined): Logger {
  const write = (level: LogLevel, event: string, fields: LogFields | undefined): void => {
    // The level check comes first and allocates nothing: debug calls on hot paths are free.
    if (RANK[level] < shared.threshold) return;
    try {
      const merged = bound ? (fields ? { ...bound, ...fields } : bound) : fields;
      const time = shared.journal ? null : shared.now();
      const line = shared.format === 'json' ? jsonLine(time, level, event, merged) : textLine(time, level, event, merged);
      shared.stream.write(shared.journal ? `<${PRIORITY[level]}>${line}` : line);
    } catch {
      // Nowhere left to report a failing log write (EPIPE on a closed stderr, a stream
      // destroyed during shutdown); dropping the line is the only safe choice.
    }
  };
  return {
    debug: (event, fields) => write('debug', event, fields),
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
    child: (fields) => makeLogger(shared, bound ? { ...bound, ...fields } : { ...fields }),
    enabled: (level) => RANK[level] >= shared.threshold,
    reconfigure({ format, level }) {
      if (format === 'text' || format === 'json') shared.format = format;
      if (level !== undefined && level in RANK) shared.threshold = RANK[level];
    },
  };
}

// ---------------------------------------------------------------- values

/**
 * Flattens one field into `key=value` pairs: an Error becomes its message (with `cause`s
 * appended) plus `<key>_code` and `<key>_hint` when it has them, so `error=…` stays a plain
 * string that grep and journalctl -o json users can rely on.
 */
function flatten(key: string, value: unknown, out: Array<[string, unknown]>): void {
  if (value === undefined) return;
  if (value instanceof Error) {
    out.push([key, errorMessage(value)]);
    const { code, hint } = value as Error & { code?: unknown; hint?: unknown };
    if (code !== undefined && code !== null) out.push([`${key}_code`, String(code)]);
    if (typeof hint === 'string' && hint !== '') out.push([`${key}_hint`, hint]);
    return;
  }
  out.push([key, value]);
}

function errorMessage(error: Error): string {
  let message = error.message || error.name;
  let cause: unknown = error.cause;
  // Bounded: a cause chain can be cyclic.
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    const text = cause instanceof Error ? cause.message : String(cause);
    if (text && !message.includes(text)) message += `: ${text}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return message;
}

function entries(fields: LogFields | undefined): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  if (!fields) return out;
  for (const key of Object.keys(fields)) flatten(key, fields[key], out);
  return out;
}

function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'function' || typeof value === 'symbol') return String(value);
  return value;
}

function jsonLine(now: number | null, level: LogLevel, event: string, fields: LogFields | undefined): string {
  const record: Record<string, unknown> = now === null ? { level, event } : { time: isoTime(now), level, event };
  for (const [key, value] of entries(fields)) {
    record[RESERVED.has(key) ? `${key}_field` : key] = toJsonValue(value);
  }
  return `${safeStringify(record)}\n`;
}

function safeStringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  } catch {
    // A circular object in some field: keep the line, lose that field's content.
    const flat: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) {
      try {
        JSON.stringify(v);
        flat[k] = v;
      } catch {
        flat[k] = '[unserializable]';
      }
    }
    return JSON.stringify(flat);
  }
}

function textLine(now: number | null, level: LogLevel, event: string, fields: LogFields | undefined): string {
  let line = `${now === null ? '' : `${isoTime(now)} `}${level.padEnd(5)} ${textToken(event)}`;
  for (const [key, value] of entries(fields)) line += ` ${textToken(key)}=${textValue(value)}`;
  return `${line}\n`;
}

function textValue(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return textToken(value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default: {
      if (value instanceof Date) return textToken(toJsonValue(value) as string);
      let text: string;
      try {
        text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
      } catch {
        text = '[unserializable]';
      }
      return textToken(text);
    }
  }
}

/** Bare when safe, else a JSON string: one event stays on one line whatever the value holds. */
function textToken(text: string): string {
  if (text !== '' && !/[\s"=\\\u0000-\u001f\u007f]/.test(text)) return text;
  return JSON.stringify(text);
}

function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
