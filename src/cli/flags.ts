// One style of usage error for every command:
//   ampio-bridge status: unknown flag --jsno (did you mean --json?)
// Commands parse with util.parseArgs({ strict: false, tokens: true }) and hand the tokens
// here, so all problems are reported in the same words and the same exit code (2).

import { parseArgs } from 'node:util';
import type { OptionSpec } from '../options/spec.js';
import { expandNegations } from '../options/negation.js';
import { DURATION_RULE, OptionValueError, parseDurationInRange } from '../options/parsers.js';
import { closest } from '../config/suggest.js';
import type { CliContext } from './context.js';
import { optionPlaceholder, wrap } from './help.js';

export type ArgToken =
  | { kind: 'option'; name: string; rawName: string; index: number; value?: string | undefined; inlineValue?: boolean | undefined }
  | { kind: 'positional'; index: number; value: string }
  | { kind: 'option-terminator'; index: number };

export interface FlagOption {
  type: 'string' | 'boolean';
  short?: string;
}

export interface ReportOptions {
  /** How many bare words the command takes (default 0). */
  maxPositionals?: number;
  /**
   * When a flag is unknown, report only the unknown flags: in a command whose flags mostly
   * take values, the word after a misspelt flag is its value, not a second problem.
   */
  unknownOnly?: boolean;
}

/** Usage problems in `tokens`, as one-line messages without the command prefix. */
export function findUsageProblems(tokens: readonly ArgToken[], options: Record<string, FlagOption>, report: ReportOptions = {}): string[] {
  const problems: string[] = [];
  const longNames = Object.keys(options);
  let positionals = 0;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      positionals++;
      if (positionals > (report.maxPositionals ?? 0)) problems.push(`unexpected argument "${token.value}"`);
      continue;
    }
    // parseArgs already maps a known short flag (-h) to its long name; an unknown one keeps its letter.
    const known = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!known) {
      const suggestion = closest(token.name, longNames);
      problems.push(`unknown flag ${token.rawName}${suggestion ? ` (did you mean --${suggestion}?)` : ''}`);
      continue;
    }
    if (known.type === 'string' && (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))) {
      problems.push(`${token.rawName} needs a value`);
    }
  }
  if (report.unknownOnly && problems.some((p) => p.startsWith('unknown flag'))) return problems.filter((p) => p.startsWith('unknown flag'));
  return problems;
}

/** Writes the problems to stderr as `ampio-bridge <command>: …` lines; true if there were any. */
export function reportUnknownFlags(
  command: string,
  tokens: readonly ArgToken[] | undefined,
  options: Record<string, FlagOption>,
  ctx: Pick<CliContext, 'stderr'>,
  report: ReportOptions = {},
): boolean {
  const problems = findUsageProblems(tokens ?? [], options, report);
  for (const p of problems) ctx.stderr.write(`ampio-bridge ${command}: ${p}\n`);
  return problems.length > 0;
}

/**
 * A duration flag of any command, read by the same rule as every `serve` duration:
 * `500ms`, `3s`, `1m30s`, and a bare number is seconds. Writes the usage error and returns
 * null when the value is not a duration or outside the bounds (ms).
 */
export function parseDurationFlag(
  command: string,
  flag: string,
  raw: string,
  bounds: { min: number; max: number; example: string },
  ctx: Pick<CliContext, 'stderr'>,
): number | null {
  try {
    return parseDurationInRange(raw, { min: bounds.min, max: bounds.max });
  } catch (err) {
    ctx.stderr.write(`ampio-bridge ${command}: --${flag}: ${(err as Error).message} (expected a duration like ${bounds.example}; ${DURATION_RULE})\n`);
    return null;
  }
}

// ---------------------------------------------------------------- table-driven commands

/** One flag of a command: how parseArgs reads it and how help shows it. */
export interface CommandFlag extends FlagOption {
  /** Placeholder after the flag in help: `--timeout <duration>`. */
  value?: string;
  /** The accepted words, shown instead of the placeholder: `--reboot ask|never|now`. */
  choices?: readonly string[];
  /** The placeholder verbatim, for flags that mirror `serve` options: ` <host:port>`. */
  synopsis?: string;
  help: string;
  /**
   * Checks and converts the value (a boolean flag's text is "true" or what follows "=");
   * a thrown message becomes a usage error with `expected` after it.
   */
  parse?(raw: string): unknown;
  /** The accepted form, named in the usage error when `parse` refuses a value. */
  expected?: string;
  /** A boolean flag that also has a `--no-<name>` form (= `--<name>=false`). */
  negatable?: boolean;
  /** Help section title; flags without one are listed under "Flags:". */
  section?: string;
}

export interface CommandSpec {
  name: string;
  /** The line after "Usage: ampio-bridge ". */
  usage: string;
  /** What the command does (a paragraph, already wrapped). */
  description: string;
  flags: Record<string, CommandFlag>;
  /** Exit codes and other notes, after the flag list. */
  footer?: string;
  /** Wrap each flag's help to this many columns (default: one line per flag). */
  width?: number;
}

const HELP_FLAG: CommandFlag = { type: 'boolean', short: 'h', help: 'show this help' };

export interface OptionFlagExtras {
  /** Accept only these of the entry's choices (the others are refused with `refusal`). */
  only?: readonly string[];
  refusal?: string;
  /** Appended to the entry's help: what this command does with the value besides storing it. */
  note?: string;
  section?: string;
}

/**
 * A command flag that mirrors a `serve` option: same name, parser, accepted form, choices
 * and help as the options-table entry, so the two commands cannot drift apart.
 */
export function optionFlag(spec: OptionSpec<unknown>, extras: OptionFlagExtras = {}): CommandFlag {
  const { only, refusal, note, section } = extras;
  const choices = spec.choices && only ? spec.choices.filter((c) => only.includes(c)) : spec.choices;
  const parse = (raw: string): unknown => {
    const value = spec.parse(raw);
    if (only && !only.includes(String(value))) throw new OptionValueError(`"${raw}" ${refusal ?? `is not one of ${only.join(', ')}`}`);
    return value;
  };
  const flag: CommandFlag = {
    type: spec.kind === 'bool' ? 'boolean' : 'string',
    help: note ? `${spec.help}; ${note}` : spec.help,
    expected: choices && only ? choices.join(' or ') : spec.expected,
    parse,
  };
  if (spec.kind === 'bool') flag.negatable = true;
  else if (choices) flag.choices = choices;
  else flag.synopsis = optionPlaceholder(spec);
  if (section) flag.section = section;
  return flag;
}

function flagName(name: string, f: CommandFlag): string {
  const value = f.choices ? ` ${f.choices.join('|')}` : (f.synopsis ?? (f.value ? ` <${f.value}>` : ''));
  const negation = f.negatable ? `, --no-${name}` : '';
  return `${f.short ? `-${f.short}, ` : ''}--${name}${value}${negation}`;
}

/** `ampio-bridge <name> --help`, from the table: every flag, aligned, and -h/--help last. */
export function renderCommandHelp(spec: CommandSpec): string {
  const entries = Object.entries({ ...spec.flags, help: HELP_FLAG });
  const names = entries.map(([name, f]) => flagName(name, f));
  // With wrapped help, a very long flag (a list of choices) gets a line of its own instead
  // of pushing every help text to the right.
  const fitting = names.map((n) => n.length).filter((n) => !spec.width || n <= 28);
  const width = Math.max(0, ...fitting);
  const indent = ' '.repeat(width + 4);
  const out: string[] = [`Usage: ampio-bridge ${spec.usage}`, '', spec.description.trimEnd()];
  let section: string | undefined;
  entries.forEach(([, f], i) => {
    const title = f === HELP_FLAG && section ? section : (f.section ?? 'Flags');
    if (title !== section) out.push('', `${title}:`);
    section = title;
    const head = `  ${names[i].padEnd(width)}  `;
    if (!spec.width) {
      out.push(`${head}${f.help}`);
      return;
    }
    const body = wrap(f.help, spec.width, indent);
    if (head.length > indent.length) out.push(head.trimEnd(), ...body);
    else out.push(head + (body[0] ?? '').slice(indent.length), ...body.slice(1));
  });
  return [...out, ...(spec.footer ? ['', spec.footer.trimEnd()] : []), ''].join('\n');
}

export type ParsedFlags =
  | {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
      /** What each flag's `parse` returned, for the flags given that have one. */
      parsed: Record<string, unknown>;
    }
  | { exit: number };

/**
 * Parses a command's arguments by its table: usage problems and values a flag's `parse`
 * refuses are reported in the shared words (exit 2), `--help` prints the help from the
 * table (exit 0). Otherwise the values.
 */
export function parseCommandFlags(spec: CommandSpec, args: string[], ctx: Pick<CliContext, 'stdout' | 'stderr'>, report: ReportOptions = {}): ParsedFlags {
  const options: Record<string, FlagOption> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(spec.flags)) options[name] = f.short ? { type: f.type, short: f.short } : { type: f.type };
  const expanded = expandNegations(args, (name) => Object.hasOwn(spec.flags, name) && spec.flags[name].negatable === true);
  const { values, positionals, tokens } = parseArgs({ args: expanded.args, options, strict: false, allowPositionals: true, tokens: true });
  const problems = [
    ...findUsageProblems(tokens, options, report),
    ...expanded.problems.map((p) => `--no-${p.name} takes no value; write --${p.name}=${p.value} instead`),
  ];
  const parsed: Record<string, unknown> = {};
  if (!(report.unknownOnly && problems.some((p) => p.startsWith('unknown flag')))) {
    for (const [name, f] of Object.entries(spec.flags)) {
      const raw = values[name];
      if (raw === undefined) continue;
      if (!f.parse) {
        // parseArgs (strict: false) hands `--json=false` over as the text "false".
        if (f.type === 'boolean' && raw !== true) problems.push(`--${name} takes no value`);
        continue;
      }
      try {
        parsed[name] = f.parse(raw === true ? 'true' : String(raw));
      } catch (err) {
        if (!(err instanceof OptionValueError)) throw err;
        problems.push(`--${name}: ${err.message}${f.expected ? `; expected ${f.expected}` : ''}`);
      }
    }
  }
  for (const p of problems) ctx.stderr.write(`ampio-bridge ${spec.name}: ${p}\n`);
  if (problems.length) return { exit: 2 };
  if (values.help) {
    ctx.stdout.write(renderCommandHelp(spec));
    return { exit: 0 };
  }
  return { values, positionals, parsed };
}
