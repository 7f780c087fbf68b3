// Golden files: generated system files are compared byte-for-byte with test/golden/.
// UPDATE_GOLDEN=1 rewrites them (review the diff before committing); a missing golden file
// fails the test rather than silently passing.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const GOLDEN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../golden');

export function expectGolden(rel: string, actual: string): void {
  const file = path.join(GOLDEN_DIR, rel);
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`missing golden file ${file}; run with UPDATE_GOLDEN=1 and review it`);
  expect(actual, `golden ${rel}`).toBe(readFileSync(file, 'utf8'));
}
