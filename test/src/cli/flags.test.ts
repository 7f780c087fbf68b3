import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { run as runStatus } from '../../../src/cli/commands/status.js';
import { findUsageProblems, type FlagOption, optionFlag, parseCommandFlags, parseDurationFlag, renderCommandHelp } from '../../../src/cli/flags.js';
import { OPTIONS } from '../../../src/config/options.js';
import { captureCli } from '../../support/cli-context.js';

const options: Record<string, FlagOption> = { json: { type: 'boolean' }, socket: { type: 'string' }, help: { type: 'boolean', short: 'h' } };

function problems(args: string[], maxPositionals = 0): string[] {
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  return findUsageProblems(tokens, options, { maxPositionals });
}

describe('findUsageProblems', () => {
  it('accepts known flags, short forms and inline values', () => {
    expect(problems(['--json', '-h', '--socket', '/run/x.sock', '--socket=/y'])).toEqual([]);
  });

  it('names unknown flags with the closest known one', () => {
    expect(problems(['--jsno', '-x'])).toEqual(['unknown flag --jsno (did you mean --json?)', 'unknown flag -x']);
  });

  it('reports a missing value and extra words', () => {
    expect(problems(['--socket'])).toEqual(['--socket needs a value']);
    expect(problems(['--socket', '--json'])).toEqual(['--socket needs a value']);
    expect(problems(['a', 'b'], 1)).toEqual(['unexpected argument "b"']);
  });
});

describe('durations: one rule in every command', () => {
  const bounds = { min: 100, max: 60_000, example: '3s' };
  it.each([
    ['3s', 3000],
    ['500ms', 500],
    ['2', 2000],
    ['1m', 60_000],
  ])('%s → %d ms', (raw, ms) => {
    const cli = captureCli();
    expect(parseDurationFlag('x', 'timeout', raw, bounds, cli.ctx)).toBe(ms);
    expect(cli.stderr()).toBe('');
  });

  it('refuses what is not a duration or out of bounds, saying the rule', () => {
    for (const raw of ['soon', '50ms', '2m', '-1']) {
      const cli = captureCli();
      expect(parseDurationFlag('x', 'timeout', raw, bounds, cli.ctx)).toBeNull();
      expect(cli.stderr()).toMatch(/^ampio-bridge x: --timeout: .* \(expected a duration like 3s; a bare number is seconds\)\n$/);
    }
  });

  it('status --timeout takes a duration like every other command (3s, not only milliseconds)', async () => {
    const missing = path.join(os.tmpdir(), `ampio-no-daemon-${process.pid}.sock`);
    for (const timeout of ['3s', '500ms', '2']) {
      const cli = captureCli();
      // 3 = not running: the flag was accepted and the command went on to connect.
      expect(await runStatus(['--timeout', timeout, '--control-socket', missing], cli.ctx)).toBe(3);
    }
    const bad = captureCli();
    expect(await runStatus(['--timeout', '3000'], bad.ctx)).toBe(2);
    expect(bad.stderr()).toContain('--timeout: must be at most 10m (a bare number is seconds: write 3000ms for milliseconds)');
  });
});

describe('table-driven command flags', () => {
  const spec = {
    name: 'demo',
    usage: 'demo [--json]',
    description: 'Does a demo.',
    flags: { timeout: { type: 'string' as const, value: 'duration', help: 'how long' }, json: { type: 'boolean' as const, help: 'as JSON' } },
    footer: 'Exit codes: 0 ok.',
  };

  it('renders help from the table: usage, description, aligned flags with -h/--help, footer', () => {
    expect(renderCommandHelp(spec)).toBe(
      [
        'Usage: ampio-bridge demo [--json]',
        '',
        'Does a demo.',
        '',
        'Flags:',
        '  --timeout <duration>  how long',
        '  --json                as JSON',
        '  -h, --help            show this help',
        '',
        'Exit codes: 0 ok.',
        '',
      ].join('\n'),
    );
  });

  it('parses values; --help prints the help (exit 0); usage problems exit 2 in the shared words', () => {
    const ok = captureCli();
    expect(parseCommandFlags(spec, ['--timeout', '3s', '--json'], ok.ctx)).toEqual({ values: { timeout: '3s', json: true }, positionals: [], parsed: {} });
    const help = captureCli();
    expect(parseCommandFlags(spec, ['-h'], help.ctx)).toEqual({ exit: 0 });
    expect(help.stdout()).toBe(renderCommandHelp(spec));
    const bad = captureCli();
    expect(parseCommandFlags(spec, ['--jsno', 'extra'], bad.ctx)).toEqual({ exit: 2 });
    expect(bad.stderr()).toBe('ampio-bridge demo: unknown flag --jsno (did you mean --json?)\nampio-bridge demo: unexpected argument "extra"\n');
  });

  it('a plain true/false flag takes no value (parseArgs would hand "false" over as text)', () => {
    const bad = captureCli();
    expect(parseCommandFlags(spec, ['--json=false'], bad.ctx)).toEqual({ exit: 2 });
    expect(bad.stderr()).toBe('ampio-bridge demo: --json takes no value\n');
  });

  it('flags from serve options: parsed by the entry, --no- for true/false, refusals with the accepted form', () => {
    const mirrored = {
      ...spec,
      flags: {
        'hub-buffer': optionFlag(OPTIONS.hubBuffer),
        'forward-errors': optionFlag(OPTIONS.forwardErrors),
        echo: optionFlag(OPTIONS.echo, { section: 'Hub' }),
      },
    };
    const ok = captureCli();
    expect(parseCommandFlags(mirrored, ['--hub-buffer', '64', '--no-forward-errors', '--echo=NONE'], ok.ctx)).toMatchObject({
      parsed: { 'hub-buffer': 64, 'forward-errors': false, echo: 'none' },
    });
    const bad = captureCli();
    expect(parseCommandFlags(mirrored, ['--hub-buffer', '0'], bad.ctx)).toEqual({ exit: 2 });
    expect(bad.stderr()).toBe(`ampio-bridge demo: --hub-buffer: 0 is outside 1..1048576; expected ${OPTIONS.hubBuffer.expected}\n`);
    const help = renderCommandHelp({ ...mirrored, width: 60 });
    expect(help).toContain('Flags:\n  --hub-buffer <n>    frames queued per client before the\n                      hub policy applies\n');
    // A flag longer than the column gets a line of its own.
    expect(help).toContain('  --forward-errors, --no-forward-errors\n                      send CAN error frames (ERR flag) to\n');
    expect(help).toContain('\n\nHub:\n  --echo others|none  others:');
  });
});
