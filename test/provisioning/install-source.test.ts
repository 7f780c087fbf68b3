// Where the running package came from decides what setup installs: real directories laid
// out the way npx, npm and git leave them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeSource, detectInstallSource, packageDirOf } from '../../provisioning/install-source.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ab-source-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function pkgAt(pkgDir: string, extra: Record<string, unknown> = {}): string {
  mkdirSync(path.join(pkgDir, 'dist/src/cli'), { recursive: true });
  writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name: 'ampio-bridge', version: '0.1.0', ...extra }));
  return path.join(pkgDir, 'dist/src/cli/main.js');
}

describe('detectInstallSource', () => {
  it('npx from the registry → the registry', () => {
    const npx = path.join(dir, '.npm/_npx/feedbeef');
    mkdirSync(npx, { recursive: true });
    writeFileSync(path.join(npx, 'package.json'), JSON.stringify({ dependencies: { 'ampio-bridge': '^0.1.0' } }));
    const main = pkgAt(path.join(npx, 'node_modules/ampio-bridge'));
    expect(detectInstallSource(main)).toEqual({ kind: 'registry' });
    expect(describeSource({ kind: 'registry' })).toBe('from the npm registry');
  });

  it('npx of a tarball → that tarball; a tarball that is gone → pack the unpacked tree', () => {
    const tgz = path.join(dir, 'ampio-bridge-0.1.0.tgz');
    writeFileSync(tgz, 'x');
    const npx = path.join(dir, '.npm/_npx/0ddba11');
    mkdirSync(npx, { recursive: true });
    writeFileSync(path.join(npx, 'package.json'), JSON.stringify({ dependencies: { 'ampio-bridge': `file:${tgz}` } }));
    const main = pkgAt(path.join(npx, 'node_modules/ampio-bridge'));
    expect(detectInstallSource(main)).toEqual({ kind: 'tarball', path: tgz });
    rmSync(tgz);
    expect(detectInstallSource(main)).toEqual({ kind: 'directory', dir: path.join(npx, 'node_modules/ampio-bridge'), clone: false });
  });

  it('npm install of a tarball records it in _resolved', () => {
    const tgz = path.join(dir, 'ampio-bridge-0.1.0.tgz');
    writeFileSync(tgz, 'x');
    const main = pkgAt(path.join(dir, 'lib/node_modules/ampio-bridge'), { _resolved: `file:${tgz}` });
    expect(detectInstallSource(main)).toEqual({ kind: 'tarball', path: tgz });
  });

  it('a clone (a .git directory) → npm pack of the running tree, said as such', () => {
    const clone = path.join(dir, 'ampio-bridge');
    const main = pkgAt(clone);
    mkdirSync(path.join(clone, '.git'));
    const s = detectInstallSource(main);
    expect(s).toEqual({ kind: 'directory', dir: clone, clone: true });
    expect(describeSource(s)).toBe(`from the clone at ${clone} (npm pack of the running tree)`);
    expect(packageDirOf(main)).toBe(clone);
  });
});
