// The scripts the README tells people to run: `npm start` says it is building before the
// 10-15 s compile, `npm run setup` is the clone's one-command install, `npm run deb` builds
// the Debian packages; all of them are in the README.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

it('npm start announces the build first (its first command prints, the build comes after)', () => {
  const [announce, build] = pkg.scripts.start.split('&&').map((s) => s.trim());
  expect(build).toBe('npm run build --silent');
  const r = spawnSync('sh', ['-c', announce], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(/^ampio-bridge: building \(10-15 s\)/);
});

it('the clone install and the Debian package are one script each, and the README names them', () => {
  expect(pkg.scripts.setup).toMatch(/node dist\/src\/cli\/main\.js setup$/);
  expect(pkg.scripts.deb).toMatch(/build-deb\.js$/);
  expect(readme).toContain('npm install && npm run setup');
  expect(readme).toContain('npm run deb');
  expect(readme).toContain('sudo apt install ./ampio-bridge_0.1.0_arm64.deb && sudo ampio-bridge setup');
  expect(readme).toMatch(/npx \.\/ampio-bridge-<version>\.tgz setup/);
  expect(readme).toContain('sudo systemctl reload ampio-bridge');
});
