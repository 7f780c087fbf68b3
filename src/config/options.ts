// THE options table: one entry per setting of `ampio-bridge serve`, composed here from the
// core entries below and the groups of the backend (options-backend.ts), access control
// (options-access.ts), the wire protocols (each plug-in's own group,
// src/protocols/<name>/plugin.ts, through the registry), capture (options-capture.ts), the
// web page (options-web.ts), the Ampio house layer (options-ampio.ts) and MQTT
// (options-mqtt.ts); a service adds its group the same way, and an entry that declares
// `listener` is checked against every other listener by one rule (listeners.ts). It drives
// flag parsing, env names, config-file keys, validation, `--help`, the README table and
// the files `setup` writes. Pure data and parsers: no I/O here (provisioning imports it).
import { BACKEND_OPTIONS } from './options-backend.js';
import { ACCESS_OPTIONS } from './options-access.js';
import { PROTOCOL_OPTIONS } from '../protocols/registry.js';
import { CAPTURE_OPTIONS } from './options-capture.js';
import { WEB_OPTIONS } from './options-web.js';
import { AMPIO_OPTIONS } from './options-ampio.js';
import { MQTT_OPTIONS } from './options-mqtt.js';

// What setup and doctor need about --allow/--tx-rate, re-exported: provisioning imports
// nothing of the daemon but this table.
export { isPublicAddress, nonLocalEntries } from '../guard/address-list.js';
export { suggestTxRate } from '../guard/token-bucket.js';
export { hashTokenSync, newToken } from '../guard/web-token.js';
export { formatAge, formatByteSize, parseAge, parseByteSize } from './options-capture.js';
// The wire protocols' setup questions, and the one clash rule for listeners (setup picks free
// ports and refuses clashing answers exactly as serve would).
export { PLUGINS as PROTOCOL_PLUGINS } from '../protocols/registry.js';
export type { ProtocolPlugin, SetupQuestion } from '../protocols/types.js';
export { configuredListeners, listenerClashes, type ConfiguredListener } from './listeners.js';

// The spec of one entry and the parsers live in the options core (src/options/), below the
// plug-ins that declare entries with them; re-exported so existing imports keep working.
export type { OptionKind, OptionSpec } from '../options/spec.js';
import type { OptionSpec } from '../options/spec.js';

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
  opt,
  durationFormat,
} from '../options/parsers.js';
// Local names for the core entries below.
import { boolOption, durationOption, enumOption, intOption, OptionValueError, optionalListenOption, opt } from '../options/parsers.js';

// ---------------------------------------------------------------- the table

export const HUB_POLICIES = ['drop', 'kick'] as const;
export const ECHO_MODES = ['others', 'none'] as const;
export const LOG_FORMATS = ['text', 'json'] as const;
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const OPTIONS = {
  ...BACKEND_OPTIONS,
  // Every wire protocol's options (its listener first), from its plug-in via the registry.
  ...PROTOCOL_OPTIONS,
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
    help: "time a new connection has to finish its protocol's handshake (its hello) before it is closed; a protocol without one makes a client at accept",
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
    help: 'older name of --http-listen, kept so existing configs work: the one HTTP server (/metrics, /ready, /healthz and the web page) listens here when --http-listen is not set; off or empty = off; a bare port is refused',
    group: 'observability',
    scope: 'structural',
    listener: { what: 'metrics' },
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
    listener: { what: 'control' },
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
  canRcvbuf: opt<number>({
    flag: 'can-rcvbuf',
    kind: 'int',
    default: 8 << 20,
    expected: 'bytes like 1048576, 512K or 4M (0 = the kernel default)',
    help: 'SocketCAN receive buffer per interface: frames that arrive while the bridge is busy wait here (8M holds tens of seconds of a full Ampio bus, so a stall loses nothing and a capture keeps it all; frames read later than --client-max-lag go to no client); what overflows is counted as kernel drops. An unprivileged service gets at most net.core.rmem_max, which setup raises',
    group: 'backend',
    scope: 'reloadable',
    parse(raw) {
      const m = /^(\d+)\s*([kKmM]?)i?[bB]?$/.exec(raw.trim());
      if (!m) throw new OptionValueError(`"${raw}" is not a size (bytes, or with K/M)`);
      const v = Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]) ? 1024 : 1024 * 1024);
      if (v !== 0 && (v < 4096 || v > 256 * 1024 * 1024)) throw new OptionValueError('must be 0 or 4K..256M');
      return v;
    },
  }),
  canRxCoalesce: durationOption({
    flag: 'can-rx-coalesce',
    example: '5ms',
    max: 100,
    zero: 'read at every wakeup',
    default: 5,
    help: 'SocketCAN: while frames arrive faster than one per this interval, read the socket on this timer instead of at every frame and write what was read to the clients right away (each wakeup and write costs about as much CPU as the frames it carries; a quiet bus is still read at once); never more than --flush-interval',
    group: 'backend',
    scope: 'reloadable',
  }),
  ...ACCESS_OPTIONS,
  ...CAPTURE_OPTIONS,
  ...WEB_OPTIONS,
  ...AMPIO_OPTIONS,
  ...MQTT_OPTIONS,
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
