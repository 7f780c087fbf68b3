// defaults < config file < env < flags → one frozen Config, or every problem at once.
// Everything here is driven by OPTIONS: adding an option to the table gives it a flag, an
// env name, a config-file key, validation and help without touching this file. Each source
// lives in sources/; this file merges them and checks values that only clash together.

import { type ConfigError, describeSource, type ValueSource } from './errors.js';
import { configuredListeners, listenerClashes, portsPastEnd } from './listeners.js';
import { formatListen, type ListenAddress } from '../options/parsers.js';
import { PLUGINS } from '../protocols/registry.js';
import { OPTION_NAMES, OPTIONS, type Config, type OptionName, type OptionSpec } from './options.js';
import { parseCommandLine } from './sources/argv.js';
import { readEnv } from './sources/env.js';
import { readConfigFile, resolveConfigLocation } from './sources/file.js';
import type { RawValue } from './sources/raw-value.js';
import { conflictError, invalidValueError } from './value-errors.js';

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

// ---------------------------------------------------------------- validation

function tryParse(spec: OptionSpec<unknown>, text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: spec.parse(text) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Values that are valid alone but not together. Only checks options that parsed. */
function crossChecks(values: Partial<Record<OptionName, unknown>>, sources: Record<OptionName, ValueSource>): ConfigError[] {
  const errors: ConfigError[] = [];
  const backend = values.backend as Config['backend'] | undefined;
  const canIf = values.canIf as string[] | undefined;

  if (backend === 'serial' && canIf && canIf.length > 1) {
    errors.push(
      conflictError(
        'canIf',
        sources,
        `lists ${canIf.length} buses (${canIf.join(',')}) but --backend serial drives one USB adapter, one bus`,
        'give one name, or use --backend socketcan for a two-channel HAT',
      ),
    );
  }
  // One HTTP server: --http-listen, or where an older config put it (--metrics-addr). Both at
  // one address is that one server; two addresses would be two servers, which there are not.
  const metricsAddr = values.metricsAddr as ListenAddress | null | undefined;
  const httpListen = values.httpListen as ListenAddress | null | undefined;
  if (httpListen && metricsAddr && formatListen(httpListen) !== formatListen(metricsAddr)) {
    errors.push(
      conflictError(
        'metricsAddr',
        sources,
        `is ${formatListen(metricsAddr)} but --http-listen is ${formatListen(httpListen)}: the bridge has one HTTP server, which serves /metrics too`,
        'remove --metrics-addr (Prometheus scrapes /metrics at the --http-listen address), or give both the same address',
      ),
    );
  }
  const oneServer = httpListen ? { ...values, metricsAddr: null } : values;
  if (canIf) errors.push(...listenerChecks(oneServer, sources, canIf));
  // Each protocol's own combinations (e.g. a discovery broadcast without its listener).
  for (const plugin of PLUGINS) {
    for (const p of plugin.check?.(values as never) ?? []) errors.push(conflictError(p.option as OptionName, sources, p.problem, p.fix));
  }
  const mqttUrl = values.mqttUrl as string | undefined;
  if (values.mqttRaw === true && !mqttUrl) {
    errors.push(
      conflictError(
        'mqttRaw',
        sources,
        'is on but --mqtt-url is off: there is no broker to publish frames to',
        'also set --mqtt-url, e.g. mqtt://127.0.0.1:1883',
      ),
    );
  }
  if (!values.mqttCert !== !values.mqttKey) {
    errors.push(
      conflictError(
        values.mqttCert ? 'mqttCert' : 'mqttKey',
        sources,
        'a client certificate needs its key and a key its certificate',
        'give both --mqtt-cert and --mqtt-key, or neither',
      ),
    );
  }
  if (mqttUrl?.startsWith('mqtt://') && (values.mqttCa || values.mqttCert)) {
    errors.push(
      conflictError(
        values.mqttCa ? 'mqttCa' : 'mqttCert',
        sources,
        'is a TLS file, but --mqtt-url is plain mqtt:// (no TLS)',
        'use mqtts:// (usually port 8883), or drop the TLS files',
      ),
    );
  }
  if (values.pgUrl && values.capture === '') {
    errors.push(
      conflictError(
        'pgUrl',
        sources,
        'forwards captured frames, but capture is off (the capture store is the outbox that survives outages)',
        'add --capture /var/lib/ampio-bridge/capture.db (or another path)',
      ),
    );
  }
  return errors;
}

/**
 * The listeners every option declares, checked by one rule: no two on one socket (whatever
 * they are: protocols, metrics, the control socket), and no per-bus listener past port 65535.
 * A clash blames the later option in the table, unless only the earlier one was set.
 */
function listenerChecks(values: Partial<Record<OptionName, unknown>>, sources: Record<OptionName, ValueSource>, canIf: readonly string[]): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const name of portsPastEnd(OPTIONS, values, canIf.length)) {
    const port = (values[name as OptionName] as ListenAddress).port;
    errors.push(
      conflictError(
        name as OptionName,
        sources,
        `port ${port} leaves no port for bus ${canIf.length} (${canIf[canIf.length - 1]} is served on --${OPTIONS[name as OptionName].flag} port + ${canIf.length - 1})`,
        `choose a port at most ${65536 - canIf.length}`,
      ),
    );
  }
  const blamed = new Set<string>();
  for (const { listener, other } of listenerClashes(configuredListeners(OPTIONS, values, canIf))) {
    const swap = sources[listener.option as OptionName].kind === 'default' && sources[other.option as OptionName].kind !== 'default';
    const [mine, theirs] = swap ? [other, listener] : [listener, other];
    // One error per option pair (two buses may clash twice).
    const key = `${mine.option}/${theirs.option}`;
    if (blamed.has(key)) continue;
    blamed.add(key);
    const where = mine.path !== undefined ? `path ${mine.path}` : `port ${mine.tcp?.port}`;
    const flag = OPTIONS[theirs.option as OptionName].flag;
    errors.push(
      conflictError(
        mine.option as OptionName,
        sources,
        `${where} is also ${theirs.label} (--${flag})`,
        `choose another ${mine.path !== undefined ? 'path' : 'port'} for --${OPTIONS[mine.option as OptionName].flag}`,
      ),
    );
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
