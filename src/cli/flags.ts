// One style of usage error for every command:
//   ampio-bridge status: unknown flag --jsno (did you mean --json?)
// Commands parse with util.parseArgs({ strict: false, tokens: true }) and hand the tokens
// here, so all problems are reported in the same words and the same exit code (2).

import { DURATION_RULE, formatDuration, OptionValueError, parseDuration } from '../config/parsers.js';
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
    const ms = parseDuration(raw);
    if (ms < bounds.min || ms > bounds.max) {
      throw new OptionValueError(`${formatDuration(ms)} is outside ${formatDuration(bounds.min)}..${formatDuration(bounds.max)}`);
    }
    return ms;
  } catch (err) {
    ctx.stderr.write(`ampio-bridge ${command}: --${flag}: ${(err as Error).message} (expected a duration like ${bounds.example}; ${DURATION_RULE})\n`);
    return null;
  }
}
