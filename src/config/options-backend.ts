// The backend's options (the CAN source: SocketCAN, the Ampio serial adapter or the virtual
// bus, and its TX queue); composed into the options table. Pure data and parsers: provisioning
// imports the table.
import { BACKEND_KINDS } from '../core/backend-vocabulary.js';
import { boolOption, durationOption, enumOption, intOption, OptionValueError, opt } from '../options/parsers.js';

export const BACKENDS = BACKEND_KINDS;
export const VIRTUAL_PAYLOADS = ['ampio', 'sequence'] as const;

export const BACKEND_OPTIONS = {
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
      const names = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (names.length === 0) throw new OptionValueError('at least one interface is required');
      for (const n of names) {
        if (!/^[A-Za-z0-9_.-]{1,15}$/.test(n)) throw new OptionValueError(`"${n}" is not an interface name (1-15 letters, digits, _ . -)`);
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
} as const;
