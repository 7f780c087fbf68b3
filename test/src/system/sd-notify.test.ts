// Notifications reach a real unix datagram socket standing in for systemd's NOTIFY_SOCKET;
// the helper process is spawned only under systemd, and the watchdog pings on its own.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run as serve } from '../../../src/cli/commands/serve.js';
import { createSdNotify, notifyMessage, type NotifyState, startWatchdog, watchdogPingIntervalMs } from '../../../src/system/sd-notify.js';
import { captureCli } from '../../support/cli-context.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** An independent receiver: python's socket module binds the datagram socket systemd would. */
async function notifyReceiver(): Promise<{ socket: string; messages(): string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdnotify-'));
  const socket = path.join(dir, 'notify');
  const receiver: ChildProcess = spawn('/usr/bin/python3', [
    '-c',
    `import socket\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(${JSON.stringify(socket)})\nprint('bound',flush=True)\nwhile True:\n  print(repr(s.recv(4096).decode()),flush=True)`,
  ]);
  let out = '';
  receiver.stdout!.on('data', (d) => (out += d));
  await new Promise<void>((resolve) => receiver.stdout!.once('data', () => resolve()));
  cleanups.push(() => {
    receiver.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Each datagram is one repr()'d line, so multi-line messages stay together.
  const messages = () =>
    out
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => JSON.parse(`"${l.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"')}"`) as string);
  return { socket, messages };
}

it('formats the notification with MAINPID', () => {
  expect(notifyMessage('ready', 42, 'serving can0')).toBe('READY=1\nMAINPID=42\nSTATUS=serving can0');
  expect(notifyMessage('watchdog', 42)).toBe('WATCHDOG=1\nMAINPID=42');
});

it('spawns no helper without NOTIFY_SOCKET, and one with it', () => {
  const run = vi.fn(() => ({ unref() {} }));
  createSdNotify({}, undefined, run as never)('ready');
  expect(run).not.toHaveBeenCalled();
  createSdNotify({ NOTIFY_SOCKET: '/nowhere' }, undefined, run as never)('watchdog');
  expect(run).toHaveBeenCalledTimes(1);
  expect(run).toHaveBeenCalledWith('python3', ['-c', expect.any(String), `WATCHDOG=1\nMAINPID=${process.pid}`], expect.anything(), expect.any(Function));
});

it('sends READY=1 to NOTIFY_SOCKET', async () => {
  const r = await notifyReceiver();
  createSdNotify({ NOTIFY_SOCKET: r.socket })('ready', 'serving can0');
  await vi.waitFor(() => expect(r.messages()).toContain(`READY=1\nMAINPID=${process.pid}\nSTATUS=serving can0`), { timeout: 5000 });
});

describe('watchdog', () => {
  it('pings at half of WATCHDOG_USEC, only for this process, only under systemd', () => {
    const env = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000' };
    expect(watchdogPingIntervalMs(env, 7)).toBe(15_000);
    expect(watchdogPingIntervalMs({ ...env, WATCHDOG_PID: '7' }, 7)).toBe(15_000);
    expect(watchdogPingIntervalMs({ ...env, WATCHDOG_PID: '8' }, 7)).toBeNull();
    expect(watchdogPingIntervalMs({ WATCHDOG_USEC: '30000000' }, 7)).toBeNull();
    expect(watchdogPingIntervalMs({ NOTIFY_SOCKET: '/run/systemd/notify' }, 7)).toBeNull();
    expect(watchdogPingIntervalMs({ ...env, WATCHDOG_USEC: 'soon' }, 7)).toBeNull();
  });

  it('pings once at once, then on every tick, and stops when asked', () => {
    const sent: NotifyState[] = [];
    let tick: (() => void) | null = null;
    let cleared = false;
    const stop = startWatchdog({ NOTIFY_SOCKET: '/x', WATCHDOG_USEC: '2000000' }, (s) => sent.push(s), {
      setInterval: (fn, ms) => {
        expect(ms).toBe(1000);
        tick = fn;
        return 1;
      },
      clearInterval: () => (cleared = true),
    });
    expect(sent).toEqual(['watchdog']);
    tick!();
    tick!();
    expect(sent).toEqual(['watchdog', 'watchdog', 'watchdog']);
    stop();
    expect(cleared).toBe(true);
  });

  it('serve under a systemd watchdog: READY=1, then WATCHDOG=1 pings from the running daemon', async () => {
    const r = await notifyReceiver();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-watchdog-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    const cli = captureCli({ env: { NOTIFY_SOCKET: r.socket, WATCHDOG_USEC: '400000' } });
    const done = serve(
      ['--backend', 'virtual', '--listen', '127.0.0.1:0', '--control-socket', path.join(dir, 'c.sock'), '--config', path.join(dir, 'config.json')],
      cli.ctx,
    );
    try {
      await vi.waitFor(() => expect(r.messages().filter((m) => m.startsWith('WATCHDOG=1')).length).toBeGreaterThanOrEqual(3), {
        timeout: 10_000,
        interval: 50,
      });
      // Each notification leaves through its own helper process, so READY=1 and the first
      // WATCHDOG=1 may arrive in either order (systemd accepts both).
      expect(r.messages().some((m) => /^READY=1\n/.test(m))).toBe(true);
    } finally {
      cli.signals.emit('SIGTERM');
      expect(await done).toBe(0);
    }
  });
});
