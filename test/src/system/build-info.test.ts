import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatBuildInfo, readBuildInfo } from '../../../src/system/build-info.js';
import { findPackageRoot } from '../../../src/system/package-root.js';
import { requireHostTools } from '../../support/host-tools.js';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-build-'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'ampio-bridge', version: '9.8.7' }));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('readBuildInfo', () => {
  it('falls back to package.json with an unknown commit when the build did not record one', () => {
    expect(readBuildInfo(root)).toEqual({ version: '9.8.7', commit: null, date: null });
  });

  it('reads dist/build-info.json when present', () => {
    fs.mkdirSync(path.join(root, 'dist'));
    fs.writeFileSync(path.join(root, 'dist', 'build-info.json'), JSON.stringify({ version: '9.8.7', commit: 'abc1234', date: '2026-11-22T00:00:00.000Z' }));
    expect(readBuildInfo(root)).toEqual({ version: '9.8.7', commit: 'abc1234', date: '2026-11-22T00:00:00.000Z' });
  });

  it('ignores a corrupt build-info.json', () => {
    fs.mkdirSync(path.join(root, 'dist'));
    fs.writeFileSync(path.join(root, 'dist', 'build-info.json'), '{nope');
    expect(readBuildInfo(root).commit).toBeNull();
  });

  it('finds this package without arguments', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    expect(readBuildInfo().version).toBe(pkg.version);
  });

  it('formats for --version', () => {
    expect(formatBuildInfo({ version: '1.2.3', commit: null, date: null })).toBe('ampio-bridge 1.2.3 (commit unknown, built unknown)');
    expect(formatBuildInfo({ version: '1.2.3', commit: 'abc', date: 'D' })).toBe('ampio-bridge 1.2.3 (commit abc, built D)');
  });
});

describe('write-build-info.mjs (the build step)', () => {
  it('records version, the git commit and SOURCE_DATE_EPOCH as the date', () => {
    // Run a copy inside a throwaway git repo so the real dist/ is not touched.
    fs.mkdirSync(path.join(root, 'src', 'system'), { recursive: true });
    fs.copyFileSync(new URL('../../../src/system/write-build-info.mjs', import.meta.url), path.join(root, 'src', 'system', 'write-build-info.mjs'));
    requireHostTools('git');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
    git('init', '-q');
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'add', '.');
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'x');
    const head = git('rev-parse', '--short', 'HEAD');
    execFileSync(process.execPath, ['src/system/write-build-info.mjs'], { cwd: root, env: { ...process.env, SOURCE_DATE_EPOCH: '1790000000' } });
    expect(readBuildInfo(root)).toEqual({ version: '9.8.7', commit: head, date: new Date(1790000000 * 1000).toISOString() });

    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'ampio-bridge', version: '9.8.8' }));
    execFileSync(process.execPath, ['src/system/write-build-info.mjs'], { cwd: root });
    const dirty = readBuildInfo(root);
    expect(dirty.commit).toBe(`${head}-dirty`);
    expect(dirty.version).toBe('9.8.8');
  });
});

describe('findPackageRoot', () => {
  it('finds this package from a module URL or a directory below it, and nothing above the filesystem root', () => {
    const repo = path.resolve(import.meta.dirname, '../../..');
    expect(findPackageRoot(import.meta.url)).toBe(repo);
    expect(findPackageRoot(path.join(repo, 'src', 'system'))).toBe(repo);
    expect(findPackageRoot('/')).toBeNull();
  });
});
