// Debian 12's own arm64/armhf `node` (nodejs 18 on libnode108) and its libraries, unpacked
// from the .debs into a root that qemu-user runs it from (-L root). Never installed; cached
// between runs under ~/.cache. libnode-dev brings that Node's headers (/usr/include/node),
// which a test uses to build a non-Node-API module (better-sqlite3) this node can load.
// Needs the arm64/armhf dpkg architectures for apt-get download (.ci/run adds them).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';

const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'ampio-bridge-debian-node');
/** Debian's node, the shared libraries it loads, and its headers. */
const NODE_DEBS = [
  'nodejs',
  'libnode108',
  'libnode-dev',
  'libc6',
  'libgcc-s1',
  'libstdc++6',
  'libuv1',
  'libc-ares2',
  'libnghttp2-14',
  'libbrotli1',
  'libicu72',
  'libssl3',
  'zlib1g',
];
/** Architecture-independent JavaScript Debian's node loads as "externalized builtins". */
const NODE_JS_DEBS = ['node-cjs-module-lexer', 'node-acorn', 'node-undici', 'node-busboy', 'node-xtend'];

/** A root holding Debian's node for `arch` (usr/bin/node, usr/include/node). */
export function debianNodeRoot(arch: 'arm64' | 'armhf'): string {
  const root = path.join(CACHE, arch);
  if (existsSync(path.join(root, 'usr/bin/node')) && existsSync(path.join(root, 'usr/include/node/node.h'))) return root;
  // Unpacked beside the cache, not in tmpdir: a rename across filesystems (a tmpfs /tmp, as
  // on Debian 13) fails with EXDEV.
  mkdirSync(path.dirname(root), { recursive: true });
  const work = mkdtempSync(path.join(path.dirname(root), `.unpack-${arch}-`));
  try {
    const dl = spawnSync('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', ...NODE_DEBS.map((p) => `${p}:${arch}`), ...NODE_JS_DEBS], {
      cwd: work,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (dl.status !== 0) {
      throw new Error(
        `apt-get download of Debian's ${arch} node failed (is the ${arch} architecture added? dpkg --add-architecture ${arch} && apt-get update): ${dl.stderr}`,
      );
    }
    const tmpRoot = path.join(work, 'root');
    for (const deb of readdirSync(work).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg-deb', ['-x', path.join(work, deb), tmpRoot]);
    rmSync(root, { recursive: true, force: true });
    renameSync(tmpRoot, root);
    return root;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs `script` (CommonJS) with node under qemu-user (or natively), returning its last stdout line as JSON. */
export function loadIn(qemu: string | null, root: string | null, script: string): Record<string, unknown> {
  const node = root ? path.join(root, 'usr/bin/node') : process.execPath;
  const cmd = qemu ? qemu : node;
  const args = qemu ? ['-L', root as string, node, '-e', script] : ['-e', script];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
}
