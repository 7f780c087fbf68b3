// The Fs port: root mapping (absolute symlinks resolve inside the root), atomic writes with
// the asked mode and no temp files left, conf-written JSON, the read-only guard, MemoryFs.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeFs, readOnlyFs, ReadOnlyFsError, serializeConfig } from '../../../provisioning/io/fs.js';
import { MemoryFs } from '../../support/memory-fs.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop() as string, { recursive: true, force: true });
});
function root(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'ampio-fs-'));
  dirs.push(d);
  return d;
}

describe('NodeFs', () => {
  it('writes atomically with the given mode, creating parents, leaving no temp file', async () => {
    const r = root();
    const fs = new NodeFs(r);
    await fs.write('/etc/x/y.conf', 'a\n', 0o640);
    expect(readFileSync(path.join(r, 'etc/x/y.conf'), 'utf8')).toBe('a\n');
    expect(statSync(path.join(r, 'etc/x/y.conf')).mode & 0o777).toBe(0o640);
    await fs.write('/etc/x/y.conf', 'b\n', 0o644);
    expect(readdirSync(path.join(r, 'etc/x'))).toEqual(['y.conf']);
    expect(await fs.readText('/etc/x/y.conf')).toBe('b\n');
  });

  it('resolves absolute symlinks inside the root, never on the host', async () => {
    const r = root();
    mkdirSync(path.join(r, 'boot/firmware'), { recursive: true });
    writeFileSync(path.join(r, 'boot/firmware/config.txt'), 'inside\n');
    symlinkSync('/boot/firmware/config.txt', path.join(r, 'boot/config.txt'));
    const fs = new NodeFs(r);
    expect(await fs.readText('/boot/config.txt')).toBe('inside\n');
    expect((await fs.lstat('/boot/config.txt'))?.kind).toBe('symlink');
    expect(await fs.readlink('/boot/config.txt')).toBe('/boot/firmware/config.txt');
    expect(() => fs.host('/../../etc/passwd')).not.toThrow(); // normalised to /etc/passwd under the root
    expect(fs.host('/../../etc/passwd')).toBe(path.join(r, 'etc/passwd'));
  });

  it('writes config.json through conf, byte-identical to what the plan showed', async () => {
    const r = root();
    const fs = new NodeFs(r);
    const store = { backend: 'socketcan', 'can-if': 'can0', bitrate: 50000, 'mdns-enable': true };
    await fs.writeConf('/etc/ampio-bridge/config.json', store, 0o644);
    expect(readFileSync(path.join(r, 'etc/ampio-bridge/config.json'), 'utf8')).toBe(serializeConfig(store));
    expect(statSync(path.join(r, 'etc/ampio-bridge/config.json')).mode & 0o777).toBe(0o644);
    // A corrupt old file (already in the backup set) is simply replaced.
    writeFileSync(path.join(r, 'etc/ampio-bridge/config.json'), '{oops');
    await fs.writeConf('/etc/ampio-bridge/config.json', store, 0o644);
    expect(JSON.parse(readFileSync(path.join(r, 'etc/ampio-bridge/config.json'), 'utf8'))).toEqual(store);
  });
});

describe('readOnlyFs and MemoryFs', () => {
  it('the dry-run guard reads through and refuses every change', async () => {
    const fs = readOnlyFs(new MemoryFs({ '/etc/a': 'x' }));
    expect(await fs.readText('/etc/a')).toBe('x');
    for (const attempt of [
      () => fs.write('/etc/a', 'y', 0o644),
      () => fs.writeConf('/etc/b', {}, 0o644),
      () => fs.remove('/etc/a'),
      () => fs.mkdir('/d'),
      () => fs.chmod('/etc/a', 0o600),
    ]) {
      await expect(attempt()).rejects.toBeInstanceOf(ReadOnlyFsError);
    }
  });

  it('MemoryFs keeps files, modes, directories and symlinks', async () => {
    const fs = new MemoryFs({ '/etc/systemd/network/a.network': '[Match]\n' });
    fs.links.set('/boot/config.txt', '/boot/firmware/config.txt');
    await fs.write('/boot/firmware/config.txt', 'x\n', 0o755);
    expect(await fs.readText('/boot/config.txt')).toBe('x\n');
    expect((await fs.stat('/etc/systemd'))?.kind).toBe('dir');
    expect(await fs.readdir('/etc/systemd/network')).toEqual(['a.network']);
    await fs.remove('/etc/systemd/network/a.network');
    expect(await fs.read('/etc/systemd/network/a.network')).toBeNull();
  });
});
