// The pieces of a plan: the Builder that collects steps (writes, removals, commands, with
// --root deferral of live ones), and the package-install step, which depends on where the
// running ampio-bridge came from (install-source.ts).

import * as path from 'node:path';
import { describeSource } from './install-source.js';
import { PATHS, type CommandStep, type Facts, type Notice, type Plan, type Step } from './types.js';

export class Builder {
  readonly steps: Step[] = [];
  readonly deferred: CommandStep[] = [];
  readonly notices: Notice[] = [];
  constructor(private readonly facts: Facts) {}

  write(
    id: string,
    title: string,
    p: string,
    after: string,
    o: { mode?: number; why?: string; needsReboot?: boolean; via?: 'fs' | 'conf'; store?: Record<string, unknown> } = {},
  ): boolean {
    const before = this.facts.files[p] ?? null;
    if (before === after) return false;
    this.steps.push({
      kind: 'write',
      id,
      title,
      path: p,
      before,
      after,
      mode: o.mode ?? this.facts.modes[p] ?? 0o644,
      via: o.via ?? 'fs',
      store: o.store,
      why: o.why,
      needsReboot: o.needsReboot ?? false,
    });
    return true;
  }

  remove(id: string, title: string, p: string, why?: string): boolean {
    const before = this.facts.files[p];
    if (before === null || before === undefined) return false;
    this.steps.push({ kind: 'remove', id, title, path: p, before, why, needsReboot: false });
    return true;
  }

  command(id: string, title: string, argv: string[], o: { live?: boolean; undo?: string[]; why?: string } = {}): void {
    const step: CommandStep = { kind: 'command', id, title, argv, live: o.live ?? false, undo: o.undo, why: o.why, needsReboot: false };
    // --root: what needs the running system is listed for the person, not run (issue 6).
    if (step.live && this.facts.root !== null) this.deferred.push(step);
    else this.steps.push(step);
  }

  notice(level: Notice['level'], text: string, fix?: string): void {
    this.notices.push({ level, text, fix });
  }

  plan(): Plan {
    return { steps: this.steps, deferred: this.deferred, notices: this.notices, needsReboot: this.steps.some((s) => s.needsReboot) };
  }
}

/**
 * A permanent copy of ourselves: `npx` runs from a cache that npm may clean at any time,
 * and a clone in a home directory is out of the hardened service's reach. Installed is the
 * very package setup runs from: the registry only when npx fetched it from there, else the
 * release tarball itself or an `npm pack` of the running tree (the registry may not have it).
 */
export function planPackageInstall(b: Builder, facts: Facts, v: string): void {
  const root = facts.root;
  const src = facts.install.source;
  // A clone keeps its version while its code changes: what decides is the tree, so the same
  // tree installs nothing (a re-run says "Nothing to change") and a changed one is installed.
  const { tree, installedTree } = facts.install;
  const treeChanged = src.kind === 'directory' && tree !== null && tree !== installedTree;
  if (facts.install.ephemeral && (facts.install.installedVersion !== v || treeChanged)) {
    // Known at plan time, so setup stops before changing anything rather than half-way.
    if (!facts.install.npm && root === null) {
      b.notice(
        'error',
        `npm is needed to install ampio-bridge ${v} for the service (setup runs from ${facts.install.running}, which the service cannot use), and this system has none`,
        '`sudo apt install npm`, then re-run setup; or install the .deb (`npm run deb` on another machine), which needs no npm',
      );
      return;
    }
    const where = describeSource(src);
    const tgz = path.posix.join(PATHS.stateDir, `ampio-bridge-${v}.tgz`);
    let spec: string;
    if (src.kind === 'registry') spec = `ampio-bridge@${v}`;
    else if (src.kind === 'tarball') {
      spec = root ? tgz : src.path;
      if (root) b.command('copy-package', `Copy the release tarball into the image (${tgz})`, ['cp', '--', src.path, path.posix.join(root, tgz)]);
    } else {
      spec = tgz;
      b.command(
        'pack-package',
        `Pack the running tree ${src.dir} into ${tgz}`,
        ['npm', 'pack', '--ignore-scripts', '--pack-destination', root ? path.posix.join(root, PATHS.stateDir) : PATHS.stateDir, src.dir],
        {
          why: 'the tree setup runs from is what gets installed (it is not on the npm registry)',
        },
      );
    }
    b.notice('info', `Installs ampio-bridge ${v} ${where} under ${facts.install.globalPrefix}, for the service.`);
    b.command(
      'install-package',
      `Install ampio-bridge ${v} under ${facts.install.globalPrefix} (${src.kind === 'registry' ? 'npm registry' : src.kind === 'tarball' ? 'release tarball' : 'npm pack of the running tree'})`,
      ['npm', 'install', '--global', '--no-fund', '--no-audit', spec],
      {
        live: true,
        why: `setup runs from ${facts.install.running}, which npm may delete or the service cannot read; the service needs a permanent copy`,
      },
    );
    if (src.kind === 'directory' && tree !== null) {
      b.write('installed-tree', `Remember which tree is installed (${PATHS.installedTree})`, PATHS.installedTree, `${tree}\n`, {
        why: 'a re-run from the same tree then packs and installs nothing',
      });
    }
  }
}
