// THE options table: one entry per setting of `ampio-bridge serve`. It drives flag
// parsing, env names, config-file keys, validation, `--help`, the README table and the
// files `setup` writes. Pure data and parsers: no I/O here (provisioning imports it).
import { type AddressList, DEFAULT_ALLOW, formatAddressList, parseAddressList } from '../guard/address-list.js';
import { formatIdMaskList, type IdMask, parseIdMaskList } from '../guard/id-mask.js';
import { formatTxRate, parseTxRate, type TxRate } from '../guard/token-bucket.js';

// What setup and doctor need about --allow/--tx-rate, re-exported: provisioning imports
// nothing of the daemon but this table.
export { isPublicAddress, nonLocalEntries } from '../guard/address-list.js';
export { suggestTxRate } from '../guard/token-bucket.js';

export type OptionKind = 'string' | 'int' | 'bool' | 'duration' | 'enum' | 'list' | 'address' | 'path';

export interface OptionSpec<T> {
  /** kebab-case flag without dashes; also the config-file key */
  flag: string;
  kind: OptionKind;
  default: T;
  /** What the default means when it is computed at run time (shown in help). */
  defaultText?: string;
  /** Short form of the accepted values, used in error messages: "a port like :20000" */
  expected: string;
  help: string;
  group: 'backend' | 'network' | 'hub' | 'observability' | 'logging';
  /** `structural` needs a restart; `reloadable` may change on SIGHUP. */
  scope: 'structural' | 'reloadable';
  parse(raw: string): T;
  /** Renders a value back to the text a flag/env/file would hold. */
  format?(value: T): string;
  /** The accepted words of an `enum` option (help, shell completion, the setup wizard). */
  choices?: readonly string[];
  /**
   * An empty environment variable normally counts as unset (as in go-ampio-server and
   * systemd EnvironmentFile templates with blank values); set this where empty is a real
   * value, e.g. `metrics-addr` where empty means "off".
   */
  emptyIsValue?: boolean;
}

// The parsers and option helpers live in parsers.ts; re-exported so existing imports keep working.
export {
  boolOption,
  DURATION_RULE,
  durationOption,
  enumOption,
  enumParser,
  formatDuration,
  formatListen,
  intOption,
  isWildcardHost,
  listenOption,
  OptionValueError,
  optionalListenOption,
  parseBool,
  parseDuration,
  parseDurationInRange,
  parseIntInRange,
  parseListen,
  type ListenAddress,
} from './parsers.js';
// Local names too: entries written in the `opt<T>({...})` form use these parsers directly.
import {
  boolOption,
  durationOption,
  enumOption,
  enumParser,
  formatDuration,
  formatListen,
  intOption,
  type ListenAddress,
  listenOption,
  OptionValueError,
  optionalListenOption,
  parseBool,
  parseDuration,
  parseIntInRange,
  parseListen,
} from './parsers.js';

/** The guard parsers throw plain errors; the loader wants OptionValueError. */
function wrapGuardError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new OptionValueError(err instanceof Error ? err.message : String(err));
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 };

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
  for (const [unit, size] of [['TB', 1024 ** 4], ['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
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

// ---------------------------------------------------------------- the table

/**
 * An entry written out in full. Prefer the helpers (intOption, durationOption, enumOption,
 * boolOption, listenOption, optionalListenOption): they derive `expected`, `choices` and
 * `format` from the parser's own bounds.
 */
export const opt = <T>(spec: OptionSpec<T>): OptionSpec<T> => spec;
/** For `opt` entries of kind 'duration': `...durationFormat` renders values back as 5ms, 2s. */
export const durationFormat = { format: formatDuration };

export const BACKENDS = ['socketcan', 'serial', 'virtual'] as const;
export const VIRTUAL_PAYLOADS = ['ampio', 'sequence'] as const;
export const HUB_POLICIES = ['drop', 'kick'] as const;
export const ECHO_MODES = ['others', 'none'] as const;
export const GVRET_FD_FORMS = ['off', 'esp32ret', 'wiretap'] as const;
export const LOG_FORMATS = ['text', 'json'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const OPTIONS = {
  backend: enumOption(BACKENDS, {
    flag: 'backend',
    default: 'socketcan',
    help: 'CAN source: socketcan (HAT), serial (Ampio USB adapter) or virtual (simulated bus, no hardware)',
    group: 'backend',
    scope: 'structural',
  }),
  canIf: opt<string[]>({
    flag: 'can-if',
    kind: 'list',
    default: ['can0'],
    expected: 'interface names like can0 or can0,can1',
    help: 'SocketCAN interface(s); with two (can0,can1) each is served on its own port: --listen, --listen+1 (also names the virtual buses)',
    group: 'backend',
    scope: 'structural',
    parse(raw) {
      const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
      if (names.length === 0) throw new OptionValueError('at least one interface is required');
      for (const n of names) {
        if (!/^[A-Za-z0-9_.\-]{1,15}$/.test(n)) throw new OptionValueError(`"${n}" is not an interface name (1-15 letters, digits, _ . -)`);
      }
      if (new Set(names).size !== names.length) throw new OptionValueError('an interface is listed twice');
      return names;
    },
    format: (v) => v.join(','),
  }),
  serial: opt<string>({
    flag: 'serial',
    kind: 'path',
    default: '/dev/ttyUSB0',
    expected: 'a device path, best /dev/serial/by-id/…',
    help: 'serial device of the Ampio USB-CAN adapter (prefer the stable /dev/serial/by-id/ path)',
    group: 'backend',
    scope: 'structural',
    parse(raw) {
      if (!raw.trim().startsWith('/')) throw new OptionValueError(`"${raw}" is not an absolute path`);
      return raw.trim();
    },
  }),
  baud: intOption(1200, 4_000_000, {
    flag: 'baud',
    unit: 'a baud rate like 115200',
    default: 115200,
    help: 'serial baud rate of the Ampio adapter',
    group: 'backend',
    scope: 'structural',
  }),
  bitrate: intOption(5000, 8_000_000, {
    flag: 'bitrate',
    unit: 'bit/s like 50000',
    default: 50000,
    help: 'bus bitrate for bus-load figures when the backend cannot report it (serial, virtual; SocketCAN reads it from the interface)',
    group: 'backend',
    scope: 'structural',
  }),
  txMaxAge: durationOption({
    flag: 'tx-max-age',
    example: '2s',
    zero: 'never expire',
    default: 2000,
    help: 'frames for the bus older than this are dropped instead of sent late (no stale light/blind commands)',
    group: 'backend',
    scope: 'reloadable',
  }),
  txQueueSize: intOption(1, 65536, {
    flag: 'tx-queue-size',
    unit: 'frames',
    default: 1024,
    help: "frames the bridge's own TX queue holds per bus before refusing more",
    group: 'backend',
    scope: 'structural',
  }),
  forwardErrors: boolOption({
    flag: 'forward-errors',
    default: true,
    help: 'send CAN error frames (ERR flag) to clients; they always update bus state and metrics',
    group: 'backend',
    scope: 'reloadable',
  }),
  virtualRate: intOption(0, 2_000_000, {
    flag: 'virtual-rate',
    unit: 'frames per second',
    zero: 'silent bus',
    default: 250,
    help: 'virtual backend: synthetic Ampio-like frames/s (about a busy 50 kbit/s bus); 0 = silent bus',
    group: 'backend',
    scope: 'structural',
  }),
  virtualPayload: enumOption(VIRTUAL_PAYLOADS, {
    flag: 'virtual-payload',
    default: 'ampio',
    help: 'virtual backend: ampio (varied Ampio-like frames) or sequence (ID 0x1000+bus, bytes 0-3 a sequence number, 4-7 send time in µs: for tests and benchmarks)',
    group: 'backend',
    scope: 'structural',
  }),
  listen: listenOption({
    flag: 'listen',
    example: '127.0.0.1:20000',
    default: { host: '', port: 20000 },
    help: 'TCP address for cannelloni clients (second bus: port + 1); a bare port is refused: say 127.0.0.1:PORT (this machine) or :PORT (all interfaces)',
    group: 'network',
    scope: 'structural',
  }),
  maxClients: intOption(0, 100_000, {
    flag: 'max-clients',
    unit: 'clients',
    zero: 'unlimited',
    default: 0,
    help: 'clients per bus; extra connections are closed at once and counted (0 = unlimited)',
    group: 'network',
    scope: 'reloadable',
  }),
  handshakeTimeout: durationOption({
    flag: 'handshake-timeout',
    example: '3s',
    default: 3000,
    help: 'time a client has to send CANNELLONIv1 before it is closed',
    group: 'network',
    scope: 'reloadable',
  }),
  clientReadTimeout: durationOption({
    flag: 'client-read-timeout',
    example: '60s',
    zero: 'off',
    default: 0,
    help: 'close clients that send nothing for this long (0 = never: listen-only monitors are legal; dead peers are reaped by TCP keepalive)',
    group: 'network',
    scope: 'reloadable',
  }),
  echo: enumOption(ECHO_MODES, {
    flag: 'echo',
    default: 'others',
    help: "others: a client's frame, once on the bus, also goes to every other client (as on a real bus); none: bus only",
    group: 'hub',
    scope: 'reloadable',
  }),
  hubBuffer: intOption(1, 1 << 20, {
    flag: 'hub-buffer',
    unit: 'frames per client',
    default: 512,
    help: 'frames queued per client before the hub policy applies',
    group: 'hub',
    scope: 'structural',
  }),
  hubPolicy: enumOption(HUB_POLICIES, {
    flag: 'hub-policy',
    default: 'drop',
    help: 'full client queue: drop (the newest frames for that client, counted) or kick (close that client)',
    group: 'hub',
    scope: 'reloadable',
  }),
  batchSize: intOption(1, 4096, {
    flag: 'batch-size',
    unit: 'frames',
    default: 64,
    help: 'frames coalesced into one write per client',
    group: 'hub',
    scope: 'reloadable',
  }),
  flushInterval: durationOption({
    flag: 'flush-interval',
    example: '5ms',
    max: 1000,
    zero: 'write at once',
    default: 5,
    help: 'longest a frame waits for its batch; 0 writes immediately (lowest latency)',
    group: 'hub',
    scope: 'reloadable',
  }),
  metricsAddr: optionalListenOption({
    flag: 'metrics-addr',
    example: '127.0.0.1:9100',
    default: null,
    help: 'HTTP address for /metrics (Prometheus), /ready and /healthz; off or empty = off; a bare port is refused',
    group: 'observability',
    scope: 'structural',
  }),
  logMetricsInterval: durationOption({
    flag: 'log-metrics-interval',
    example: '60s',
    zero: 'off',
    default: 0,
    help: 'log the counters periodically (without Prometheus); 0 = off',
    group: 'observability',
    scope: 'reloadable',
  }),
  mdnsEnable: boolOption({
    flag: 'mdns-enable',
    default: false,
    help: 'advertise each listener as _can-server._tcp over mDNS (setup turns this on)',
    group: 'observability',
    scope: 'structural',
  }),
  mdnsName: opt<string>({
    flag: 'mdns-name',
    kind: 'string',
    default: '',
    defaultText: 'ampio-bridge-<hostname>',
    expected: 'an instance name (1-63 characters)',
    help: 'mDNS instance name; a bus suffix is added when serving two buses',
    group: 'observability',
    scope: 'structural',
    parse(raw) {
      const t = raw.trim();
      if (t.length > 63) throw new OptionValueError('longer than 63 characters');
      return t;
    },
  }),
  controlSocket: opt<string>({
    flag: 'control-socket',
    kind: 'path',
    default: '',
    defaultText: '$RUNTIME_DIRECTORY/control.sock, else $XDG_RUNTIME_DIR/ampio-bridge/control.sock, else <tmp>/ampio-bridge-<uid>/control.sock',
    expected: 'a socket path',
    help: 'Unix socket for `status` and `top`',
    group: 'observability',
    scope: 'structural',
    parse: (raw) => raw.trim(),
  }),
  logFormat: enumOption(LOG_FORMATS, {
    flag: 'log-format',
    default: 'text',
    help: 'log line format on stderr (one event per line)',
    group: 'logging',
    scope: 'reloadable',
  }),
  logLevel: enumOption(LOG_LEVELS, {
    flag: 'log-level',
    default: 'info',
    help: 'lowest level logged',
    group: 'logging',
    scope: 'reloadable',
  }),
  tcpcanListen: optionalListenOption({
    flag: 'tcpcan-listen',
    example: ':20010',
    default: null,
    help: 'TCP address for tcpcan clients (conventional port 20010; second bus: port + 1); off or empty = off',
    group: 'network',
    scope: 'structural',
  }),
  canRcvbuf: opt<number>({
    flag: 'can-rcvbuf',
    kind: 'int',
    default: 1 << 20,
    expected: 'bytes like 1048576, 512K or 4M (0 = the kernel default)',
    help: 'SocketCAN receive buffer per interface: frames that arrive while the bridge is busy wait here; what overflows is counted as kernel drops',
    group: 'backend',
    scope: 'structural',
    parse(raw) {
      const m = /^(\d+)\s*([kKmM]?)i?[bB]?$/.exec(raw.trim());
      if (!m) throw new OptionValueError(`"${raw}" is not a size (bytes, or with K/M)`);
      const v = Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1024 : 1024 * 1024);
      if (v !== 0 && (v < 4096 || v > 256 * 1024 * 1024)) throw new OptionValueError('must be 0 or 4K..256M');
      return v;
    },
  }),
  gvretListen: opt<ListenAddress | null>({
    flag: 'gvret-listen',
    kind: 'address',
    default: null,
    defaultText: 'off',
    expected: 'host:port like :2323 (SavvyCAN needs port 23), empty = off',
    help: 'TCP address for GVRET clients (SavvyCAN, WireTAP): one port serves every bus, GVRET bus 0 = the first --can-if; SavvyCAN connects only to port 23 (setup grants the service that one privilege); empty = off',
    group: 'network',
    scope: 'structural',
    parse: (raw) => parseListen(raw, true),
    format: formatListen,
    emptyIsValue: true,
  }),
  gvretFd: opt<(typeof GVRET_FD_FORMS)[number]>({
    flag: 'gvret-fd',
    kind: 'enum',
    default: 'off',
    expected: 'off, esp32ret or wiretap',
    help: "CAN FD frames to GVRET clients: off (withheld), esp32ret (F1 14, the ESP32RET form) or wiretap (F1 00 with a DLC code, WireTAP's form); SavvyCAN never gets them (its parser loses sync)",
    group: 'network',
    scope: 'structural',
    parse: enumParser(GVRET_FD_FORMS),
    choices: GVRET_FD_FORMS,
  }),
  gvretDiscovery: opt<boolean>({
    flag: 'gvret-discovery',
    kind: 'bool',
    default: false,
    expected: 'true or false',
    help: "broadcast the GVRET discovery ping (UDP 17222, every second) by which SavvyCAN lists devices; needs --gvret-listen",
    group: 'network',
    scope: 'structural',
    parse: parseBool,
  }),
  socketcandListen: optionalListenOption({
    flag: 'socketcand-listen',
    example: ':29536',
    default: null,
    help: 'TCP address for socketcand clients (python-can, SavvyCAN, Kayak; conventional port 29536); one port serves every bus, picked by `< open can0 >`; off or empty = off',
    group: 'network',
    scope: 'structural',
  }),
  socketcandBeacon: boolOption({
    flag: 'socketcand-beacon',
    default: false,
    help: 'broadcast the socketcand discovery beacon (UDP 42000, every 3 s) on each local IPv4 subnet, for SavvyCAN and python-can >= 4.4',
    group: 'observability',
    scope: 'structural',
  }),
  allow: opt<AddressList>({
    flag: 'allow',
    kind: 'list',
    default: DEFAULT_ALLOW,
    expected: 'CIDR ranges or addresses, local, loopback or any (e.g. local,100.64.0.0/10)',
    help: 'who may connect to the bus ports, checked before the hello: local = loopback, RFC 1918, link-local, IPv6 ULA/link-local; loopback = this machine only; any = everyone (the protocols have no passwords)',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => wrapGuardError(() => parseAddressList(raw)),
    format: formatAddressList,
  }),
  txAllow: opt<AddressList | null>({
    flag: 'tx-allow',
    kind: 'list',
    default: null,
    defaultText: 'same as --allow',
    expected: 'CIDR ranges or addresses, local, loopback or any',
    help: 'who may send frames to the bus; clients outside it only listen (their frames are dropped and counted, they are not closed)',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => (raw.trim() === '' ? null : wrapGuardError(() => parseAddressList(raw))),
    format: (v) => (v ? formatAddressList(v) : ''),
  }),
  txRate: opt<TxRate | null>({
    flag: 'tx-rate',
    kind: 'string',
    default: null,
    defaultText: 'off',
    expected: 'frames/s like 100, or 100/20 for a burst of 20; 0 = off',
    help: 'frames per second each client may send to the bus (token bucket; burst defaults to one second\'s worth); extra frames are dropped and counted as rate_limited',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => wrapGuardError(() => parseTxRate(raw)),
    format: formatTxRate,
  }),
  txIds: opt<IdMask[]>({
    flag: 'tx-ids',
    kind: 'list',
    default: [],
    defaultText: 'every ID',
    expected: 'hex id/mask pairs like 100/700,1d0',
    help: 'CAN IDs clients may send (id/mask in hex, as SocketCAN filters; 8 hex digits or above 7ff = extended); others are dropped and counted as id_not_allowed',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => wrapGuardError(() => parseIdMaskList(raw)),
    format: formatIdMaskList,
  }),
  maxPendingPerHost: intOption(1, 1024, {
    flag: 'max-pending-per-host',
    unit: 'connections',
    default: 8,
    help: 'connections one host may have waiting for their handshake (they take no client slot); over it, its oldest waiting connection is closed',
    group: 'network',
    scope: 'reloadable',
  }),
  maxClientsPerHost: intOption(0, 100_000, {
    flag: 'max-clients-per-host',
    unit: 'clients',
    zero: 'unlimited',
    default: 16,
    help: 'clients one host may have connected, all ports together (a global IPv6 address counts by its /64); extra connections are refused and counted (0 = unlimited)',
    group: 'network',
    scope: 'reloadable',
  }),
  clientMaxLag: durationOption({
    flag: 'client-max-lag',
    example: '2s',
    min: 50,
    max: 600_000,
    default: 2000,
    help: 'no client is sent a frame older than this: frames that waited longer for a slow client are dropped for it (counted as stale; with --hub-policy kick the client is closed)',
    group: 'hub',
    scope: 'reloadable',
  }),
  capture: opt<string>({
    flag: 'capture',
    kind: 'path',
    default: '',
    defaultText: 'off',
    expected: 'a file path like /var/lib/ampio-bridge/capture.db, empty = off',
    help: 'keep every bus frame (rx and the bridge\'s tx) in this SQLite file, for `ampio-bridge capture query/export`; empty = off (the installed service may write /var/lib/ampio-bridge/capture.db)',
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
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/.test(t)) throw new OptionValueError(`"${raw}" is not a table name (letters, digits and _, optionally schema.table)`);
      return t;
    },
  }),
} as const;

export type OptionName = keyof typeof OPTIONS;
type ValueOf<S> = S extends OptionSpec<infer T> ? T : never;

/** The effective settings of `serve`: frozen, fully validated. */
export type Config = { readonly [K in OptionName]: ValueOf<(typeof OPTIONS)[K]> } & {
  /** Path of the config file that was read, if any. */
  readonly configFile: string | null;
};

export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];

/** `--hub-buffer` → `AMPIO_BRIDGE_HUB_BUFFER` */
export function envNameFor(flag: string): string {
  return `AMPIO_BRIDGE_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** The text form of a value, as a flag, env var or config file would hold it. */
export function formatOptionValue(name: OptionName, value: unknown): string {
  const spec = OPTIONS[name] as OptionSpec<unknown>;
  if (spec.format) return spec.format(value);
  return String(value);
}

/** The default as shown to people (help, README). */
export function defaultText(name: OptionName): string {
  const spec = OPTIONS[name] as OptionSpec<unknown>;
  if (spec.defaultText) return spec.defaultText;
  const text = formatOptionValue(name, spec.default);
  return text === '' ? '(empty)' : text;
}

export function specByFlag(flag: string): [OptionName, OptionSpec<unknown>] | undefined {
  for (const name of OPTION_NAMES) {
    if (OPTIONS[name].flag === flag) return [name, OPTIONS[name] as OptionSpec<unknown>];
  }
  return undefined;
}
