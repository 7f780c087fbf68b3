// `serve` start-up failures, in-process: each problem said once (log record with its hint,
// no second plain copy), and exit 2 for what a restart cannot fix, 1 for what it may.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isConfigurationFailure, run } from '../../../../src/cli/commands/serve.js';
import { captureCli } from '../../../support/cli-context.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-serve-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function serveArgs(listen: string): string[] {
  return ['--backend', 'virtual', '--listen', listen, '--control-socket', path.join(dir, 'c.sock'), '--config', writeEmptyConfig()];
}

function writeEmptyConfig(): string {
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, '{}');
  return file;
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe('serve start-up failures', () => {
  it('an address that is not on this machine is a configuration error: exit 2, said once with its hint', async () => {
    const cli = captureCli();
    // 192.0.2.1 (TEST-NET-1) is on no interface here: bind fails locally, nothing is sent.
    expect(await run(serveArgs('192.0.2.1:0'), cli.ctx)).toBe(2);
    const err = cli.stderr();
    expect(count(err, 'cannot listen on 192.0.2.1:0')).toBe(1);
    expect(err).toMatch(/startup_failed .*code=listen_address .*hint="use an address of this machine/);
    expect(count(err, 'use an address of this machine')).toBe(1);
  });

  it('a port in use may free up: exit 1 (systemd restarts), said once', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      const cli = captureCli();
      expect(await run(serveArgs(`127.0.0.1:${port}`), cli.ctx)).toBe(1);
      expect(count(cli.stderr(), 'the port is already in use')).toBe(1);
      expect(count(cli.stderr(), 'stop the other program')).toBe(1);
    } finally {
      blocker.close();
    }
  });
});

describe('a control socket that cannot work is configuration: exit 2 before anything is opened', () => {
  // The capture store is the first thing a start opens after the listeners: its file must
  // not appear, nor a listener be bound.
  const args = (socket: string, store: string) => [
    '--backend',
    'virtual',
    '--listen',
    '127.0.0.1:0',
    '--control-socket',
    socket,
    '--capture',
    store,
    '--config',
    writeEmptyConfig(),
  ];
  const cases: Array<[string, () => string, RegExp]> = [
    ['a path longer than a Unix socket can have', () => path.join(dir, 'x'.repeat(120), 'c.sock'), /code=control_socket_path/],
    ['a directory under /proc', () => '/proc/self/ampio/control.sock', /code=control_socket_dir/],
    [
      'a directory every user may write to',
      () => {
        const open = path.join(dir, 'open');
        fs.mkdirSync(open);
        fs.chmodSync(open, 0o777);
        return path.join(open, 'c.sock');
      },
      /code=control_socket_unsafe_dir/,
    ],
    [
      'a file in the way',
      () => {
        fs.writeFileSync(path.join(dir, 'plain'), '');
        return path.join(dir, 'plain');
      },
      /code=control_socket_not_socket/,
    ],
  ];
  for (const [what, socket, code] of cases) {
    it(what, async () => {
      const cli = captureCli();
      const store = path.join(dir, 'capture.db');
      expect(await run(args(socket(), store), cli.ctx)).toBe(2);
      const err = cli.stderr();
      expect(err).toMatch(code);
      expect(err).not.toMatch(/tcp_listen/);
      expect(fs.existsSync(store)).toBe(false);
    });
  }
});

describe('isConfigurationFailure', () => {
  const wrapped = (code: string) => Object.assign(new Error('cannot listen'), { code: 'listen_address', cause: Object.assign(new Error(code), { code }) });
  it('an unresolvable host or a foreign address: yes; a temporary DNS failure or anything else: no', () => {
    expect(isConfigurationFailure(wrapped('ENOTFOUND'))).toBe(true);
    expect(isConfigurationFailure(wrapped('EADDRNOTAVAIL'))).toBe(true);
    expect(isConfigurationFailure(wrapped('EAI_AGAIN'))).toBe(false);
    expect(isConfigurationFailure(wrapped('EADDRINUSE'))).toBe(false);
    expect(isConfigurationFailure(new Error('boom'))).toBe(false);
    expect(isConfigurationFailure(undefined)).toBe(false);
  });
});
