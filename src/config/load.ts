// defaults < config file < env < flags → one frozen Config, or every problem at once.
// Everything here is driven by OPTIONS: adding an option to the table gives it a flag, an
// env name, a config-file key, validation and help without touching this file. Each source
// lives in sources/; this file merges them and checks values that only clash together.

import { ConfigError, describeSource, type ValueSource } from './errors.js';
import { isWildcardHost, type ListenAddress } from './parsers.js';
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

function sameSocket(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port === 0 || b.port === 0 || a.port !== b.port) return false; // port 0: the OS picks distinct ports
  return a.host === b.host || isWildcardHost(a.host) || isWildcardHost(b.host);
}

/** Values that are valid alone but not together. Only checks options that parsed. */
function crossChecks(values: Partial<Record<OptionName, unknown>>, sources: Record<OptionName, ValueSource>): ConfigError[] {
  const errors: ConfigError[] = [];
  const backend = values.backend as Config['backend'] | undefined;
  const canIf = values.canIf as string[] | undefined;
  const listen = values.listen as ListenAddress | undefined;
  const metrics = values.metricsAddr as ListenAddress | null | undefined;

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
  const tcpcan = values.tcpcanListen as ListenAddress | null | undefined;
  if (tcpcan && listen && canIf) {
    const ports = (base: ListenAddress) => canIf.map((_, i) => ({ host: base.host, port: base.port + i }));
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
  const gvret = values.gvretListen as ListenAddress | null | undefined;
  if (values.gvretDiscovery === true && !gvret) {
    errors.push(conflictError('gvretDiscovery', sources, 'is on but --gvret-listen is off: the ping would announce a GVRET server that does not exist', 'also set --gvret-listen, e.g. :2323 (SavvyCAN connects only to :23)'));
  }
  if (gvret && gvret.port !== 0 && listen && canIf) {
    const clash = canIf.findIndex((_, i) => sameSocket({ host: listen.host, port: listen.port + i }, gvret));
    if (clash >= 0) {
      errors.push(conflictError('gvretListen', sources, `port ${gvret.port} is also the cannelloni port of ${canIf[clash]} (--listen)`, 'choose another port, e.g. :2323'));
    }
  }
  if (gvret && tcpcan && canIf && canIf.some((_, i) => sameSocket({ host: tcpcan.host, port: tcpcan.port + i }, gvret))) {
    errors.push(conflictError('gvretListen', sources, `port ${gvret.port} is also a tcpcan port (--tcpcan-listen)`, 'choose another port, e.g. :2323'));
  }
  if (gvret && metrics && sameSocket(gvret, metrics)) {
    errors.push(conflictError('metricsAddr', sources, `port ${metrics.port} is also the GVRET port (--gvret-listen)`, 'choose another port, e.g. 127.0.0.1:9100'));
  }
  const mqttUrl = values.mqttUrl as string | undefined;
  if (values.mqttRaw === true && !mqttUrl) {
    errors.push(conflictError('mqttRaw', sources, 'is on but --mqtt-url is off: there is no broker to publish frames to', 'also set --mqtt-url, e.g. mqtt://127.0.0.1:1883'));
  }
  if (!values.mqttCert !== !values.mqttKey) {
    errors.push(conflictError(values.mqttCert ? 'mqttCert' : 'mqttKey', sources, 'a client certificate needs its key and a key its certificate', 'give both --mqtt-cert and --mqtt-key, or neither'));
  }
  if (mqttUrl && mqttUrl.startsWith('mqtt://') && (values.mqttCa || values.mqttCert)) {
    errors.push(conflictError(values.mqttCa ? 'mqttCa' : 'mqttCert', sources, 'is a TLS file, but --mqtt-url is plain mqtt:// (no TLS)', 'use mqtts:// (usually port 8883), or drop the TLS files'));
  }
  if (values.pgUrl && values.capture === '') {
    errors.push(conflictError('pgUrl', sources, 'forwards captured frames, but capture is off (the capture store is the outbox that survives outages)', 'add --capture /var/lib/ampio-bridge/capture.db (or another path)'));
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
