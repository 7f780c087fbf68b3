// defaults < config file < env < flags → one frozen Config, or every problem at once.
// Everything here is driven by OPTIONS: adding an option to the table gives it a flag, an
// env name, a config-file key, validation and help without touching this file.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Conf from 'conf';
import { resolveEnvAliases } from './env-aliases.js';
import { ConfigError, describeSource, type ValueSource } from './errors.js';
import {
  defaultText,
  envNameFor,
  OPTION_NAMES,
  OPTIONS,
  specByFlag,
  type Config,
  type OptionName,
  type OptionSpec,
} from './options.js';
import { CONFIG_ENV, CONFIG_FILE_NAME, defaultConfigPath } from './paths.js';
import { closest } from './suggest.js';

export interface LoadInput {
  /** The arguments after `serve`. */
  argv: string[];
  env: Record<string, string | undefined>;
  /** Root reads /etc/ampio-bridge/config.json, anyone else their user config dir. */
  isRoot: boolean;
  /** Overrides $XDG_CONFIG_HOME/ampio-bridge (tests). */
  userConfigDir?: string;
  /** Resolves a relative --config PATH; defaults to process.cwd(). */
  cwd?: string;
}

export type LoadResult =
  | {
      ok: true;
      config: Config;
      warnings: string[];
      /** `-h/--help` was given: print help, start nothing (config then holds the defaults). */
      help: boolean;
      /** Where each effective value came from (status output, tests). */
      sources: Readonly<Record<OptionName, ValueSource>>;
    }
  | { ok: false; errors: ConfigError[]; warnings: string[] };

export { CONFIG_ENV, CONFIG_FILE_NAME, defaultConfigPath, defaultUserConfigDir, SYSTEM_CONFIG_DIR } from './paths.js';

export function loadConfig(input: LoadInput): LoadResult {
  const cli = parseCommandLine(input.argv);
  if (cli.help) {
    // Help wins over every other problem: someone asking for help is fixing the command line.
    return { ok: true, config: buildConfig(defaultValues(), null), warnings: [], help: true, sources: defaultSources() };
  }
  const errors: ConfigError[] = [...cli.errors];
  const warnings: string[] = [];

  const env = readEnv(input.env);
  warnings.push(...env.warnings);

  const location = resolveConfigLocation(cli.configPath, input);
  const file = readConfigFile(location.path, location.explicit);
  errors.push(...file.errors);
  warnings.push(...file.warnings);

  const values: Partial<Record<OptionName, unknown>> = {};
  const sources = defaultSources();
  for (const name of OPTION_NAMES) {
    const spec = OPTIONS[name] as OptionSpec<unknown>;
    // Later entries win: this order IS the precedence.
    const candidates = [file.raw.get(name), env.raw.get(name), cli.raw.get(name)].filter((c): c is RawValue => c !== undefined);
    if (candidates.length === 0) {
      values[name] = spec.default;
      continue;
    }
    const winner = candidates[candidates.length - 1];
    for (const candidate of candidates) {
      const parsed = tryParse(spec, candidate.text);
      if (candidate === winner) {
        if (parsed.ok) {
          values[name] = parsed.value;
          sources[name] = winner.source;
        } else {
          errors.push(invalidValueError(name, candidate, parsed.reason));
        }
      } else if (!parsed.ok) {
        // Not fatal (it is not used), but it will bite the day the override goes away.
        warnings.push(
          `${describeSource(candidate.source)}: "${candidate.text}" is not valid for --${spec.flag} (${parsed.reason}); ` +
            `it is overridden by ${describeSource(winner.source)}, but fix it.`,
        );
      }
    }
  }

  errors.push(...crossChecks(values, sources));
  if (errors.length > 0) return { ok: false, errors, warnings };
  return {
    ok: true,
    config: buildConfig(values as Record<OptionName, unknown>, file.used),
    warnings,
    help: false,
    sources: Object.freeze(sources),
  };
}

// ---------------------------------------------------------------- command line

interface RawValue {
  text: string;
  source: ValueSource;
}

interface CommandLine {
  raw: Map<OptionName, RawValue>;
  configPath: string | null;
  help: boolean;
  errors: ConfigError[];
}

const EXTRA_FLAGS = ['config', 'help'] as const;
const ALL_FLAGS = [...OPTION_NAMES.map((n) => OPTIONS[n].flag), ...EXTRA_FLAGS];

function isBoolFlag(flag: string): boolean {
  const entry = specByFlag(flag);
  return entry !== undefined && entry[1].kind === 'bool';
}

function takesValue(flag: string): boolean {
  return flag === 'config' || (specByFlag(flag) !== undefined && !isBoolFlag(flag));
}

/** The next argument is a value unless it looks like another flag (negative numbers are values). */
function looksLikeFlag(arg: string | undefined): boolean {
  return arg !== undefined && arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg);
}

function unknownFlagError(shown: string, name: string): ConfigError {
  let suggestion = closest(name, ALL_FLAGS);
  let why = '';
  if (name.startsWith('no-') && specByFlag(name.slice(3))) {
    suggestion = name.slice(3);
    why = ` (--${suggestion} is not a true/false flag, so it has no --no- form)`;
  } else if (!shown.startsWith('--') && ALL_FLAGS.includes(name)) {
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
function parseCommandLine(argv: readonly string[]): CommandLine {
  const errors: ConfigError[] = [];
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
      if (name.startsWith('no-') && isBoolFlag(name.slice(3))) {
        if (eq < 0) args.push(`--${name.slice(3)}=false`);
        else
          errors.push(
            new ConfigError({
              code: 'CONFIG_INVALID_VALUE',
              message: `--${name} takes no value; write --${name.slice(3)}=${arg.slice(eq + 1) || 'false'} instead`,
              flag: `--${name.slice(3)}`,
              env: envNameFor(name.slice(3)),
              value: arg.slice(eq + 1),
              expected: 'true or false',
              hint: `Use --${name} alone, or --${name.slice(3)}=true|false.`,
            }),
          );
        continue;
      }
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

// ---------------------------------------------------------------- environment

interface EnvValues {
  raw: Map<OptionName, RawValue>;
  warnings: string[];
}

function envValueIsSet(name: OptionName, value: string | undefined): boolean {
  if (value === undefined) return false;
  return value.trim() !== '' || OPTIONS[name].emptyIsValue === true;
}

function readEnv(env: Record<string, string | undefined>): EnvValues {
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
      const suggestion = closest(envName, [...known]);
      warnings.push(`${envName} is not an ampio-bridge setting and is ignored${suggestion ? ` (did you mean ${suggestion}?)` : ''}.`);
    }
  }
  return { raw, warnings };
}

// ---------------------------------------------------------------- config file

function resolveConfigLocation(flagPath: string | null, input: LoadInput): { path: string; explicit: boolean } {
  const cwd = input.cwd ?? process.cwd();
  if (flagPath !== null) return { path: path.resolve(cwd, flagPath), explicit: true };
  const fromEnv = input.env[CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { path: path.resolve(cwd, fromEnv.trim()), explicit: true };
  return { path: defaultConfigPath(input.isRoot, input.env, input.userConfigDir), explicit: false };
}

interface FileValues {
  raw: Map<OptionName, RawValue>;
  errors: ConfigError[];
  warnings: string[];
  /** The file that was read, or null. */
  used: string | null;
}

class ConfigShapeError extends Error {}

/** conf's deserializer, made strict: the file must hold one JSON object. */
function deserializeObject(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigShapeError(`the top level is ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}, not an object`);
  }
  return value as Record<string, unknown>;
}

function fileError(code: 'CONFIG_FILE_MISSING' | 'CONFIG_FILE_UNREADABLE' | 'CONFIG_FILE_INVALID', file: string, what: string, hint: string, cause?: unknown): ConfigError {
  return new ConfigError({ code, message: `config file ${file}: ${what}`, flag: '--config', env: CONFIG_ENV, value: file, hint, cause });
}

function readConfigFile(file: string, explicit: boolean): FileValues {
  const result: FileValues = { raw: new Map(), errors: [], warnings: [], used: null };
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // The default location is optional (defaults + env + flags are a complete config);
      // a path the user named is not.
      if (explicit) result.errors.push(fileError('CONFIG_FILE_MISSING', file, 'no such file', 'Check the path given to --config, or create the file (ampio-bridge setup writes it).', error));
      return result;
    }
    result.errors.push(fileError('CONFIG_FILE_UNREADABLE', file, `cannot be read (${code ?? String(error)})`, 'Check its permissions: the service user must be able to read it.', error));
    return result;
  }
  if (!stat.isFile()) {
    result.errors.push(fileError('CONFIG_FILE_UNREADABLE', file, 'is not a regular file', `Point --config at the JSON file itself, e.g. ${path.join(file, CONFIG_FILE_NAME)}.`));
    return result;
  }

  let store: Record<string, unknown>;
  try {
    const parts = path.parse(file);
    // Constructed only now that the file exists: on a missing file conf creates the
    // directory. No defaults and no schema, so conf never rewrites the file (that would
    // fail under ProtectSystem=strict); we never call set(). Validation is the table's.
    const conf = new Conf<Record<string, unknown>>({
      cwd: parts.dir,
      configName: parts.name,
      fileExtension: parts.ext.replace(/^\./, ''),
      accessPropertiesByDotNotation: false,
      deserialize: deserializeObject,
    });
    store = conf.store;
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof ConfigShapeError) {
      result.errors.push(fileError('CONFIG_FILE_INVALID', file, `is not a JSON object: ${error.message}`, 'Fix the JSON (keys are the flag names, e.g. {"listen": ":20000", "hub-buffer": 512}) or re-run ampio-bridge setup.', error));
    } else {
      const code = (error as NodeJS.ErrnoException).code;
      result.errors.push(fileError('CONFIG_FILE_UNREADABLE', file, `cannot be read (${code ?? (error as Error).message})`, 'Check its permissions: the service user must be able to read it.', error));
    }
    return result;
  }

  result.used = file;
  for (const [key, value] of Object.entries(store)) {
    if (key === '__internal__') continue; // conf's own bookkeeping key
    const entry = specByFlag(key);
    if (!entry) {
      const suggestion = closest(key, ALL_FLAGS.filter((f) => !(EXTRA_FLAGS as readonly string[]).includes(f)));
      result.warnings.push(`config file ${file}: unknown key "${key}" is ignored${suggestion ? ` (did you mean "${suggestion}"?)` : ''}.`);
      continue;
    }
    const [name, spec] = entry;
    const source: ValueSource = { kind: 'file', path: file, key };
    const text = jsonToText(spec, value);
    if (text === null) continue; // null: use the default
    if (typeof text === 'object') {
      result.errors.push(invalidValueError(name, { text: text.shown, source }, text.reason));
      continue;
    }
    result.raw.set(name, { text, source });
  }
  return result;
}

/**
 * Config-file JSON → the text a flag would hold, so one parser validates all sources.
 * null means "use the default"; an array is allowed for list options only.
 */
function jsonToText(spec: OptionSpec<unknown>, value: unknown): string | null | { shown: string; reason: string } {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const shown = safeJson(value);
  if (Array.isArray(value)) {
    if (spec.kind !== 'list') return { shown, reason: 'a list is not allowed here' };
    if (!value.every((v) => typeof v === 'string')) return { shown, reason: 'the list must hold only strings' };
    return value.join(',');
  }
  return { shown, reason: `a ${typeof value === 'object' ? 'JSON object' : typeof value} is not allowed here` };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------- validation

function tryParse(spec: OptionSpec<unknown>, text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: spec.parse(text) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

function settersFor(spec: OptionSpec<unknown>, source: ValueSource): string {
  const env = envNameFor(spec.flag);
  const file = source.kind === 'file' ? `, or "${spec.flag}" in the config file` : '';
  return `--${spec.flag}, ${env}${file}`;
}

function invalidValueError(name: OptionName, candidate: RawValue, reason: string): ConfigError {
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

function conflictError(name: OptionName, sources: Record<OptionName, ValueSource>, what: string, hint: string): ConfigError {
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

interface Address {
  host: string;
  port: number;
}

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

function sameSocket(a: Address, b: Address): boolean {
  if (a.port === 0 || b.port === 0 || a.port !== b.port) return false; // port 0: the OS picks distinct ports
  return a.host === b.host || WILDCARD_HOSTS.has(a.host) || WILDCARD_HOSTS.has(b.host);
}

/** Values that are valid alone but not together. Only checks options that parsed. */
function crossChecks(values: Partial<Record<OptionName, unknown>>, sources: Record<OptionName, ValueSource>): ConfigError[] {
  const errors: ConfigError[] = [];
  const backend = values.backend as Config['backend'] | undefined;
  const canIf = values.canIf as string[] | undefined;
  const listen = values.listen as Address | undefined;
  const metrics = values.metricsAddr as Address | null | undefined;

  if (backend === 'serial' && canIf && canIf.length > 1) {
    errors.push(
      conflictError('canIf', sources, `lists ${canIf.length} buses (${canIf.join(',')}) but --backend serial drives one USB adapter, one bus`, 'give one name, or use --backend socketcan for a two-channel HAT'),
    );
  }
  if (canIf && listen && listen.port !== 0 && listen.port + canIf.length - 1 > 65535) {
    errors.push(
      conflictError('listen', sources, `port ${listen.port} leaves no port for bus ${canIf.length} (${canIf[canIf.length - 1]} is served on --listen port + ${canIf.length - 1})`, `choose a port at most ${65536 - canIf.length}, e.g. :20000`),
    );
  }
  if (metrics && listen && canIf) {
    const busPorts = canIf.map((_, i) => ({ host: listen.host, port: listen.port + i }));
    const clash = busPorts.findIndex((p) => sameSocket(p, metrics));
    if (clash >= 0) {
      errors.push(
        conflictError('metricsAddr', sources, `port ${metrics.port} is also the cannelloni port of ${canIf[clash]} (--listen)`, 'choose another port, e.g. 127.0.0.1:9100'),
      );
    }
  }
  const tcpcan = values.tcpcanListen as Address | null | undefined;
  if (tcpcan && listen && canIf) {
    const ports = (base: Address) => canIf.map((_, i) => ({ host: base.host, port: base.port + i }));
    const clash = ports(tcpcan).findIndex((t) => ports(listen).some((c) => sameSocket(c, t)));
    if (clash >= 0) {
      errors.push(
        conflictError('tcpcanListen', sources, `port ${tcpcan.port + clash} is also a cannelloni port (--listen ${listen.port}, one port per bus)`, 'use another port, e.g. :20010'),
      );
    }
    if (metrics && ports(tcpcan).some((t) => sameSocket(t, metrics))) {
      errors.push(conflictError('metricsAddr', sources, `port ${metrics.port} is also a tcpcan port (--tcpcan-listen)`, 'choose another port, e.g. 127.0.0.1:9100'));
    }
  }
  return errors;
}

// ---------------------------------------------------------------- results

function defaultValues(): Record<OptionName, unknown> {
  const values = {} as Record<OptionName, unknown>;
  for (const name of OPTION_NAMES) values[name] = OPTIONS[name].default;
  return values;
}

function defaultSources(): Record<OptionName, ValueSource> {
  const sources = {} as Record<OptionName, ValueSource>;
  for (const name of OPTION_NAMES) sources[name] = { kind: 'default' };
  return sources;
}

/** Deep-freezes the plain values (the table's defaults are shared objects: copy, then freeze). */
function freezeValue(value: unknown): unknown {
  if (Array.isArray(value)) return Object.freeze(value.map(freezeValue));
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) copy[k] = freezeValue(v);
    return Object.freeze(copy);
  }
  return value;
}

function buildConfig(values: Record<OptionName, unknown>, configFile: string | null): Config {
  const config: Record<string, unknown> = { configFile };
  for (const name of OPTION_NAMES) config[name] = freezeValue(values[name]);
  return Object.freeze(config) as unknown as Config;
}
