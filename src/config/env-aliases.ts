// go-ampio-server's environment names, accepted as deprecated aliases so an existing
// /etc/default/can-server keeps working after switching daemons. The Go names were not
// derived from the flags (CAN_SERVER_IF, CAN_SERVER_METRICS), hence an explicit table.

import { envNameFor, OPTIONS, type OptionName } from './options.js';

export interface EnvAlias {
  /** The go-ampio-server variable. */
  name: string;
  /** The option it sets, or null when it is accepted but has no effect here. */
  option: OptionName | null;
  /** For ignored aliases: why there is nothing to set. */
  ignoredBecause?: string;
}

export const ENV_ALIASES: readonly EnvAlias[] = [
  { name: 'CAN_SERVER_BACKEND', option: 'backend' },
  { name: 'CAN_SERVER_IF', option: 'canIf' },
  { name: 'CAN_SERVER_SERIAL', option: 'serial' },
  { name: 'CAN_SERVER_BAUD', option: 'baud' },
  { name: 'CAN_SERVER_LISTEN', option: 'listen' },
  { name: 'CAN_SERVER_MAX_CLIENTS', option: 'maxClients' },
  { name: 'CAN_SERVER_HANDSHAKE_TIMEOUT', option: 'handshakeTimeout' },
  { name: 'CAN_SERVER_CLIENT_READ_TIMEOUT', option: 'clientReadTimeout' },
  { name: 'CAN_SERVER_HUB_BUFFER', option: 'hubBuffer' },
  { name: 'CAN_SERVER_HUB_POLICY', option: 'hubPolicy' },
  { name: 'CAN_SERVER_BATCH_SIZE', option: 'batchSize' },
  { name: 'CAN_SERVER_FLUSH_INTERVAL', option: 'flushInterval' },
  { name: 'CAN_SERVER_METRICS', option: 'metricsAddr' },
  { name: 'CAN_SERVER_LOG_METRICS_INTERVAL', option: 'logMetricsInterval' },
  { name: 'CAN_SERVER_LOG_FORMAT', option: 'logFormat' },
  { name: 'CAN_SERVER_LOG_LEVEL', option: 'logLevel' },
  { name: 'CAN_SERVER_MDNS_ENABLE', option: 'mdnsEnable' },
  { name: 'CAN_SERVER_MDNS_NAME', option: 'mdnsName' },
  {
    name: 'CAN_SERVER_SERIAL_READ_TIMEOUT',
    option: null,
    // The Go daemon polled the tty with a read deadline; serialport delivers bytes as
    // they arrive (event-driven), so there is no read timeout to tune.
    ignoredBecause: 'serialport is event-driven and has no read timeout to tune',
  },
];

export interface AliasResolution {
  /** option → the alias that supplies its value (only where the new name is unset). */
  applied: Map<OptionName, { alias: string; value: string }>;
  /** Exactly one warning about deprecated names (or none), plus one per ignored/unknown name. */
  warnings: string[];
}

/**
 * Picks the aliases that apply: an alias counts only when the new AMPIO_BRIDGE_* name is
 * unset. `isSet` decides what "set" means (empty values count as unset for most options).
 */
export function resolveEnvAliases(env: Record<string, string | undefined>, isSet: (option: OptionName, value: string | undefined) => boolean): AliasResolution {
  const applied: AliasResolution['applied'] = new Map();
  const used: string[] = [];
  const shadowed: string[] = [];
  const warnings: string[] = [];
  for (const alias of ENV_ALIASES) {
    const value = env[alias.name];
    if (value === undefined) continue;
    if (alias.option === null) {
      warnings.push(`${alias.name} is ignored: ${alias.ignoredBecause}; remove it.`);
      continue;
    }
    if (!isSet(alias.option, value)) continue;
    const newName = envNameFor(OPTIONS[alias.option].flag);
    if (isSet(alias.option, env[newName])) {
      shadowed.push(`${alias.name} (${newName} is set)`);
      continue;
    }
    applied.set(alias.option, { alias: alias.name, value });
    used.push(`${alias.name} → ${newName}`);
  }
  if (used.length > 0 || shadowed.length > 0) {
    const parts: string[] = [];
    if (used.length > 0) parts.push(`deprecated go-ampio-server environment names in use: ${used.join(', ')}`);
    if (shadowed.length > 0) parts.push(`ignored because the new name is set: ${shadowed.join(', ')}`);
    warnings.unshift(`${parts.join('; ')}. Rename them (ampio-bridge setup migrates /etc/default/can-server).`);
  }
  const known = new Set(ENV_ALIASES.map((a) => a.name));
  for (const name of Object.keys(env)) {
    if (name.startsWith('CAN_SERVER_') && !known.has(name) && env[name] !== undefined) {
      warnings.push(`${name} is not a go-ampio-server setting ampio-bridge knows; it is ignored.`);
    }
  }
  return { applied, warnings };
}
