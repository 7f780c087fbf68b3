// The file-system port of provisioning. Every path given to an Fs is a *system* path
// ("/etc/ampio-bridge/config.json"); the implementation maps it under its root, so
// `setup --root DIR` and the tests touch DIR only. probe/apply/rollback/doctor take an Fs,
// never node:fs, which is what lets a dry run use a file system that refuses every write.

import * as nodeFs from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface FileInfo {
  kind: 'file' | 'dir' | 'symlink' | 'other';
  mode: number; // permission bits only
  size: number;
  mtimeMs: number;
}

export interface Fs {
  /** Host directory that system paths live under ('/' on the live system). */
  readonly root: string;
  /** Contents, following symlinks; null when the file does not exist. */
  read(p: string): Promise<Buffer | null>;
  readText(p: string): Promise<string | null>;
  /** Like lstat: a symlink reports kind 'symlink'. null when missing. */
  lstat(p: string): Promise<FileInfo | null>;
  /** Like stat: follows symlinks. null when missing or dangling. */
  stat(p: string): Promise<FileInfo | null>;
  /** Symlink target as a system path (resolved against the root); null when not a link. */
  readlink(p: string): Promise<string | null>;
  /** Entry names, sorted; null when the directory does not exist. */
  readdir(p: string): Promise<string[] | null>;
  /** Atomic replace: temp file in the same directory, fsync, rename, fsync the directory. */
  write(p: string, data: string | Buffer, mode: number): Promise<void>;
  /** Writes a JSON config file through `conf` (the daemon's config file). */
  writeConf(p: string, store: Record<string, unknown>, mode: number): Promise<void>;
  mkdir(p: string, mode?: number): Promise<void>;
  /** Removes a file; a missing file is not an error. */
  remove(p: string): Promise<void>;
  /** Removes an empty directory; false when it is missing or not empty (then it stays). */
  removeEmptyDir(p: string): Promise<boolean>;
  chmod(p: string, mode: number): Promise<void>;
}

/** Error thrown by the guarded file system of a dry run. */
export class ReadOnlyFsError extends Error {
  readonly code = 'READ_ONLY_FS';
  constructor(op: string, p: string) {
    super(`refused to ${op} ${p}: this file system is read-only (dry run)`);
  }
}

/** The one JSON layout for config.json: what the plan shows is byte-for-byte what conf writes. */
export function serializeConfig(store: Record<string, unknown>): string {
  return `${JSON.stringify(store, undefined, 2)}\n`;
}

function infoOf(st: import('node:fs').Stats): FileInfo {
  return {
    kind: st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other',
    mode: st.mode & 0o7777,
    size: st.size,
    mtimeMs: st.mtimeMs,
  };
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A real file system rooted at `root` (default '/'). */
export class NodeFs implements Fs {
  readonly root: string;

  constructor(root = '/') {
    this.root = path.resolve(root);
  }

  /** System path → host path. Refuses paths that climb out of the root. */
  host(p: string): string {
    if (!p.startsWith('/')) throw new Error(`not an absolute system path: ${p}`);
    const joined = path.join(this.root, path.posix.normalize(p));
    if (joined !== this.root && !joined.startsWith(this.root === '/' ? '/' : `${this.root}/`)) {
      throw new Error(`path escapes the root: ${p}`);
    }
    return joined;
  }

  async read(p: string): Promise<Buffer | null> {
    try {
      return await nodeFs.readFile(await this.hostResolved(p));
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EISDIR') return null;
      throw err;
    }
  }

  async readText(p: string): Promise<string | null> {
    const b = await this.read(p);
    return b === null ? null : b.toString('utf8');
  }

  async lstat(p: string): Promise<FileInfo | null> {
    try {
      return infoOf(await nodeFs.lstat(this.host(p)));
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async stat(p: string): Promise<FileInfo | null> {
    try {
      return infoOf(await nodeFs.stat(await this.hostResolved(p)));
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ELOOP') return null;
      throw err;
    }
  }

  async readlink(p: string): Promise<string | null> {
    try {
      const target = await nodeFs.readlink(this.host(p));
      return target.startsWith('/') ? path.posix.normalize(target) : path.posix.join(path.posix.dirname(p), target);
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'EINVAL') return null;
      throw err;
    }
  }

  /**
   * Absolute symlinks inside a root point at system paths (/boot/firmware/config.txt), so
   * they must be resolved against the root, not the host, or an image build would read the
   * build machine's files.
   */
  private async hostResolved(p: string, depth = 0): Promise<string> {
    if (this.root === '/') return p;
    if (depth > 16) throw Object.assign(new Error(`too many symlinks: ${p}`), { code: 'ELOOP' });
    const parts = path.posix.normalize(p).split('/').filter(Boolean);
    let cur = '/';
    for (let i = 0; i < parts.length; i++) {
      const next = path.posix.join(cur, parts[i]);
      const target = await this.readlink(next).catch(() => null);
      if (target !== null) {
        const rest = parts.slice(i + 1).join('/');
        return this.hostResolved(rest ? path.posix.join(target, rest) : target, depth + 1);
      }
      cur = next;
    }
    return this.host(cur);
  }

  async readdir(p: string): Promise<string[] | null> {
    try {
      return (await nodeFs.readdir(await this.hostResolved(p))).sort();
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /** Host path of p with its directories' symlinks resolved inside the root; p itself is not followed. */
  private async hostForWrite(p: string): Promise<string> {
    return path.join(await this.hostResolved(path.posix.dirname(p)), path.posix.basename(p));
  }

  async write(p: string, data: string | Buffer, mode: number): Promise<void> {
    const target = await this.hostForWrite(p);
    const dir = path.dirname(target);
    await nodeFs.mkdir(dir, { recursive: true, mode: 0o755 });
    // Temp file next to the target so the rename is atomic (same file system), then fsync
    // file and directory: a power cut leaves the old or the new file, never an empty one
    // (the failure node-red's localfilesystem util.js guards against).
    const tmp = path.join(dir, `.${path.basename(target)}.ampio-${randomBytes(4).toString('hex')}.tmp`);
    const fh = await nodeFs.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
    try {
      await fh.writeFile(data);
      // open()'s mode is filtered by the umask. vfat (the Pi's boot partition) refuses modes it
      // cannot store with EPERM; the file keeps the mount's mode, which is all it can have.
      await fh.chmod(mode).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPERM') throw err;
      });
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await nodeFs.rename(tmp, target);
    } catch (err) {
      await nodeFs.rm(tmp, { force: true });
      throw err;
    }
    await this.syncDir(dir);
  }

  async writeConf(p: string, store: Record<string, unknown>, mode: number): Promise<void> {
    const target = await this.hostForWrite(p);
    const ext = path.extname(target);
    // conf needs its directory to exist and creates it only from some code paths.
    await nodeFs.mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    const { default: Conf } = await import('conf');
    const conf = new Conf<Record<string, unknown>>({
      cwd: path.dirname(target),
      configName: path.basename(target, ext),
      fileExtension: ext.replace(/^\./, ''),
      configFileMode: mode,
      // The old file is already in the backup set; a corrupt one is simply replaced.
      clearInvalidConfig: true,
      serialize: (v) => serializeConfig(v as Record<string, unknown>),
      watch: false,
    });
    conf.store = store;
    // conf passes the mode to open(), which the umask filters.
    await nodeFs.chmod(target, mode);
    await this.syncDir(path.dirname(target));
  }

  async mkdir(p: string, mode = 0o755): Promise<void> {
    await nodeFs.mkdir(this.host(p), { recursive: true, mode });
  }

  async remove(p: string): Promise<void> {
    try {
      await nodeFs.unlink(this.host(p));
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
  }

  async removeEmptyDir(p: string): Promise<boolean> {
    try {
      await nodeFs.rmdir(this.host(p));
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (isMissing(err) || code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw err;
    }
  }

  async chmod(p: string, mode: number): Promise<void> {
    await nodeFs.chmod(this.host(p), mode);
  }

  private async syncDir(dir: string): Promise<void> {
    const dh = await nodeFs.open(dir, fsConstants.O_RDONLY);
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

/**
 * Passes reads through and throws on every write: what `--dry-run` runs with, so a dry run
 * that tried to change anything fails loudly instead of changing it.
 */
export function readOnlyFs(inner: Fs): Fs {
  const refuse = (op: string) => async (p: string) => {
    throw new ReadOnlyFsError(op, p);
  };
  return {
    root: inner.root,
    read: (p) => inner.read(p),
    readText: (p) => inner.readText(p),
    lstat: (p) => inner.lstat(p),
    stat: (p) => inner.stat(p),
    readlink: (p) => inner.readlink(p),
    readdir: (p) => inner.readdir(p),
    write: refuse('write'),
    writeConf: refuse('write'),
    mkdir: refuse('create directory'),
    remove: refuse('remove'),
    removeEmptyDir: refuse('remove directory'),
    chmod: refuse('chmod'),
  };
}
