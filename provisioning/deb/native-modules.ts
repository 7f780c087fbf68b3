// Native code in the Debian packages: every architecture gets every native module, or the
// build stops naming what is missing. Three kinds:
//   - our SocketCAN addon: prebuilds/linux-<arch>/ (Node-API, cross-compiled by prebuild.sh);
//   - prebuilt dependencies (serialport): their prebuilds/ trimmed to the package's arch;
//   - dependencies compiled by npm ci (better-sqlite3: C++ against V8, not Node-API): the
//     build machine's binary for its own architecture, a cross-compiled one for the others
//     (cross-better-sqlite3.sh, against this machine's Node 20 headers), and nothing of the
//     build tree (sources, objects, the test extension) in any package.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { arch as hostArch } from 'node:os';
import * as path from 'node:path';

export type DebArch = 'amd64' | 'arm64' | 'armhf';
export const DEB_ARCHES: DebArch[] = ['amd64', 'arm64', 'armhf'];
/** Debian architecture → Node's process.arch (and the prebuilds/linux-<arch> directory name). */
export const NODE_ARCH: Record<DebArch, string> = { amd64: 'x64', arm64: 'arm64', armhf: 'arm' };
/** Our SocketCAN addon as node-gyp-build looks for it in prebuilds/linux-<arch>/. */
export const ADDON = 'ampio-can.glibc.napi.node';

/**
 * Dependencies npm ci compiles on this machine, and what of each a package needs at run time.
 * A compiled dependency missing here stops the build: no package ships a binary for the
 * wrong architecture, and none silently goes without one.
 */
export const COMPILED_DEPS: Record<string, { binary: string; keep: string[]; cross: string }> = {
  // lib/ loads build/Release/better_sqlite3.node through `bindings` (one of the paths it tries).
  'better-sqlite3': {
    binary: 'build/Release/better_sqlite3.node',
    keep: ['package.json', 'lib', 'LICENSE', 'README.md'],
    cross: 'provisioning/deb/cross-better-sqlite3.sh',
  },
};

export function walk(dir: string, visit: (file: string) => void): void {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const st = statSync(full, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) walk(full, visit);
    else visit(full);
  }
}

/** Builds the addon's missing prebuilds with the repository's own script (cross gcc); throws with its reason. */
export function ensureAddonPrebuilds(repo: string, nodeArches: string[]): void {
  const script = path.join(repo, 'src/backends/socketcan/native/prebuild.sh');
  const missing = nodeArches.filter((a) => !existsSync(path.join(repo, 'prebuilds', `linux-${a}`, ADDON)));
  if (missing.length === 0) return;
  const r = spawnSync('bash', [script, ...missing], { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`the SocketCAN addon for ${missing.map((a) => `linux-${a}`).join(', ')} could not be built: ${(r.stderr || String(r.error ?? '')).trim()}`);
}

/** Cross-compiles (or takes from the cache) a compiled dependency's binary; throws naming what is missing. */
function crossBuild(repo: string, dep: string, arch: DebArch, work: string): string {
  const out = path.join(work, `${dep}-${arch}.node`);
  if (existsSync(out)) return out;
  const r = spawnSync('bash', [path.join(repo, COMPILED_DEPS[dep].cross), NODE_ARCH[arch], out], { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${dep} for ${arch} could not be cross-compiled: ${(r.stderr || String(r.error ?? '')).trim().split('\n').pop()}`);
  return out;
}

/** Keeps prebuilds/linux-<arch> only (serialport's, and our own at the package root). */
export function keepOwnPrebuilds(pkgDir: string, arch: DebArch): void {
  const prebuilds = path.join(pkgDir, 'prebuilds');
  if (!existsSync(prebuilds)) return;
  for (const name of readdirSync(prebuilds)) if (name !== `linux-${NODE_ARCH[arch]}`) rmSync(path.join(prebuilds, name), { recursive: true, force: true });
}

/** Native code compiled outside prebuilds/ (build/Release/*.node and the like). */
function compiledBinaries(pkgDir: string): string[] {
  const found: string[] = [];
  walk(pkgDir, (f) => {
    if (f.endsWith('.node') && !path.relative(pkgDir, f).split(path.sep).includes('prebuilds')) found.push(f);
  });
  return found;
}

/**
 * A staged dependency made right for `arch`: prebuilds trimmed, a compiled module reduced to
 * its run-time files with this architecture's binary. `work` holds the cross builds (one per
 * dependency and architecture).
 */
export function fitDependency(o: { repo: string; rel: string; dest: string; arch: DebArch; work: string }): void {
  keepOwnPrebuilds(o.dest, o.arch);
  if (compiledBinaries(o.dest).length === 0) return;
  const name = (JSON.parse(readFileSync(path.join(o.dest, 'package.json'), 'utf8')) as { name: string }).name;
  const spec = COMPILED_DEPS[name];
  if (!spec)
    throw new Error(
      `${o.rel} holds native code compiled on this machine and build-deb knows no way to build it for ${o.arch}: add it to COMPILED_DEPS in provisioning/deb/native-modules.ts`,
    );
  const binary = NODE_ARCH[o.arch] === hostArch() ? path.join(o.repo, o.rel, spec.binary) : crossBuild(o.repo, name, o.arch, o.work);
  if (!existsSync(binary)) throw new Error(`${path.join(o.rel, spec.binary)} is missing: run npm ci (it compiles ${name})`);
  // The staged copy is hard-linked with the other architectures': remove, never write through.
  for (const entry of readdirSync(o.dest)) if (!spec.keep.includes(entry)) rmSync(path.join(o.dest, entry), { recursive: true, force: true });
  mkdirSync(path.dirname(path.join(o.dest, spec.binary)), { recursive: true });
  copyFileSync(binary, path.join(o.dest, spec.binary));
}

/** Files no running program reads: TypeScript declarations and source maps. */
const DEV_FILE = /\.(d\.[cm]?ts|map)$/;

/**
 * What a dependency ships for its developers: its root-level test folders (unless its
 * package.json's entry points lead into one), type declarations, source maps. About three
 * quarters of the installed bytes of node_modules.
 */
export function dropDevFiles(dest: string): void {
  let entries = '';
  try {
    const m = JSON.parse(readFileSync(path.join(dest, 'package.json'), 'utf8')) as Record<string, unknown>;
    entries = JSON.stringify([m.main, m.module, m.exports, m.bin, m.browser, m.imports]);
  } catch {
    return;
  }
  for (const name of ['test', 'tests', '__tests__']) {
    if (new RegExp(`"(\\./)?${name}/`).test(entries)) continue;
    const dir = path.join(dest, name);
    if (existsSync(dir) && statSync(dir).isDirectory()) rmSync(dir, { recursive: true, force: true });
  }
  walk(dest, (f) => {
    // Nested packages are fitted on their own (npm ls lists them).
    if (DEV_FILE.test(f) && !path.relative(dest, f).split(path.sep).includes('node_modules')) rmSync(f, { force: true });
  });
}
