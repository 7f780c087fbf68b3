// The Debian packages (`npm run deb`): built for amd64, arm64 and armhf with dpkg-deb,
// inspected with `dpkg-deb --contents/--field`, and the amd64 one installed with
// `dpkg --root` into a fixture image, where `ampio-bridge setup` then uses it in place and
// `doctor --root` passes. No registry: dependencies come from this repo's node_modules.
// Native modules: every package has better-sqlite3 for its architecture (arm64/armhf
// cross-compiled against this machine's Node 20 headers). Debian 12's arm node is 18, so
// under qemu-user the package's module must load far enough for Node 18 to refuse it by its
// version (115), and the same recipe built against Node 18's headers must run real SQL.
// Needs `npm run build` first (npm test does), dpkg, binutils, qemu-user and the cross
// g++ (.ci/run installs them).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDebs, type BuiltDeb } from '../../provisioning/deb/build-deb.js';
import { run as setupCommand } from '../../src/cli/commands/setup.js';
import { PATHS } from '../../provisioning/types.js';
import { run as doctor } from '../../src/cli/commands/doctor.js';
import { captureCli } from '../support/cli-context.js';
import { debianNodeRoot, loadIn } from '../support/debian-node.js';
import { requireHostTools } from '../support/host-tools.js';
import { FakeSystem } from '../support/fake-system.js';
import { tempRoot } from '../support/temp-root.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const out = mkdtempSync(path.join(tmpdir(), 'ampio-debs-'));
const cleanups: (() => void)[] = [() => rmSync(out, { recursive: true, force: true })];
afterAll(() => {
  while (cleanups.length) cleanups.pop()?.();
});
const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const contents = (deb: string): string => execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const unpacked = new Map<string, string>();
/** The package's files, unpacked once (dpkg-deb -x) into the test's temp dir. */
const unpack = (d: BuiltDeb): string => {
  let root = unpacked.get(d.file);
  if (!root) {
    root = path.join(out, `unpacked-${d.arch}`);
    execFileSync('dpkg-deb', ['-x', d.file, root]);
    unpacked.set(d.file, root);
  }
  return root;
};
const field = (deb: string, name: string): string => execFileSync('dpkg-deb', ['--field', deb, name], { encoding: 'utf8' }).trim();

describe('npm run deb', () => {
  let debs: BuiltDeb[] = [];
  let sizes: string[] = [];

  it('builds one .deb per architecture with the unit, /etc/default, the CLI and its dependencies', () => {
    if (!existsSync(path.join(repo, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run "npm run build" first (npm test does)');
    requireHostTools('dpkg-deb', 'readelf', 'aarch64-linux-gnu-gcc', 'arm-linux-gnueabihf-gcc', 'aarch64-linux-gnu-g++', 'arm-linux-gnueabihf-g++');
    debs = buildDebs({ outDir: out, repo });
    sizes = debs.map((d) => `${d.arch} ${Math.round(statSync(d.file).size / 1024)} KiB (installed ${d.sizeKiB} KiB)`);
    expect(debs.map((d) => path.basename(d.file))).toEqual([
      `ampio-bridge_${version}_amd64.deb`,
      `ampio-bridge_${version}_arm64.deb`,
      `ampio-bridge_${version}_armhf.deb`,
    ]);
    const nodeArch = { amd64: 'x64', arm64: 'arm64', armhf: 'arm' } as const;
    for (const d of debs) {
      expect(field(d.file, 'Architecture')).toBe(d.arch);
      expect(field(d.file, 'Version')).toBe(version);
      expect(field(d.file, 'Depends')).toMatch(/nodejs \(>= 20\)/);
      const list = contents(d.file);
      for (const f of [
        './lib/systemd/system/ampio-bridge.service',
        './etc/default/ampio-bridge',
        './usr/lib/ampio-bridge/dist/src/cli/main.js',
        './usr/lib/ampio-bridge/overlays/catalog.json',
        './usr/lib/ampio-bridge/provisioning/templates/ampio-bridge.service',
        './usr/lib/ampio-bridge/README.md',
        './usr/lib/ampio-bridge/node_modules/serialport/package.json',
      ]) {
        expect(list, `${d.arch}: ${f}`).toContain(f);
      }
      expect(list).toMatch(/\.\/usr\/bin\/ampio-bridge -> \.\.\/lib\/ampio-bridge\/dist\/src\/cli\/main\.js/);
      expect(list).toMatch(/-rwxr-xr-x root\/root .* \.\/usr\/lib\/ampio-bridge\/dist\/src\/cli\/main\.js/);
      // serialport's prebuilt binaries: this architecture's only.
      expect(list).toContain(`@serialport/bindings-cpp/prebuilds/linux-${nodeArch[d.arch]}/`);
      for (const other of Object.values(nodeArch).filter((a) => a !== nodeArch[d.arch]))
        expect(list).not.toContain(`@serialport/bindings-cpp/prebuilds/linux-${other}/`);
      expect(list).not.toMatch(/prebuilds\/(win32|darwin|android)/);
      // Our own SocketCAN addon: prebuilt for this architecture (cross-compiled), no other.
      expect(list, d.arch).toContain(`./usr/lib/ampio-bridge/prebuilds/linux-${nodeArch[d.arch]}/ampio-can.glibc.napi.node`);
      for (const other of Object.values(nodeArch).filter((a) => a !== nodeArch[d.arch])) expect(list).not.toContain(`ampio-bridge/prebuilds/linux-${other}/`);
      // better-sqlite3 (capture): its binary for this architecture and nothing of its build tree.
      expect(list, d.arch).toContain('./usr/lib/ampio-bridge/node_modules/better-sqlite3/build/Release/better_sqlite3.node');
      expect(list, d.arch).toContain('./usr/lib/ampio-bridge/node_modules/better-sqlite3/lib/index.js');
      const files = list
        .split('\n')
        .filter((l) => l.startsWith('-'))
        .map((l) => l.slice(l.indexOf('./')));
      const sqliteFiles = files.filter((f) => f.includes('/node_modules/better-sqlite3/'));
      expect(
        sqliteFiles.filter((f) => !/better-sqlite3\/(package\.json|LICENSE|README\.md|lib\/[\w/-]+\.js|build\/Release\/better_sqlite3\.node)$/.test(f)),
        d.arch,
      ).toEqual([]);
      // No compiler output or vendored C anywhere (objects, archives, SQLite's amalgamation).
      expect(
        files.filter((f) => /\.(o|a)$|sqlite3\.c$|test_extension/.test(f)),
        d.arch,
      ).toEqual([]);
      expect(list, d.arch).not.toMatch(/\.\/usr\/lib\/ampio-bridge\/node_modules\/(@[^/]+\/)?[^/]+\/(test|tests|__tests__)\//);
      // No dev dependencies, no tests.
      expect(list).not.toMatch(/node_modules\/(vitest|typescript|fast-check)\//);
      expect(list).not.toMatch(/ampio-bridge\/test\//);
    }
    const info = execFileSync('dpkg-deb', ['--info', debs[0].file], { encoding: 'utf8' });
    expect(info).toMatch(/conffiles/);
    expect(execFileSync('dpkg-deb', ['--ctrl-tarfile', debs[0].file]).length).toBeGreaterThan(0);
  }, 600_000);

  it('installs with dpkg --root into an image; setup there uses it in place and doctor --root passes', async () => {
    const amd64 = debs.find((d) => d.arch === 'amd64');
    if (!amd64) throw new Error('the build test did not produce the amd64 package');
    const t = tempRoot('trixie-image');
    cleanups.push(t.cleanup);
    const root = t.root;
    for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates']) mkdirSync(path.join(root, d), { recursive: true });
    writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
    // Chrootless: the image has no shell to chroot into; the postinst sees DPKG_ROOT and defers to setup.
    const r = spawnSync('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--force-not-root', '--log=/dev/null', '-i', amd64.file], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(readlinkSync(path.join(root, 'usr/bin/ampio-bridge'))).toBe('../lib/ampio-bridge/dist/src/cli/main.js');
    expect(readFileSync(path.join(root, 'lib/systemd/system/ampio-bridge.service'), 'utf8')).toContain('Documentation=file:///usr/lib/ampio-bridge/README.md');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format, not a template
    const statusFormat = '${Status} ${Version}';
    expect(execFileSync('dpkg-query', [`--admindir=${path.join(root, 'var/lib/dpkg')}`, '-W', '-f', statusFormat, 'ampio-bridge'], { encoding: 'utf8' })).toBe(
      `install ok installed ${version}`,
    );
    // The installed CLI runs from where the package put it.
    const v = spawnSync(process.execPath, [path.join(root, 'usr/lib/ampio-bridge/dist/src/cli/main.js'), 'version'], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain(version);
    // The SocketCAN addon loads from the package's own prebuild, as the daemon loads it.
    const lib = path.join(root, 'usr/lib/ampio-bridge');
    const addon = spawnSync(
      process.execPath,
      ['-e', `const b = require(${JSON.stringify(path.join(lib, 'node_modules/node-gyp-build'))})(${JSON.stringify(lib)}); console.log(typeof b)`],
      { encoding: 'utf8' },
    );
    expect(addon.stderr).toBe('');
    expect(addon.stdout.trim()).toBe('object');
    // Capture's SQLite loads from the pruned package (its binary and lib/ only) and answers.
    const sqlite = spawnSync(
      process.execPath,
      [
        '-e',
        `const D = require(${JSON.stringify(path.join(lib, 'node_modules/better-sqlite3'))}); console.log(new D(':memory:').prepare("SELECT 40 + 2 AS x").get().x)`,
      ],
      { encoding: 'utf8' },
    );
    expect(sqlite.stderr).toBe('');
    expect(sqlite.stdout.trim()).toBe('42');

    // `ampio-bridge setup` as it runs on the Pi after `apt install ./ampio-bridge_*.deb`.
    const main = '/usr/lib/ampio-bridge/dist/src/cli/main.js';
    const cli = captureCli({ isRoot: true });
    expect(
      await setupCommand(['--yes', '--root', root], cli.ctx, {
        nodePath: '/usr/bin/node',
        runningMain: main,
        version,
        runner: new FakeSystem(root),
        now: () => new Date('2025-03-01T10:00:00Z'),
      }),
    ).toBe(0);
    expect(cli.stdout()).not.toMatch(/npm (install|pack)/);
    expect(readFileSync(path.join(root, PATHS.unit), 'utf8')).toContain(`ExecStart=/usr/bin/node ${main} serve --config /etc/ampio-bridge/config.json`);
    // With node in the image (nodejs is the package's dependency), every offline check passes.
    mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    writeFileSync(path.join(root, 'usr/bin/node'), '');
    const d = captureCli();
    expect(await doctor(['--root', root], d.ctx)).toBe(0);
    expect(d.stdout()).toMatch(/✓ service unit \/etc\/systemd\/system\/ampio-bridge.service: enabled/);
  }, 300_000);

  it('each package is small: no build leftovers (sizes as the README states them)', () => {
    expect(debs.length).toBe(3);
    process.stdout.write(`deb sizes: ${sizes.join(', ')}\n`);
    // Before the leftovers went: amd64 17 MB. SQLite and the dependencies are ~4 MB packed.
    for (const d of debs) expect(statSync(d.file).size, d.arch).toBeLessThan(8 * 1024 * 1024);
  });

  it('each package holds better-sqlite3 compiled for its architecture and Node 20 (ELF checks)', () => {
    const machine = { amd64: /X86-64/, arm64: /AArch64/, armhf: /ARM$/m } as const;
    for (const d of debs) {
      const root = unpack(d);
      const so = path.join(root, 'usr/lib/ampio-bridge/node_modules/better-sqlite3/build/Release/better_sqlite3.node');
      expect(execFileSync('readelf', ['-h', so], { encoding: 'utf8' }), d.arch).toMatch(machine[d.arch]);
      // Node 20's NODE_MODULE_VERSION is 115: the only Node this binary registers with.
      expect(execFileSync('readelf', ['--dyn-syms', '-W', so], { encoding: 'utf8' }), d.arch).toMatch(/ node_register_module_v115$/m);
      if (d.arch === 'armhf') {
        const attrs = execFileSync('readelf', ['-A', so], { encoding: 'utf8' });
        expect(attrs).toMatch(/Tag_CPU_arch: v6\b/);
        expect(attrs).toMatch(/Tag_ABI_VFP_args: VFP registers/);
        expect(attrs).not.toMatch(/Thumb-2/);
      }
    }
  });

  for (const [arch, qemu, nodeArch] of [
    ['arm64', 'qemu-aarch64', 'arm64'],
    ['armhf', 'qemu-arm', 'arm'],
  ] as const) {
    it(`${arch}: Debian's ${arch} node under ${qemu} loads the package's native modules; the same recipe's SQLite works`, () => {
      requireHostTools(qemu, 'readelf');
      const d = debs.find((x) => x.arch === arch);
      if (!d) throw new Error(`the build test did not produce the ${arch} package`);
      const lib = path.join(unpack(d), 'usr/lib/ampio-bridge');
      const nodeRoot = debianNodeRoot(arch);
      // Debian 12's node is 18 (NODE_MODULE_VERSION 108). The SocketCAN addon is Node-API, so
      // it loads as on the Pi. better-sqlite3 is built for Node 20 (115): here dlopen must
      // succeed (every library it needs resolves against Debian's arm64/armhf libc, libstdc++,
      // libgcc_s), and Node 18 then reads the module's version and refuses it by name (115).
      const r = loadIn(
        qemu,
        nodeRoot,
        `
        const out = { arch: process.arch, modules: process.versions.modules };
        const addon = require(require(${JSON.stringify(path.join(lib, 'node_modules/node-gyp-build'))}).path(${JSON.stringify(lib)}));
        out.addon = addon.probe();
        try { new (require(${JSON.stringify(path.join(lib, 'node_modules/better-sqlite3'))}))(':memory:'); out.sqlite = 'opened'; } catch (e) { out.sqlite = e.message; }
        console.log(JSON.stringify(out));`,
      );
      expect(r).toMatchObject({ arch: nodeArch, modules: '108', addon: 97 });
      expect(r.sqlite).toMatch(
        /better_sqlite3\.node'\s+was compiled against a different Node\.js version using\s+NODE_MODULE_VERSION 115\. This version of Node\.js requires\s+NODE_MODULE_VERSION 108/,
      );
      // The package's binary and a Node 18 one, from the same script, compiler, flags and
      // SQLite object, differ only by the Node headers: the Node 18 one must do real work
      // on this node (a WAL database file, a transaction, BLOBs, a query).
      const node18 = path.join(lib, `better_sqlite3-node18.node`);
      const b = spawnSync('bash', [path.join(repo, 'provisioning/deb/cross-better-sqlite3.sh'), nodeArch, node18], {
        encoding: 'utf8',
        env: { ...process.env, NODE_INCLUDE: path.join(nodeRoot, 'usr/include/node') },
        timeout: 900_000,
      });
      expect(b.status, b.stderr).toBe(0);
      const dbFile = path.join(lib, 'probe.db');
      const q = loadIn(
        qemu,
        nodeRoot,
        `
        const Database = require(${JSON.stringify(path.join(lib, 'node_modules/better-sqlite3'))});
        const db = new Database(${JSON.stringify(dbFile)}, { nativeBinding: ${JSON.stringify(node18)} });
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        db.exec('CREATE TABLE f (t INTEGER, id INTEGER, data BLOB)');
        const ins = db.prepare('INSERT INTO f VALUES (?, ?, ?)');
        db.transaction(() => { for (let i = 0; i < 1000; i++) ins.run(i, 0x1f000000 + i, Buffer.from([i & 255, 1, 2, 3])); })();
        const row = db.prepare('SELECT count(*) AS n, sum(t) AS s, hex(data) AS h FROM f WHERE t = 999').get();
        const all = db.prepare('SELECT count(*) AS n FROM f').get();
        console.log(JSON.stringify({ mode, n: all.n, row, version: db.prepare('SELECT sqlite_version() AS v').get().v }));
        db.close();`,
      );
      expect(q).toMatchObject({ mode: 'wal', n: 1000, row: { n: 1, s: 999, h: 'E7010203' } });
      expect(q.version).toMatch(/^3\.\d+\.\d+$/);
    }, 1_200_000);
  }

  it('fails, naming the Debian package, when a cross compiler is missing, and leaves no .deb', () => {
    const failOut = mkdtempSync(path.join(tmpdir(), 'ampio-debs-fail-'));
    cleanups.push(() => rmSync(failOut, { recursive: true, force: true }));
    const r = spawnSync(process.execPath, [path.join(repo, 'dist/provisioning/deb/build-deb.js'), '--arch', 'amd64,arm64', '--out', failOut], {
      encoding: 'utf8',
      env: { ...process.env, CXX_ARM64: '/nonexistent/aarch64-linux-gnu-g++' },
      timeout: 300_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/better-sqlite3 for arm64 could not be cross-compiled: .*not found: apt-get install g\+\+-aarch64-linux-gnu/);
    expect(readdirSync(failOut)).toEqual([]);
  }, 300_000);
});
