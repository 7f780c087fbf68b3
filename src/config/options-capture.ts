// The capture options (the SQLite store and its PostgreSQL forwarder), with the size and age
// forms they take (1GB, 7d); composed into the options table.
import { durationFormat, formatDuration, opt, OptionValueError, parseBool, parseDuration } from '../options/parsers.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** "1GB", "512MB", "1.5G" (binary units: 1 GB = 1024³ bytes), "0" = no bound. Returns bytes. */
export function parseByteSize(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new OptionValueError(`"${raw}" is not a size (like 1GB or 512MB)`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes !== 0 && bytes < 1024 ** 2) throw new OptionValueError('must be 0 (no bound) or at least 1MB');
  return bytes;
}

export function formatByteSize(bytes: number): string {
  if (bytes === 0) return '0';
  for (const [unit, size] of [
    ['TB', 1024 ** 4],
    ['GB', 1024 ** 3],
    ['MB', 1024 ** 2],
    ['KB', 1024],
  ] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

const DAY_MS = 86_400_000;

/** Go durations plus days: "7d", "36h", "1d12h", "0" = no age bound. Returns ms. */
export function parseAge(raw: string): number {
  const text = raw.trim();
  const m = /^(\d+(?:\.\d+)?)d(.*)$/.exec(text);
  if (!m) return parseDuration(text);
  return Number(m[1]) * DAY_MS + (m[2] === '' ? 0 : parseDuration(m[2]));
}

export function formatAge(ms: number): string {
  if (ms !== 0 && ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  return formatDuration(ms);
}

export const CAPTURE_OPTIONS = {
  capture: opt<string>({
    flag: 'capture',
    kind: 'path',
    default: '',
    defaultText: 'off',
    expected: 'a file path like /var/lib/ampio-bridge/capture.db, empty = off',
    help: "keep every bus frame (rx and the bridge's tx) in this SQLite file, for `ampio-bridge capture query/export`; empty = off (the installed service may write /var/lib/ampio-bridge/capture.db)",
    group: 'observability',
    scope: 'structural',
    parse(raw) {
      const t = raw.trim();
      if (t !== '' && !t.startsWith('/') && !t.startsWith('.')) throw new OptionValueError(`"${raw}" is not a file path (start it with / or ./)`);
      return t;
    },
    emptyIsValue: true,
  }),
  captureCommitInterval: opt<number>({
    flag: 'capture-commit-interval',
    kind: 'duration',
    default: 1000,
    expected: 'a duration like 1s, 10ms..60s',
    help: 'capture: frames are written in one transaction at most this often (longer = fewer SD-card writes; a crash loses at most this much)',
    group: 'observability',
    scope: 'structural',
    parse(raw) {
      const v = parseDuration(raw);
      if (v < 10 || v > 60_000) throw new OptionValueError('must be between 10ms and 60s');
      return v;
    },
    ...durationFormat,
  }),
  captureRetention: opt<number>({
    flag: 'capture-retention',
    kind: 'duration',
    default: 7 * 86_400_000,
    expected: 'an age like 7d or 36h, 0 = no age limit',
    help: 'capture: frames older than this are deleted (oldest first, in large chunks)',
    group: 'observability',
    scope: 'structural',
    parse: parseAge,
    format: formatAge,
  }),
  captureMaxSize: opt<number>({
    flag: 'capture-max-size',
    kind: 'string',
    default: 1024 ** 3,
    expected: 'a size like 1GB or 512MB, 0 = no size limit',
    help: 'capture: the store is kept below this size by deleting the oldest frames (whichever of age and size is hit first)',
    group: 'observability',
    scope: 'structural',
    parse: parseByteSize,
    format: formatByteSize,
  }),
  captureDrops: opt<boolean>({
    flag: 'capture-drops',
    kind: 'bool',
    default: false,
    expected: 'true or false',
    help: 'capture: also record client frames the bridge refused (filtered, queue full, …), with the reason',
    group: 'observability',
    scope: 'structural',
    parse: parseBool,
  }),
  pgUrl: opt<string>({
    flag: 'pg-url',
    kind: 'string',
    default: '',
    defaultText: 'off',
    expected: 'a URL like postgres://user@host/db, empty = off',
    help: 'capture: forward every captured frame exactly once to this PostgreSQL database (needs --capture); the password may come from PGPASSWORD or ~/.pgpass instead, and is never logged',
    group: 'observability',
    scope: 'structural',
    parse(raw) {
      const t = raw.trim();
      if (t !== '' && !/^postgres(ql)?:\/\//.test(t)) throw new OptionValueError('must start with postgres:// or postgresql://');
      return t;
    },
    emptyIsValue: true,
  }),
  pgTable: opt<string>({
    flag: 'pg-table',
    kind: 'string',
    default: 'can_frames',
    expected: 'a table name like can_frames or schema.can_frames',
    help: 'capture: PostgreSQL table for forwarded frames, created with its indexes if absent (a hypertable where TimescaleDB is installed)',
    group: 'observability',
    scope: 'structural',
    parse(raw) {
      const t = raw.trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(t))
        throw new OptionValueError(`"${raw}" is not a table name (letters, digits and _, optionally schema.table)`);
      return t;
    },
  }),
} as const;
