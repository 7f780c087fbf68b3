// `npm run deb`: Debian packages of the built tree for amd64, arm64 and armhf, built with
// dpkg-deb (no debhelper: the package is plain files). What goes in:
//   /usr/lib/ampio-bridge/      the npm pack of this tree + its production node_modules
//   /usr/bin/ampio-bridge       → ../lib/ampio-bridge/dist/src/cli/main.js
//   /lib/systemd/system/ampio-bridge.service   (setup's tailored copy in /etc overrides it)
//   /etc/default/ampio-bridge   (a conffile, as go-ampio-server ships it)
// Native code (native-modules.ts): every package holds every native module built for its
// architecture, or the build fails naming what is missing and leaves no .deb behind.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PROTOCOL_PLUGINS } from '../../src/config/options.js';
import { loadTemplates, packageDir } from '../package-files.js';
import { ADDON, DEB_ARCHES, type DebArch, dropDevFiles, ensureAddonPrebuilds, fitDependency, keepOwnPrebuilds, NODE_ARCH, walk } from './native-modules.js';
import { renderEnvFile } from '../steps/env-file.js';
import { renderUnit } from '../steps/service-unit.js';

export { DEB_ARCHES, type DebArch } from './native-modules.js';

export const INSTALL_DIR = '/usr/lib/ampio-bridge';
const MAIN = `${INSTALL_DIR}/dist/src/cli/main.js`;

export interface BuiltDeb {
  arch: DebArch;
  file: string;
  /** Installed-Size, KiB (what dpkg-deb --field reports). */
  sizeKiB: number;
}

function duKiB(dir: string): number {
  let bytes = 0;
  walk(dir, (f) => (bytes += statSync(f).size));
  return Math.ceil(bytes / 1024);
}

/** Production dependencies as package directories (npm's own view: no dev, with optional). */
function productionPackages(repo: string): string[] {
  const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  // npm ls exits 1 on "extraneous"/"missing" notes while still listing what is there.
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(path.join(repo, 'node_modules') + path.sep));
}

function control(o: { version: string; arch: DebArch; sizeKiB: number }): string {
  return [
    'Package: ampio-bridge',
    `Version: ${o.version}`,
    `Architecture: ${o.arch}`,
    'Maintainer: ampio-bridge developers <ampio-bridge@users.noreply.github.com>',
    `Installed-Size: ${o.sizeKiB}`,
    // Node 20: the code targets it (Debian 13 has it; on Debian 12 / Pi OS Bookworm use NodeSource).
    'Depends: nodejs (>= 20), passwd',
    'Recommends: iproute2',
    'Section: net',
    'Priority: optional',
    `Description: Ampio CAN bus to network bridge (${PROTOCOL_PLUGINS.map((p) => p.name).join(', ')})`,
    ' One daemon for the Raspberry Pi that puts an Ampio home-automation CAN bus on',
    ' the network. Run "sudo ampio-bridge setup" after installing to configure the',
    ' CAN HAT (or USB adapter) and start the service.',
    '',
  ].join('\n');
}

const POSTINST = `#!/bin/sh
set -e
# Installing into an image without chroot (dpkg --root … --force-script-chrootless):
# nothing live to do; \`ampio-bridge setup --root\` creates the user there.
if [ -n "\${DPKG_ROOT:-}" ]; then exit 0; fi
if [ "$1" = configure ]; then
  if ! getent passwd ampio-bridge >/dev/null; then
    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin --comment 'ampio-bridge daemon' ampio-bridge
  fi
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
  echo "ampio-bridge: next, run 'sudo ampio-bridge setup' (CAN HAT or USB adapter, then the service)"
fi
`;

const POSTRM = `#!/bin/sh
set -e
if [ -n "\${DPKG_ROOT:-}" ]; then exit 0; fi
# The ampio-bridge user stays (Debian keeps system users: files may still belong to it).
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
`;

export function buildDebs(o: { outDir: string; arches?: DebArch[]; repo?: string; log?: (line: string) => void }): BuiltDeb[] {
  const repo = o.repo ?? packageDir();
  const log = o.log ?? (() => {});
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
  if (!existsSync(path.join(repo, 'dist/src/cli/main.js'))) throw new Error(`${repo}/dist is missing: run "npm run build" first ("npm run deb" does)`);
  const work = mkdtempSync(path.join(tmpdir(), 'ampio-deb-'));
  mkdirSync(o.outDir, { recursive: true });
  const built: BuiltDeb[] = [];
  try {
    // Our SocketCAN addon, prebuilt per architecture (prebuilds/linux-<arch>/) as `npm pack`
    // makes it: a missing one is built here with the cross compilers, or the build stops.
    ensureAddonPrebuilds(
      repo,
      (o.arches ?? DEB_ARCHES).map((a) => NODE_ARCH[a]),
    );
    // Exactly what `npm pack` ships (package.json "files"), already built: no scripts.
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
    const tgz = path.join(work, `ampio-bridge-${pkg.version}.tgz`);
    const deps = productionPackages(repo);
    const templates = loadTemplates(path.join(repo, 'provisioning/templates'));
    // The tree every architecture shares, staged once; each package then gets a hard-linked
    // copy (cp -al), so pruning one architecture's binaries never touches another's.
    const common = path.join(work, 'common');
    mkdirSync(common);
    execFileSync('tar', ['xzf', tgz, '-C', common, '--strip-components=1', '--no-same-owner']);
    for (const dep of deps) {
      // Nested node_modules are listed by npm ls on their own (and may hold dev packages).
      cpSync(dep, path.join(common, path.relative(repo, dep)), {
        recursive: true,
        filter: (src) => !path.relative(dep, src).split(path.sep).includes('node_modules'),
      });
    }
    for (const arch of o.arches ?? DEB_ARCHES) {
      const stage = path.join(work, arch);
      const lib = path.join(stage, INSTALL_DIR);
      mkdirSync(path.dirname(lib), { recursive: true });
      execFileSync('cp', ['-al', common, lib]);
      // The package's own prebuilds: this architecture's only.
      keepOwnPrebuilds(lib, arch);
      if (!existsSync(path.join(lib, 'prebuilds', `linux-${NODE_ARCH[arch]}`, ADDON)))
        throw new Error(`prebuilds/linux-${NODE_ARCH[arch]}/${ADDON} is missing after prebuild.sh`);
      for (const dep of deps) {
        const rel = path.relative(repo, dep);
        const dest = path.join(lib, rel);
        if (!existsSync(dest)) continue;
        fitDependency({ repo, rel, dest, arch, work });
        dropDevFiles(dest);
      }
      chmodSync(path.join(stage, MAIN), 0o755);
      mkdirSync(path.join(stage, 'usr/bin'), { recursive: true });
      symlinkSync(`../lib/ampio-bridge/dist/src/cli/main.js`, path.join(stage, 'usr/bin/ampio-bridge'));
      mkdirSync(path.join(stage, 'lib/systemd/system'), { recursive: true });
      writeFileSync(
        path.join(stage, 'lib/systemd/system/ampio-bridge.service'),
        renderUnit(templates, { version: pkg.version, nodePath: '/usr/bin/node', mainJs: MAIN, backend: 'socketcan' }),
      );
      mkdirSync(path.join(stage, 'etc/default'), { recursive: true });
      writeFileSync(path.join(stage, 'etc/default/ampio-bridge'), renderEnvFile(templates, { version: pkg.version }));
      const doc = path.join(stage, 'usr/share/doc/ampio-bridge');
      mkdirSync(doc, { recursive: true });
      writeFileSync(
        path.join(doc, 'NATIVE-MODULES.txt'),
        `Native code in this ${arch} package, all built for linux-${NODE_ARCH[arch]}:\n` +
          `  prebuilds/linux-${NODE_ARCH[arch]}/${ADDON}  the SocketCAN addon (Node-API)\n` +
          `  node_modules/better-sqlite3/build/Release/better_sqlite3.node  capture's SQLite (for Node 20, NODE_MODULE_VERSION 115)\n` +
          `  node_modules/@serialport/bindings-cpp/prebuilds/linux-${NODE_ARCH[arch]}/  serialport's prebuilt binary (Node-API)\n`,
      );
      const debian = path.join(stage, 'DEBIAN');
      mkdirSync(debian);
      const sizeKiB = duKiB(stage);
      writeFileSync(path.join(debian, 'control'), control({ version: pkg.version, arch, sizeKiB }));
      writeFileSync(path.join(debian, 'conffiles'), '/etc/default/ampio-bridge\n');
      writeFileSync(path.join(debian, 'postinst'), POSTINST, { mode: 0o755 });
      writeFileSync(path.join(debian, 'postrm'), POSTRM, { mode: 0o755 });
      const file = path.join(o.outDir, `ampio-bridge_${pkg.version}_${arch}.deb`);
      execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', stage, file], { stdio: ['ignore', 'ignore', 'pipe'] });
      log(`${file} (${Math.round(statSync(file).size / 1024)} KiB, installed ${sizeKiB} KiB)`);
      built.push({ arch, file, sizeKiB });
    }
    return built;
  } catch (e) {
    // Complete packages or none: an earlier architecture's .deb does not stay behind.
    for (const b of built) rmSync(b.file, { force: true });
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// `node dist/provisioning/deb/build-deb.js [--out DIR] [--arch amd64,arm64]`
if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  const args = process.argv.slice(2);
  const at = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const arches = (at('--arch')?.split(',') ?? DEB_ARCHES) as DebArch[];
  for (const a of arches) if (!DEB_ARCHES.includes(a)) throw new Error(`--arch ${a}: one of ${DEB_ARCHES.join(', ')}`);
  const outDir = path.resolve(at('--out') ?? path.join(packageDir(), 'dist/deb'));
  try {
    buildDebs({ outDir, arches, log: (l) => process.stdout.write(`${l}\n`) });
  } catch (e) {
    process.stderr.write(`npm run deb: ${(e as Error).message}\nNo package was written. .ci/run names and installs every Debian package the build needs.\n`);
    process.exitCode = 1;
  }
}
