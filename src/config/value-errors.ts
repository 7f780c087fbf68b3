// The two errors about one option's value, worded the same for every source: which
// setting, from where, what was wrong, what is accepted and how to set it.

import { ConfigError, describeSource, type ValueSource } from './errors.js';
import { defaultText, envNameFor, OPTIONS, type OptionName, type OptionSpec } from './options.js';
import type { RawValue } from './sources/raw-value.js';

function settersFor(spec: OptionSpec<unknown>, source: ValueSource): string {
  const env = envNameFor(spec.flag);
  const file = source.kind === 'file' ? `, or "${spec.flag}" in the config file` : '';
  return `--${spec.flag}, ${env}${file}`;
}

export function invalidValueError(name: OptionName, candidate: RawValue, reason: string): ConfigError {
  const spec = OPTIONS[name] as OptionSpec<unknown>;
  const from = candidate.source.kind === 'flag' ? 'on the command line' : `from ${describeSource(candidate.source)}`;
  return new ConfigError({
    code: 'CONFIG_INVALID_VALUE',
    message: `--${spec.flag} ${from}: ${reason}; expected ${spec.expected} (set with ${settersFor(spec, candidate.source)})`,
    flag: `--${spec.flag}`,
    env: envNameFor(spec.flag),
    value: candidate.text,
    expected: spec.expected,
    source: candidate.source,
    hint: `Fix the value, or remove it to use the default (${defaultText(name)}).`,
  });
}

export function conflictError(name: OptionName, sources: Record<OptionName, ValueSource>, what: string, hint: string): ConfigError {
  const spec = OPTIONS[name] as OptionSpec<unknown>;
  const source = sources[name];
  return new ConfigError({
    code: 'CONFIG_CONFLICT',
    message: `--${spec.flag} (${describeSource(source)}): ${what}; ${hint}`,
    flag: `--${spec.flag}`,
    env: envNameFor(spec.flag),
    expected: spec.expected,
    source,
    hint,
  });
}
