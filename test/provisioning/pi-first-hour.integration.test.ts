// The first hour on a (fixture) Pi, end to end in-process: setup on a fresh Bookworm root,
// the reboot, the service started the way systemd starts it ($RUNTIME_DIRECTORY, the
// config setup wrote), and then `status`, `top` and `doctor` run from a login shell (no
// $RUNTIME_DIRECTORY) all find it. The bus is the virtual one and every listener is on
// loopback with port 0 (mDNS off): the fixture's settings are overridden only for that.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctorChecks } from '../../provisioning/doctor.js';
import { loadCatalog } from '../../provisioning/catalog.js';
import { run as setupCommand } from '../../src/cli/commands/setup.js';
import { NodeFs } from '../../provisioning/io/fs.js';
import { RecordingRunner } from '../support/recording-runner.js';
import { PATHS } from '../../provisioning/types.js';
import { validateWithServeLoader } from '../../src/cli/commands/doctor.js';
import { run as serve } from '../../src/cli/commands/serve.js';
import { run as status } from '../../src/cli/commands/status.js';
import { run as top } from '../../src/cli/commands/top.js';
import { ControlClient, connectOptionsFor, resolveControlSocket } from '../../src/control/control-client.js';
import { captureCli } from '../support/cli-context.js';
import { FakeSystem } from '../support/fake-system.js';
import { NODE, STABLE_MAIN } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';
import { until } from '../support/until.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});
const fx = (name: string) => readFileSync(path.join(process.cwd(), 'test/fixtures/transcripts', name), 'utf8');

const waitFor = (cond: () => boolean, ms = 10_000): Promise<void> => until(cond, 'the condition', ms, 25);

describe('a fresh Pi, following the README', () => {
  it('setup, reboot, the service runs; status, top and doctor from a login shell all see it', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const root = t.root;
    const fs = new NodeFs(root);
    const sys = new FakeSystem(root);

    // sudo ampio-bridge setup --yes (live system: the fixture root stands for /)
    const setup = captureCli({ isRoot: true });
    expect(
      await setupCommand(['--yes'], setup.ctx, {
        fs,
        runner: sys,
        nodePath: NODE,
        runningMain: STABLE_MAIN,
        version: '0.1.0',
        now: () => new Date('2025-03-01T10:00:00Z'),
      }),
    ).toBe(0);
    expect(setup.stdout()).toMatch(/ampio-bridge status\n {2}ampio-bridge top\n {2}ampio-bridge doctor/);
    // sudo reboot
    rmSync(path.join(root, PATHS.rebootMarker));
    for (const d of ['spi0.0', 'spi0.1']) mkdirSync(path.join(root, 'sys/bus/spi/devices', d), { recursive: true });
    // What the unit runs is installed (node, and ampio-bridge where setup put it).
    for (const p of [NODE, STABLE_MAIN]) {
      mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      writeFileSync(path.join(root, p), '');
    }

    // systemd starts the service: RuntimeDirectory= and StateDirectory=ampio-bridge, the
    // config setup wrote (capture on, in the StateDirectory, moved under the fixture root).
    const runtime = path.join(root, 'run/ampio-bridge');
    mkdirSync(runtime, { recursive: true, mode: 0o750 });
    const state = path.join(root, 'var/lib/ampio-bridge');
    mkdirSync(state, { recursive: true, mode: 0o750 });
    expect(JSON.parse(readFileSync(path.join(root, PATHS.configFile), 'utf8')).capture).toBe('/var/lib/ampio-bridge/capture.db');
    const service = captureCli({ env: { RUNTIME_DIRECTORY: runtime }, isRoot: true });
    const config = path.join(root, PATHS.configFile);
    const done = serve(
      [
        '--config',
        config,
        '--backend',
        'virtual',
        '--virtual-rate',
        '0',
        '--listen',
        '127.0.0.1:0',
        '--mdns-enable=false',
        '--metrics-addr',
        '',
        '--http-listen',
        '',
        '--capture',
        path.join(state, 'capture.db'),
      ],
      service.ctx,
    );
    const sock = path.join(runtime, 'control.sock');
    await waitFor(() => existsSync(sock) || service.stderr().includes('startup_failed'));
    expect(service.stderr()).not.toContain('startup_failed');
    // The bridge is ready before its store is opened (a damaged store never holds it up).
    await waitFor(() => existsSync(path.join(state, 'capture.db')), 30_000);
    expect(existsSync(path.join(state, 'capture.db'))).toBe(true);

    try {
      // A login shell: its own XDG_RUNTIME_DIR, no RUNTIME_DIRECTORY; the service's runtime
      // dir is where /run/ampio-bridge would be.
      const shell = { XDG_RUNTIME_DIR: path.join(root, 'run/user/1000') };
      const s = captureCli({ env: shell, systemRuntimeDir: runtime });
      expect(await status([], s.ctx)).toBe(0);
      expect(s.stdout()).toContain(`control ${sock}`);
      const tp = captureCli({ env: shell, systemRuntimeDir: runtime });
      expect(await top(['--json'], tp.ctx)).toBe(0);
      expect(JSON.parse(tp.stdout()).daemon.pid).toBe(process.pid);

      // doctor: the kernel's and systemd's answers are recorded transcripts of a healthy Pi;
      // the config and the control socket are the real ones.
      const socket = resolveControlSocket({ env: shell, role: 'client', systemRuntimeDir: runtime });
      const checks = await runDoctorChecks({
        fs,
        runner: new RecordingRunner([
          { match: 'dmesg', result: { stdout: fx('dmesg-healthy.txt') } },
          { match: 'ip -details -statistics -json link show type can', result: { stdout: fx('ip-link-healthy.json') } },
          { match: 'systemctl is-active ampio-bridge.service', result: { stdout: 'active\n' } },
        ]),
        catalog: await loadCatalog(),
        controlSocket: socket.path,
        validateConfig: (p, env) => validateWithServeLoader(path.join(root, p), env, captureCli().ctx),
        probeTcp: async () => true,
        probeControl: async (p) => {
          const c = await ControlClient.connect(p, connectOptionsFor(socket));
          const detail = `ampio-bridge ${c.hello.daemon}, pid ${c.hello.pid}`;
          c.close();
          return { ok: true, detail };
        },
        probeReady: async () => ({ status: 200, body: 'ok' }),
        browseMdns: async () => [{ name: 'ampio-bridge-pi can0', port: 20000 }],
      });
      expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
      expect(checks.find((c) => c.id === 'control')).toMatchObject({ title: `control socket ${sock}`, detail: expect.stringContaining(`pid ${process.pid}`) });
    } finally {
      service.signals.emit('SIGTERM');
      expect(await done).toBe(0);
    }
  });
});
