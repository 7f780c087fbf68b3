// apply: runs a plan's steps in order. Before the first change every
// file the plan touches is copied into one backup set with a manifest; files are replaced
// atomically (Fs.write: temp + fsync + rename); the first failure stops the run, and the
// manifest then says exactly what ran, so `setup --rollback` can restore byte-for-byte.

import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Fs } from './io/fs.js';
import { formatCommand, type Runner } from './io/runner.js';
import { PATHS, type Plan, type Step } from './types.js';

export class ProvisioningError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface BackupEntry {
  path: string;
  existed: boolean;
  mode: number | null;
  /** relative to the backup directory */
  backup: string | null;
  sha256: string | null;
}

export interface Manifest {
  format: 1;
  tool: 'ampio-bridge setup';
  version: string;
  createdAt: string;
  action: 'install' | 'uninstall';
  status: 'in-progress' | 'complete' | 'failed';
  failedStep: string | null;
  files: BackupEntry[];
  /** Directories this run created (parents first), removed again on rollback when empty. */
  dirs?: string[];
  /** commands that ran, in order, with their undo */
  commands: { id: string; argv: string[]; undo: string[] | null }[];
  rolledBackAt: string | null;
}

export interface StepEvents {
  onStart?(step: Step, index: number, total: number): void;
  onDone?(step: Step, index: number, total: number): void;
  onFail?(step: Step, error: ProvisioningError): void;
}

export interface ApplyDeps extends StepEvents {
  fs: Fs;
  runner: Runner;
  now: () => Date;
  version: string;
  action?: 'install' | 'uninstall';
}

export interface ApplyResult {
  ok: boolean;
  backupDir: string | null;
  completed: Step[];
  failed: { step: Step; error: ProvisioningError } | null;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** 2025-06-01T12:00:00.123Z → 2025-06-01T12-00-00Z: sortable, and no colons for scp/fat. */
export function backupStamp(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

export function touchedPaths(plan: Plan): string[] {
  const seen = new Set<string>();
  for (const s of plan.steps) if (s.kind !== 'command') seen.add(s.path);
  return [...seen];
}

async function writeManifest(fs: Fs, dir: string, m: Manifest): Promise<void> {
  await fs.write(path.posix.join(dir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`, 0o600);
}

/** Copies every file the plan will touch into a fresh backup directory; returns it. */
async function backup(plan: Plan, deps: ApplyDeps): Promise<{ dir: string; manifest: Manifest }> {
  const { fs } = deps;
  const stamp = backupStamp(deps.now());
  let dir = path.posix.join(PATHS.backupsDir, stamp);
  for (let n = 1; (await fs.lstat(dir)) !== null; n++) dir = path.posix.join(PATHS.backupsDir, `${stamp}-${n}`);
  await fs.mkdir(dir, 0o700);
  const files: BackupEntry[] = [];
  for (const p of touchedPaths(plan)) {
    const data = await fs.read(p);
    const st = await fs.stat(p);
    if (data === null) {
      files.push({ path: p, existed: false, mode: null, backup: null, sha256: null });
      continue;
    }
    // Mirrors the system path: a person can find /etc/… in files/etc/… without the manifest.
    const rel = path.posix.join('files', p);
    await fs.write(path.posix.join(dir, rel), data, 0o600);
    files.push({ path: p, existed: true, mode: st?.mode ?? 0o644, backup: rel, sha256: sha256(data) });
  }
  // Directories that do not exist yet and that the writes will create (/etc/ampio-bridge,
  // /etc/systemd/network on a minimal image …): rollback removes what setup made.
  const dirs = new Set<string>();
  for (const p of touchedPaths(plan)) {
    for (let d = path.posix.dirname(p); d !== '/' && !dirs.has(d); d = path.posix.dirname(d)) {
      if ((await fs.lstat(d)) !== null) break;
      dirs.add(d);
    }
  }
  const manifest: Manifest = {
    format: 1,
    dirs: [...dirs].sort((a, b) => a.length - b.length),
    tool: 'ampio-bridge setup',
    version: deps.version,
    createdAt: deps.now().toISOString(),
    action: deps.action ?? 'install',
    status: 'in-progress',
    failedStep: null,
    files,
    commands: [],
    rolledBackAt: null,
  };
  await writeManifest(fs, dir, manifest);
  return { dir, manifest };
}

async function runStep(step: Step, deps: ApplyDeps): Promise<void> {
  const { fs, runner } = deps;
  try {
    if (step.kind === 'write') {
      if (step.via === 'conf' && step.store) await fs.writeConf(step.path, step.store, step.mode);
      else await fs.write(step.path, step.after, step.mode);
    } else if (step.kind === 'remove') {
      await fs.remove(step.path);
    } else {
      const r = await runner.run(step.argv, { timeoutMs: step.id === 'install-package' ? 600_000 : 120_000 });
      if (r.exitCode !== 0) {
        const detail = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
        throw new ProvisioningError(
          'SETUP_COMMAND_FAILED',
          `\`${formatCommand(step.argv)}\` exited with ${r.exitCode}${detail ? `:\n${detail}` : ''}`,
          hintFor(step.argv),
        );
      }
    }
  } catch (err) {
    if (err instanceof ProvisioningError) throw err;
    const e = err as NodeJS.ErrnoException;
    const target = step.kind === 'command' ? formatCommand(step.argv) : step.path;
    throw new ProvisioningError(
      e.code === 'EACCES' || e.code === 'EPERM' ? 'SETUP_PERMISSION' : 'SETUP_STEP_FAILED',
      `${step.title}: ${e.message}`,
      e.code === 'EACCES' || e.code === 'EPERM' ? 'run setup with sudo: `sudo ampio-bridge setup`' : `check ${target} and re-run setup`,
      { cause: err },
    );
  }
}

function hintFor(argv: string[]): string {
  if (argv[0] === 'npm') return 'check the network connection and `npm config get registry`, then re-run setup';
  if (argv[0] === 'useradd' || argv[0] === 'usermod') return 'check /etc/passwd and /etc/group (is the name taken by something else?), then re-run setup';
  const image = argv.find((a) => a.startsWith('--root='))?.slice('--root='.length) ?? (argv.includes('--root') ? argv[argv.indexOf('--root') + 1] : null);
  // An image has no running systemd to ask: point at its files instead.
  if (argv[0] === 'systemctl' && image)
    return `check that ${image}/lib/systemd/system/${argv[argv.length - 1]} (or /usr/lib/…) exists in the image, then re-run setup with --root ${image}`;
  if (argv[0] === 'systemctl') return `see \`systemctl status ${argv[argv.length - 1]}\` and \`journalctl -xe\`, then re-run setup`;
  // The drop-in is already written (it counts at the next boot); only loading it now failed.
  if (argv[0] === 'sysctl')
    return `the file is written and counts from the next boot; to load it now: \`sudo ${formatCommand(argv)}\` (needs procps: \`sudo apt install procps\`), then \`sudo systemctl restart ampio-bridge\``;
  if (argv[0] === 'ip' || argv[0] === 'networkctl') return 'the setting is still written for the next boot; `ampio-bridge doctor` shows the link state';
  return 're-run setup after fixing the cause above';
}

export async function applyPlan(plan: Plan, deps: ApplyDeps): Promise<ApplyResult> {
  if (plan.steps.length === 0) return { ok: true, backupDir: null, completed: [], failed: null };
  const { dir, manifest } = await backup(plan, deps);
  const completed: Step[] = [];
  for (const [i, step] of plan.steps.entries()) {
    deps.onStart?.(step, i, plan.steps.length);
    try {
      await runStep(step, deps);
    } catch (err) {
      const error = err as ProvisioningError;
      manifest.status = 'failed';
      manifest.failedStep = step.id;
      await writeManifest(deps.fs, dir, manifest).catch(() => undefined);
      deps.onFail?.(step, error);
      return { ok: false, backupDir: dir, completed, failed: { step, error } };
    }
    if (step.kind === 'command') {
      manifest.commands.push({ id: step.id, argv: step.argv, undo: step.undo ?? null });
      await writeManifest(deps.fs, dir, manifest);
    }
    completed.push(step);
    deps.onDone?.(step, i, plan.steps.length);
  }
  manifest.status = 'complete';
  await writeManifest(deps.fs, dir, manifest);
  return { ok: true, backupDir: dir, completed, failed: null };
}
