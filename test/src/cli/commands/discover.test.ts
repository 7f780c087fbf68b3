// `discover` flag handling in-process. Browsing itself sends mDNS, so it is tested only
// inside a loopback-only network namespace (test/src/system/mdns.test.ts); every case here
// returns before any socket is opened.
import { describe, expect, it } from 'vitest';
import { run } from '../../../../src/cli/commands/discover.js';
import { captureCli } from '../../../support/cli-context.js';

describe('ampio-bridge discover (flags)', () => {
  it('--help explains the service type and exit codes', async () => {
    const cli = captureCli();
    expect(await run(['--help'], cli.ctx)).toBe(0);
    expect(cli.stdout()).toContain('_can-server._tcp');
    expect(cli.stdout()).toContain('Exit codes: 0 found at least one bridge, 1 none answered, 2 bad flags.');
  });

  it('rejects an unknown flag with a suggestion (exit 2)', async () => {
    const cli = captureCli();
    expect(await run(['--timout', '3s'], cli.ctx)).toBe(2);
    expect(cli.stderr()).toContain('did you mean --timeout?');
  });

  it('rejects timeouts that are not durations or out of range (exit 2)', async () => {
    for (const bad of ['soon', '0', '50ms', '2m']) {
      const cli = captureCli();
      expect(await run(['--timeout', bad], cli.ctx)).toBe(2);
      expect(cli.stderr()).toMatch(/^ampio-bridge discover: --timeout: /);
    }
  });
});
