// Environment source: AMPIO_BRIDGE_* (and go-ampio-server's deprecated names) → raw values.
// An empty variable counts as unset (systemd EnvironmentFile templates leave blanks),
// except for options whose entry says empty is a value (an optional listener: empty = off;
// a required listener: empty is refused rather than quietly meaning the default).

import { resolveEnvAliases } from '../env-aliases.js';
import { envNameFor, OPTION_NAMES, OPTIONS, type OptionName } from '../options.js';
import { CONFIG_ENV } from '../paths.js';
import { closest } from '../suggest.js';
import type { RawValue } from './raw-value.js';

export interface EnvValues {
  raw: Map<OptionName, RawValue>;
  warnings: string[];
}

export function envValueIsSet(name: OptionName, value: string | undefined): boolean {
  if (value === undefined) return false;
  return value.trim() !== '' || OPTIONS[name].emptyIsValue === true;
}

export function readEnv(env: Record<string, string | undefined>): EnvValues {
  const raw = new Map<OptionName, RawValue>();
  const known = new Set<string>([CONFIG_ENV]);
  for (const name of OPTION_NAMES) {
    const envName = envNameFor(OPTIONS[name].flag);
    known.add(envName);
    const value = env[envName];
    if (envValueIsSet(name, value)) raw.set(name, { text: value as string, source: { kind: 'env', name: envName } });
  }
  const aliases = resolveEnvAliases(env, envValueIsSet);
  for (const [name, { alias, value }] of aliases.applied) {
    raw.set(name, { text: value, source: { kind: 'alias', name: alias, replaces: envNameFor(OPTIONS[name].flag) } });
  }
  const warnings = [...aliases.warnings];
  for (const envName of Object.keys(env)) {
    if (envName.startsWith('AMPIO_BRIDGE_') && !known.has(envName) && env[envName] !== undefined) {
      // Compared without the shared prefix, so its length does not widen the typo budget.
      const prefix = 'AMPIO_BRIDGE_';
      const match = closest(
        envName.slice(prefix.length),
        [...known].map((k) => k.slice(prefix.length)),
      );
      const suggestion = match === undefined ? undefined : prefix + match;
      warnings.push(`${envName} is not an ampio-bridge setting and is ignored${suggestion ? ` (did you mean ${suggestion}?)` : ''}.`);
    }
  }
  return { raw, warnings };
}
