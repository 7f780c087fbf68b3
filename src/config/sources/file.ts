// Config-file source: one JSON object whose keys are the flag names. Read with fs and
// JSON.parse (not `conf`: the daemon only reads the file, and conf would pull in a
// library that hooks SIGINT/SIGTERM/SIGHUP at import). Syntax errors name the line and
// column; a UTF-8 byte-order mark (Windows editors add one) is accepted.

import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type ValueSource } from '../errors.js';
import { specByFlag, type OptionName, type OptionSpec } from '../options.js';
import { CONFIG_ENV, CONFIG_FILE_NAME, defaultConfigPath } from '../paths.js';
import { closest } from '../suggest.js';
import { invalidValueError } from '../value-errors.js';
import { allFlags, EXTRA_FLAGS } from './argv.js';
import type { RawValue } from './raw-value.js';

export interface FileValues {
  raw: Map<OptionName, RawValue>;
  errors: ConfigError[];
  warnings: string[];
  /** The file that was read, or null. */
  used: string | null;
}

export interface ConfigLocationInput {
  env: Record<string, string | undefined>;
  isRoot: boolean;
  userConfigDir?: string;
  cwd?: string;
}

/** --config > AMPIO_BRIDGE_CONFIG > the default location; `explicit` when the user named it. */
export function resolveConfigLocation(flagPath: string | null, input: ConfigLocationInput): { path: string; explicit: boolean } {
  const cwd = input.cwd ?? process.cwd();
  if (flagPath !== null) return { path: path.resolve(cwd, flagPath), explicit: true };
  const fromEnv = input.env[CONFIG_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { path: path.resolve(cwd, fromEnv.trim()), explicit: true };
  return { path: defaultConfigPath(input.isRoot, input.env, input.userConfigDir), explicit: false };
}

/** Thrown by parseConfigText with what is wrong, in words a person can act on. */
export class ConfigTextError extends Error {}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/**
 * The text of a config file → its top-level object. A syntax error becomes "JSON syntax
 * error at line L, column C: <what>", whatever wording this Node version's JSON.parse uses.
 */
export function parseConfigText(raw: string): Record<string, unknown> {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const at = /at position (\d+)/.exec(message);
    const lineCol = /\(line (\d+) column (\d+)\)/.exec(message);
    let where: { line: number; column: number };
    if (lineCol) where = { line: Number(lineCol[1]), column: Number(lineCol[2]) };
    else where = lineAndColumn(text, at ? Number(at[1]) : text.trimEnd().length);
    // Keep only what went wrong: the position is said in lines and columns instead, and
    // newer engines quote the whole input, which may be long.
    const what = message
      .replace(/,? ?"[\s\S]*" is not valid JSON$/, '')
      .replace(/\s*\(line \d+ column \d+\)/, '')
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/^Unexpected end of JSON input$/, 'the file ends in the middle of a value')
      .trim();
    throw new ConfigTextError(`JSON syntax error at line ${where.line}, column ${where.column}: ${what || 'invalid JSON'}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
    throw new ConfigTextError(`the top level is ${kind}, not an object like {"listen": ":20000"}`);
  }
  return value as Record<string, unknown>;
}

function fileError(
  code: 'CONFIG_FILE_MISSING' | 'CONFIG_FILE_UNREADABLE' | 'CONFIG_FILE_INVALID',
  file: string,
  what: string,
  hint: string,
  cause?: unknown,
): ConfigError {
  return new ConfigError({ code, message: `config file ${file}: ${what}`, flag: '--config', env: CONFIG_ENV, value: file, hint, cause });
}

export function readConfigFile(file: string, explicit: boolean): FileValues {
  const result: FileValues = { raw: new Map(), errors: [], warnings: [], used: null };
  let text: string;
  try {
    if (!fs.statSync(file).isFile()) {
      result.errors.push(
        fileError(
          'CONFIG_FILE_UNREADABLE',
          file,
          'is not a regular file',
          `Point --config at the JSON file itself, e.g. ${path.join(file, CONFIG_FILE_NAME)}.`,
        ),
      );
      return result;
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // The default location is optional (defaults + env + flags are a complete config);
      // a path the user named is not.
      if (explicit)
        result.errors.push(
          fileError('CONFIG_FILE_MISSING', file, 'no such file', 'Check the path given to --config, or create the file (ampio-bridge setup writes it).', error),
        );
      return result;
    }
    result.errors.push(
      fileError(
        'CONFIG_FILE_UNREADABLE',
        file,
        `cannot be read (${code ?? String(error)})`,
        'Check its permissions: the service user must be able to read it.',
        error,
      ),
    );
    return result;
  }

  let store: Record<string, unknown>;
  try {
    store = parseConfigText(text);
  } catch (error) {
    result.errors.push(
      fileError(
        'CONFIG_FILE_INVALID',
        file,
        (error as Error).message,
        'Fix the JSON (keys are the flag names, e.g. {"listen": ":20000", "hub-buffer": 512}) or re-run ampio-bridge setup.',
        error,
      ),
    );
    return result;
  }

  result.used = file;
  const keys = allFlags().filter((f) => !(EXTRA_FLAGS as readonly string[]).includes(f));
  for (const [key, value] of Object.entries(store)) {
    // Files written by earlier versions through `conf` may carry its bookkeeping key.
    if (key === '__internal__') continue;
    const entry = specByFlag(key);
    if (!entry) {
      const isFlag = (EXTRA_FLAGS as readonly string[]).includes(key);
      // A command-line flag is explained, not "corrected" into a setting that merely contains it (config → ampio-config).
      const suggestion = isFlag ? undefined : closest(key, keys);
      const why = isFlag ? ` (--${key} is a command-line flag, not a setting)` : '';
      result.warnings.push(`config file ${file}: unknown key "${key}" is ignored${why}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}.`);
      continue;
    }
    const [name, spec] = entry;
    const source: ValueSource = { kind: 'file', path: file, key };
    const converted = jsonToText(spec, value);
    if (converted === null) continue; // null: use the default
    if (typeof converted === 'object') {
      result.errors.push(invalidValueError(name, { text: converted.shown, source }, converted.reason));
      continue;
    }
    result.raw.set(name, { text: converted, source });
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
