// `status` and `top` find the daemon the way a person on an installed Pi runs them: the
// service keeps its socket in $RUNTIME_DIRECTORY (/run/ampio-bridge), the login shell does
// not have that variable. A real `serve` runs in-process; the system runtime dir is pointed
// into a temp dir so the test needs no /run. Also: forged snapshots are not echoed raw.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run as serve } from '../../../../src/cli/commands/serve.js';
import { run as status } from '../../../../src/cli/commands/status.js';
import { run as top } from '../../../../src/cli/commands/top.js';
import { createControlServer, type ControlServer } from '../../../../src/control/control-server.js';
import { captureCli } from '../../../support/cli-context.js';
import { FakeControlSource, fakeBus, fakeClient, fakeSnapshot } from '../../../support/fake-snapshot.js';
import { until } from '../../../support/until.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-discover-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const waitFor = (cond: () => boolean, ms = 10_000): Promise<void> => until(cond, 'the condition', ms, 25);

/** Starts `serve` in-process with `env`; returns a stop function that resolves with its exit code. */
async function startServe(env: Record<string, string>, socketPath: string): Promise<() => Promise<number>> {
  const cli = captureCli({ env: { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'config'), ...env } });
  const done = serve(['--backend', 'virtual', '--virtual-rate', '0', '--listen', '127.0.0.1:0'], cli.ctx);
  await waitFor(() => fs.existsSync(socketPath) || cli.stderr().includes('startup_failed'));
  expect(cli.stderr()).not.toContain('startup_failed');
  return async () => {
    cli.signals.emit('SIGTERM');
    return done;
  };
}

describe('status and top find the running service', () => {
  it('a daemon started with RUNTIME_DIRECTORY is found by status and top run without it', async () => {
    const runtime = path.join(dir, 'run', 'ampio-bridge');
    fs.mkdirSync(runtime, { recursive: true, mode: 0o755 });
    const sock = path.join(runtime, 'control.sock');
    const stop = await startServe({ RUNTIME_DIRECTORY: runtime }, sock);
    try {
      // A login shell: its own XDG_RUNTIME_DIR, no RUNTIME_DIRECTORY.
      const shellEnv = { XDG_RUNTIME_DIR: path.join(dir, 'user-1000') };
      const s = captureCli({ env: shellEnv, systemRuntimeDir: runtime });
      expect(await status(['--json'], s.ctx)).toBe(0);
      expect(JSON.parse(s.stdout()).daemon.controlSocket).toBe(sock);

      const t = captureCli({ env: shellEnv, systemRuntimeDir: runtime });
      expect(await top(['--json'], t.ctx)).toBe(0);
      expect(JSON.parse(t.stdout()).daemon.backend).toBe('virtual');

      // Without the service socket the same shell looks in its own runtime dir, and says where.
      const miss = captureCli({ env: shellEnv, systemRuntimeDir: path.join(dir, 'elsewhere') });
      expect(await status([], miss.ctx)).toBe(3);
      expect(miss.stderr()).toContain(path.join(dir, 'user-1000', 'ampio-bridge', 'control.sock'));
    } finally {
      expect(await stop()).toBe(0);
    }
  });

  it('AMPIO_BRIDGE_CONTROL_SOCKET is honoured by serve, status and top alike', async () => {
    const sock = path.join(dir, 'custom.sock');
    const stop = await startServe({ AMPIO_BRIDGE_CONTROL_SOCKET: sock }, sock);
    try {
      const env = { AMPIO_BRIDGE_CONTROL_SOCKET: sock, XDG_RUNTIME_DIR: path.join(dir, 'nope') };
      const s = captureCli({ env, systemRuntimeDir: path.join(dir, 'no-service') });
      expect(await status(['--json'], s.ctx)).toBe(0);
      expect(JSON.parse(s.stdout()).daemon.controlSocket).toBe(sock);
      const t = captureCli({ env, systemRuntimeDir: path.join(dir, 'no-service') });
      expect(await top(['--json'], t.ctx)).toBe(0);
      // --control-socket beats the variable.
      const f = captureCli({ env, systemRuntimeDir: path.join(dir, 'no-service') });
      expect(await status(['--control-socket', path.join(dir, 'other.sock')], f.ctx)).toBe(3);
      expect(f.stderr()).toContain('other.sock');
    } finally {
      expect(await stop()).toBe(0);
    }
  });
});

describe('a forged snapshot', () => {
  let server: ControlServer | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
  });

  it('its terminal escape codes never reach the terminal of status or top --once', async () => {
    const ESC = '\u001b';
    const evil = `${ESC}]0;owned${String.fromCharCode(7)}${ESC}[2J${ESC}[31mX\u009b1m\u202e`;
    const source = new FakeControlSource();
    source.snap = fakeSnapshot({
      daemon: { ...fakeSnapshot().daemon, hostname: `pi${evil}`, version: `0.1.0${evil}`, listen: [`0.0.0.0:1${evil}`] },
      buses: [fakeBus({ name: `can0${evil}` })],
      clients: [fakeClient({ remote: `10.0.0.1:5${evil}`, bus: `can0${evil}` })],
    });
    const sock = path.join(dir, 'control.sock');
    server = createControlServer({ path: sock, source, helloInfo: { daemon: `evil${evil}`, pid: 1 }, log: () => {} });
    await server.start();

    const s = captureCli({ env: {}, systemRuntimeDir: path.join(dir, 'none') });
    expect(await status(['--control-socket', sock], s.ctx)).toBe(0);
    const out = s.stdout();
    expect(out).toContain('pi]0;owned[2J[31mX1m');
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);

    const t = captureCli({ env: { COLUMNS: '160', LINES: '40' }, systemRuntimeDir: path.join(dir, 'none') });
    expect(await top(['--once', '--control-socket', sock], t.ctx)).toBe(0);
    expect(t.stdout()).toContain('can0]0;owned');
    // Ink paints with its own SGR codes only: no OSC (ESC ]), no clear screen, no C1 CSI.
    expect(t.stdout()).not.toMatch(/\u001b\]|\u001b\[2J|\u009b|\u0007|\u202e/);
  });
});

describe('a hostile per-user runtime directory under the shared temp dir', () => {
  let server: ControlServer | null = null;
  const savedTmp = process.env.TMPDIR;
  afterEach(async () => {
    await server?.stop();
    server = null;
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  it('status, top --json and interactive top refuse it instead of echoing what answers there', async () => {
    // os.tmpdir() follows TMPDIR: the shared temp dir of this test is its own directory.
    process.env.TMPDIR = dir;
    const uid = process.getuid!();
    const planted = path.join(dir, `ampio-bridge-${uid}`);
    fs.mkdirSync(planted, { mode: 0o700 });
    const sock = path.join(planted, 'control.sock');
    server = createControlServer({ path: sock, source: new FakeControlSource(), helloInfo: { daemon: 'forged', pid: 1 }, log: () => {} });
    await server.start();
    // Someone else's: anybody may replace the socket in it.
    fs.chmodSync(planted, 0o777);

    const noService = path.join(dir, 'no-service');
    const s = captureCli({ env: {}, systemRuntimeDir: noService });
    expect(await status([], s.ctx)).toBe(3);
    expect(s.stdout()).toBe('');
    expect(s.stderr()).toMatch(/refusing to talk to .*ampio-bridge-\d+\/control\.sock: .*writable by other users \(mode 0777\)/);
    const t = captureCli({ env: {}, systemRuntimeDir: noService });
    expect(await top(['--json'], t.ctx)).toBe(3);
    expect(t.stdout()).toBe('');
    const i = captureCli({ env: {}, systemRuntimeDir: noService, isTTY: true });
    expect(await top([], i.ctx)).toBe(3);
    expect(i.stderr()).toMatch(/refusing to talk to/);
    // Owned by us and private again: the same socket is fine.
    fs.chmodSync(planted, 0o700);
    const ok = captureCli({ env: {}, systemRuntimeDir: noService });
    expect(await status(['--json'], ok.ctx)).toBe(0);
  });
});
