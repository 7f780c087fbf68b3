// "Install from wherever setup runs", end to end without the npm registry: `npm pack` the
// built tree, unpack it the way `npx ./ampio-bridge-X.tgz` does (a _npx cache dir whose
// package.json names the tarball), run setup from there against an image root with a
// recording runner, and check it installs *that tarball* and says so. Needs `npm run build`.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectInstallSource } from '../../provisioning/install-source.js';
import { run as setupCommand } from '../../src/cli/commands/setup.js';
import { PATHS } from '../../provisioning/types.js';
import { captureCli } from '../support/cli-context.js';
import { FakeSystem } from '../support/fake-system.js';
import { NODE } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'ampio-tgz-'));
const cleanups: (() => void)[] = [() => rmSync(dir, { recursive: true, force: true })];
afterAll(() => {
  while (cleanups.length) cleanups.pop()?.();
});
const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;

/** `npm pack` of the built tree (no registry involved: --ignore-scripts, local files only). */
function pack(): string {
  if (!existsSync(path.join(repo, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run "npm run build" first (npm test does)');
  const out = path.join(dir, 'release');
  mkdirSync(out, { recursive: true });
  const r = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', out], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, npm_config_update_notifier: 'false' },
    timeout: 120_000,
  });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  return path.join(out, `ampio-bridge-${version}.tgz`);
}

/** What `npx ./ampio-bridge-X.tgz` leaves in its cache; dependencies come from this repo's node_modules. */
function npxCache(tgz: string): string {
  const cache = path.join(dir, 'home/.npm/_npx/0123abcd');
  const pkg = path.join(cache, 'node_modules/ampio-bridge');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(cache, 'package.json'), JSON.stringify({ dependencies: { 'ampio-bridge': `file:${tgz}` } }));
  execFileSync('tar', ['xzf', tgz, '-C', pkg, '--strip-components=1']);
  symlinkSync(path.join(repo, 'node_modules'), path.join(pkg, 'node_modules'));
  return path.join(pkg, 'dist/src/cli/main.js');
}

describe('setup installs the package it runs from', () => {
  it('run from a release tarball (npx ./ampio-bridge-X.tgz): setup --root copies that tarball into the image and installs it, and says so', async () => {
    const tgz = pack();
    const main = npxCache(tgz);
    expect(detectInstallSource(main)).toEqual({ kind: 'tarball', path: tgz });

    // The unpacked tarball runs: its own CLI answers, and finds its data files.
    const help = spawnSync(process.execPath, [main, 'setup', '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(help.status, help.stderr).toBe(0);
    // The web page's script and stylesheet ship in the package (the page works offline).
    for (const f of ['app.js', 'app.css']) expect(existsSync(path.join(path.dirname(main), '../../../src/web/static', f)), f).toBe(true);

    const t = tempRoot('trixie-image');
    cleanups.push(t.cleanup);
    const sys = new FakeSystem(t.root);
    const cli = captureCli({ isRoot: true });
    const code = await setupCommand(['--yes', '--root', t.root], cli.ctx, {
      nodePath: NODE,
      runningMain: main,
      version,
      runner: sys,
      now: () => new Date('2025-03-01T10:00:00Z'),
    });
    expect(cli.stderr()).toBe('');
    expect(code).toBe(0);
    const image = path.posix.join(PATHS.stateDir, `ampio-bridge-${version}.tgz`);
    expect(sys.lines).toContain(`cp -- ${tgz} ${path.posix.join(t.root, image)}`);
    // The very bytes of the release, inside the image.
    expect(readFileSync(path.join(t.root, image))).toEqual(readFileSync(tgz));
    const out = cli.stdout();
    expect(out).toContain(`Installs ampio-bridge ${version} from the release tarball ${tgz}`);
    // On the Pi: install from the copy in the image, never from a registry that may not have it.
    expect(out).toContain(`On the target, run:\n  npm install --global --no-fund --no-audit ${image}`);
    expect(out).not.toMatch(/ampio-bridge@\d/);
    // The unit runs the globally installed copy.
    expect(readFileSync(path.join(t.root, PATHS.unit), 'utf8')).toContain(
      `ExecStart=${NODE} /usr/local/lib/node_modules/ampio-bridge/dist/src/cli/main.js serve`,
    );
  }, 180_000);

  it('run from a clone in a home directory: plans `npm pack` of that tree, then installs the pack', async () => {
    const clone = path.join(dir, 'home/pi/ampio-bridge');
    mkdirSync(path.join(clone, '.git'), { recursive: true });
    mkdirSync(path.join(clone, 'dist/src/cli'), { recursive: true });
    writeFileSync(path.join(clone, 'package.json'), JSON.stringify({ name: 'ampio-bridge', version }));
    const main = path.join(clone, 'dist/src/cli/main.js');
    expect(detectInstallSource(main)).toEqual({ kind: 'directory', dir: clone, clone: true });
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const cli = captureCli({ isRoot: true });
    // /tmp/…/home/pi is ephemeral (under /tmp) exactly as /home/pi would be.
    const code = await setupCommand(['--yes', '--dry-run'], cli.ctx, {
      nodePath: NODE,
      runningMain: main,
      version,
      fs: (await import('../../provisioning/io/fs.js')).readOnlyFs(new (await import('../../provisioning/io/fs.js')).NodeFs(t.root)),
      probeRunner: new FakeSystem(t.root),
    });
    expect(code).toBe(0);
    const out = cli.stdout();
    expect(out).toContain(`Installs ampio-bridge ${version} from the clone at ${clone} (npm pack of the running tree)`);
    expect(out).toContain(`$ npm pack --ignore-scripts --pack-destination /var/lib/ampio-bridge ${clone}`);
    expect(out).toContain(`$ npm install --global --no-fund --no-audit /var/lib/ampio-bridge/ampio-bridge-${version}.tgz`);
    expect(readdirSync(t.root)).not.toContain('var');
  });
});
