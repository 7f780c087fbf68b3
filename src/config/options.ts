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

/** Thrown by parsers; the loader wraps it with the flag/env names. */
export class OptionValueError extends Error {}

// ---------------------------------------------------------------- parsers

export function parseIntInRange(raw: string, min: number, max: number): number {
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) throw new OptionValueError(`"${raw}" is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new OptionValueError(`${n} is outside ${min}..${max}`);
  return n;
}

const DURATION_UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations ("5ms", "2s", "1m30s"); a bare "0" means zero. Returns milliseconds. */
export function parseDuration(raw: string): number {
  const text = raw.trim();
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new OptionValueError(`"${raw}" is not a duration`);
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    pos = re.lastIndex;
  }
  if (pos === 0) throw new OptionValueError(`"${raw}" is not a duration`);
  return total;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (Number.isInteger(ms)) return `${ms}ms`;
  return `${Math.round(ms * 1000)}us`;
}

export function parseBool(raw: string): boolean {
  const t = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  throw new OptionValueError(`"${raw}" is not true/false`);
}

export interface ListenAddress {
  /** '' = all interfaces (IPv6 and IPv4 where the OS allows) */
  host: string;
  port: number;
}

/** `:20000`, `20000`, `127.0.0.1:20000`, `[::1]:20000`, `::` (port 0 allowed for tests). */
export function parseListen(raw: string, allowEmpty = false): ListenAddress | null {
  const text = raw.trim();
  if (text === '') {
    if (allowEmpty) return null;
    throw new OptionValueError('an address is required');
  }
  let host: string;
  let portText: string;
  const v6 = /^\[([0-9a-fA-F:.%\w]+)\]:(\d+)$/.exec(text);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else if (/^\d+$/.test(text)) {
    host = '';
    portText = text;
  } else {
    const i = text.lastIndexOf(':');
    if (i < 0) throw new OptionValueError(`"${raw}" has no port (expected host:port or :port)`);
    host = text.slice(0, i);
    portText = text.slice(i + 1);
    if (host.includes(':')) throw new OptionValueError(`"${raw}": write IPv6 hosts in brackets, e.g. [::1]:20000`);
  }
  if (!/^\d+$/.test(portText)) throw new OptionValueError(`"${raw}" has no valid port`);
  const port = Number(portText);
  if (port > 65535) throw new OptionValueError(`port ${port} is outside 0..65535`);
  if (host !== '' && !/^[\w.\-:%]+$/.test(host)) throw new OptionValueError(`"${host}" is not a host name or address`);
  return { host, port };
}

export function formatListen(a: ListenAddress | null): string {
  if (!a) return '';
  if (a.host.includes(':')) return `[${a.host}]:${a.port}`;
  return `${a.host}:${a.port}`;
}

function enumParser<T extends string>(choices: readonly T[]) {
  return (raw: string): T => {
    const t = raw.trim().toLowerCase() as T;
    if (!choices.includes(t)) throw new OptionValueError(`"${raw}" is not one of ${choices.join(', ')}`);
    return t;
  };
}

/** The guard parsers throw plain errors; the loader wants OptionValueError. */
function wrapGuardError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new OptionValueError(err instanceof Error ? err.message : String(err));
  }
}

// ---------------------------------------------------------------- the table

const opt = <T>(spec: OptionSpec<T>): OptionSpec<T> => spec;
const durationFormat = { format: formatDuration };

export const BACKENDS = ['socketcan', 'serial', 'virtual'] as const;
export const VIRTUAL_PAYLOADS = ['ampio', 'sequence'] as const;
export const HUB_POLICIES = ['drop', 'kick'] as const;
export const ECHO_MODES = ['others', 'none'] as const;
export const LOG_FORMATS = ['text', 'json'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const OPTIONS = {
  backend: opt<(typeof BACKENDS)[number]>({
    flag: 'backend',
    kind: 'enum',
    default: 'socketcan',
    expected: 'socketcan, serial or virtual',
    help: 'CAN source: socketcan (HAT), serial (Ampio USB adapter) or virtual (simulated bus, no hardware)',
    group: 'backend',
    scope: 'structural',
    parse: enumParser(BACKENDS),
    choices: BACKENDS,
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
  baud: opt<number>({
    flag: 'baud',
    kind: 'int',
    default: 115200,
    expected: 'a baud rate like 115200',
    help: 'serial baud rate of the Ampio adapter',
    group: 'backend',
    scope: 'structural',
    parse: (raw) => parseIntInRange(raw, 1200, 4_000_000),
  }),
  bitrate: opt<number>({
    flag: 'bitrate',
    kind: 'int',
    default: 50000,
    expected: 'bit/s like 50000',
    help: 'bus bitrate for bus-load figures when the backend cannot report it (serial, virtual; SocketCAN reads it from the interface)',
    group: 'backend',
    scope: 'structural',
    parse: (raw) => parseIntInRange(raw, 5000, 8_000_000),
  }),
  txMaxAge: opt<number>({
    flag: 'tx-max-age',
    kind: 'duration',
    default: 2000,
    expected: 'a duration like 2s (0 = never expire)',
    help: 'frames for the bus older than this are dropped instead of sent late (no stale light/blind commands)',
    group: 'backend',
    scope: 'reloadable',
    parse: parseDuration,
    ...durationFormat,
  }),
  txQueueSize: opt<number>({
    flag: 'tx-queue-size',
    kind: 'int',
    default: 1024,
    expected: 'a number of frames, 1..65536',
    help: "frames the bridge's own TX queue holds per bus before refusing more",
    group: 'backend',
    scope: 'structural',
    parse: (raw) => parseIntInRange(raw, 1, 65536),
  }),
  forwardErrors: opt<boolean>({
    flag: 'forward-errors',
    kind: 'bool',
    default: true,
    expected: 'true or false',
    help: 'send CAN error frames (ERR flag) to clients; they always update bus state and metrics',
    group: 'backend',
    scope: 'reloadable',
    parse: parseBool,
  }),
  virtualRate: opt<number>({
    flag: 'virtual-rate',
    kind: 'int',
    default: 250,
    expected: 'frames per second, 0..2000000',
    help: 'virtual backend: synthetic Ampio-like frames/s (about a busy 50 kbit/s bus); 0 = silent bus',
    group: 'backend',
    scope: 'structural',
    parse: (raw) => parseIntInRange(raw, 0, 2_000_000),
  }),
  virtualPayload: opt<(typeof VIRTUAL_PAYLOADS)[number]>({
    flag: 'virtual-payload',
    kind: 'enum',
    default: 'ampio',
    expected: 'ampio or sequence',
    help: 'virtual backend: ampio (varied Ampio-like frames) or sequence (ID 0x1000+bus, bytes 0-3 a sequence number, 4-7 send time in µs: for tests and benchmarks)',
    group: 'backend',
    scope: 'structural',
    parse: enumParser(VIRTUAL_PAYLOADS),
  }),
  listen: opt<ListenAddress>({
    flag: 'listen',
    kind: 'address',
    default: { host: '', port: 20000 },
    expected: 'host:port, :port or [v6]:port',
    help: 'TCP address for cannelloni clients (second bus: port + 1)',
    group: 'network',
    scope: 'structural',
    parse: (raw) => parseListen(raw) as ListenAddress,
    format: formatListen,
  }),
  maxClients: opt<number>({
    flag: 'max-clients',
    kind: 'int',
    default: 0,
    expected: 'a number, 0 = unlimited',
    help: 'clients per bus; extra connections are closed at once and counted (0 = unlimited)',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => parseIntInRange(raw, 0, 100_000),
  }),
  handshakeTimeout: opt<number>({
    flag: 'handshake-timeout',
    kind: 'duration',
    default: 3000,
    expected: 'a duration like 3s',
    help: 'time a client has to send CANNELLONIv1 before it is closed',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => {
      const v = parseDuration(raw);
      if (v <= 0) throw new OptionValueError('must be more than 0');
      return v;
    },
    ...durationFormat,
  }),
  clientReadTimeout: opt<number>({
    flag: 'client-read-timeout',
    kind: 'duration',
    default: 0,
    expected: 'a duration like 60s, 0 = off',
    help: 'close clients that send nothing for this long (0 = never: listen-only monitors are legal; dead peers are reaped by TCP keepalive)',
    group: 'network',
    scope: 'reloadable',
    parse: parseDuration,
    ...durationFormat,
  }),
  echo: opt<(typeof ECHO_MODES)[number]>({
    flag: 'echo',
    kind: 'enum',
    default: 'others',
    expected: 'others or none',
    help: "others: a client's frame, once on the bus, also goes to every other client (as on a real bus); none: bus only",
    group: 'hub',
    scope: 'reloadable',
    parse: enumParser(ECHO_MODES),
    choices: ECHO_MODES,
  }),
  hubBuffer: opt<number>({
    flag: 'hub-buffer',
    kind: 'int',
    default: 512,
    expected: 'frames per client, 1..1048576',
    help: 'frames queued per client before the hub policy applies',
    group: 'hub',
    scope: 'structural',
    parse: (raw) => parseIntInRange(raw, 1, 1 << 20),
  }),
  hubPolicy: opt<(typeof HUB_POLICIES)[number]>({
    flag: 'hub-policy',
    kind: 'enum',
    default: 'drop',
    expected: 'drop or kick',
    help: "full client queue: drop (the newest frames for that client, counted) or kick (close that client)",
    group: 'hub',
    scope: 'reloadable',
    parse: enumParser(HUB_POLICIES),
    choices: HUB_POLICIES,
  }),
  batchSize: opt<number>({
    flag: 'batch-size',
    kind: 'int',
    default: 64,
    expected: 'frames, 1..4096',
    help: 'frames coalesced into one write per client',
    group: 'hub',
    scope: 'reloadable',
    parse: (raw) => parseIntInRange(raw, 1, 4096),
  }),
  flushInterval: opt<number>({
    flag: 'flush-interval',
    kind: 'duration',
    default: 5,
    expected: 'a duration like 5ms, 0 = write at once',
    help: 'longest a frame waits for its batch; 0 writes immediately (lowest latency)',
    group: 'hub',
    scope: 'reloadable',
    parse: (raw) => {
      const v = parseDuration(raw);
      if (v > 1000) throw new OptionValueError('must be at most 1s');
      return v;
    },
    ...durationFormat,
  }),
  metricsAddr: opt<ListenAddress | null>({
    flag: 'metrics-addr',
    kind: 'address',
    default: null,
    defaultText: 'off',
    expected: 'host:port like 127.0.0.1:9100, empty = off',
    help: 'HTTP address for /metrics (Prometheus), /ready and /healthz; empty = off',
    group: 'observability',
    scope: 'structural',
    parse: (raw) => parseListen(raw, true),
    format: formatListen,
    emptyIsValue: true,
  }),
  logMetricsInterval: opt<number>({
    flag: 'log-metrics-interval',
    kind: 'duration',
    default: 0,
    expected: 'a duration like 60s, 0 = off',
    help: 'log the counters periodically (without Prometheus); 0 = off',
    group: 'observability',
    scope: 'reloadable',
    parse: parseDuration,
    ...durationFormat,
  }),
  mdnsEnable: opt<boolean>({
    flag: 'mdns-enable',
    kind: 'bool',
    default: false,
    expected: 'true or false',
    help: 'advertise each listener as _can-server._tcp over mDNS (setup turns this on)',
    group: 'observability',
    scope: 'structural',
    parse: parseBool,
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
  logFormat: opt<(typeof LOG_FORMATS)[number]>({
    flag: 'log-format',
    kind: 'enum',
    default: 'text',
    expected: 'text or json',
    help: 'log line format on stderr (one event per line)',
    group: 'logging',
    scope: 'reloadable',
    parse: enumParser(LOG_FORMATS),
    choices: LOG_FORMATS,
  }),
  logLevel: opt<(typeof LOG_LEVELS)[number]>({
    flag: 'log-level',
    kind: 'enum',
    default: 'info',
    expected: 'debug, info, warn or error',
    help: 'lowest level logged',
    group: 'logging',
    scope: 'reloadable',
    parse: enumParser(LOG_LEVELS),
    choices: LOG_LEVELS,
  }),
  tcpcanListen: opt<ListenAddress | null>({
    flag: 'tcpcan-listen',
    kind: 'address',
    default: null,
    defaultText: 'off',
    expected: 'host:port like :20010, empty = off',
    help: 'TCP address for tcpcan clients (conventional port 20010; second bus: port + 1); empty = off',
    group: 'network',
    scope: 'structural',
    parse: (raw) => parseListen(raw, true),
    format: formatListen,
    emptyIsValue: true,
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
  maxPendingPerHost: opt<number>({
    flag: 'max-pending-per-host',
    kind: 'int',
    default: 8,
    expected: 'a number, 1..1024',
    help: 'connections one host may have waiting for their handshake (they take no client slot); over it, its oldest waiting connection is closed',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => parseIntInRange(raw, 1, 1024),
  }),
  maxClientsPerHost: opt<number>({
    flag: 'max-clients-per-host',
    kind: 'int',
    default: 16,
    expected: 'a number, 0 = unlimited',
    help: 'clients one host may have connected, all ports together (a global IPv6 address counts by its /64); extra connections are refused and counted (0 = unlimited)',
    group: 'network',
    scope: 'reloadable',
    parse: (raw) => parseIntInRange(raw, 0, 100_000),
  }),
  clientMaxLag: opt<number>({
    flag: 'client-max-lag',
    kind: 'duration',
    default: 2000,
    expected: 'a duration like 2s',
    help: 'no client is sent a frame older than this: frames that waited longer for a slow client are dropped for it (counted as stale; with --hub-policy kick the client is closed)',
    group: 'hub',
    scope: 'reloadable',
    parse: (raw) => {
      const v = parseDuration(raw);
      if (v < 50 || v > 600_000) throw new OptionValueError('must be between 50ms and 10m');
      return v;
    },
    ...durationFormat,
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
