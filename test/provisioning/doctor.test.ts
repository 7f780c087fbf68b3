// doctor over a system set up by apply (temp root) and recorded transcripts: the healthy
// Pi passes, each broken part gives its ✗ line with the fix, and the exit rule holds.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../provisioning/apply.js';
import { loadCatalog } from '../../provisioning/catalog.js';
import { runDoctorChecks, renderChecks, type DoctorDeps } from '../../provisioning/doctor.js';
import { RecordingRunner } from '../support/recording-runner.js';
import { PATHS } from '../../provisioning/types.js';
import { OPTIONS } from '../../src/config/options.js';
import { validateWithServeLoader } from '../../src/cli/commands/doctor.js';
import { captureCli } from '../support/cli-context.js';
import { FakeSystem } from '../support/fake-system.js';
import { planFor } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';

const fx = (name: string) => readFileSync(path.join(process.cwd(), 'test/fixtures/transcripts', name), 'utf8');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

async function installedPi(): Promise<{ root: string; fs: DoctorDeps['fs'] }> {
  const t = tempRoot('bookworm-fresh');
  cleanups.push(t.cleanup);
  const sys = new FakeSystem(t.root);
  const run = await planFor(t.root, sys);
  expect((await applyPlan(run.plan, { fs: run.fs, runner: sys, now: () => new Date(0), version: '0.1.0' })).ok).toBe(true);
  rmSync(path.join(t.root, PATHS.rebootMarker)); // rebooted
  for (const d of ['spi0.0', 'spi0.1']) mkdirSync(path.join(t.root, 'sys/bus/spi/devices', d), { recursive: true });
  // What the unit's ExecStart names must exist on the system.
  const execStart = /^ExecStart=(\S+) (\S+)/m.exec(readFileSync(path.join(t.root, PATHS.unit), 'utf8'))!;
  for (const p of [execStart[1], execStart[2]]) {
    mkdirSync(path.dirname(path.join(t.root, p)), { recursive: true });
    writeFileSync(path.join(t.root, p), '');
  }
  return { root: t.root, fs: run.fs };
}

/** serve's own loader on the config inside the temp root. */
const validateIn =
  (root: string): DoctorDeps['validateConfig'] =>
  (p, env) =>
    validateWithServeLoader(path.join(root, p), env, captureCli().ctx);

function deps(
  fs: DoctorDeps['fs'] & { root?: string },
  o: { dmesg?: string; ip?: string; active?: string; tcp?: boolean; control?: boolean; ready?: number; mdns?: { name: string; port: number }[] | null } = {},
) {
  const runner = new RecordingRunner(
    [
      { match: 'dmesg', result: { stdout: o.dmesg ?? fx('dmesg-healthy.txt') } },
      { match: 'ip -details -statistics -json link show type can', result: { stdout: o.ip ?? fx('ip-link-healthy.json') } },
      {
        match: 'systemctl is-active ampio-bridge.service',
        result: { stdout: `${o.active ?? 'active'}\n`, exitCode: (o.active ?? 'active') === 'active' ? 0 : 3 },
      },
    ],
    { strict: true },
  );
  const ports: string[] = [];
  const d: DoctorDeps = {
    fs,
    runner,
    catalog: null as unknown as DoctorDeps['catalog'],
    probeTcp: async (h, p) => (ports.push(`${h}:${p}`), o.tcp ?? true),
    probeControl: async () =>
      (o.control ?? true) ? { ok: true, detail: 'ampio-bridge 0.1.0' } : { ok: false, detail: 'permission denied on /run/ampio-bridge/control.sock' },
    probeReady: async () => ({ status: o.ready ?? 200, body: o.ready === 503 ? 'can0: link down' : 'ok' }),
    browseMdns: async () => (o.mdns === undefined ? [{ name: 'ampio-bridge-pi can0', port: 20000 }] : o.mdns),
    validateConfig: validateIn(fs.root ?? '/nonexistent'),
  };
  return { d, runner, ports };
}

describe('doctor', () => {
  it('a healthy Pi: every check ✓, only read-only commands, exit rule ok', async () => {
    const { fs } = await installedPi();
    const { d, runner, ports } = deps(fs);
    d.catalog = await loadCatalog();
    const checks = await runDoctorChecks(d);
    const failed = checks.filter((c) => c.status !== 'ok');
    expect(failed).toEqual([]);
    expect(checks.map((c) => c.id)).toEqual(
      expect.arrayContaining([
        'config',
        'overlay',
        'spi',
        'chip-spi0.0',
        'chip-spi0.1',
        'can0-bitrate',
        'can0-restart',
        'can0-qlen',
        'can0-state',
        'can1-up',
        'service',
        'cannelloni-20000',
        'cannelloni-20001',
        'socketcand-29536',
        'control',
        'ready',
        'mdns',
      ]),
    );
    expect(runner.lines).toEqual(['dmesg', 'ip -details -statistics -json link show type can', 'systemctl is-active ampio-bridge.service']);
    expect(ports).toEqual(['127.0.0.1:20000', '127.0.0.1:20001', '127.0.0.1:29536']);
    const text = renderChecks(checks, false);
    expect(text).toContain('✓ can0 present: spi0.0, connector CAN_0');
    expect(text.trimEnd().endsWith('all checks passed')).toBe(true);
  });

  it('a misconfigured Pi: each fault is ✗ with its fix', async () => {
    const { fs } = await installedPi();
    const { d } = deps(fs, {
      ip: fx('ip-link-misconfigured.json'),
      dmesg: fx('dmesg-err110.txt'),
      active: 'failed',
      tcp: false,
      control: false,
      ready: 503,
      mdns: [],
    });
    d.catalog = await loadCatalog();
    const checks = await runDoctorChecks(d);
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    expect(byId['chip-spi0.0']).toMatchObject({ status: 'fail' });
    expect(byId['chip-spi0.0'].fix).toMatch(/power-cycle/);
    expect(byId['can0-bitrate']).toMatchObject({ status: 'fail', detail: 'the link has 125000' });
    expect(byId['can0-restart']).toMatchObject({ status: 'fail' });
    expect(byId['can0-qlen'].detail).toMatch(/ENOBUFS/);
    expect(byId['can0-clock'].detail).toMatch(/crystal 12000000 Hz/);
    expect(byId['can1-up']).toMatchObject({ status: 'fail' });
    expect(byId['can1-qlen'].detail).toMatch(/stale/);
    expect(byId['can1-state']).toMatchObject({ status: 'fail', detail: 'BUS-OFF' });
    expect(byId['can1-state'].fix).toMatch(/termination/);
    expect(byId.service).toMatchObject({ status: 'fail', detail: 'failed' });
    expect(byId.control.fix).toMatch(/usermod -aG ampio-bridge/);
    expect(byId.ready.detail).toContain('can0: link down');
    expect(byId.mdns.status).toBe('fail');
    expect(byId['socketcand-29536']).toMatchObject({ status: 'fail', title: 'socketcand listening on 127.0.0.1:29536' });
    for (const c of checks.filter((x) => x.status === 'fail')) expect(c.fix, c.id).toBeTruthy();
  });

  it('a dial-out target: reachable on loopback is ✓, nothing there is ✗ with its fix; a UDP port is never probed as TCP', async () => {
    const { root, fs } = await installedPi();
    const net = await import('node:net');
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const up = (server.address() as { port: number }).port;
    const file = path.join(root, PATHS.configFile);
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...cfg, 'cannelloni-connect': `127.0.0.1:${up}`, 'cannelloni-udp': ':20000' }));
    const realProbe = (h: string, p: number) =>
      new Promise<boolean>((resolve) => {
        const s = net.connect({ host: h, port: p });
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
    const { d, ports } = deps(fs);
    d.catalog = await loadCatalog();
    d.probeTcp = async (h, p) => (ports.push(`${h}:${p}`), p === up || p === up + 1 ? realProbe(h, p) : true);
    server.close(); // the second bus's port (up + 1) has nothing: its check fails
    const server2 = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => server2.listen(up, '127.0.0.1', () => r()));
    try {
      const byId = Object.fromEntries((await runDoctorChecks(d)).map((c) => [c.id, c]));
      expect(byId['cannelloni-connect-can0']).toMatchObject({ status: 'ok', title: `cannelloni server 127.0.0.1:${up} reachable (dial-out for can0)` });
      expect(byId['cannelloni-connect-can1']).toMatchObject({ status: 'fail', detail: 'nothing accepts connections there' });
      expect(byId['cannelloni-connect-can1'].fix).toMatch(/start the cannelloni server there/);
      expect(Object.keys(byId).filter((k) => k.startsWith('cannelloni-udp'))).toEqual([]);
    } finally {
      server2.close();
    }
  });

  it('before the reboot: says so first, and a missing block says to run setup', async () => {
    const { root, fs } = await installedPi();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(root, PATHS.rebootMarker), 'x\n');
    const { d } = deps(fs, { ip: '[]', dmesg: '' });
    d.catalog = await loadCatalog();
    const checks = await runDoctorChecks(d);
    expect(checks.find((c) => c.id === 'reboot')?.fix).toMatch(/sudo reboot/);
    expect(checks.find((c) => c.id === 'can0-present')?.status).toBe('fail');

    writeFileSync(path.join(root, 'boot/firmware/config.txt'), 'dtparam=audio=on\n');
    const again = await runDoctorChecks(d);
    expect(again.find((c) => c.id === 'overlay')).toMatchObject({ status: 'fail', fix: 'run `sudo ampio-bridge setup` and choose your HAT' });
  });

  it("judges the config with serve's own loader: a config serve rejects is ✗ (wrong type, unknown key, bad env override)", async () => {
    const { root, fs } = await installedPi();
    const { d } = deps(fs);
    d.catalog = await loadCatalog();
    const configFile = path.join(root, PATHS.configFile);
    const good = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;

    writeFileSync(configFile, JSON.stringify({ ...good, 'max-clients': 'lots', 'hub-bufer': 5 }));
    let checks = await runDoctorChecks(d);
    const bad = checks.find((c) => c.id === 'config')!;
    expect(bad.status).toBe('fail');
    expect(bad.detail).toMatch(/serve refuses it/);
    expect(bad.detail).toMatch(/max-clients/);
    // An unknown key does not stop serve (a warning there), so it is a warning here too.
    expect(checks.find((c) => c.id === 'config-warnings')).toMatchObject({ status: 'warn', detail: expect.stringMatching(/hub-bufer/) });
    // The very messages serve prints.
    const serveSays = validateWithServeLoader(configFile, {}, captureCli().ctx);
    expect(serveSays.ok).toBe(false);
    if (!serveSays.ok) for (const e of serveSays.errors) expect(bad.detail).toContain(e);

    // The unit's EnvironmentFile counts too: serve would see this override.
    writeFileSync(configFile, JSON.stringify(good));
    writeFileSync(path.join(root, PATHS.envFile), 'AMPIO_BRIDGE_HUB_POLICY="sometimes"\n');
    checks = await runDoctorChecks(d);
    expect(checks.find((c) => c.id === 'config')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/hub-policy/) });

    writeFileSync(path.join(root, PATHS.envFile), '# nothing\nAMPIO_BRIDGE_MAX_CLIENTS=4\n');
    checks = await runDoctorChecks(d);
    expect(checks.find((c) => c.id === 'config')?.status).toBe('ok');
  });

  it('offline (doctor --root): files are checked, live parts say "not checked offline", nothing is run', async () => {
    const { fs } = await installedPi();
    const { d, runner, ports } = deps(fs);
    d.catalog = await loadCatalog();
    d.offline = true;
    const checks = await runDoctorChecks(d);
    expect(runner.lines).toEqual([]);
    expect(ports).toEqual([]);
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
    for (const id of ['config', 'unit', 'network-files', 'overlay', 'spi']) expect(checks.find((c) => c.id === id)?.status, id).toBe('ok');
    for (const id of ['dmesg', 'links', 'service', 'control', 'ready']) expect(checks.find((c) => c.id === id)?.detail, id).toMatch(/not checked offline/);
    expect(renderChecks(checks, false)).toMatch(/all checks passed; \d+ not checked offline\n$/);
  });

  it('receive buffer: ✓ when net.core.rmem_max covers --can-rcvbuf, ! with the fix when lower, skipped without /proc', async () => {
    const { root, fs } = await installedPi();
    const { d } = deps(fs);
    d.catalog = await loadCatalog();
    const def = OPTIONS.canRcvbuf.default;
    const rcvbuf = async () => (await runDoctorChecks(d)).find((c) => c.id === 'rcvbuf');
    // setup loaded its drop-in, so the running kernel allows the default buffer.
    expect(await rcvbuf()).toMatchObject({ status: 'ok', detail: `${def} ≥ --can-rcvbuf ${def}` });

    // A stock Pi (no drop-in, Debian's ceiling): a warning naming both numbers, with the fix.
    rmSync(path.join(root, PATHS.sysctlConf));
    writeFileSync(path.join(root, PATHS.rmemMaxProc), '212992\n');
    const low = await rcvbuf();
    expect(low?.status).toBe('warn');
    expect(low?.detail).toMatch(
      /^the service \(unprivileged\) can get only 212992 bytes \(208 KiB\) of its --can-rcvbuf \d+ bytes .*: frames are lost in bursts$/,
    );
    expect(low?.fix).toContain('`sudo ampio-bridge setup` (writes /etc/sysctl.d/60-ampio-bridge.conf)');
    expect(low?.fix).toContain(`\`sudo sysctl -w net.core.rmem_max=${def}\``);
    // A warning, not a failure: the bridge runs, it only loses frames in bursts.
    expect(renderChecks(await runDoctorChecks(d), false)).toMatch(/all checks passed \(1 warning\)\n$/);

    // serve's own loader decides the number: a value from the unit's environment file counts.
    writeFileSync(path.join(root, PATHS.rmemMaxProc), `${def}\n`);
    writeFileSync(path.join(root, PATHS.envFile), 'AMPIO_BRIDGE_CAN_RCVBUF=16M\n');
    expect((await rcvbuf())?.detail).toContain(`only ${def} bytes`);
    expect((await rcvbuf())?.detail).toContain('of its --can-rcvbuf 16777216 bytes (16 MiB)');
    writeFileSync(path.join(root, PATHS.envFile), 'AMPIO_BRIDGE_CAN_RCVBUF=0\n');
    expect(await rcvbuf()).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^--can-rcvbuf 0: the kernel default buffer/) });
    writeFileSync(path.join(root, PATHS.envFile), '');

    // The drop-in is there but the kernel runs with less: load it, or find who overrides it.
    writeFileSync(path.join(root, PATHS.sysctlConf), `net.core.rmem_max = ${def}\n`);
    writeFileSync(path.join(root, PATHS.rmemMaxProc), '212992\n');
    const stale = await rcvbuf();
    expect(stale?.status).toBe('warn');
    expect(stale?.fix).toContain('sudo sysctl -p /etc/sysctl.d/60-ampio-bridge.conf');

    // Not Linux (or no /proc): skipped with the reason, never a false alarm.
    rmSync(path.join(root, 'proc/sys'), { recursive: true });
    expect(await rcvbuf()).toMatchObject({ status: 'skip', detail: 'cannot read /proc/sys/net/core/rmem_max (not Linux, or /proc not mounted): not checked' });
  });

  it("receive buffer offline: the image's drop-in is what counts", async () => {
    const { root, fs } = await installedPi();
    const { d } = deps(fs);
    d.catalog = await loadCatalog();
    d.offline = true;
    expect((await runDoctorChecks(d)).find((c) => c.id === 'rcvbuf')?.status).toBe('ok');
    rmSync(path.join(root, PATHS.sysctlConf));
    const c = (await runDoctorChecks(d)).find((x) => x.id === 'rcvbuf');
    expect(c?.status).toBe('warn');
    expect(c?.detail).toMatch(/^no \/etc\/sysctl.d\/60-ampio-bridge.conf in the image/);
    expect(c?.fix).toMatch(/setup --root/);
  });
});
