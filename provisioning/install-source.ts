// Where the running ampio-bridge came from, so setup installs *that* package for the
// service: the npm registry (npx ampio-bridge), a release tarball (npx ./ampio-bridge-X.tgz
// or npm install -g ./…tgz), or a clone of the repository (npm pack of the running tree).
// Reads the host's file system directly: the running code is on the host, also under --root.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

export type InstallSource =
  /** npx fetched it from the registry: the same version can be installed from there. */
  | { kind: 'registry' }
  /** npx (or npm) installed it from a tarball on this machine: install that file. */
  | { kind: 'tarball'; path: string }
  /** A directory with the package (a clone, an unpacked tarball): pack it, install the pack. */
  | { kind: 'directory'; dir: string; clone: boolean };

/** dist/src/cli/main.js → the package directory. */
export function packageDirOf(runningMain: string): string {
  const parts = runningMain.split('/');
  const dist = parts.lastIndexOf('dist');
  return dist > 0 ? parts.slice(0, dist).join('/') : path.posix.dirname(path.posix.dirname(path.posix.dirname(runningMain)));
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export function detectInstallSource(runningMain: string): InstallSource {
  const dir = packageDirOf(runningMain);
  const directory: InstallSource = { kind: 'directory', dir, clone: existsSync(path.join(dir, '.git')) };
  // npx keeps what it was asked for in <cache>/_npx/<hash>/package.json.
  const npx = /^(.*\/_npx\/[^/]+)\/node_modules\/ampio-bridge$/.exec(dir);
  if (npx) {
    const deps = (readJson(path.join(npx[1], 'package.json'))?.dependencies ?? {}) as Record<string, string>;
    const spec = deps['ampio-bridge'];
    if (typeof spec === 'string' && spec.startsWith('file:')) {
      const file = spec.slice('file:'.length);
      const abs = path.isAbsolute(file) ? file : path.resolve(npx[1], file);
      if (/\.t(ar\.)?gz$/.test(abs) && existsSync(abs)) return { kind: 'tarball', path: abs };
      return directory;
    }
    return { kind: 'registry' };
  }
  // Installed from a tarball by npm: its lock entry (or package.json) says "resolved": "file:…".
  const resolved = readJson(path.join(dir, 'package.json'))?._resolved;
  if (typeof resolved === 'string' && resolved.startsWith('file:') && existsSync(resolved.slice(5))) return { kind: 'tarball', path: resolved.slice(5) };
  return directory;
}

/** Pure (plans call it): says which package setup installs. */
export function describeSource(s: InstallSource): string {
  switch (s.kind) {
    case 'registry':
      return 'from the npm registry';
    case 'tarball':
      return `from the release tarball ${s.path}`;
    case 'directory':
      return `from ${s.clone ? 'the clone' : 'the package directory'} at ${s.dir} (npm pack of the running tree)`;
  }
}

/** Written by `npm run build` with the build time: not part of what the tree *is*. */
const BUILD_STAMP = 'dist/build-info.json';

/**
 * What a package directory holds, as one sha256: every file `npm pack` takes from it (its
 * package.json "files" entries, package.json and README), path and content, in a fixed order,
 * without the build time stamp. The same tree gives the same value whenever it is rebuilt
 * (tsc writes the same output), a changed file a different one. Null without a package.json.
 */
export function treeFingerprint(dir: string): string | null {
  const pkg = readJson(path.join(dir, 'package.json'));
  if (pkg === null) return null;
  const entries = Array.isArray(pkg.files) ? pkg.files.filter((f): f is string => typeof f === 'string') : [];
  const files = new Set<string>(['package.json', 'README.md']);
  const walk = (rel: string): void => {
    const abs = path.join(dir, rel);
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(abs);
    } catch {
      return; // a "files" entry that does not exist (prebuilds before the first prebuild)
    }
    if (st.isDirectory()) for (const name of readdirSync(abs)) walk(path.posix.join(rel, name));
    else if (st.isFile()) files.add(rel);
  };
  for (const entry of entries) walk(entry.replace(/\/+$/, ''));
  files.delete(BUILD_STAMP);
  const hash = createHash('sha256');
  for (const rel of [...files].sort()) {
    if (!existsSync(path.join(dir, rel))) continue;
    hash.update(`${rel}\0`);
    hash.update(readFileSync(path.join(dir, rel)));
    hash.update('\0');
  }
  return hash.digest('hex');
}
