import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { run as runStatus } from '../../../src/cli/commands/status.js';
import { findUsageProblems, type FlagOption, parseDurationFlag } from '../../../src/cli/flags.js';
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
    expect(bad.stderr()).toContain('--timeout: 50m is outside 100ms..10m');
  });
});
