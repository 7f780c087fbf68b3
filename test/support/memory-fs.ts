// An in-memory Fs for unit tests (moved out of the shipped provisioning/io/fs.ts: a test
// double has no place in production code).
import * as path from 'node:path';
import { type FileInfo, type Fs, serializeConfig } from '../../provisioning/io/fs.js';

/**
 * In-memory file system for unit tests of pure-ish code paths (symlinks as plain strings).
 * Real-file tests use NodeFs over a temp directory; this one exists for the places where a
 * whole tree would only be noise.
 */
export class MemoryFs implements Fs {
  readonly root = '/';
  readonly files = new Map<string, { data: Buffer; mode: number; mtimeMs: number }>();
  readonly links = new Map<string, string>();
  private clock = 1;

  constructor(initial: Record<string, string> = {}) {
    for (const [p, text] of Object.entries(initial)) this.files.set(p, { data: Buffer.from(text), mode: 0o644, mtimeMs: 0 });
  }

  private resolve(p: string): string {
    let cur = path.posix.normalize(p);
    for (let i = 0; i < 16 && this.links.has(cur); i++) cur = this.links.get(cur) as string;
    return cur;
  }

  async read(p: string) {
    return this.files.get(this.resolve(p))?.data ?? null;
  }
  async readText(p: string) {
    return (await this.read(p))?.toString('utf8') ?? null;
  }
  async lstat(p: string): Promise<FileInfo | null> {
    if (this.links.has(p)) return { kind: 'symlink', mode: 0o777, size: 0, mtimeMs: 0 };
    return this.stat(p);
  }
  async stat(p: string): Promise<FileInfo | null> {
    const rp = this.resolve(p);
    const f = this.files.get(rp);
    if (f) return { kind: 'file', mode: f.mode, size: f.data.length, mtimeMs: f.mtimeMs };
    const prefix = rp.endsWith('/') ? rp : `${rp}/`;
    for (const k of this.files.keys()) if (k.startsWith(prefix)) return { kind: 'dir', mode: 0o755, size: 0, mtimeMs: 0 };
    return null;
  }
  async readlink(p: string) {
    return this.links.get(p) ?? null;
  }
  async readdir(p: string) {
    const prefix = p.endsWith('/') ? p : `${p}/`;
    const names = new Set<string>();
    for (const k of [...this.files.keys(), ...this.links.keys()]) {
      if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]);
    }
    return names.size ? [...names].sort() : null;
  }
  async write(p: string, data: string | Buffer, mode: number) {
    this.files.set(this.resolve(p), { data: Buffer.from(data), mode, mtimeMs: ++this.clock });
  }
  async writeConf(p: string, store: Record<string, unknown>, mode: number) {
    await this.write(p, serializeConfig(store), mode);
  }
  async mkdir() {}
  async removeEmptyDir() {
    return false;
  }
  async remove(p: string) {
    this.files.delete(p);
    this.links.delete(p);
  }
  async chmod(p: string, mode: number) {
    const f = this.files.get(this.resolve(p));
    if (f) f.mode = mode;
  }
}
