// Temp copies of fixture system trees (test/fixtures/systems/<name>), symlinks kept as
// symlinks, so apply tests can change them freely.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SYSTEMS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/systems');

export function tempRoot(fixture: string | null, prefix = 'ampio-root-'): { root: string; cleanup: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  if (fixture) cpSync(path.join(SYSTEMS_DIR, fixture), root, { recursive: true, verbatimSymlinks: true });
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
