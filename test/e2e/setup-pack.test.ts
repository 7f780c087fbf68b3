// The published package, not the repo: `npm pack` the built tree, install the tarball into
// a temp prefix, and run its `ampio-bridge setup --dry-run --yes --root …` against a fixture
// Pi. Proves the tarball ships dist/, overlays/ and provisioning/templates/ and finds them
// from wherever it is installed. Needs `npm run build` first (npm test does). Never reaches
// the npm registry: the tarball is unpacked the way npm lays out a package, and its runtime
// dependencies are linked from this checkout's node_modules (node follows the links to their
// real paths, so their own dependencies resolve there too).

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'ampio-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function npm(args: string[], cwd: string): { status: number | null; out: string } {
  // --offline: packing a local tree needs nothing from the registry; make sure it never asks.
  const r = spawnSync('npm', [...args, '--offline'], { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' }, timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('npm pack tarball', () => {
  it('installs into a temp prefix and runs setup --dry-run --yes --root from there', () => {
    if (!existsSync(path.join(repo, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run "npm run build" first (npm test does)');
    // --ignore-scripts: prepack would rebuild; the tree is already built.
    const pack = npm(['pack', '--ignore-scripts', '--pack-destination', dir], repo);
    expect(pack.status, pack.out).toBe(0);
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tgz).toBeDefined();
    const list = execFileSync('tar', ['tzf', path.join(dir, tgz as string)], { encoding: 'utf8' });
    for (const f of [
      'package/dist/provisioning/index.js',
      'package/overlays/catalog.json',
      'package/overlays/waveshare-2ch-can-hat.txt',
      'package/provisioning/templates/ampio-bridge.service',
    ])
      expect(list).toContain(f);
    expect(list).not.toMatch(/package\/test\//);

    // Lay it out as `npm install <tarball>` would: <prefix>/node_modules/ampio-bridge.
    const modules = path.join(dir, 'prefix', 'node_modules');
    mkdirSync(modules, { recursive: true });
    execFileSync('tar', ['xzf', path.join(dir, tgz as string), '-C', modules]);
    renameSync(path.join(modules, 'package'), path.join(modules, 'ampio-bridge'));
    const manifest = JSON.parse(readFileSync(path.join(modules, 'ampio-bridge', 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      dependencies: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies)) {
      mkdirSync(path.dirname(path.join(modules, dep)), { recursive: true });
      symlinkSync(path.join(repo, 'node_modules', dep), path.join(modules, dep), 'dir');
    }
    // The command npm would link as `ampio-bridge` is in the tarball.
    expect(existsSync(path.join(modules, 'ampio-bridge', manifest.bin['ampio-bridge']))).toBe(true);

    const root = path.join(dir, 'pi');
    cpSync(path.join(repo, 'test/fixtures/systems/go-manual'), root, { recursive: true, verbatimSymlinks: true });
    const main = path.join(modules, 'ampio-bridge', manifest.bin['ampio-bridge']);
    const r = spawnSync(process.execPath, [main, 'setup', '--dry-run', '--yes', '--root', root], { encoding: 'utf8', cwd: dir, timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Waveshare 2-CH CAN HAT overlays under [all]');
    expect(r.stdout).toContain('+Type=notify');
    expect(r.stdout).toContain('Dry run: nothing was changed.');
    // Nothing in the fixture root changed.
    expect(existsSync(path.join(root, 'etc/ampio-bridge'))).toBe(false);
    expect(existsSync(path.join(root, 'var/lib/ampio-bridge'))).toBe(false);
  }, 180_000);
});
