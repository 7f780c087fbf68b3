// Where ampio-bridge's own package.json is, found by walking up from a module: the code runs
// from src/ (vitest), dist/src/ (built), or a global npm install, so no fixed depth fits.
// The one package-root finder (build info, data files of setup, the binding hints).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'ampio-bridge';

/**
 * The nearest directory at or above `start` (a directory or a module URL) whose
 * package.json names ampio-bridge; null when there is none. A broken package.json on the
 * way is skipped.
 */
export function findPackageRoot(start: string): string | null {
  let dir = start.startsWith('file:') ? path.dirname(fileURLToPath(start)) : start;
  for (;;) {
    if (readPackageName(path.join(dir, 'package.json')) === PACKAGE_NAME) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function readPackageName(file: string): unknown {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}
