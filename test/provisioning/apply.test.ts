// apply/rollback against real files in a temp copy of a fixture system, with a runner that
// records (and simulates) systemctl/useradd/ip instead of running them.

import { lstatSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, renameSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../provisioning/apply.js';
import { NodeFs, type Fs } from '../../provisioning/io/fs.js';
import { rollback } from '../../provisioning/rollback.js';
import { renderPlan } from '../../provisioning/show.js';
import { PATHS } from '../../provisioning/types.js';
import { FakeSystem } from '../support/fake-system.js';
import { planFor } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

const clock =
  (iso = '2025-03-01T10:00:00.000Z') =>
  () =>
    new Date(iso);

/** Every file/symlink under root → contents/target and mode, minus what rollback may not undo. */
function snapshot(root: string, skip: string[] = ['/var/lib/ampio-bridge', '/etc/passwd', '/etc/group']): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      const sys = `/${path.relative(root, full)}`;
      if (skip.some((s) => sys === s || sys.startsWith(`${s}/`))) continue;
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out.set(sys, `-> ${readlinkSync(full)}`);
      else if (st.isDirectory()) {
        // Directories count too: rollback must remove the ones setup created (but the
        // parents of the kept backup store, like /var/lib, are the store's).
        if (!skip.some((s) => s.startsWith(`${sys}/`))) out.set(`${sys}/`, 'dir');
        walk(full);
      } else out.set(sys, `${(st.mode & 0o7777).toString(8)} ${readFileSync(full).toString('base64')}`);
    }
  };
  walk(root);
  return out;
}

function setup(fixture: string) {
  const t = tempRoot(fixture);
  cleanups.push(t.cleanup);
  const sys = new FakeSystem(t.root);
  return { root: t.root, sys };
}

describe('apply', () => {
  it('installs on a fresh Bookworm: exact commands, files equal the plan, backups with a manifest', async () => {
    const { root, sys } = setup('bookworm-fresh');
    const run = await planFor(root, sys);
    sys.calls.length = 0; // probe's read-only questions are not part of the assertion
    const started: string[] = [];
    const result = await applyPlan(run.plan, { fs: run.fs, runner: sys, now: clock(), version: '0.1.0', onDone: (s) => started.push(s.id) });
    expect(result.ok).toBe(true);
    expect(sys.lines).toEqual([
      'systemctl enable --now systemd-networkd.service',
      'systemctl disable systemd-networkd-wait-online.service',
      "useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin --comment 'ampio-bridge daemon' ampio-bridge",
      'sysctl -p /etc/sysctl.d/60-ampio-bridge.conf',
      'systemctl daemon-reload',
      'systemctl enable ampio-bridge.service',
    ]);
    expect(started).toEqual(run.plan.steps.map((s) => s.id));
    for (const s of run.plan.steps) {
      if (s.kind !== 'write') continue;
      const host = path.join(root, s.path);
      expect(readFileSync(host, 'utf8'), s.path).toBe(s.after);
      expect(statSync(host).mode & 0o777, s.path).toBe(s.mode & 0o777);
    }
    expect(statSync(path.join(root, PATHS.configFile)).mode & 0o777).toBe(0o644);
    // One backup set, holding the old config.txt and recording the files that did not exist.
    expect(result.backupDir).toBe('/var/lib/ampio-bridge/backups/2025-03-01T10-00-00Z');
    const dir = path.join(root, result.backupDir as string);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('complete');
    expect(manifest.files.find((f: { path: string }) => f.path === '/boot/firmware/config.txt')).toMatchObject({
      existed: true,
      backup: 'files/boot/firmware/config.txt',
    });
    expect(manifest.files.find((f: { path: string }) => f.path === PATHS.unit)).toMatchObject({ existed: false, backup: null });
    expect(readFileSync(path.join(dir, 'files/boot/firmware/config.txt'))).toEqual(
      readFileSync(path.join(process.cwd(), 'test/fixtures/systems/bookworm-fresh/boot/firmware/config.txt')),
    );
    expect(manifest.commands.map((c: { id: string }) => c.id)).toEqual([
      'enable-networkd',
      'disable-networkd-wait-online',
      'service-user',
      'rcvbuf-sysctl-load',
      'daemon-reload',
      'enable',
    ]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('is idempotent: the second run plans nothing, runs nothing and rewrites no file', async () => {
    const { root, sys } = setup('bookworm-fresh');
    const first = await planFor(root, sys);
    expect((await applyPlan(first.plan, { fs: first.fs, runner: sys, now: clock(), version: '0.1.0' })).ok).toBe(true);
    const mtimes = new Map([...snapshot(root, []).keys()].map((p) => [p, lstatSync(path.join(root, p)).mtimeMs]));
    const before = snapshot(root, []);
    const second = await planFor(root, sys);
    expect(second.plan.steps).toEqual([]);
    expect(second.plan.deferred).toEqual([]);
    expect(renderPlan(second.plan, { color: false })).toContain('Nothing to change');
    sys.calls.length = 0;
    const result = await applyPlan(second.plan, { fs: second.fs, runner: sys, now: clock('2025-03-01T11:00:00Z'), version: '0.1.0' });
    expect(result).toEqual({ ok: true, backupDir: null, completed: [], failed: null });
    expect(sys.calls).toEqual([]);
    expect(snapshot(root, [])).toEqual(before);
    for (const [p, m] of mtimes) expect(lstatSync(path.join(root, p)).mtimeMs, p).toBe(m);
  });

  it('rollback restores every file byte-for-byte and undoes the commands it can', async () => {
    const { root, sys } = setup('go-manual');
    sys.active.add('can-server.service');
    // The service user and its group are created and removed again.
    const original = snapshot(root, ['/var/lib/ampio-bridge']);
    const run = await planFor(root, sys);
    expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now: clock(), version: '0.1.0' })).ok).toBe(true);
    expect(snapshot(root)).not.toEqual(original);
    expect(sys.active.has('can-server.service')).toBe(false);
    sys.calls.length = 0;
    const r = await rollback({ fs: run.fs, runner: sys, now: clock('2025-03-01T12:00:00Z'), live: true });
    expect(sys.lines).toEqual([
      'systemctl disable ampio-bridge.service',
      'systemctl enable --now can-server.service',
      'sysctl -w net.core.rmem_max=212992',
      'userdel ampio-bridge',
      'systemctl daemon-reload',
    ]);
    expect(r.restored).toContain('/boot/firmware/config.txt');
    expect(r.removed).toContain(PATHS.unit);
    expect(r.removed).toContain('/etc/ampio-bridge/');
    expect(snapshot(root, ['/var/lib/ampio-bridge'])).toEqual(original);
    expect(sys.active.has('can-server.service')).toBe(true);
    // The set is marked; a second --rollback has nothing left to undo.
    await expect(rollback({ fs: run.fs, runner: sys, now: clock(), live: true })).rejects.toMatchObject({ code: 'SETUP_NO_BACKUP' });
  });

  it('a command failing mid-apply stops there, leaves every file old or new, and rolls back', async () => {
    const { root, sys } = setup('bookworm-fresh');
    const original = snapshot(root);
    const run = await planFor(root, sys);
    sys.failOn = /^useradd /;
    const done: string[] = [];
    const result = await applyPlan(run.plan, { fs: run.fs, runner: sys, now: clock(), version: '0.1.0', onDone: (s) => done.push(s.id) });
    expect(result.ok).toBe(false);
    expect(result.failed?.step.id).toBe('service-user');
    expect(result.failed?.error.message).toContain('injected failure');
    expect(result.failed?.error.hint).toMatch(/\/etc\/passwd/);
    expect(done).not.toContain('config');
    for (const s of run.plan.steps) {
      if (s.kind !== 'write') continue;
      let now: string | null = null;
      try {
        now = readFileSync(path.join(root, s.path), 'utf8');
      } catch {
        now = null;
      }
      expect([s.before, s.after], s.path).toContain(now);
    }
    const manifest = JSON.parse(readFileSync(path.join(root, result.backupDir as string, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'failed', failedStep: 'service-user' });
    sys.failOn = null;
    await rollback({ fs: run.fs, runner: sys, now: clock(), live: true });
    expect(snapshot(root)).toEqual(original);
  });

  it('a file-system failure mid-apply (disk full on the unit) leaves old-or-new files and rolls back', async () => {
    const { root, sys } = setup('bookworm-fresh');
    const original = snapshot(root);
    const real = new NodeFs(root);
    const failing: Fs = Object.assign(Object.create(real) as Fs, {
      write: async (p: string, data: string | Buffer, mode: number) => {
        if (p === PATHS.unit) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return real.write(p, data, mode);
      },
    });
    const run = await planFor(root, sys, {}, { fs: failing });
    const result = await applyPlan(run.plan, { fs: failing, runner: sys, now: clock(), version: '0.1.0' });
    expect(result.failed?.step.id).toBe('unit');
    expect(result.failed?.error.code).toBe('SETUP_STEP_FAILED');
    expect(readFileSync(path.join(root, PATHS.configFile), 'utf8')).toContain('"backend": "socketcan"');
    expect(() => statSync(path.join(root, PATHS.unit))).toThrow();
    // No temp file left next to where the unit would go.
    expect(readdirSync(path.join(root, 'etc/systemd/system')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await rollback({ fs: real, runner: sys, now: clock(), live: true });
    expect(snapshot(root)).toEqual(original);
  });

  it('--root: offline commands carry --root, live ones are deferred, nothing touches the host', async () => {
    const { root, sys } = setup('bookworm-fresh');
    const run = await planFor(root, sys, {}, { imageRoot: true });
    expect(run.plan.deferred.map((s) => s.argv.join(' '))).toEqual(['systemctl daemon-reload']);
    sys.calls.length = 0;
    const result = await applyPlan(run.plan, { fs: run.fs, runner: sys, now: clock(), version: '0.1.0' });
    expect(result.ok).toBe(true);
    expect(sys.lines).toEqual([
      `systemctl --root=${root} enable systemd-networkd.service`,
      `systemctl --root=${root} disable systemd-networkd-wait-online.service`,
      `useradd --root ${root} --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin --comment 'ampio-bridge daemon' ampio-bridge`,
      `systemctl --root=${root} enable ampio-bridge.service`,
    ]);
    // Only the image changed: the backup set and the reboot marker's absence prove the paths.
    expect(statSync(path.join(root, PATHS.backupsDir)).isDirectory()).toBe(true);
    expect(() => statSync(path.join(root, PATHS.rebootMarker))).toThrow();
  });

  it('writes through a symlinked config.txt to its target and keeps the link', async () => {
    const { root, sys } = setup('bookworm-fresh');
    renameSync(path.join(root, 'boot/firmware/config.txt'), path.join(root, 'boot/firmware/config-main.txt'));
    symlinkSync('/boot/firmware/config-main.txt', path.join(root, 'boot/firmware/config.txt'));
    const run = await planFor(root, sys);
    expect(run.facts.boot).toMatchObject({ path: '/boot/firmware/config.txt', realPath: '/boot/firmware/config-main.txt' });
    expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now: clock(), version: '0.1.0' })).ok).toBe(true);
    expect(lstatSync(path.join(root, 'boot/firmware/config.txt')).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(root, 'boot/firmware/config-main.txt'), 'utf8')).toContain('# >>> ampio-bridge >>>');
  });
});
