import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { findUsageProblems, type FlagOption } from '../../../src/cli/flags.js';

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
