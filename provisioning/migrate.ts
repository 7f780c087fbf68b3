// Settings of an existing go-ampio-server install (/etc/default/can-server) carried over
// to ampio-bridge. The Go env names were not derived from the flags (`-can-if` →
// CAN_SERVER_IF, `-metrics-addr` → CAN_SERVER_METRICS), hence an explicit table. Kept here
// rather than imported from src/config/env-aliases.ts because provisioning may import only
// the options table.

import { OPTIONS, type OptionName } from '../src/config/options.js';
import { AnswerError, configValue } from './steps/config-file.js';

export const GO_ENV_TO_OPTION: Record<string, OptionName> = {
  CAN_SERVER_BACKEND: 'backend',
  CAN_SERVER_SERIAL: 'serial',
  CAN_SERVER_BAUD: 'baud',
  CAN_SERVER_IF: 'canIf',
  CAN_SERVER_LISTEN: 'listen',
  CAN_SERVER_HUB_BUFFER: 'hubBuffer',
  CAN_SERVER_HUB_POLICY: 'hubPolicy',
  CAN_SERVER_MAX_CLIENTS: 'maxClients',
  CAN_SERVER_HANDSHAKE_TIMEOUT: 'handshakeTimeout',
  CAN_SERVER_CLIENT_READ_TIMEOUT: 'clientReadTimeout',
  CAN_SERVER_LOG_FORMAT: 'logFormat',
  CAN_SERVER_LOG_LEVEL: 'logLevel',
  CAN_SERVER_METRICS: 'metricsAddr',
  CAN_SERVER_MDNS_ENABLE: 'mdnsEnable',
  CAN_SERVER_MDNS_NAME: 'mdnsName',
  CAN_SERVER_LOG_METRICS_INTERVAL: 'logMetricsInterval',
};

/** KEY=VALUE lines of an EnvironmentFile (comments and blank lines skipped, quotes removed). */
export function parseEnvFile(text: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    let v = m[2];
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

export interface Migration {
  /** flag → config-file value, for every setting that parsed */
  values: Record<string, string | number | boolean>;
  /** by option name, for answer defaults */
  byOption: Partial<Record<OptionName, string>>;
  /** what could not be carried over, and why */
  skipped: string[];
}

export function migrateGoEnv(env: Record<string, string>): Migration {
  const m: Migration = { values: {}, byOption: {}, skipped: [] };
  for (const [key, raw] of Object.entries(env)) {
    if (raw === '' && key !== 'CAN_SERVER_METRICS') continue;
    const name = GO_ENV_TO_OPTION[key];
    if (!name) {
      m.skipped.push(`${key}=${raw} (no ampio-bridge equivalent${key === 'CAN_SERVER_EXTRA_FLAGS' ? '; put the flags in /etc/ampio-bridge/config.json' : ''})`);
      continue;
    }
    try {
      // Go's "-metrics-addr :9100" listens on every interface; ours takes the same text.
      const value = configValue(name, raw);
      m.values[flagOf(name)] = value;
      m.byOption[name] = raw;
    } catch (err) {
      m.skipped.push(`${key}=${raw} (${err instanceof AnswerError ? err.message : String(err)})`);
    }
  }
  return m;
}

function flagOf(name: OptionName): string {
  return OPTIONS[name].flag;
}
