// `setup` as a command, in-process: flags, --dry-run with a file system and runner that
// throw on any change, --yes runs, re-runs, uninstall and rollback through the CLI surface.

import { lstatSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SetupDeps } from '../../provisioning/index.js';
import { run as setupCommand } from '../../src/cli/commands/setup.js';
import { NodeFs, readOnlyFs } from '../../provisioning/io/fs.js';
import { throwingRunner } from '../../provisioning/io/runner.js';
import { PATHS } from '../../provisioning/types.js';
import { captureCli } from '../support/cli-context.js';
import { FakeSystem } from '../support/fake-system.js';
import { NODE, STABLE_MAIN } from '../support/setup-harness.js';
import { SYSTEMS_DIR, tempRoot } from '../support/temp-root.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

function deps(extra: SetupDeps = {}): SetupDeps {
  return { nodePath: NODE, runningMain: STABLE_MAIN, version: '0.1.0', now: () => new Date('2025-03-01T10:00:00Z'), ...extra };
}

describe('ampio-bridge setup (in-process)', () => {
  it('--dry-run probes and plans with a file system and runner that throw on any change', async () => {
    const root = path.join(SYSTEMS_DIR, 'go-manual');
    const cli = captureCli({ isRoot: true });
    const code = await setupCommand(
      ['--dry-run', '--yes'],
      cli.ctx,
      deps({ fs: readOnlyFs(new NodeFs(root)), runner: throwingRunner, probeRunner: throwingRunner }),
    );
    expect(cli.stderr()).toBe('');
    expect(code).toBe(0);
    const out = cli.stdout();
    expect(out).toContain('(dry run: nothing will be changed)');
    expect(out).toContain('Retire hand-made /etc/systemd/network/can.network');
    expect(out).toContain('$ systemctl disable --now can-server.service');
    expect(out).toContain('Dry run: nothing was changed.');
  });

  it('--dry-run needs no root and never asks for sudo', async () => {
    const cli = captureCli({ isRoot: false });
    let elevated = false;
    const code = await setupCommand(
      ['--dry-run', '--yes'],
      cli.ctx,
      deps({ fs: new NodeFs(path.join(SYSTEMS_DIR, 'bookworm-fresh')), probeRunner: throwingRunner, elevate: async () => ((elevated = true), 0) }),
    );
    expect(code).toBe(0);
    expect(elevated).toBe(false);
  });

  it('names an unknown flag and the closest valid one, exit 2', async () => {
    const cli = captureCli();
    expect(await setupCommand(['--hatt', 'x'], cli.ctx, deps())).toBe(2);
    expect(cli.stderr()).toBe('ampio-bridge setup: unknown flag --hatt (did you mean --hat?)\n');
    const cli2 = captureCli();
    expect(await setupCommand(['--dryrun'], cli2.ctx, deps())).toBe(2);
    expect(cli2.stderr()).toBe('ampio-bridge setup: unknown flag --dryrun (did you mean --dry-run?)\n');
  });

  it('--yes never prompts: a missing hardware answer is an error naming the flag', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const cli = captureCli({ isRoot: true, isTTY: true });
    const asker = {
      select: () => Promise.reject(new Error('prompted')),
      input: () => Promise.reject(new Error('prompted')),
      confirm: () => Promise.reject(new Error('prompted')),
    };
    const code = await setupCommand(['--yes', '--backend', 'serial', '--root', t.root], cli.ctx, deps({ runner: new FakeSystem(t.root), asker }));
    expect(code).toBe(2);
    expect(cli.stderr()).toContain('--serial PATH');
    const cli2 = captureCli({ isRoot: true, isTTY: true });
    expect(await setupCommand(['--yes', '--hat', 'generic-mcp2515', '--root', t.root], cli2.ctx, deps({ runner: new FakeSystem(t.root), asker }))).toBe(2);
    expect(cli2.stderr()).toMatch(/--oscillator.*--interrupt/);
  });

  it('the socketcand beacon is off unless asked for (--socketcand-beacon), and never without socketcand', async () => {
    for (const [args, listen, beacon] of [
      [[], ':29536', false],
      [['--socketcand-beacon'], ':29536', true],
      [['--socketcand-listen', '', '--socketcand-beacon'], '', false],
      [['--socketcand-listen', '127.0.0.1:29600', '--no-socketcand-beacon'], '127.0.0.1:29600', false],
    ] as const) {
      const t = tempRoot('bookworm-fresh');
      cleanups.push(t.cleanup);
      const cli = captureCli({ isRoot: false });
      expect(await setupCommand(['--yes', '--root', t.root, ...args], cli.ctx, deps({ runner: new FakeSystem(t.root) }))).toBe(0);
      expect(JSON.parse(readFileSync(path.join(t.root, PATHS.configFile), 'utf8'))).toMatchObject({ 'socketcand-listen': listen, 'socketcand-beacon': beacon });
    }
  });

  it('without root and without a terminal it says to use sudo instead of prompting', async () => {
    const cli = captureCli({ isRoot: false, isTTY: false });
    expect(await setupCommand([], cli.ctx, { version: '0.1.0' })).toBe(1);
    expect(cli.stderr()).toContain('sudo ampio-bridge setup');
  });

  it('continues under sudo when not root', async () => {
    const cli = captureCli({ isRoot: false, isTTY: true });
    const seen: string[][] = [];
    expect(await setupCommand(['--hat', 'pican2'], cli.ctx, deps({ elevate: async (a) => (seen.push(a), 7) }))).toBe(7);
    expect(seen).toEqual([['--hat', 'pican2']]);
  });

  it('--yes --root: installs into an image, lists live commands, then "nothing to change"', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const sys = new FakeSystem(t.root);
    const cli = captureCli({ isRoot: false });
    expect(await setupCommand(['--yes', '--root', t.root, '--can-if', 'can0', '--listen', ':20100'], cli.ctx, deps({ runner: sys }))).toBe(0);
    expect(cli.stdout()).toContain(`Image at ${t.root} is ready`);
    expect(cli.stdout()).toContain('On the target, run:\n  systemctl daemon-reload');
    expect(JSON.parse(readFileSync(path.join(t.root, PATHS.configFile), 'utf8'))).toMatchObject({
      'can-if': 'can0',
      listen: ':20100',
      'mdns-enable': true,
      'socketcand-listen': ':29536',
      'socketcand-beacon': false,
    });
    expect(cli.stdout()).toContain('socketcand clients (python-can, SavvyCAN, Kayak) connect to');
    expect(lstatSync(path.join(t.root, PATHS.unitWants)).isSymbolicLink()).toBe(true);
    expect(sys.lines.every((l) => !/^systemctl (daemon-reload|restart|start|reboot)/.test(l) && !l.startsWith('ip '))).toBe(true);

    const again = captureCli({ isRoot: false });
    expect(await setupCommand(['--yes', '--root', t.root, '--can-if', 'can0', '--listen', ':20100'], again.ctx, deps({ runner: sys }))).toBe(0);
    expect(again.stdout()).toContain('Nothing to change');
  });

  it('--uninstall removes what setup owns; --rollback brings it back byte-for-byte', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const sys = new FakeSystem(t.root);
    expect(await setupCommand(['--yes', '--root', t.root], captureCli().ctx, deps({ runner: sys }))).toBe(0);
    const installedUnit = readFileSync(path.join(t.root, PATHS.unit), 'utf8');
    const installedBoot = readFileSync(path.join(t.root, 'boot/firmware/config.txt'), 'utf8');

    const un = captureCli();
    expect(await setupCommand(['--yes', '--uninstall', '--root', t.root], un.ctx, deps({ runner: sys, now: () => new Date('2025-03-02T10:00:00Z') }))).toBe(0);
    expect(() => lstatSync(path.join(t.root, PATHS.unit))).toThrow();
    expect(() => lstatSync(path.join(t.root, PATHS.unitWants))).toThrow();
    const boot = readFileSync(path.join(t.root, 'boot/firmware/config.txt'), 'utf8');
    expect(boot).not.toContain('ampio-bridge');
    expect(boot).toBe(readFileSync(path.join(SYSTEMS_DIR, 'bookworm-fresh/boot/firmware/config.txt'), 'utf8'));

    const rb = captureCli();
    expect(await setupCommand(['--yes', '--rollback', '--root', t.root], rb.ctx, deps({ runner: sys }))).toBe(0);
    expect(rb.stdout()).toContain('2025-03-02T10-00-00Z');
    expect(readFileSync(path.join(t.root, PATHS.unit), 'utf8')).toBe(installedUnit);
    expect(readFileSync(path.join(t.root, 'boot/firmware/config.txt'), 'utf8')).toBe(installedBoot);
    expect(lstatSync(path.join(t.root, PATHS.unitWants)).isSymbolicLink()).toBe(true);
  });
});
