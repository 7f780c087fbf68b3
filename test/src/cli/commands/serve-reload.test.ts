// SIGHUP: what cannot change live is named ("restart needed for: listen, hub-buffer").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run as serve } from '../../../../src/cli/commands/serve.js';
import { captureCli } from '../../../support/cli-context.js';
import { until } from '../../../support/until.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-reload-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const waitFor = (cond: () => boolean, ms = 10_000): Promise<void> => until(cond, 'the condition', ms, 25);

describe('SIGHUP reload', () => {
  it('serve logs "restart needed for: listen, hub-buffer" on a SIGHUP that changes them, and keeps serving', async () => {
    const config = path.join(dir, 'config.json');
    const sock = path.join(dir, 'control.sock');
    fs.writeFileSync(config, JSON.stringify({ backend: 'virtual', 'virtual-rate': 0, listen: '127.0.0.1:0', 'control-socket': sock }));
    const cli = captureCli({ env: { HOME: dir } });
    const done = serve(['--config', config], cli.ctx);
    await waitFor(() => fs.existsSync(sock));

    fs.writeFileSync(
      config,
      JSON.stringify({ backend: 'virtual', 'virtual-rate': 0, listen: '127.0.0.1:1', 'hub-buffer': 64, 'max-clients': 2, 'control-socket': sock }),
    );
    cli.signals.emit('SIGHUP');
    await waitFor(() => cli.stderr().includes('reload_needs_restart'));
    const line = cli
      .stderr()
      .split('\n')
      .find((l) => l.includes('reload_needs_restart'))!;
    expect(line).toContain('restart needed for: listen, hub-buffer');
    expect(line).toMatch(/^\S+ warn /);
    expect(line).toContain('settings=listen,hub-buffer');
    expect(cli.stderr()).toMatch(/ reload changed=maxClients/);

    // Reverting listen and hub-buffer in the file: nothing needs a restart any more.
    fs.writeFileSync(config, JSON.stringify({ backend: 'virtual', 'virtual-rate': 0, listen: '127.0.0.1:0', 'max-clients': 2, 'control-socket': sock }));
    const before = cli.stderr().split('reload_needs_restart').length;
    cli.signals.emit('SIGHUP');
    await waitFor(() => cli.stderr().split(' reload ').length > 2);
    expect(cli.stderr().split('reload_needs_restart').length).toBe(before);

    cli.signals.emit('SIGTERM');
    expect(await done).toBe(0);
  });
});
