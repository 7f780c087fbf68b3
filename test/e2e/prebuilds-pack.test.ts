// The SocketCAN addon as a Pi gets it: `npm pack` ships prebuilt binaries for linux-x64,
// linux-arm64 and linux-arm (cross-compiled by src/backends/socketcan/native/prebuild.sh,
// the prepack step), and node-gyp-build picks and loads the right one on each machine
// without a compiler. The arm64 and armhf ones run under qemu-user with Debian's own
// arm64/armhf `node` (nodejs + its libraries from the .debs, unpacked into a temp root).
// This host's kernel has no AF_CAN, so loading ends in the clear EAFNOSUPPORT error.
// Needs (.ci/run installs them): gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf,
// libuv1-dev, qemu-user, binutils, and the arm64/armhf dpkg architectures for apt-get download.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireHostTools } from '../support/host-tools.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'ampio-prebuilds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'ampio-bridge-debian-node');
const ADDON = 'ampio-can.glibc.napi.node';
/** Debian's node and the shared libraries it loads (bookworm: nodejs 18 on libnode108). */
const NODE_DEBS = ['nodejs', 'libnode108', 'libc6', 'libgcc-s1', 'libstdc++6', 'libuv1', 'libc-ares2', 'libnghttp2-14', 'libbrotli1', 'libicu72', 'libssl3', 'zlib1g'];
/** Architecture-independent JavaScript Debian's node loads as "externalized builtins". */
const NODE_JS_DEBS = ['node-cjs-module-lexer', 'node-acorn', 'node-undici', 'node-busboy', 'node-xtend'];

let pkg = '';
let list = '';

/** A root holding Debian's node for `arch`, from the .debs (cached between runs). */
function debianNodeRoot(arch: 'arm64' | 'armhf'): string {
  const root = path.join(CACHE, arch);
  if (existsSync(path.join(root, 'usr/bin/node'))) return root;
  // Unpacked beside the cache, not in tmpdir: a rename across filesystems (a tmpfs /tmp, as
  // on Debian 13) fails with EXDEV.
  mkdirSync(path.dirname(root), { recursive: true });
  const work = mkdtempSync(path.join(path.dirname(root), `.unpack-${arch}-`));
  try {
    const dl = spawnSync('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', ...NODE_DEBS.map((p) => `${p}:${arch}`), ...NODE_JS_DEBS], { cwd: work, encoding: 'utf8', timeout: 300_000 });
    if (dl.status !== 0) {
      throw new Error(`apt-get download of Debian's ${arch} node failed (is the ${arch} architecture added? dpkg --add-architecture ${arch} && apt-get update): ${dl.stderr}`);
    }
    const tmpRoot = path.join(work, 'root');
    for (const deb of readdirSync(work).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg-deb', ['-x', path.join(work, deb), tmpRoot]);
    renameSync(tmpRoot, root);
    return root;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs `script` (CommonJS) with node under qemu-user (or natively), printing one JSON line. */
function loadIn(qemu: string | null, root: string | null, script: string): Record<string, unknown> {
  const node = root ? path.join(root, 'usr/bin/node') : process.execPath;
  const cmd = qemu ? qemu : node;
  const args = qemu ? ['-L', root as string, node, '-e', script] : ['-e', script];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
}

const probeScript = (pkgDir: string) => `
const load = require(${JSON.stringify(path.join(pkgDir, 'node_modules/node-gyp-build'))});
const file = load.path(${JSON.stringify(pkgDir)});
const m = require(file);
const out = { arch: process.arch, node: process.version, file, probe: m.probe(), record: m.RECORD_SIZE };
try { new m.CanSocket('can0', { fd: true }, () => {}); out.opened = true; } catch (e) { out.code = e.code; out.message = e.message; }
console.log(JSON.stringify(out));`;

beforeAll(() => {
  requireHostTools('aarch64-linux-gnu-gcc', 'arm-linux-gnueabihf-gcc', 'qemu-aarch64', 'qemu-arm', 'readelf');
  // What prepack does after the TypeScript build (the tree is built already).
  const pre = spawnSync('bash', ['src/backends/socketcan/native/prebuild.sh'], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
  if (pre.status !== 0) throw new Error(`prebuild.sh failed: ${pre.stderr}`);
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: repo, encoding: 'utf8', timeout: 120_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz')) as string;
  list = execFileSync('tar', ['tzf', path.join(dir, tgz)], { encoding: 'utf8' });
  execFileSync('tar', ['xzf', path.join(dir, tgz), '-C', dir]);
  pkg = path.join(dir, 'package');
  // node-gyp-build is the one runtime dependency the loading needs (pure JavaScript).
  cpSync(path.join(repo, 'node_modules/node-gyp-build'), path.join(pkg, 'node_modules/node-gyp-build'), { recursive: true });
}, 300_000);

describe('prebuilt SocketCAN addon in the npm tarball', () => {
  it('ships all three prebuilds, the C source and binding.gyp (for a build where none fits), and prepack makes them', () => {
    for (const arch of ['x64', 'arm64', 'arm']) expect(list).toContain(`package/prebuilds/linux-${arch}/${ADDON}`);
    expect(list).toContain('package/binding.gyp');
    expect(list).toContain('package/src/backends/socketcan/native/ampio_can.c');
    expect(list).not.toMatch(/package\/build\//);
    const scripts = (JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json").scripts)'], { cwd: repo, encoding: 'utf8' })) as Record<string, string>);
    expect(scripts.prepack).toContain('src/backends/socketcan/native/prebuild.sh');
    expect(scripts.install).toBe('node-gyp-build');
  });

  it('the linux-arm one is ARMv6 hard-float code (Pi Zero / Pi 1), no Thumb-2', () => {
    const attrs = execFileSync('readelf', ['-A', path.join(pkg, 'prebuilds/linux-arm', ADDON)], { encoding: 'utf8' });
    expect(attrs).toMatch(/Tag_CPU_arch: v6\b/);
    expect(attrs).toMatch(/Tag_ABI_VFP_args: VFP registers/);
    expect(attrs).not.toMatch(/Thumb-2/);
  });

  it('x64: node-gyp-build picks the prebuild and it loads (no AF_CAN here: a clear EAFNOSUPPORT)', () => {
    const r = loadIn(null, null, probeScript(pkg));
    expect(r.file).toBe(path.join(pkg, 'prebuilds/linux-x64', ADDON));
    expect(r).toMatchObject({ probe: 97, record: 80, code: 'EAFNOSUPPORT' });
    expect(r.message).toMatch(/socket\(PF_CAN, SOCK_RAW, CAN_RAW\): Address family not supported/);
  });

  for (const [arch, qemu, nodeArch] of [
    ['arm64', 'qemu-aarch64', 'arm64'],
    ['armhf', 'qemu-arm', 'arm'],
  ] as const) {
    it(`${arch}: Debian's own ${arch} node under ${qemu} picks and loads its prebuild`, () => {
      const root = debianNodeRoot(arch);
      const r = loadIn(qemu, root, probeScript(pkg));
      expect(r.arch).toBe(nodeArch);
      expect(r.file).toBe(path.join(pkg, `prebuilds/linux-${nodeArch}`, ADDON));
      expect(r).toMatchObject({ probe: 97, record: 80, code: 'EAFNOSUPPORT' });
    }, 300_000);
  }
});
