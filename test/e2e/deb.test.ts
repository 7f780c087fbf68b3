// The Debian packages (`npm run deb`): built for amd64, arm64 and armhf with dpkg-deb,
// inspected with `dpkg-deb --contents/--field`, and the amd64 one installed with
// `dpkg --root` into a fixture image, where `ampio-bridge setup` then uses it in place and
// `doctor --root` passes. No registry: dependencies come from this repo's node_modules.
// Needs `npm run build` first (npm test does) and dpkg (Debian has it).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { arch as hostArch, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDebs, type BuiltDeb } from '../../provisioning/deb/build-deb.js';
import { run as setupCommand } from '../../src/cli/commands/setup.js';
import { PATHS } from '../../provisioning/types.js';
import { run as doctor } from '../../src/cli/commands/doctor.js';
import { captureCli } from '../support/cli-context.js';
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
const field = (deb: string, name: string): string => execFileSync('dpkg-deb', ['--field', deb, name], { encoding: 'utf8' }).trim();

describe('npm run deb', () => {
  let debs: BuiltDeb[] = [];

  it('builds one .deb per architecture with the unit, /etc/default, the CLI and its dependencies', () => {
    if (!existsSync(path.join(repo, 'dist/src/cli/main.js'))) throw new Error('dist/ is missing: run "npm run build" first (npm test does)');
    debs = buildDebs({ outDir: out, repo });
    expect(debs.map((d) => path.basename(d.file))).toEqual([`ampio-bridge_${version}_amd64.deb`, `ampio-bridge_${version}_arm64.deb`, `ampio-bridge_${version}_armhf.deb`]);
    const nodeArch = { amd64: 'x64', arm64: 'arm64', armhf: 'arm' } as const;
    for (const d of debs) {
      expect(field(d.file, 'Architecture')).toBe(d.arch);
      expect(field(d.file, 'Version')).toBe(version);
      expect(field(d.file, 'Depends')).toMatch(/nodejs \(>= 20\)/);
      const list = contents(d.file);
      for (const f of ['./lib/systemd/system/ampio-bridge.service', './etc/default/ampio-bridge', './usr/lib/ampio-bridge/dist/src/cli/main.js', './usr/lib/ampio-bridge/overlays/catalog.json', './usr/lib/ampio-bridge/provisioning/templates/ampio-bridge.service', './usr/lib/ampio-bridge/README.md', './usr/lib/ampio-bridge/node_modules/serialport/package.json']) {
        expect(list, `${d.arch}: ${f}`).toContain(f);
      }
      expect(list).toMatch(/\.\/usr\/bin\/ampio-bridge -> \.\.\/lib\/ampio-bridge\/dist\/src\/cli\/main\.js/);
      expect(list).toMatch(/-rwxr-xr-x root\/root .* \.\/usr\/lib\/ampio-bridge\/dist\/src\/cli\/main\.js/);
      // serialport's prebuilt binaries: this architecture's only.
      expect(list).toContain(`@serialport/bindings-cpp/prebuilds/linux-${nodeArch[d.arch]}/`);
      for (const other of Object.values(nodeArch).filter((a) => a !== nodeArch[d.arch])) expect(list).not.toContain(`@serialport/bindings-cpp/prebuilds/linux-${other}/`);
      expect(list).not.toMatch(/prebuilds\/(win32|darwin|android)/);
      // Our own SocketCAN addon: prebuilt for this architecture (cross-compiled), no other.
      expect(list, d.arch).toContain(`./usr/lib/ampio-bridge/prebuilds/linux-${nodeArch[d.arch]}/ampio-can.glibc.napi.node`);
      for (const other of Object.values(nodeArch).filter((a) => a !== nodeArch[d.arch])) expect(list).not.toContain(`ampio-bridge/prebuilds/linux-${other}/`);
      // Native code compiled on this machine (build/Release) runs only on this machine's architecture.
      const here = nodeArch[d.arch] === hostArch();
      const compiledDeps = d.omitted.filter((m) => !m.startsWith('ampio-bridge '));
      if (here) expect(compiledDeps).toEqual([]);
      expect(d.omitted.filter((m) => m.startsWith('ampio-bridge ')), d.arch).toEqual([]);
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
    const r = spawnSync('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--force-not-root', '--log=/dev/null', '-i', amd64.file], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(readlinkSync(path.join(root, 'usr/bin/ampio-bridge'))).toBe('../lib/ampio-bridge/dist/src/cli/main.js');
    expect(readFileSync(path.join(root, 'lib/systemd/system/ampio-bridge.service'), 'utf8')).toContain('Documentation=file:///usr/lib/ampio-bridge/README.md');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format, not a template
    expect(execFileSync('dpkg-query', [`--admindir=${path.join(root, 'var/lib/dpkg')}`, '-W', '-f', '${Status} ${Version}', 'ampio-bridge'], { encoding: 'utf8' })).toBe(`install ok installed ${version}`);
    // The installed CLI runs from where the package put it.
    const v = spawnSync(process.execPath, [path.join(root, 'usr/lib/ampio-bridge/dist/src/cli/main.js'), 'version'], { encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain(version);
    // The SocketCAN addon loads from the package's own prebuild, as the daemon loads it.
    const lib = path.join(root, 'usr/lib/ampio-bridge');
    const addon = spawnSync(process.execPath, ['-e', `const b = require(${JSON.stringify(path.join(lib, 'node_modules/node-gyp-build'))})(${JSON.stringify(lib)}); console.log(typeof b)`], { encoding: 'utf8' });
    expect(addon.stderr).toBe('');
    expect(addon.stdout.trim()).toBe('object');

    // `ampio-bridge setup` as it runs on the Pi after `apt install ./ampio-bridge_*.deb`.
    const main = '/usr/lib/ampio-bridge/dist/src/cli/main.js';
    const cli = captureCli({ isRoot: true });
    expect(await setupCommand(['--yes', '--root', root], cli.ctx, { nodePath: '/usr/bin/node', runningMain: main, version, runner: new FakeSystem(root), now: () => new Date('2025-03-01T10:00:00Z') })).toBe(0);
    expect(cli.stdout()).not.toMatch(/npm (install|pack)/);
    expect(readFileSync(path.join(root, PATHS.unit), 'utf8')).toContain(`ExecStart=/usr/bin/node ${main} serve --config /etc/ampio-bridge/config.json`);
    // With node in the image (nodejs is the package's dependency), every offline check passes.
    mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    writeFileSync(path.join(root, 'usr/bin/node'), '');
    const d = captureCli();
    expect(await doctor(['--root', root], d.ctx)).toBe(0);
    expect(d.stdout()).toMatch(/✓ service unit \/etc\/systemd\/system\/ampio-bridge.service: enabled/);
  }, 300_000);
});
