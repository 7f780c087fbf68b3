// Command-line source: `serve`'s arguments → raw values per option, plus every usage
// problem at once. Driven by the options table: a new entry is a new flag here.

import { parseArgs } from 'node:util';
import { expandNegations } from '../../options/negation.js';
import { ConfigError } from '../errors.js';
import { envNameFor, OPTION_NAMES, OPTIONS, specByFlag, type OptionName } from '../options.js';
import { CONFIG_ENV } from '../paths.js';
import { closest } from '../suggest.js';
import type { RawValue } from './raw-value.js';

export interface CommandLine {
  raw: Map<OptionName, RawValue>;
  configPath: string | null;
  help: boolean;
  errors: ConfigError[];
}

/** Flags of `serve` that are not settings: they are never config-file keys. */
export const EXTRA_FLAGS = ['config', 'help'] as const;

/** Every flag `serve` knows, for "did you mean". */
export function allFlags(): string[] {
  return [...OPTION_NAMES.map((n) => OPTIONS[n].flag), ...EXTRA_FLAGS];
}

function isBoolFlag(flag: string): boolean {
  const entry = specByFlag(flag);
  return entry !== undefined && entry[1].kind === 'bool';
}

function takesValue(flag: string): boolean {
  return flag === 'config' || (specByFlag(flag) !== undefined && !isBoolFlag(flag));
}

/** The next argument is a value unless it looks like another flag (negative numbers are values). */
function looksLikeFlag(arg: string | undefined): boolean {
  return arg?.startsWith('-') === true && arg.length > 1 && !/^-\d/.test(arg);
}

function unknownFlagError(shown: string, name: string): ConfigError {
  let suggestion = closest(name, allFlags());
  let why = '';
  if (name.startsWith('no-') && specByFlag(name.slice(3))) {
    suggestion = name.slice(3);
    why = ` (--${suggestion} is not a true/false flag, so it has no --no- form)`;
  } else if (!shown.startsWith('--') && allFlags().includes(name)) {
    why = ' (flags take two dashes)';
  }
  return new ConfigError({
    code: 'CONFIG_UNKNOWN_FLAG',
    message: `unknown flag ${shown}${why}${suggestion ? ` (did you mean --${suggestion}?)` : ''}`,
    flag: shown,
    hint: 'Run "ampio-bridge serve --help" for the list of flags.',
  });
}

function missingValueError(flag: string): ConfigError {
  const entry = specByFlag(flag);
  const expected = entry ? entry[1].expected : 'a file path';
  return new ConfigError({
    code: 'CONFIG_MISSING_VALUE',
    message: `--${flag} needs a value: ${expected} (write --${flag}=VALUE if the value starts with a dash)`,
    flag: `--${flag}`,
    env: entry ? envNameFor(flag) : CONFIG_ENV,
    expected,
    hint: `Give a value after --${flag}.`,
  });
}

/**
 * util.parseArgs does the parsing; a small pre-pass handles what it does not do the way
 * an operator expects: `--no-<bool>` (parseArgs only has that on newer Node 20 releases),
 * a value-taking flag followed by another flag (parseArgs would swallow the flag as the
 * value), and go-ampio-server's single-dash style (`-listen`), which parseArgs would read
 * as six short flags.
 */
export function parseCommandLine(given: readonly string[]): CommandLine {
  const errors: ConfigError[] = [];
  const negated = expandNegations(given, isBoolFlag);
  for (const { name, value } of negated.problems) {
    errors.push(
      new ConfigError({
        code: 'CONFIG_INVALID_VALUE',
        message: `--no-${name} takes no value; write --${name}=${value || 'false'} instead`,
        flag: `--${name}`,
        env: envNameFor(name),
        value,
        expected: 'true or false',
        hint: `Use --no-${name} alone, or --${name}=true|false.`,
      }),
    );
  }
  const argv = negated.args;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      if (eq < 0 && takesValue(name)) {
        if (i + 1 >= argv.length || looksLikeFlag(argv[i + 1])) {
          errors.push(missingValueError(name));
          continue;
        }
        args.push(arg, argv[++i]);
        continue;
      }
      args.push(arg);
      continue;
    }
    if (/^-[^-\d]./.test(arg)) {
      // `-listen :20000` (Go flag style) or a typo like `-hub-buffer`.
      const eq = arg.indexOf('=');
      const name = arg.slice(1, eq < 0 ? undefined : eq);
      errors.push(unknownFlagError(arg.slice(0, eq < 0 ? undefined : eq), name));
      if (eq < 0 && takesValue(name) && i + 1 < argv.length && !looksLikeFlag(argv[i + 1])) i++;
      continue;
    }
    args.push(arg);
  }

  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const name of OPTION_NAMES) {
    const spec = OPTIONS[name];
    options[spec.flag] = { type: spec.kind === 'bool' ? 'boolean' : 'string' };
  }
  // strict: false so that unknown flags become tokens we can report all together with a
  // suggestion, instead of parseArgs throwing on the first one.
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });

  const raw = new Map<OptionName, RawValue>();
  let configPath: string | null = null;
  let help = false;
  let swallowIndex = -1;
  let lastBool: { flag: string; index: number; inline: boolean } | null = null;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (token.index === swallowIndex) continue;
      if (lastBool && token.index === lastBool.index + 1 && !lastBool.inline && /^(true|false|yes|no|on|off|1|0)$/i.test(token.value)) {
        // `--mdns-enable false` reads naturally but would turn mDNS ON: refuse it.
        errors.push(
          new ConfigError({
            code: 'CONFIG_UNEXPECTED_ARGUMENT',
            message: `unexpected argument "${token.value}" after --${lastBool.flag}: true/false flags take their value after "=", write --${lastBool.flag}=${token.value}`,
            flag: `--${lastBool.flag}`,
            env: envNameFor(lastBool.flag),
            value: token.value,
            expected: 'true or false',
            hint: `Write --${lastBool.flag}=${token.value}.`,
          }),
        );
        continue;
      }
      errors.push(
        new ConfigError({
          code: 'CONFIG_UNEXPECTED_ARGUMENT',
          message: `unexpected argument "${token.value}" (serve takes only flags, e.g. --listen ${token.value})`,
          value: token.value,
          hint: 'Run "ampio-bridge serve --help" for the list of flags.',
        }),
      );
      continue;
    }
    if (token.name === 'help') {
      help = true;
      continue;
    }
    if (token.name === 'config') {
      configPath = token.value ?? '';
      continue;
    }
    const entry = token.rawName.startsWith('--') ? specByFlag(token.name) : undefined;
    if (!entry) {
      errors.push(unknownFlagError(token.rawName, token.name));
      // `--bogus value`: the word after an unknown flag is most likely its value, not a
      // second problem worth its own line.
      if (token.value === undefined) swallowIndex = token.index + 1;
      continue;
    }
    const [name, spec] = entry;
    if (spec.kind === 'bool') lastBool = { flag: spec.flag, index: token.index, inline: token.value !== undefined };
    const text = token.value ?? (spec.kind === 'bool' ? 'true' : '');
    const previous = raw.get(name);
    // Lists accumulate (`--can-if can0 --can-if can1`); everything else: the last one wins.
    const combined = spec.kind === 'list' && previous ? `${previous.text},${text}` : text;
    raw.set(name, { text: combined, source: { kind: 'flag', name: `--${spec.flag}` } });
  }
  if (configPath === '') {
    errors.push(missingValueError('config'));
    configPath = null;
  }
  return { raw, configPath, help, errors };
}
