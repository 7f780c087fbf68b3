// The setup command's edge: it reads the flags (setup-flags.test.ts), then loads provisioning/
// (the command itself is tested in test/provisioning/index.test.ts and test/e2e/setup-*).
import { describe, expect, it } from 'vitest';
import { captureCli } from '../../../support/cli-context.js';

describe('ampio-bridge setup (shim)', () => {
  it('reads the flags (help, usage errors) before provisioning runs', async () => {
    const { run: setup } = await import('../../../../src/cli/commands/setup.js');
    const cli = captureCli();
    expect(await setup(['--help'], cli.ctx)).toBe(0);
    expect(cli.stdout()).toContain('Usage: ampio-bridge setup [flags]');
    const bad = captureCli();
    expect(await setup(['--rebot', 'now'], bad.ctx)).toBe(2);
    expect(bad.stderr()).toBe('ampio-bridge setup: unknown flag --rebot (did you mean --reboot?)\n');
  });
});
