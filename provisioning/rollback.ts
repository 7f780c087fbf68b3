// `setup --rollback`: undo the most recent backup set that has not been rolled back yet.
// Commands are undone first, newest first (disable our unit while its file still exists,
// re-enable can-server), then every file is put back byte-for-byte with its mode, or
// removed when it did not exist before. Repeating --rollback steps further back in time.

import * as path from 'node:path';
import type { Fs } from './io/fs.js';
import { formatCommand, type Runner } from './io/runner.js';
import { ProvisioningError, sha256, type Manifest } from './apply.js';
import { PATHS } from './types.js';

export interface BackupSet {
  dir: string;
  manifest: Manifest;
}

export async function listBackups(fs: Fs): Promise<BackupSet[]> {
  const out: BackupSet[] = [];
  for (const name of (await fs.readdir(PATHS.backupsDir)) ?? []) {
    const dir = path.posix.join(PATHS.backupsDir, name);
    const text = await fs.readText(path.posix.join(dir, 'manifest.json'));
    if (!text) continue;
    try {
      out.push({ dir, manifest: JSON.parse(text) as Manifest });
    } catch {
      // a manifest cut short by a crash before the first change: nothing to restore from it
    }
  }
  return out.sort((a, b) => a.dir.localeCompare(b.dir));
}

export interface RollbackDeps {
  fs: Fs;
  runner: Runner;
  now: () => Date;
  /** false under --root: live-only undo commands are listed instead of run */
  live: boolean;
  onLine?(text: string): void;
}

export interface RollbackResult {
  dir: string;
  restored: string[];
  removed: string[];
  undone: string[];
  /** live commands not run (--root) */
  deferred: string[];
  warnings: string[];
}

/** Commands that act on an image (--root DIR) run offline too; the rest need the live system. */
function isLiveOnly(argv: string[]): boolean {
  return !argv.some((a) => a === '--root' || a.startsWith('--root='));
}

export async function rollback(deps: RollbackDeps, dir?: string): Promise<RollbackResult> {
  const { fs, runner } = deps;
  const sets = await listBackups(fs);
  const set = dir ? sets.find((s) => s.dir === dir || path.posix.basename(s.dir) === dir) : [...sets].reverse().find((s) => !s.manifest.rolledBackAt);
  if (!set) {
    throw new ProvisioningError(
      'SETUP_NO_BACKUP',
      dir ? `no backup set ${dir} in ${PATHS.backupsDir}` : `no backup to roll back in ${PATHS.backupsDir}`,
      sets.length ? `every backup set has been rolled back already; the sets are in ${PATHS.backupsDir}` : 'setup has not changed anything on this system yet',
    );
  }
  const result: RollbackResult = { dir: set.dir, restored: [], removed: [], undone: [], deferred: [], warnings: [] };

  for (const c of [...set.manifest.commands].reverse()) {
    if (!c.undo) continue;
    if (!deps.live && isLiveOnly(c.undo)) {
      result.deferred.push(formatCommand(c.undo));
      continue;
    }
    const r = await runner.run(c.undo, { timeoutMs: 120_000 });
    if (r.exitCode === 0) result.undone.push(formatCommand(c.undo));
    else result.warnings.push(`\`${formatCommand(c.undo)}\` exited with ${r.exitCode}: ${(r.stderr || r.stdout).trim()}`);
  }

  for (const f of set.manifest.files) {
    if (!f.existed) {
      await fs.remove(f.path);
      result.removed.push(f.path);
      continue;
    }
    const data = await fs.read(path.posix.join(set.dir, f.backup as string));
    if (data === null || (f.sha256 && sha256(data) !== f.sha256)) {
      throw new ProvisioningError(
        'SETUP_BACKUP_DAMAGED',
        `backup copy of ${f.path} in ${set.dir} is missing or damaged`,
        `restore ${f.path} by hand from ${set.dir}/files if it is there`,
      );
    }
    await fs.write(f.path, data, f.mode ?? 0o644);
    result.restored.push(f.path);
  }

  // Deepest first; a directory someone has since put other files in stays.
  for (const d of [...(set.manifest.dirs ?? [])].reverse()) {
    if (await fs.removeEmptyDir(d)) result.removed.push(`${d}/`);
  }

  if (set.manifest.commands.length || set.manifest.files.some((f) => f.path.startsWith('/etc/systemd/system/'))) {
    if (deps.live) {
      const r = await runner.run(['systemctl', 'daemon-reload']);
      if (r.exitCode !== 0) result.warnings.push(`systemctl daemon-reload exited with ${r.exitCode}`);
    } else result.deferred.push('systemctl daemon-reload');
  }

  set.manifest.rolledBackAt = deps.now().toISOString();
  await fs.write(path.posix.join(set.dir, 'manifest.json'), `${JSON.stringify(set.manifest, null, 2)}\n`, 0o600);
  return result;
}
