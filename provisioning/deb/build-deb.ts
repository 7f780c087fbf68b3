// `npm run deb`: Debian packages of the built tree for amd64, arm64 and armhf, built with
// dpkg-deb (no debhelper: the package is plain files). What goes in:
//   /usr/lib/ampio-bridge/      the npm pack of this tree + its production node_modules
//   /usr/bin/ampio-bridge       → ../lib/ampio-bridge/dist/src/cli/main.js
//   /lib/systemd/system/ampio-bridge.service   (setup's tailored copy in /etc overrides it)
//   /etc/default/ampio-bridge   (a conffile, as go-ampio-server ships it)
// Native code: prebuilt binaries (prebuilds/linux-<arch>/, as serialport and our own
// binding ship them) are kept for the package's architecture only; a module compiled on
// this machine (build/Release/*.node) can only run here, so it goes into the package of
// this machine's architecture and is left out, by name, from the others.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { arch as hostArch, tmpdir } from 'node:os';
import * as path from 'node:path';
import { PROTOCOL_PLUGINS } from '../../src/config/options.js';
import { loadTemplates, packageDir } from '../package-files.js';
import { renderEnvFile } from '../steps/env-file.js';
import { renderUnit } from '../steps/service-unit.js';

export type DebArch = 'amd64' | 'arm64' | 'armhf';
export const DEB_ARCHES: DebArch[] = ['amd64', 'arm64', 'armhf'];
/** Debian architecture → Node's process.arch (and the prebuilds/linux-<arch> directory name). */
const NODE_ARCH: Record<DebArch, string> = { amd64: 'x64', arm64: 'arm64', armhf: 'arm' };

export const INSTALL_DIR = '/usr/lib/ampio-bridge';
/** Our SocketCAN addon as node-gyp-build looks for it in prebuilds/linux-<arch>/. */
const ADDON = 'ampio-can.glibc.napi.node';

/** Builds the addon's missing prebuilds with the repository's own script (cross gcc), best effort. */
function ensureAddonPrebuilds(repo: string, nodeArches: string[], log: (line: string) => void): void {
  const script = path.join(repo, 'src/backends/socketcan/native/prebuild.sh');
  const missing = nodeArches.filter((a) => !existsSync(path.join(repo, 'prebuilds', `linux-${a}`, ADDON)));
  if (missing.length === 0 || !existsSync(script)) return;
  const r = spawnSync('bash', [script, ...missing], { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) log(`prebuild.sh ${missing.join(' ')} failed (${(r.stderr || '').trim().split('\n').pop()}): the packages without it say so`);
}
const MAIN = `${INSTALL_DIR}/dist/src/cli/main.js`;

export interface BuiltDeb {
  arch: DebArch;
  file: string;
  /** Dependencies left out because their native code was compiled for another architecture. */
  omitted: string[];
}

function walk(dir: string, visit: (file: string) => void): void {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const st = statSync(full, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) walk(full, visit);
    else visit(full);
  }
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

/** Keeps prebuilds for this arch only; reports whether compiled-here native code remains. */
function fitNative(pkgDir: string, arch: DebArch, o: { ownPrebuildsOnly?: boolean } = {}): { foreignBuild: boolean } {
  const prebuilds = path.join(pkgDir, 'prebuilds');
  if (existsSync(prebuilds)) {
    for (const name of readdirSync(prebuilds)) if (name !== `linux-${NODE_ARCH[arch]}`) rmSync(path.join(prebuilds, name), { recursive: true, force: true });
  }
  if (o.ownPrebuildsOnly) return { foreignBuild: false };
  let compiled = false;
  walk(pkgDir, (f) => {
    if (f.endsWith('.node') && !f.includes(`${path.sep}prebuilds${path.sep}`)) compiled = true;
  });
  return { foreignBuild: compiled && NODE_ARCH[arch] !== hostArch() };
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
  try {
    // Our SocketCAN addon, prebuilt per architecture (prebuilds/linux-<arch>/) as `npm pack`
    // makes it: a missing one is built here with the cross compilers, else left out by name.
    ensureAddonPrebuilds(repo, (o.arches ?? DEB_ARCHES).map((a) => NODE_ARCH[a]), log);
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
      cpSync(dep, path.join(common, path.relative(repo, dep)), { recursive: true, filter: (src) => !path.relative(dep, src).split(path.sep).includes('node_modules') });
    }
    const built: BuiltDeb[] = [];
    for (const arch of o.arches ?? DEB_ARCHES) {
      const stage = path.join(work, arch);
      const lib = path.join(stage, INSTALL_DIR);
      mkdirSync(path.dirname(lib), { recursive: true });
      execFileSync('cp', ['-al', common, lib]);
      const omitted: string[] = [];
      // The package's own prebuilds: this architecture's only.
      fitNative(lib, arch, { ownPrebuildsOnly: true });
      if (!existsSync(path.join(lib, 'prebuilds', `linux-${NODE_ARCH[arch]}`, ADDON))) omitted.push(`ampio-bridge SocketCAN addon (prebuilds/linux-${NODE_ARCH[arch]}/${ADDON})`);
      for (const dep of deps) {
        const rel = path.relative(repo, dep);
        const dest = path.join(lib, rel);
        if (existsSync(dest) && fitNative(dest, arch).foreignBuild) {
          rmSync(dest, { recursive: true, force: true });
          omitted.push(rel.replace(/^node_modules\//, ''));
        }
      }
      chmodSync(path.join(stage, MAIN), 0o755);
      mkdirSync(path.join(stage, 'usr/bin'), { recursive: true });
      symlinkSync(`../lib/ampio-bridge/dist/src/cli/main.js`, path.join(stage, 'usr/bin/ampio-bridge'));
      mkdirSync(path.join(stage, 'lib/systemd/system'), { recursive: true });
      writeFileSync(path.join(stage, 'lib/systemd/system/ampio-bridge.service'), renderUnit(templates, { version: pkg.version, nodePath: '/usr/bin/node', mainJs: MAIN, backend: 'socketcan' }));
      mkdirSync(path.join(stage, 'etc/default'), { recursive: true });
      writeFileSync(path.join(stage, 'etc/default/ampio-bridge'), renderEnvFile(templates, { version: pkg.version }));
      const doc = path.join(stage, 'usr/share/doc/ampio-bridge');
      mkdirSync(doc, { recursive: true });
      writeFileSync(
        path.join(doc, 'NATIVE-MODULES.txt'),
        omitted.length
          ? `Left out of this ${arch} package (native code compiled for ${hostArch()} only, no prebuilt ${arch} binary):\n${omitted.map((m) => `  ${m}\n`).join('')}`
          : `Every native module in this ${arch} package is a prebuilt ${arch} binary.\n`,
      );
      const debian = path.join(stage, 'DEBIAN');
      mkdirSync(debian);
      writeFileSync(path.join(debian, 'control'), control({ version: pkg.version, arch, sizeKiB: duKiB(stage) }));
      writeFileSync(path.join(debian, 'conffiles'), '/etc/default/ampio-bridge\n');
      writeFileSync(path.join(debian, 'postinst'), POSTINST, { mode: 0o755 });
      writeFileSync(path.join(debian, 'postrm'), POSTRM, { mode: 0o755 });
      const file = path.join(o.outDir, `ampio-bridge_${pkg.version}_${arch}.deb`);
      execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', stage, file], { stdio: ['ignore', 'ignore', 'pipe'] });
      log(`${file}${omitted.length ? ` (left out, no ${arch} binary: ${omitted.join(', ')})` : ''}`);
      built.push({ arch, file, omitted });
    }
    return built;
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
  buildDebs({ outDir, arches, log: (l) => process.stdout.write(`${l}\n`) });
}
