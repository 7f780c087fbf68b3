// The SocketCAN addon as a Pi gets it: `npm pack` ships prebuilt binaries for linux-x64,
// linux-arm64 and linux-arm (cross-compiled by src/backends/socketcan/native/prebuild.sh,
// the prepack step), and node-gyp-build picks and loads the right one on each machine
// without a compiler. The arm64 and armhf ones run under qemu-user with Debian's own
// arm64/armhf `node` (nodejs + its libraries from the .debs, unpacked into a temp root).
// This host's kernel has no AF_CAN, so loading ends in the clear EAFNOSUPPORT error.
// Needs (.ci/run installs them): gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf,
// libuv1-dev, qemu-user, binutils, and the arm64/armhf dpkg architectures for apt-get download.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianNodeRoot, loadIn } from '../support/debian-node.js';
import { requireHostTools } from '../support/host-tools.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'ampio-prebuilds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ADDON = 'ampio-can.glibc.napi.node';

let pkg = '';
let list = '';

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
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
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
    const scripts = JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json").scripts)'], { cwd: repo, encoding: 'utf8' })) as Record<
      string,
      string
    >;
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
