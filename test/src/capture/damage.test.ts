// A damaged capture store, on real SQLite files: one bad page, wherever it is (the header,
// the schema page, a data page, an index page, an interior page of the frames table), is
// found by the check at open the same way; the capture service then goes off with the
// reason instead of failing; `capture stats/query/export` say so and leave no partial file;
// `capture recover` keeps the damaged file and salvages the rest into a store that passes
// the same check and carries on where the old one stopped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../src/capture/batch.js';
import { CaptureService } from '../../../src/capture/service.js';
import { loadSqlite, type SqliteConstructor } from '../../../src/capture/sqlite-binding.js';
import { CaptureStore } from '../../../src/capture/sqlite-store.js';
import { queryFrames } from '../../../src/capture/store-query.js';
import { recover } from '../../../src/cli/commands/capture-recover.js';
import { runCli } from '../../../src/cli/run.js';
import { makeFrame } from '../../../src/core/frame.js';
import { captureCli } from '../../support/cli-context.js';

let dir: string;
let Database: SqliteConstructor;
beforeAll(async () => {
  Database = await loadSqlite();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ampio-capture-damage-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 10, 30, 2, 0, 0);
const FRAMES = 40_000;

function* frames(n: number): Generator<DecodedRecord> {
  for (let i = 0; i < n; i++) {
    const tx = i % 10 === 0;
    yield {
      bus: i % 2,
      direction: tx ? 1 : 0,
      frame: makeFrame({ id: 0x1d000000 + (i % 300), extended: true, data: [i & 255, (i >> 8) & 255, (i >> 16) & 255, 7], timestamp: T0 + i }),
      session: tx ? 3 : 0,
      label: tx ? 'cannelloni' : null,
    };
  }
}

/** A store of FRAMES frames on two buses (with a forwarder mark), closed cleanly. */
function makeStore(name = 'capture.db'): string {
  const file = path.join(dir, name);
  const s = CaptureStore.open(Database, { path: file, now: () => T0 });
  for (let i = 0; i < 4; i++) s.append(frames(FRAMES / 4), { 0: 'can0', 1: 'can1' });
  s.db.prepare('INSERT INTO forward_state (target, last_rowid, lost, updated_at) VALUES (?, ?, 0, 0)').run('postgres://db/can#can_frames', 30_000);
  s.close();
  return file;
}

/** Page numbers (1-based) of each kind, from SQLite's own dbstat table. */
function pagesOf(file: string): { dataLeaf: number; interior: number; index: number } {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT name, pageno, pagetype FROM dbstat WHERE aggregate = 0 ORDER BY pageno').all() as Array<{
    name: string;
    pageno: number;
    pagetype: string;
  }>;
  db.close();
  const leaves = rows.filter((r) => r.name === 'frames' && r.pagetype === 'leaf');
  return {
    dataLeaf: leaves[Math.floor(leaves.length / 2)].pageno,
    interior: rows.find((r) => r.name === 'frames' && r.pagetype === 'internal')!.pageno,
    index: rows.find((r) => r.name === 'sqlite_autoindex_labels_1')!.pageno,
  };
}

/** Overwrites `length` bytes at `offset` with a fixed pseudo-random pattern (a bad sector). */
function scribble(file: string, offset: number, length: number): void {
  const fd = fs.openSync(file, 'r+');
  const junk = Buffer.alloc(length);
  for (let i = 0; i < length; i++) junk[i] = (i * 167 + 91) & 255;
  fs.writeSync(fd, junk, 0, length, offset);
  fs.closeSync(fd);
}

/** Where the page is, how it is damaged, and what recover says about it. */
const DAMAGE: Array<[string, (file: string) => void, RegExp]> = [
  ['the header', (f) => scribble(f, 0, 100), /^salvaged 40,000 frames[^\n]*\nthe header and schema page were rebuilt/m],
  ['the schema page', (f) => scribble(f, 100, 4096 - 100), /^salvaged 40,000 frames[^\n]*\nthe header and schema page were rebuilt/m],
  // One leaf of about 130 rows is lost, as one closed range of rowids.
  [
    'a data page',
    (f) => scribble(f, (pagesOf(f).dataLeaf - 1) * 4096, 4096),
    /^salvaged 39,[89]\d\d frames[^\n]*\nrows SQLite could not read \(old row numbers\): \d+–\d+\n/m,
  ],
  ['an index page', (f) => scribble(f, (pagesOf(f).index - 1) * 4096, 4096), /^salvaged 40,000 frames into a new store at \S+\nnext:/m],
  // Everything below it comes back from the leaves themselves.
  [
    'an interior page of the frames table',
    (f) => scribble(f, (pagesOf(f).interior - 1) * 4096, 4096),
    /^salvaged 40,000 frames into a new store at \S+ \(40,000 of them read from pages SQLite could no longer reach\)/m,
  ],
];

describe.each(DAMAGE)('one bad page in %s', (_where, damage, said) => {
  it('is found at open; capture goes off with the reason (the service never throws); stats/query/export say so; recover salvages it', async () => {
    const file = makeStore();
    damage(file);
    const damagedBytes = fs.readFileSync(file);

    // The check at open, read-only (doctor, stats) and for the writer alike.
    for (const readonly of [true, false]) {
      expect(() => CaptureStore.open(Database, { path: file, readonly, check: true }).close()).toThrow(
        expect.objectContaining({ code: 'corrupt', hint: expect.stringContaining('ampio-bridge capture recover') }),
      );
    }

    // The service: off, with the reason, and frames are counted as not recorded.
    const logs: Array<{ event: string; fields?: Record<string, unknown> }> = [];
    const svc = new CaptureService({
      path: file,
      commitIntervalMs: 50,
      retentionMs: 0,
      maxBytes: 0,
      drops: false,
      forward: null,
      hostname: 'test',
      log: (_l, event, fields) => logs.push({ event, fields }),
    });
    await svc.start();
    svc.tap.received({ index: 0, name: 'can0' }, makeFrame({ id: 1, data: [1], timestamp: Date.now() }));
    await svc.opened();
    const snap = svc.snapshot();
    expect(snap.state).toBe('failed');
    expect(snap.problem).toMatchObject({ reason: 'corrupt', message: expect.stringContaining('is damaged'), hint: expect.stringContaining('capture recover') });
    expect(logs.find((l) => l.event === 'capture_off')?.fields).toMatchObject({ reason: 'corrupt', path: file });
    await svc.stop();
    expect(fs.readFileSync(file).equals(damagedBytes)).toBe(true);

    // The readers: stats checks every page; export never leaves a partial file.
    const stats = captureCli();
    expect(await runCli(['capture', 'stats', '--capture', file], stats.ctx)).toBe(1);
    expect(stats.stderr()).toMatch(/is damaged[\s\S]*capture recover/);
    const out = path.join(dir, 'all.log');
    const exp = captureCli();
    expect(await runCli(['capture', 'export', '--capture', file, '-o', out], exp.ctx)).toBe(1);
    expect(exp.stderr()).toMatch(/is damaged[\s\S]*capture recover/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes('partial'))).toEqual([]);
    // query reads only the pages it needs: it says so when it meets the damage.
    const query = captureCli();
    if ((await runCli(['capture', 'query', '--capture', file, '--limit', '0', '--json'], query.ctx)) !== 0)
      expect(query.stderr()).toMatch(/is damaged[\s\S]*capture recover/);

    // recover: the damaged file is kept as it was; the new store passes the check.
    const cli = captureCli();
    expect(await recover(file, cli.ctx, () => T0 + 86_400_000)).toBe(0);
    const aside = fs.readdirSync(dir).find((n) => n.startsWith('capture.db.damaged-'))!;
    expect(fs.readFileSync(path.join(dir, aside)).equals(damagedBytes)).toBe(true);
    expect(cli.stdout()).toMatch(said);
    const fresh = CaptureStore.open(Database, { path: file, readonly: true, check: true });
    const all = [...queryFrames(fresh, {})];
    const summary = fresh.summary();
    // One page holds about 100 frames; an interior page costs nothing (its leaves are read directly).
    expect(all.length).toBeGreaterThanOrEqual(FRAMES - 200);
    expect(summary.rows).toBe(all.length);
    expect(all.map((f) => f.rowid)).toEqual(Array.from({ length: all.length }, (_, i) => summary.firstRowid + i));
    // Times, buses, sequence numbers and labels are those of the old store.
    for (const f of all.slice(0, 50)) {
      const i = f.frame.data[0] | (f.frame.data[1] << 8) | (f.frame.data[2] << 16);
      expect(f.tsUs).toBe((T0 + (i % (FRAMES / 4))) * 1000);
      expect(f.bus).toBe(`can${i % 2}`);
      if (f.direction === 'tx') expect(f.label).toBe('cannelloni');
    }
    expect(fresh.buses().map((b) => b.name)).toEqual(['can0', 'can1']);
    expect(fresh.buses().map((b) => b.lastSeq)).toEqual([FRAMES / 2, FRAMES / 2]);
    fresh.close();

    // The bridge carries on in it: new frames continue the sequence.
    const again = CaptureStore.open(Database, { path: file });
    again.append(frames(2), { 0: 'can0', 1: 'can1' });
    expect(again.buses().map((b) => b.lastSeq)).toEqual([FRAMES / 2 + 1, FRAMES / 2 + 1]);
    again.close();
  }, 60_000);
});

it('recover on a sound store changes nothing; on a foreign file it refuses', async () => {
  const file = makeStore();
  const before = fs.readFileSync(file);
  const cli = captureCli();
  expect(await recover(file, cli.ctx)).toBe(0);
  expect(cli.stdout()).toMatch(/not damaged; nothing to do/);
  expect(fs.readFileSync(file).equals(before)).toBe(true);
  const other = path.join(dir, 'other.db');
  fs.writeFileSync(other, 'not a database at all');
  const refused = captureCli();
  expect(await recover(other, refused.ctx)).toBe(1);
  expect(refused.stderr()).toMatch(/not a capture store/);
  expect(fs.readFileSync(other, 'utf8')).toBe('not a database at all');
});

it('a store found damaged while running (a write reports SQLITE_CORRUPT) switches capture off the same way', async () => {
  // Bigger than SQLite's page cache (16 MB): the index pages checked at open are read from
  // the disk again when the first frame of a new bus and protocol is written.
  const file = path.join(dir, 'big.db');
  const s = CaptureStore.open(Database, { path: file, now: () => T0 });
  for (let i = 0; i < 12; i++) s.append(frames(50_000), { 0: 'can0', 1: 'can1' });
  s.close();
  const logs: Array<{ event: string; fields?: Record<string, unknown> }> = [];
  const svc = new CaptureService({
    path: file,
    commitIntervalMs: 50,
    retentionMs: 0,
    maxBytes: 0,
    drops: false,
    forward: null,
    hostname: 'test',
    log: (_l, event, fields) => logs.push({ event, fields }),
  });
  await svc.start();
  await svc.opened();
  expect(svc.snapshot().state).toBe('on');
  const db = new Database(file, { readonly: true });
  const indexPages = db.prepare("SELECT pageno FROM dbstat WHERE name LIKE 'sqlite_autoindex_%'").pluck().all() as number[];
  db.close();
  for (const page of indexPages) scribble(file, (page - 1) * 4096, 4096);
  const bus = { index: 2, name: 'can2' };
  svc.tap.transmitted(bus, makeFrame({ id: 0x100, data: [1], timestamp: Date.now() }), { session: 9, protocol: 'tcpcan' });
  for (let round = 0; round < 100 && svc.snapshot().state === 'on'; round++) await new Promise((r) => setTimeout(r, 50));
  const snap = svc.snapshot();
  expect(snap.state).toBe('failed');
  expect(snap.problem).toMatchObject({ reason: 'corrupt', hint: expect.stringContaining('capture recover') });
  expect(logs.find((l) => l.event === 'capture_off')?.fields).toMatchObject({ reason: 'corrupt' });
  // Frames keep arriving and are counted as not recorded; nothing piles up.
  const dropped = snap.dropped;
  for (let i = 0; i < 1000; i++) svc.tap.received(bus, makeFrame({ id: 0x100, data: [1], timestamp: Date.now() }));
  await new Promise((r) => setTimeout(r, 400));
  expect(svc.snapshot().dropped).toBeGreaterThanOrEqual(dropped + 1000);
  expect(svc.snapshot().queued).toBe(0);
  // SIGHUP after recover: capture resumes in the salvaged store.
  const cli = captureCli();
  expect(await recover(file, cli.ctx)).toBe(0);
  await svc.reload();
  expect(svc.snapshot()).toMatchObject({ state: 'on', problem: null, rows: 600_000 });
  expect(logs.map((l) => l.event)).toContain('capture_retry');
  await svc.stop();
}, 120_000);
