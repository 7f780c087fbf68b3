// One control-socket resolution for serve, status, top and doctor; the directory rules that
// keep another account from planting a fake socket; path checks before any blocking call.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlClient, ControlUnavailableError } from '../../../src/control/control-client.js';
import { createControlServer } from '../../../src/control/control-server.js';
import { resolveControlSocket, runtimeDirProblem, socketPathProblem, userControlSocketPath } from '../../../src/control/socket-path.js';
import { FakeControlSource } from '../../support/fake-snapshot.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-sockpath-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('resolveControlSocket', () => {
  const systemRuntimeDir = '/nonexistent-ampio-test/run/ampio-bridge';

  it('the per-user default: $RUNTIME_DIRECTORY (first entry), else $XDG_RUNTIME_DIR/ampio-bridge, else <tmp>/ampio-bridge-<uid>', () => {
    expect(userControlSocketPath({ RUNTIME_DIRECTORY: '/run/ampio-bridge:/run/other', XDG_RUNTIME_DIR: '/run/user/1000' }, 1000).path).toBe(
      '/run/ampio-bridge/control.sock',
    );
    expect(userControlSocketPath({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000).path).toBe('/run/user/1000/ampio-bridge/control.sock');
    const tmp = userControlSocketPath({ RUNTIME_DIRECTORY: '', XDG_RUNTIME_DIR: '' }, 5);
    expect(tmp).toEqual({ path: path.join(os.tmpdir(), 'ampio-bridge-5', 'control.sock'), source: 'tmp', sharedTmp: true });
  });

  it('--control-socket > AMPIO_BRIDGE_CONTROL_SOCKET > system socket > per-user', () => {
    const env = { AMPIO_BRIDGE_CONTROL_SOCKET: '/e/c.sock', XDG_RUNTIME_DIR: '/run/user/7' };
    expect(resolveControlSocket({ flag: '/f/c.sock', env, role: 'client', systemRuntimeDir }).path).toBe('/f/c.sock');
    expect(resolveControlSocket({ flag: '  ', env, role: 'client', systemRuntimeDir })).toMatchObject({ path: '/e/c.sock', source: 'env' });
    expect(resolveControlSocket({ env: { XDG_RUNTIME_DIR: '/run/user/7' }, role: 'client', systemRuntimeDir })).toMatchObject({
      path: '/run/user/7/ampio-bridge/control.sock',
      source: 'xdg-runtime-dir',
    });
  });

  it('a client picks the service socket when it exists; the daemon never does', async () => {
    const runtime = path.join(dir, 'run', 'ampio-bridge');
    fs.mkdirSync(runtime, { recursive: true });
    const sock = path.join(runtime, 'control.sock');
    const server = createControlServer({ path: sock, source: new FakeControlSource(), helloInfo: { daemon: 't', pid: 1 }, log: () => {} });
    await server.start();
    try {
      expect(resolveControlSocket({ env: { XDG_RUNTIME_DIR: '/run/user/7' }, role: 'client', systemRuntimeDir: runtime })).toMatchObject({
        path: sock,
        source: 'system',
      });
      expect(resolveControlSocket({ env: { XDG_RUNTIME_DIR: '/run/user/7' }, role: 'daemon', systemRuntimeDir: runtime }).source).toBe('xdg-runtime-dir');
      // The environment variable still wins over the service socket.
      expect(resolveControlSocket({ env: { AMPIO_BRIDGE_CONTROL_SOCKET: '/x.sock' }, role: 'client', systemRuntimeDir: runtime }).path).toBe('/x.sock');
    } finally {
      await server.stop();
    }
    // A leftover regular file is not a socket: not picked.
    fs.writeFileSync(sock, '');
    expect(resolveControlSocket({ env: { XDG_RUNTIME_DIR: '/run/user/7' }, role: 'client', systemRuntimeDir: runtime }).source).toBe('xdg-runtime-dir');
  });
});

describe('socketPathProblem and runtimeDirProblem', () => {
  it('refuses paths longer than 107 bytes (counted in bytes, not characters)', () => {
    expect(socketPathProblem(`/tmp/${'a'.repeat(102)}`)).toBeNull(); // 107 bytes
    expect(socketPathProblem(`/tmp/${'a'.repeat(103)}`)).toMatch(/108 bytes long.*at most 107/);
    expect(socketPathProblem(`/tmp/${'ä'.repeat(52)}`)).toMatch(/109 bytes/);
  });

  it('owner and mode rules', () => {
    const d = { isDirectory: true, isSymlink: false };
    expect(runtimeDirProblem('/d', { ...d, uid: 1000, mode: 0o40770 }, 1000, { ownedOnly: true })).toBeNull();
    expect(runtimeDirProblem('/d', { ...d, uid: 1001, mode: 0o40700 }, 1000, { ownedOnly: true })).toMatch(/owned by uid 1001/);
    expect(runtimeDirProblem('/d', { ...d, uid: 0, mode: 0o40755 }, 1000, { ownedOnly: true })).toMatch(/owned by uid 0/);
    expect(runtimeDirProblem('/d', { ...d, uid: 0, mode: 0o40755 }, 1000, { ownedOnly: false })).toBeNull();
    expect(runtimeDirProblem('/d', { ...d, uid: 1000, mode: 0o40777 }, 1000, { ownedOnly: true })).toMatch(/writable by other users \(mode 0777\)/);
    expect(runtimeDirProblem('/tmp', { ...d, uid: 0, mode: 0o41777 }, 1000, { ownedOnly: false })).toBeNull(); // sticky
    expect(runtimeDirProblem('/d', { ...d, uid: 1000, mode: 0o40777 }, 1000, { ownedOnly: false })).toMatch(/writable by every user/);
    expect(runtimeDirProblem('/d', { isDirectory: false, isSymlink: true, uid: 1000, mode: 0o120777 }, 1000, { ownedOnly: false })).toMatch(/symbolic link/);
  });
});

describe('the daemon refuses unsafe or impossible socket paths before it blocks', () => {
  const start = (p: string) => createControlServer({ path: p, source: new FakeControlSource(), helloInfo: { daemon: 't', pid: 1 }, log: () => {} }).start();

  it('a directory writable by every user is refused with a clear error', async () => {
    const hostile = path.join(dir, 'hostile');
    fs.mkdirSync(hostile);
    fs.chmodSync(hostile, 0o777);
    await expect(start(path.join(hostile, 'control.sock'))).rejects.toMatchObject({
      code: 'control_socket_unsafe_dir',
      message: expect.stringMatching(/writable by every user \(mode 0777\).*fake control socket/),
    });
    expect(fs.readdirSync(hostile)).toEqual([]);
  });

  it('a path over 107 bytes is refused up front and leaves no stray file', async () => {
    const p = path.join(dir, 'x'.repeat(120), 'control.sock');
    await expect(start(p)).rejects.toMatchObject({ code: 'control_socket_path', message: expect.stringMatching(/at most 107 bytes/) });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a path under /proc fails at once (no endless recursive mkdir)', async () => {
    await expect(start('/proc/self/ampio/x/control.sock')).rejects.toMatchObject({ code: 'control_socket_dir' });
    await expect(start(`/proc/${process.pid}/control.sock`)).rejects.toMatchObject({
      code: 'control_socket_dir',
      message: expect.stringMatching(/proc filesystem/),
    });
  });

  it('a missing grandparent is not created recursively', async () => {
    await expect(start(path.join(dir, 'a', 'b', 'control.sock'))).rejects.toMatchObject({
      code: 'control_socket_dir',
      message: expect.stringMatching(/is not an existing directory/),
    });
    expect(fs.existsSync(path.join(dir, 'a'))).toBe(false);
  });
});

describe('a client refuses the shared-tmp default when someone else could have made it', () => {
  it('refuses a directory writable by others, without connecting', async () => {
    const fake = path.join(dir, 'ampio-bridge-0');
    fs.mkdirSync(fake);
    fs.chmodSync(fake, 0o777);
    const uid = process.getuid!();
    const err = await ControlClient.connect(path.join(fake, 'control.sock'), { requireOwnDir: uid }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlUnavailableError);
    expect((err as ControlUnavailableError).code).toBe('unsafe');
    expect((err as Error).message).toMatch(/refusing to talk to .*writable by other users/);
  });
});
