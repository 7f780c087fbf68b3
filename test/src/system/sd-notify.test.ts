// READY=1 reaches a real unix datagram socket standing in for systemd's NOTIFY_SOCKET.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createSdNotify, notifyMessage } from '../../../src/system/sd-notify.js';

it('formats the notification with MAINPID', () => {
  expect(notifyMessage('ready', 42, 'serving can0')).toBe('READY=1\nMAINPID=42\nSTATUS=serving can0');
});

it('is a no-op without NOTIFY_SOCKET', () => {
  expect(() => createSdNotify({})('ready')).not.toThrow();
});

it('sends READY=1 to NOTIFY_SOCKET', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdnotify-'));
  const sock = path.join(dir, 'notify');
  // An independent receiver: python's socket module binds the datagram socket systemd would.
  const receiver = spawn('/usr/bin/python3', ['-c', `import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(${JSON.stringify(sock)})\nprint('bound',flush=True)\nprint(s.recv(4096).decode(),flush=True)`]);
  let out = '';
  receiver.stdout.on('data', (d) => (out += d));
  await new Promise<void>((resolve) => receiver.stdout.once('data', () => resolve()));
  createSdNotify({ NOTIFY_SOCKET: sock })('ready', 'serving can0');
  await new Promise((resolve) => receiver.once('exit', resolve));
  expect(out).toContain(`READY=1\nMAINPID=${process.pid}\nSTATUS=serving can0`);
  fs.rmSync(dir, { recursive: true, force: true });
});
