// `capture recover`: copies what can still be read out of a damaged store into a new one.
//
// 1. SQLite reads it as it is (with its WAL), or, when the header or the schema page is
//    what is damaged, a copy whose page 1 comes from a fresh store: every capture store is
//    created by the same statements in one transaction, so its tables sit at the same
//    root pages and a fresh page 1 describes the damaged file exactly.
// 2. Frames are read in rowid order; where SQLite reports damage the reader skips ahead to
//    the first rowid it can reach again (exponential steps, then bisection).
// 3. Rows SQLite could not reach (below a damaged interior page) are looked for in the
//    file's leaf pages directly (page-scan.ts).
// 4. The new store gets the old site id, buses and sequence numbers (PostgreSQL's key
//    (site, bus, seq, ts) stays valid), contiguous rowids, and the forwarder's marks
//    mapped onto them; whatever could not be kept is listed in the report.
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { isDamage } from './damage.js';
import { attempt, type FrameRow, readFrames, scanPages } from './salvage-read.js';
import type { SqliteConstructor, SqliteDatabase } from './sqlite-binding.js';
import { CaptureStore } from './sqlite-store.js';
import { initialise } from './store-file.js';

export interface SalvageReport {
  /** Frames in the new store. */
  frames: number;
  /** Of those, frames read from leaf pages SQLite could not reach. */
  fromPages: number;
  /** Rowid ranges SQLite could not read (some may have come back from the pages). */
  lostRanges: Array<[number, number | null]>;
  /** Page 1 (header and schema) was replaced by a fresh store's. */
  rebuiltSchema: boolean;
  /** What could not be kept, in words. */
  notes: string[];
}

const DAY_US = 86_400_000_000;

/** The damaged store as SQLite can read it; null when even a fresh page 1 does not help. */
function openSource(Database: SqliteConstructor, damaged: string, scratch: string): { db: SqliteDatabase | null; rebuilt: boolean } {
  let db: SqliteDatabase | null = null;
  try {
    db = new Database(damaged, { readonly: true, fileMustExist: true });
    db.prepare('SELECT name, rootpage FROM sqlite_master').all();
    return { db, rebuilt: false };
  } catch (err) {
    db?.close();
    if (!isDamage(err)) throw err;
  }
  // The header or the schema page is damaged: give a copy a fresh page 1.
  const template = `${scratch}.template`;
  const tpl = new Database(template);
  initialise(tpl, Date.now);
  tpl.close();
  const fresh = Buffer.alloc(4096);
  const tfd = openSync(template, 'r');
  readSync(tfd, fresh, 0, 4096, 0);
  closeSync(tfd);
  rmSync(template, { force: true });
  const copy = `${scratch}.source`;
  copyFileSync(damaged, copy);
  if (existsSync(`${damaged}-wal`)) copyFileSync(`${damaged}-wal`, `${copy}-wal`);
  const pages = Math.floor(statSync(copy).size / 4096);
  // The file's size in pages (offset 28) is trusted when the "valid for" counter (92)
  // equals the change counter (24); the free list (32, 36) of the damaged page is lost.
  fresh.writeUInt32BE(pages, 28);
  fresh.writeUInt32BE(fresh.readUInt32BE(24), 92);
  fresh.writeUInt32BE(0, 32);
  fresh.writeUInt32BE(0, 36);
  const fd = openSync(copy, 'r+');
  writeSync(fd, fresh, 0, 4096, 0);
  closeSync(fd);
  try {
    db = new Database(copy, { fileMustExist: true });
    db.prepare('SELECT name FROM sqlite_master').all();
    return { db, rebuilt: true };
  } catch (err) {
    db?.close();
    if (!isDamage(err)) throw err;
    return { db: null, rebuilt: true };
  }
}

/**
 * Salvages `damaged` (left untouched) into a new store at `out` (which must not exist).
 * Scratch files sit next to `out` and are removed.
 */
export function salvage(Database: SqliteConstructor, damaged: string, out: string, now: () => number = Date.now): SalvageReport {
  const notes: string[] = [];
  const stagePath = `${out}.stage`;
  const scratch = [stagePath, `${out}.source`, `${out}.source-wal`, `${out}.source-shm`, `${out}.template`];
  const stage = new Database(stagePath);
  let source: { db: SqliteDatabase | null; rebuilt: boolean } = { db: null, rebuilt: false };
  try {
    // A rollback journal in memory: a bulk copy that meets damage is undone as one statement.
    stage.pragma('journal_mode = MEMORY');
    stage.pragma('synchronous = OFF');
    stage.exec('CREATE TABLE s (rowid INTEGER PRIMARY KEY, bus, seq, ts, id, flags, data, origin, label)');
    const insert = stage.prepare('INSERT OR IGNORE INTO s VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    let inBatch = 0;
    source = openSource(Database, damaged, out);
    const db = source.db;
    // The same file on the stage's connection, for copies SQL to SQL. Only read; and `db`
    // (read-only) stays open until the stage lets go of it, so closing never checkpoints
    // into the damaged file: it is kept exactly as it was.
    if (db) stage.exec(`ATTACH DATABASE '${db.name.replace(/'/g, "''")}' AS src`);
    // Rows through JS go in transactions of 50,000; a bulk copy runs outside them (SQLite
    // poisons a transaction in which a statement met damage, until it ends).
    const put = (row: FrameRow): boolean => {
      if (!stage.inTransaction) stage.exec('BEGIN');
      const changed = insert.run(row).changes > 0;
      if (++inBatch >= 50_000) {
        stage.exec('COMMIT');
        inBatch = 0;
      }
      return changed;
    };
    const settle = (): void => {
      if (stage.inTransaction) stage.exec('COMMIT');
    };

    const meta = db ? attempt(() => new Map(db.prepare('SELECT key, value FROM meta').raw().all() as Array<[string, unknown]>)) : null;
    const buses = new Map<number, { name: string; lastSeq: number }>();
    const busRows = db ? attempt(() => db.prepare('SELECT id, name, last_seq FROM buses').raw().all() as Array<[number, string, number]>) : null;
    for (const [id, name, lastSeq] of busRows ?? []) buses.set(id, { name, lastSeq });
    const labels = db ? attempt(() => db.prepare('SELECT id, kind, name FROM labels').raw().all() as Array<[number, number, string]>) : null;
    const marks = db ? attempt(() => db.prepare('SELECT target, last_rowid, lost FROM forward_state').raw().all() as Array<[string, number, number]>) : null;
    if (!meta)
      notes.push(
        "the store's own settings (site id, time base) were not readable: a new site id was given, so PostgreSQL receives these frames once more under it",
      );
    if (!busRows) notes.push('the bus names were not readable from the bus table');
    if (!labels) notes.push('the protocol and refusal-reason names were not readable: those frames keep no label');
    if (!marks) notes.push("the PostgreSQL forwarder's progress was not readable: it sends the store again (its key skips rows it already has)");

    let lostRanges: Array<[number, number | null]> = [[0, null]];
    if (db) {
      const bulk = stage.prepare(
        'INSERT OR IGNORE INTO s SELECT rowid, bus, seq, ts, id, flags, data, origin, label FROM src.frames WHERE rowid >= ? AND rowid < ?',
      );
      lostRanges = readFrames(
        db,
        (from, to) => {
          settle();
          bulk.run(from, to);
        },
        put,
      );
    }
    let fromPages = 0;
    if (lostRanges.length > 0) {
      const evictedThrough = Number(meta?.get('evicted_through') ?? 0);
      const inLost = (rowid: number): boolean => rowid > evictedThrough && lostRanges.some(([a, b]) => rowid >= a && (b === null || rowid <= b));
      const overlaps = (first: number, last: number): boolean => last > evictedThrough && lostRanges.some(([a, b]) => last >= a && (b === null || first <= b));
      fromPages = scanPages(damaged, inLost, overlaps, put, (id, name, lastSeq) => {
        if (!busRows && !buses.has(id)) buses.set(id, { name, lastSeq });
      });
    }
    settle();

    // The new store, laid out as the bridge lays it out, then filled in one go.
    const fresh = CaptureStore.open(Database, { path: out, now });
    fresh.close();
    const o = new Database(out);
    try {
      o.pragma('journal_mode = DELETE');
      o.pragma('synchronous = OFF');
      o.exec(`ATTACH DATABASE '${stagePath.replace(/'/g, "''")}' AS st`);
      const [count, firstOld, maxTs] = o.prepare('SELECT count(*), min(rowid), max(ts) FROM st.s').raw().get() as [number, number | null, number | null];
      const first = firstOld ?? 1;
      let tsBase = Number(meta?.get('ts_base_us'));
      if (!Number.isFinite(tsBase) || meta?.get('ts_base_us') == null) {
        // The time base is a whole day at or before the first frame, and the file was last
        // written around its newest frame: that day is the one before mtime − newest offset.
        const mtimeUs = statSync(damaged).mtimeMs * 1000;
        tsBase = Math.floor((mtimeUs - (maxTs ?? 0)) / DAY_US) * DAY_US;
      }
      o.transaction(() => {
        const set = o.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
        set.run('site_id', meta?.get('site_id') ?? randomBytes(8).toString('hex'));
        set.run('ts_base_us', tsBase);
        if (meta?.get('created_at') != null) set.run('created_at', meta.get('created_at'));
        set.run('evicted_through', first - 1);
        set.run('recovered_at', Math.round(now()));
        const busIds = o.prepare('SELECT DISTINCT bus FROM st.s').pluck().all() as number[];
        const maxSeq = o.prepare('SELECT max(seq) FROM st.s WHERE bus = ?').pluck();
        const addBus = o.prepare('INSERT INTO buses (id, name, last_seq) VALUES (?, ?, ?)');
        for (const id of new Set([...buses.keys(), ...busIds])) {
          const known = buses.get(id);
          addBus.run(id, known?.name ?? `bus${id}`, Math.max(known?.lastSeq ?? 0, (maxSeq.get(id) as number | null) ?? 0));
        }
        if (busIds.some((id) => !buses.has(id)))
          notes.push(
            `buses without a readable name are called bus<N>: ${busIds
              .filter((id) => !buses.has(id))
              .map((id) => `bus${id}`)
              .join(', ')}`,
          );
        const addLabel = o.prepare('INSERT INTO labels (id, kind, name) VALUES (?, ?, ?)');
        for (const [id, kind, name] of labels ?? []) addLabel.run(id, kind, name);
        // Contiguous rowids from the first salvaged one: the store's readers rely on it.
        o.prepare(
          `INSERT INTO frames (rowid, bus, seq, ts, id, flags, data, origin, label) SELECT ? - 1 + row_number() OVER (ORDER BY rowid), bus, seq, ts, id, flags, data, origin, ${labels ? 'label' : 'NULL'} FROM st.s ORDER BY rowid`,
        ).run(first);
        const below = o.prepare('SELECT count(*) FROM st.s WHERE rowid <= ?').pluck();
        const mark = o.prepare('INSERT INTO forward_state (target, last_rowid, lost, updated_at) VALUES (?, ?, ?, ?)');
        for (const [target, lastRowid, lostRows] of marks ?? []) mark.run(target, first - 1 + (below.get(lastRowid) as number), lostRows, Math.round(now()));
      })();
      o.exec('DETACH DATABASE st');
      o.pragma('journal_mode = WAL');
      o.pragma('wal_checkpoint(TRUNCATE)');
      return { frames: count, fromPages, lostRanges, rebuiltSchema: source.rebuilt, notes };
    } finally {
      o.close();
    }
  } finally {
    if (stage.open) stage.close();
    source.db?.close();
    for (const f of scratch) rmSync(f, { force: true });
  }
}
