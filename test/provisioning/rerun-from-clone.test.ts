// A returning user runs `setup` again from the clone it was first run from (issue 28 §3): the
// same tree packs and installs nothing, writes no backup and says "Nothing to change"; a tree
// whose code changed (same version) is packed and installed again. Real files in a temp copy
// of a fixture system, a clone laid out on the host (with .git), the FakeSystem runner.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyPlan } from '../../provisioning/apply.js';
import { treeFingerprint } from '../../provisioning/install-source.js';
import { renderPlan } from '../../provisioning/show.js';
import { PATHS } from '../../provisioning/types.js';
import { FakeSystem } from '../support/fake-system.js';
import { planFor } from '../support/setup-harness.js';
import { tempRoot } from '../support/temp-root.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

/** A clone under /tmp (where setup's own copy is ephemeral, like a home directory). */
function clone(): { dir: string; main: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ab-clone-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, '.git'));
  mkdirSync(path.join(dir, 'dist/src/cli'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'ampio-bridge', version: '0.1.0', files: ['dist/src/', 'provisioning/templates/'] }));
  writeFileSync(path.join(dir, 'README.md'), '# ampio-bridge\n');
  writeFileSync(path.join(dir, 'dist/src/cli/main.js'), 'console.log(1);\n');
  writeFileSync(path.join(dir, 'dist/build-info.json'), '{"date":"2025-03-01T10:00:00Z"}\n');
  return { dir, main: path.join(dir, 'dist/src/cli/main.js') };
}

const backups = (root: string): string[] => {
  try {
    return readdirSync(path.join(root, PATHS.backupsDir));
  } catch {
    return [];
  }
};

describe('setup run again from a clone', () => {
  it('the same tree: nothing to change (no pack, no install, no backup); a changed file: packed and installed again', async () => {
    const t = tempRoot('bookworm-fresh');
    cleanups.push(t.cleanup);
    const sys = new FakeSystem(t.root);
    const c = clone();
    let minute = 0;
    const now = () => new Date(Date.UTC(2025, 2, 1, 10, minute++));

    const first = await planFor(t.root, sys, {}, { runningMain: c.main });
    expect(first.plan.steps.map((s) => s.id)).toEqual(expect.arrayContaining(['pack-package', 'install-package', 'installed-tree']));
    expect((await applyPlan(first.plan, { fs: first.fs, runner: sys, now, version: '0.1.0' })).ok).toBe(true);
    expect(backups(t.root)).toHaveLength(1);

    // `npm run setup` builds first: the build stamp changes, the tree does not.
    writeFileSync(path.join(c.dir, 'dist/build-info.json'), '{"date":"2025-03-02T08:00:00Z"}\n');
    const again = await planFor(t.root, sys, {}, { runningMain: c.main });
    expect(again.plan.steps).toEqual([]);
    expect(renderPlan(again.plan, { color: false })).toContain('Nothing to change');
    expect(backups(t.root)).toHaveLength(1);

    // A pulled commit keeps the version: the tree decides.
    writeFileSync(path.join(c.dir, 'dist/src/cli/main.js'), 'console.log(2);\n');
    const changed = await planFor(t.root, sys, {}, { runningMain: c.main });
    expect(changed.plan.steps.map((s) => s.id)).toEqual(expect.arrayContaining(['pack-package', 'install-package', 'installed-tree']));
  });

  it('the fingerprint covers the packed files and ignores the build stamp and what npm does not pack', () => {
    const c = clone();
    const a = treeFingerprint(c.dir);
    writeFileSync(path.join(c.dir, 'dist/build-info.json'), '{"date":"later"}\n');
    mkdirSync(path.join(c.dir, 'node_modules'));
    writeFileSync(path.join(c.dir, 'node_modules/x.js'), 'x');
    expect(treeFingerprint(c.dir)).toBe(a);
    mkdirSync(path.join(c.dir, 'provisioning/templates'), { recursive: true });
    writeFileSync(path.join(c.dir, 'provisioning/templates/t'), 't');
    expect(treeFingerprint(c.dir)).not.toBe(a);
    expect(treeFingerprint(path.join(c.dir, 'nowhere'))).toBeNull();
  });
});
