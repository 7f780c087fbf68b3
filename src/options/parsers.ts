// Value parsers for the options table, and the option helpers that build table entries
// from them. A helper derives `expected` (the accepted form shown in errors, help and the
// README), `choices` and `format` from the same bounds the parser checks, so the words
// and the check cannot drift apart. Pure: no I/O (provisioning imports it).

import type { OptionSpec } from './spec.js';

/** Thrown by parsers; the loader wraps it with the flag/env names. */
export class OptionValueError extends Error {}

// ---------------------------------------------------------------- numbers

export function parseIntInRange(raw: string, min: number, max: number): number {
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) throw new OptionValueError(`"${raw}" is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) throw new OptionValueError(`${n} is outside ${min}..${max}`);
  return n;
}

// ---------------------------------------------------------------- durations

const DURATION_UNITS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Shown wherever a duration is accepted, so every command states the same rule. */
export const DURATION_RULE = 'a bare number is seconds';

/**
 * Go-style durations ("5ms", "2s", "1m30s", as go-ampio-server reads them) plus one rule
 * for bare numbers in every command: seconds, as in systemd's time spans and top(1)'s
 * `-d 2`. Go refuses bare numbers other than 0, so no existing setting changes meaning.
 * Returns milliseconds.
 */
export function parseDuration(raw: string): number {
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const re = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new OptionValueError(`"${raw}" is not a duration`);
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    pos = re.lastIndex;
  }
  if (pos === 0) throw new OptionValueError(`"${raw}" is not a duration`);
  return total;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (Number.isInteger(ms)) return `${ms}ms`;
  return `${Math.round(ms * 1000)}us`;
}

export interface DurationBounds {
  /** Smallest accepted value in ms (0 allowed unless `min` > 0). */
  min?: number;
  /** Largest accepted value in ms. */
  max?: number;
}

/** A duration within bounds; a bare number that lands outside them gets a hint about units. */
export function parseDurationInRange(raw: string, bounds: DurationBounds): number {
  const ms = parseDuration(raw);
  const bare = /^\s*\d+(\.\d+)?\s*$/.test(raw) && ms !== 0;
  const unitHint = bare ? ` (${DURATION_RULE}: write ${raw.trim()}ms for milliseconds)` : '';
  if (bounds.min !== undefined && ms < bounds.min) {
    throw new OptionValueError(
      bounds.min === 1 || bounds.min === 0.001 ? 'must be more than 0' : `${formatDuration(ms)} is less than ${formatDuration(bounds.min)}${unitHint}`,
    );
  }
  if (bounds.max !== undefined && ms > bounds.max) throw new OptionValueError(`must be at most ${formatDuration(bounds.max)}${unitHint}`);
  return ms;
}

// ---------------------------------------------------------------- booleans and words

export function parseBool(raw: string): boolean {
  const t = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  throw new OptionValueError(`"${raw}" is not true/false`);
}

export function enumParser<T extends string>(choices: readonly T[]): (raw: string) => T {
  return (raw: string): T => {
    const t = raw.trim().toLowerCase() as T;
    if (!choices.includes(t)) throw new OptionValueError(`"${raw}" is not one of ${choices.join(', ')}`);
    return t;
  };
}

/** "a, b or c" */
export function listWords(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

// ---------------------------------------------------------------- addresses

export interface ListenAddress {
  /** '' = all interfaces (IPv6 and IPv4 where the OS allows) */
  host: string;
  port: number;
}

/** Hosts that mean "every interface" (`:20000`, `0.0.0.0:20000`, `[::]:20000`). */
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

export function isWildcardHost(host: string): boolean {
  return WILDCARD_HOSTS.has(host);
}

/** Words that turn an optional listener off (besides the empty string). */
const OFF_WORDS = new Set(['off', 'none', 'false', 'no', '0']);

/**
 * `127.0.0.1:20000`, `[::1]:20000`, `:20000` (all interfaces, said explicitly), port 0 for
 * tests. A bare port (`20000`) is refused: it would have to guess between "this machine
 * only" and "the whole network", and guessing the wrong way either breaks clients or
 * exposes the bus. `allowEmpty` (optional listeners): empty or `off` → null.
 */
export function parseListen(raw: string, allowEmpty = false): ListenAddress | null {
  const text = raw.trim();
  if (text === '' || (allowEmpty && OFF_WORDS.has(text.toLowerCase()))) {
    if (allowEmpty) return null;
    throw new OptionValueError('an address is required (this listener cannot be turned off)');
  }
  if (/^\d+$/.test(text)) {
    throw new OptionValueError(`"${raw}" is a bare port: write 127.0.0.1:${text} for this machine only, or :${text} for all interfaces`);
  }
  let host: string;
  let portText: string;
  const v6 = /^\[([0-9a-fA-F:.%\w]+)\]:(\d+)$/.exec(text);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else {
    const i = text.lastIndexOf(':');
    if (i < 0) throw new OptionValueError(`"${raw}" has no port (expected host:port or :port)`);
    host = text.slice(0, i);
    portText = text.slice(i + 1);
    if (host.includes(':')) throw new OptionValueError(`"${raw}": write IPv6 hosts in brackets, e.g. [::1]:20000`);
  }
  if (!/^\d+$/.test(portText)) throw new OptionValueError(`"${raw}" has no valid port`);
  const port = Number(portText);
  if (port > 65535) throw new OptionValueError(`port ${port} is outside 0..65535`);
  if (host !== '' && !/^[\w.\-:%]+$/.test(host)) throw new OptionValueError(`"${host}" is not a host name or address`);
  return { host, port };
}

export function formatListen(a: ListenAddress | null): string {
  if (!a) return '';
  if (a.host.includes(':')) return `[${a.host}]:${a.port}`;
  return `${a.host}:${a.port}`;
}

// ---------------------------------------------------------------- option helpers

/** What a helper's caller writes: everything but what the helper derives. */
type Described<T> = Omit<OptionSpec<T>, 'kind' | 'parse' | 'expected' | 'choices' | 'format'> & {
  /** Overrides the derived text; only where the derived one would mislead. */
  expected?: string;
};

/** A whole number in min..max; `unit` and `zero` ("0 = unlimited") shape the accepted-form text. */
export function intOption(min: number, max: number, spec: Described<number> & { unit?: string; zero?: string }): OptionSpec<number> {
  const { unit, zero, ...rest } = spec;
  const range = `${min}..${max}`;
  return {
    ...rest,
    kind: 'int',
    expected: spec.expected ?? `${unit ? `${unit}, ` : 'a whole number '}${range}${zero ? `, 0 = ${zero}` : ''}`,
    parse: (raw) => parseIntInRange(raw, min, max),
  };
}

/** A duration in ms; `zero` names what 0 means ("off") and makes 0 legal. */
export function durationOption(spec: Described<number> & DurationBounds & { example: string; zero?: string }): OptionSpec<number> {
  const { min, max, example, zero, ...rest } = spec;
  const bounds: DurationBounds = { min: zero === undefined ? (min ?? 0.001) : min, max };
  const limits = [bounds.max !== undefined ? `at most ${formatDuration(bounds.max)}` : '', zero ? `0 = ${zero}` : ''].filter(Boolean);
  return {
    ...rest,
    kind: 'duration',
    expected: spec.expected ?? `a duration like ${example} (${DURATION_RULE})${limits.length ? `, ${limits.join(', ')}` : ''}`,
    parse: (raw) => parseDurationInRange(raw, bounds),
    format: formatDuration,
  };
}

/** One of `values` (case-insensitive); help lists them as `a|b|c`. */
export function enumOption<const V extends string>(values: readonly V[], spec: Described<V>): OptionSpec<V> {
  return { ...spec, kind: 'enum', expected: spec.expected ?? listWords(values), parse: enumParser(values), choices: values };
}

export function boolOption(spec: Described<boolean>): OptionSpec<boolean> {
  return { ...spec, kind: 'bool', expected: spec.expected ?? 'true or false', parse: parseBool };
}

/** A TCP listen address that must be given (an empty env var is an error, not "all interfaces"). */
export function listenOption(spec: Described<ListenAddress> & { example: string }): OptionSpec<ListenAddress> {
  const { example, ...rest } = spec;
  return {
    ...rest,
    kind: 'address',
    expected: spec.expected ?? `host:port like ${example}, :port = all interfaces, [v6]:port`,
    parse: (raw) => parseListen(raw) as ListenAddress,
    format: formatListen,
    // Empty counts as given, so it is refused rather than quietly replaced by the default.
    emptyIsValue: true,
  };
}

/** A listener that may be off: empty or `off` turns it off (the default). */
export function optionalListenOption(spec: Described<ListenAddress | null> & { example: string }): OptionSpec<ListenAddress | null> {
  const { example, ...rest } = spec;
  return {
    defaultText: 'off',
    ...rest,
    kind: 'address',
    expected: spec.expected ?? `host:port like ${example}, :port = all interfaces, off or empty = off`,
    parse: (raw) => parseListen(raw, true),
    format: formatListen,
    emptyIsValue: true,
  };
}

/**
 * A remote `HOST:PORT` to reach (a server to dial, a UDP peer): the host is required, since
 * "all interfaces" means nothing for a destination. Port 0 is refused for the same reason.
 */
export function parseTarget(raw: string): ListenAddress {
  const a = parseListen(raw) as ListenAddress;
  if (isWildcardHost(a.host)) throw new OptionValueError(`"${raw.trim()}" names no host: write the remote's address, e.g. 192.168.1.20:${a.port || 20000}`);
  if (a.port === 0) throw new OptionValueError(`"${raw.trim()}": a remote needs a real port, not 0`);
  return a;
}

/** A remote server to dial out to; empty or `off` = off (the default). */
export function optionalTargetOption(spec: Described<ListenAddress | null> & { example: string }): OptionSpec<ListenAddress | null> {
  const { example, ...rest } = spec;
  return {
    defaultText: 'off',
    ...rest,
    kind: 'address',
    expected: spec.expected ?? `host:port like ${example} (second bus: port + 1), off or empty = off`,
    parse: (raw) => (raw.trim() === '' || OFF_WORDS.has(raw.trim().toLowerCase()) ? null : parseTarget(raw)),
    format: formatListen,
    emptyIsValue: true,
  };
}

/** Remote `HOST:PORT`s, comma-separated or the flag repeated; empty = none. */
export function targetListOption(spec: Described<ListenAddress[]> & { example: string }): OptionSpec<ListenAddress[]> {
  const { example, ...rest } = spec;
  return {
    ...rest,
    kind: 'list',
    expected: spec.expected ?? `host:port like ${example}, several comma-separated or the flag repeated`,
    parse: (raw) =>
      raw
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
        .map(parseTarget),
    format: (v) => v.map((a) => formatListen(a)).join(','),
  };
}

/**
 * An entry written out in full. Prefer the helpers (intOption, durationOption, enumOption,
 * boolOption, listenOption, optionalListenOption): they derive `expected`, `choices` and
 * `format` from the parser's own bounds.
 */
export const opt = <T>(spec: OptionSpec<T>): OptionSpec<T> => spec;
/** For `opt` entries of kind 'duration': `...durationFormat` renders values back as 5ms, 2s. */
export const durationFormat = { format: formatDuration };
