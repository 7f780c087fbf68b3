// Version, commit and build date of the running code. `npm run build` writes
// dist/build-info.json (src/system/write-build-info.mjs); a checkout that was never built
// that way (vitest on the sources, a hand-run tsc) still knows its version from
// package.json, and says the commit is unknown rather than guessing.

import fs from 'node:fs';
import path from 'node:path';
import { findPackageRoot, PACKAGE_NAME } from './package-root.js';

export interface BuildInfo {
  version: string;
  /** Short git commit, "-dirty" when built from a modified tree; null when unknown. */
  commit: string | null;
  /** ISO-8601 build time; null when unknown. */
  date: string | null;
}

export { PACKAGE_NAME };
export const BUILD_INFO_FILE = path.join('dist', 'build-info.json');

let cached: BuildInfo | undefined;

/**
 * Reads the build info of the package at `root` (default: the package this module belongs
 * to, found from its own location, so it works from src/ and from dist/src/).
 */
export function readBuildInfo(root?: string): BuildInfo {
  if (root === undefined && cached) return cached;
  const packageRoot = root ?? findPackageRoot(import.meta.url);
  const info = packageRoot ? readFrom(packageRoot) : { version: '0.0.0', commit: null, date: null };
  if (root === undefined) cached = info;
  return info;
}

/** "ampio-bridge 0.1.0 (commit 1a2b3c4, built 2026-11-22T02:30:00.000Z)" */
export function formatBuildInfo(info: BuildInfo): string {
  const details = [`commit ${info.commit ?? 'unknown'}`, `built ${info.date ?? 'unknown'}`];
  return `${PACKAGE_NAME} ${info.version} (${details.join(', ')})`;
}

function readFrom(root: string): BuildInfo {
  const pkg = readJson(path.join(root, 'package.json'));
  const version = typeof pkg?.version === 'string' ? pkg.version : '0.0.0';
  const built = readJson(path.join(root, BUILD_INFO_FILE));
  return {
    version: typeof built?.version === 'string' ? built.version : version,
    commit: typeof built?.commit === 'string' && built.commit !== '' ? built.commit : null,
    date: typeof built?.date === 'string' && built.date !== '' ? built.date : null,
  };
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
