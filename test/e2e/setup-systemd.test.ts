// The generated unit passes Debian's own checker. `systemd-analyze verify` needs the unit
// under its real name and an ExecStart binary that exists, so the unit is rendered with
// this machine's node; it prints unknown or misspelt keys as warnings with exit 0, so the
// test also demands an empty stderr. (Needs the `systemd` package; CI installs it.)

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTemplates } from '../../provisioning/package-files.js';
import { renderLinkOneshot } from '../../provisioning/steps/link-oneshot.js';
import { renderUnit } from '../../provisioning/steps/service-unit.js';
import { requireHostTools } from '../support/host-tools.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ampio-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function verify(unitText: string, name = 'ampio-bridge.service'): { status: number | null; stderr: string } {
  // A directory per unit: verify also loads the units a unit names (Before=) from beside it.
  requireHostTools('systemd-analyze', 'kill');
  const file = path.join(mkdtempSync(path.join(dir, 'u-')), name);
  writeFileSync(file, unitText);
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', '--generators=no', file], {
    encoding: 'utf8',
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0' },
  });
  return { status: r.status, stderr: r.stderr };
}

describe('systemd-analyze verify on the generated unit', () => {
  it('is installed (systemd package)', () => {
    expect(execFileSync('systemd-analyze', ['--version'], { encoding: 'utf8' })).toMatch(/^systemd \d+/);
  });

  const main = '/usr/local/lib/node_modules/ampio-bridge/dist/src/cli/main.js';
  it('HAT (socketcan) unit: no errors, no warnings', () => {
    const r = verify(renderUnit(loadTemplates(), { version: '0.1.0', nodePath: process.execPath, mainJs: main, backend: 'socketcan' }));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('USB adapter (serial) unit with DeviceAllow and dialout: no errors, no warnings', () => {
    const r = verify(
      renderUnit(loadTemplates(), {
        version: '0.1.0',
        nodePath: process.execPath,
        mainJs: main,
        backend: 'serial',
        serialDevice: '/dev/serial/by-id/usb-Ampio-if00',
        serialResolved: '/dev/ttyUSB0',
      }),
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('would catch a mistake: a misspelt key is reported', () => {
    const r = verify(
      renderUnit(loadTemplates(), { version: '0.1.0', nodePath: process.execPath, mainJs: main, backend: 'socketcan' }).replace(
        'ProtectHome=yes',
        'ProtectHomes=yes',
      ),
    );
    expect(r.stderr).toMatch(/Unknown key 'ProtectHomes'/);
  });

  it('the no-networkd fallback (ip link oneshot): no errors, no warnings', () => {
    const ip = ['/usr/sbin/ip', '/usr/bin/ip', '/sbin/ip', '/bin/ip'].find((p) => spawnSync('test', ['-x', p]).status === 0) as string;
    const r = verify(
      renderLinkOneshot({ version: '0.1.0', interfaces: ['can0', 'can1'], bitrate: 50000, restartMs: 100, txqueuelen: 100, ipPath: ip }),
      'ampio-can-links.service',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
