// argv → command → exit code. Everything but the process wiring (main.ts), so the whole
// front door runs in-process in tests with captured streams.

import { OPTIONS } from '../config/options.js';
import { closest } from '../config/suggest.js';
import { readBuildInfo } from '../system/build-info.js';
import { COMMAND_NAMES, findCommand } from './command-table.js';
import { type CliContext, type CommandModule, EXIT } from './context.js';
import { renderMainHelp } from './help.js';

export type CommandLoader = (name: string) => Promise<CommandModule>;

/** Thrown when a command's module cannot be loaded (missing from the build, broken dependency). */
export class CommandLoadError extends Error {
  readonly code = 'COMMAND_LOAD_FAILED';
  readonly hint: string;
  constructor(message: string, hint: string, cause: unknown) {
    super(message, { cause });
    this.name = 'CommandLoadError';
    this.hint = hint;
  }
}

/**
 * Imports src/cli/commands/<name>.js on demand. The path is computed, so only the command
 * that runs is loaded: `serve` never pulls in React, Ink or inquirer.
 */
export const loadCommand: CommandLoader = async (name) => {
  const specifier = `./commands/${name}.js`;
  let mod: Partial<CommandModule>;
  try {
    mod = (await import(specifier)) as Partial<CommandModule>;
  } catch (error) {
    const err = error as NodeJS.ErrnoException & { url?: string };
    const self = err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(`commands/${name}.js`);
    if (self) {
      throw new CommandLoadError(
        `the "${name}" command is not part of this build (commands/${name}.js is missing)`,
        'Rebuild with "npm run build", or install a release that has it.',
        error,
      );
    }
    throw new CommandLoadError(
      `the "${name}" command failed to load: ${err.message}`,
      'A dependency is missing or broken: reinstall with "npm ci" (or "npm install -g ampio-bridge").',
      error,
    );
  }
  if (typeof mod.run !== 'function') {
    throw new CommandLoadError(`the "${name}" command module has no run() function`, 'This is a bug in the build; please report it.', undefined);
  }
  return mod as CommandModule;
};

function usageError(ctx: CliContext, message: string): number {
  ctx.stderr.write(`ampio-bridge: ${message}\n`);
  return EXIT.usage;
}

function unknownTopLevelFlag(ctx: CliContext, arg: string): number {
  const name = arg.replace(/^-+/, '').split('=')[0];
  // `ampio-bridge --listen :20000` is a serve flag without the command.
  if (Object.values(OPTIONS).some((o) => o.flag === name)) {
    return usageError(ctx, `unknown flag ${arg} (did you mean "ampio-bridge serve ${arg}"?)`);
  }
  const suggestion = closest(name, ['help', 'version']);
  return usageError(ctx, `unknown flag ${arg}${suggestion ? ` (did you mean --${suggestion}?)` : '; run "ampio-bridge --help" for the commands'}`);
}

function unknownCommand(ctx: CliContext, name: string): number {
  const suggestion = closest(name, COMMAND_NAMES);
  return usageError(ctx, `unknown command "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : '; run "ampio-bridge --help" for the commands'}`);
}

const HELP_FLAGS = new Set(['--help', '-h']);
const VERSION_FLAGS = new Set(['--version', '-v', '-V']);

export async function runCli(argv: readonly string[], ctx: CliContext, load: CommandLoader = loadCommand): Promise<number> {
  const [first, ...rest] = argv;
  const mainHelp = () => renderMainHelp(readBuildInfo().version, { width: ctx.stdout.columns });
  if (first === undefined) {
    // No command is a usage error (a script that lost its argument must not "succeed"),
    // answered with the help that shows what to type.
    ctx.stderr.write(mainHelp());
    return EXIT.usage;
  }
  if (HELP_FLAGS.has(first)) {
    ctx.stdout.write(mainHelp());
    return EXIT.ok;
  }
  if (VERSION_FLAGS.has(first)) return runCommand('version', rest, ctx, load);
  if (first === 'help') {
    const [target] = rest;
    if (target === undefined || target === 'help' || HELP_FLAGS.has(target)) return runCli(['--help'], ctx, load);
    if (!findCommand(target)) return unknownCommand(ctx, target);
    return runCommand(target, ['--help'], ctx, load);
  }
  if (first.startsWith('-')) return unknownTopLevelFlag(ctx, first);
  if (!findCommand(first)) return unknownCommand(ctx, first);
  return runCommand(first, rest, ctx, load);
}

async function runCommand(name: string, args: string[], ctx: CliContext, load: CommandLoader): Promise<number> {
  let mod: CommandModule;
  try {
    mod = await load(name);
  } catch (error) {
    reportFailure(ctx, 'ampio-bridge', error);
    return EXIT.failure;
  }
  try {
    return await mod.run(args, ctx);
  } catch (error) {
    // Commands report expected failures themselves; this is the last line before a stack
    // trace, so say what failed and, where the error knows, what to do next.
    reportFailure(ctx, `ampio-bridge ${name}`, error);
    return EXIT.failure;
  }
}

function reportFailure(ctx: CliContext, prefix: string, error: unknown): void {
  const err = error as Error & { hint?: unknown; code?: unknown };
  const message = error instanceof Error ? err.message : String(error);
  let text = `${prefix}: ${message}\n`;
  if (typeof err?.hint === 'string' && err.hint) text += `  → ${err.hint}\n`;
  ctx.stderr.write(text);
}
