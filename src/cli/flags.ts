// One style of usage error for every command:
//   ampio-bridge status: unknown flag --jsno (did you mean --json?)
// Commands parse with util.parseArgs({ strict: false, tokens: true }) and hand the tokens
// here, so all problems are reported in the same words and the same exit code (2).

import { parseArgs } from 'node:util';
import { DURATION_RULE, parseDurationInRange } from '../config/parsers.js';
import { closest } from '../config/suggest.js';
import type { CliContext } from './context.js';

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
  help: string;
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
}

const HELP_FLAG: CommandFlag = { type: 'boolean', short: 'h', help: 'show this help' };

/** `ampio-bridge <name> --help`, from the table: every flag, aligned, and -h/--help last. */
export function renderCommandHelp(spec: CommandSpec): string {
  const flags = { ...spec.flags, help: HELP_FLAG };
  const names = Object.entries(flags).map(([name, f]) => `${f.short ? `-${f.short}, ` : ''}--${name}${f.value ? ` <${f.value}>` : ''}`);
  const width = Math.max(...names.map((n) => n.length));
  const lines = Object.values(flags).map((f, i) => `  ${names[i].padEnd(width)}  ${f.help}`);
  return [`Usage: ampio-bridge ${spec.usage}`, '', spec.description.trimEnd(), '', 'Flags:', ...lines, ...(spec.footer ? ['', spec.footer.trimEnd()] : []), ''].join('\n');
}

export type ParsedFlags = { values: Record<string, string | boolean | undefined>; positionals: string[] } | { exit: number };

/**
 * Parses a command's arguments by its table: usage problems are reported in the shared
 * words (exit 2), `--help` prints the help from the table (exit 0). Otherwise the values.
 */
export function parseCommandFlags(spec: CommandSpec, args: string[], ctx: Pick<CliContext, 'stdout' | 'stderr'>, report: ReportOptions = {}): ParsedFlags {
  const options: Record<string, FlagOption> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, f] of Object.entries(spec.flags)) options[name] = f.short ? { type: f.type, short: f.short } : { type: f.type };
  const { values, positionals, tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  if (reportUnknownFlags(spec.name, tokens, options, ctx, report)) return { exit: 2 };
  if (values.help) {
    ctx.stdout.write(renderCommandHelp(spec));
    return { exit: 0 };
  }
  return { values, positionals };
}
