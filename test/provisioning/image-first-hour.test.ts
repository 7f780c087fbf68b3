// The first hour with an SD-card image, in-process on a fixture root: a Debian 13-like image
// without systemd-networkd and with a config.txt edited on Windows (CRLF, the old guide's
// spi-bcm2835-overlay line). setup --root, then doctor --root offline, then --rollback.

import { existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SetupDeps } from '../../provisioning/index.js';
import { run as setupCommand } from '../../src/cli/commands/setup.js';
import { PATHS } from '../../provisioning/types.js';
import { run as doctor } from '../../src/cli/commands/doctor.js';
import { captureCli } from '../support/cli-context.js';
import { FakeSystem } from '../support/fake-system.js';
import { expectGolden } from '../support/golden.js';
import { NODE, STABLE_MAIN } from '../support/setup-harness.js';
import { SYSTEMS_DIR, tempRoot } from '../support/temp-root.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

function deps(extra: SetupDeps = {}): SetupDeps {
  return { nodePath: NODE, runningMain: STABLE_MAIN, version: '0.1.0', now: () => new Date('2025-03-01T10:00:00Z'), ...extra };
}

async function doctorOffline(root: string): Promise<{ code: number; text: string; json: { checks: { id: string; status: string; detail?: string }[] } }> {
  const text = captureCli();
  const code = await doctor(['--root', root, '--no-mdns'], text.ctx);
  const json = captureCli();
  await doctor(['--root', root, '--json'], json.ctx);
  return { code, text: text.stdout().split(root).join('<ROOT>'), json: JSON.parse(json.stdout()) };
}

describe('an SD-card image: setup --root, doctor --root, rollback', () => {
  it('works end to end and leaves the image as it was after rollback', async () => {
    const t = tempRoot('trixie-image');
    cleanups.push(t.cleanup);
    const root = t.root;
    const sys = new FakeSystem(root);
    const originalBoot = readFileSync(path.join(root, 'boot/firmware/config.txt'));
    const originalPasswd = readFileSync(path.join(root, 'etc/passwd'), 'utf8');

    const cli = captureCli({ isRoot: true });
    expect(await setupCommand(['--yes', '--root', root], cli.ctx, deps({ runner: sys }))).toBe(0);
    const out = cli.stdout();
    // The image's own hostname, never the build host's.
    expect(out).toContain('Hostname        ampio-pi');
    expect(out).toContain('Clients connect with cannelloni TCP to ampio-pi.local:20000 (can0), ampio-pi.local:20001 (can1).');
    // The undo hint works as printed: it names the image.
    expect(out).toContain(`undo with \`sudo ampio-bridge setup --rollback --root ${root}\``);
    expect(out).not.toContain('[✗]');
    // CRLF kept, the old guide's line left alone, our block added.
    const boot = readFileSync(path.join(root, 'boot/firmware/config.txt'), 'utf8');
    expect(boot.replace(/\r\n/g, '')).not.toContain('\n');
    expect(boot).toContain('\r\ndtoverlay=spi-bcm2835-overlay\r\n');
    expect(boot).toContain('# >>> ampio-bridge >>>');
    // Without networkd: the oneshot, enabled offline.
    expect(readFileSync(path.join(root, PATHS.linkSetupUnit), 'utf8')).toContain('restart-ms 100');
    expect(lstatSync(path.join(root, PATHS.linkSetupWants)).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toMatch(/^ampio-bridge:/m);

    // doctor --root: the package is not in the image yet, and doctor says so.
    let d = await doctorOffline(root);
    expect(d.code).toBe(1);
    expect(d.json.checks.find((c) => c.id === 'unit')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/does not exist|do not exist/) });
    // Once node and the package are in the image, everything checkable offline passes.
    for (const p of [NODE, STABLE_MAIN]) {
      mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      writeFileSync(path.join(root, p), '');
    }
    d = await doctorOffline(root);
    expect(d.code).toBe(0);
    expectGolden('doctor/trixie-image-offline.txt', d.text);
    expect(d.text).toMatch(/not checked offline/);
    // A config serve would reject fails doctor, with serve's own words.
    const configFile = path.join(root, PATHS.configFile);
    const good = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, JSON.stringify({ ...JSON.parse(good), 'hub-policy': 'sometimes' }));
    d = await doctorOffline(root);
    expect(d.code).toBe(1);
    expect(d.json.checks.find((c) => c.id === 'config')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/serve refuses it.*hub-policy/) });
    writeFileSync(configFile, good);

    // Rollback: files, directories and the service user setup created are gone again.
    const rb = captureCli({ isRoot: true });
    expect(await setupCommand(['--yes', '--rollback', '--root', root], rb.ctx, deps({ runner: sys }))).toBe(0);
    expect(readFileSync(path.join(root, 'boot/firmware/config.txt'))).toEqual(originalBoot);
    expect(readFileSync(path.join(root, 'etc/passwd'), 'utf8')).toBe(originalPasswd);
    // (Directories systemctl itself made for its .wants links are systemd's, not ours.)
    for (const dir of ['etc/ampio-bridge', 'etc/default']) expect(existsSync(path.join(root, dir)), dir).toBe(false);
    expect(existsSync(path.join(SYSTEMS_DIR, 'trixie-image', 'etc/ampio-bridge'))).toBe(false);
  });
});
