// The doctor shim: flags and help (the checks themselves are tested on fixtures in
// test/provisioning/doctor.test.ts; running them here would read this machine).
import { describe, expect, it } from 'vitest';
import { run } from '../../../../src/cli/commands/doctor.js';
import { captureCli } from '../../../support/cli-context.js';

describe('ampio-bridge doctor (shim)', () => {
  it('unknown flag: one line with the closest valid flag, exit 2', async () => {
    const cli = captureCli();
    expect(await run(['--jsn'], cli.ctx)).toBe(2);
    expect(cli.stderr()).toBe('ampio-bridge doctor: unknown flag --jsn (did you mean --json?)\n');
  });

  it('--help lists the checks and the exit codes', async () => {
    const cli = captureCli();
    expect(await run(['--help'], cli.ctx)).toBe(0);
    expect(cli.stdout()).toContain('Exit codes: 0 no ✗, 1 at least one ✗');
  });
});
