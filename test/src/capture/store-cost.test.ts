// What the store's figures cost: summary() runs after every commit, so it must seek, never
// scan. (SQLite does not optimise `SELECT min(rowid), max(rowid)` in one statement: that
// scanned the whole table, seconds per commit for a 1 GB store.) Checked on SQLite's own plan.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { loadSqlite } from '../../../src/capture/sqlite-binding.js';
import { CaptureStore, FIRST_LAST } from '../../../src/capture/sqlite-store.js';

it('the first and last rowid are found by b-tree seeks, not a scan of the frames', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-capture-cost-'));
  try {
    const store = CaptureStore.open(await loadSqlite(), { path: path.join(dir, 'c.db') });
    const plan = (sql: string) => (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail);
    expect(plan(FIRST_LAST).filter((d) => /frames/.test(d))).toEqual(['SEARCH frames', 'SEARCH frames']);
    // The form it replaces, for the record: SQLite scans for it.
    expect(plan('SELECT min(rowid), max(rowid) FROM frames')).toContain('SCAN frames');
    store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
