// The house-layer options (src/ampio): whether the bridge decodes Ampio state broadcasts,
// the house file that names modules, when a silent module counts as offline and when a
// module's supply counts as sagging; composed into the options table.
import { boolOption, durationOption, opt, OptionValueError } from './parsers.js';

/** Justified in src/ampio/inventory.ts (DEFAULT_OFFLINE_AFTER_MS, DEFAULT_LOW_SUPPLY_VOLTS). */
const OFFLINE_AFTER_MS = 90_000;
const LOW_SUPPLY_VOLTS = 21.6;

export const AMPIO_OPTIONS = {
  ampio: boolOption({
    flag: 'ampio',
    default: true,
    help: 'decode Ampio state broadcasts on every bus (module inventory, state store, `ampio-bridge modules`/`state`, metrics); false = the bridge only moves frames',
    group: 'observability',
    scope: 'structural',
  }),
  ampioConfig: opt<string>({
    flag: 'ampio-config',
    kind: 'path',
    default: '',
    defaultText: 'none',
    expected: 'a file path like /etc/ampio-bridge/house.yaml, empty = none',
    help: 'the house file that names modules and their inputs/outputs: the YAML config of aioampio / the Home Assistant ampio integration (`devices:` with can_id, name, model, area and entity lists); re-read on SIGHUP, a bad file keeps the previous names',
    group: 'observability',
    scope: 'reloadable',
    parse(raw) {
      const t = raw.trim();
      if (t !== '' && !t.startsWith('/') && !t.startsWith('.')) throw new OptionValueError(`"${raw}" is not a file path (start it with / or ./)`);
      return t;
    },
    emptyIsValue: true,
  }),
  ampioOfflineAfter: durationOption({
    flag: 'ampio-offline-after',
    example: '90s',
    min: 1000,
    max: 120_000,
    default: OFFLINE_AFTER_MS,
    help: 'a module silent this long is shown offline (`modules`, `doctor`, ampio_modules_online)',
    group: 'observability',
    scope: 'reloadable',
  }),
  ampioLowSupply: opt<number>({
    flag: 'ampio-low-supply',
    kind: 'string',
    default: LOW_SUPPLY_VOLTS,
    expected: 'volts like 21.6 (0..51)',
    help: '`doctor` warns about modules reporting a supply below this many volts (default: the 24 V bus supply − 10 %)',
    group: 'observability',
    scope: 'reloadable',
    parse(raw) {
      const v = Number(raw.trim().replace(/v$/i, ''));
      if (raw.trim() === '' || !Number.isFinite(v) || v < 0 || v > 51) throw new OptionValueError(`"${raw}" is not a voltage from 0 to 51`);
      return v;
    },
    format: (v) => String(v),
  }),
} as const;
