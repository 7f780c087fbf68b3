// The capture store: one SQLite file in WAL mode, written by one connection (the capture
// worker), read by any number of others (`ampio-bridge capture`, the forwarder).
//
// Crash safety comes from SQLite itself: every batch is one transaction, so after a
// kill -9 the file holds exactly the batches committed before it. synchronous=NORMAL in
// WAL mode survives a killed process; a power cut may lose the last commits but never
// corrupts the file, and saves an fsync per commit on the SD card.
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DecodedRecord } from './batch.js';
import { APPLICATION_ID, DIR_REFUSED, flagsOf, LABEL_PROTOCOL, LABEL_REASON, SCHEMA_VERSION, storedId } from './schema.js';
import { bindingBroken, CaptureStoreError, isBindingLoadError, type SqliteConstructor, type SqliteDatabase } from './sqlite-binding.js';
import { checkForeign, corrupt, initialise } from './store-file.js';
import { damagedStore, isDamage, quickCheck, writeFailureReason, writeProblem } from './damage.js';

export { CaptureStoreError, checkForeign };

export interface StoreOpenOptions {
  path: string;
  /** Open for reading only (the CLI): never creates, never writes. */
  readonly?: boolean;
  /** Wall clock in ms (tests). */
  now?: () => number;
  /**
   * Check every page before use (SQLite's quick_check, linear in the size): a damaged store
   * is then refused the same way whichever page is hit, instead of when a write or a query
   * happens to touch the bad page.
   */
  check?: boolean;
}

export interface StoreSummary {
  rows: number;
  /** Bytes on disk: database + WAL. */
  bytes: number;
  /** Bytes of pages in use (what --capture-max-size bounds). */
  usedBytes: number;
  firstRowid: number;
  lastRowid: number;
  /** µs since the epoch, null when empty */
  oldestUs: number | null;
  newestUs: number | null;
  siteId: string;
}

/**
 * The first and last rowid, each by one b-tree seek. (`SELECT min(rowid), max(rowid)` in one
 * statement is not optimised by SQLite: it scans the table, seconds for a 1 GB store, and
 * summary() runs after every commit.)
 */
export const FIRST_LAST = 'SELECT (SELECT min(rowid) FROM frames), (SELECT max(rowid) FROM frames)';

/** Rows per INSERT statement. */
const INSERT_ROWS = 64;

/** Largest DELETE in one transaction: big enough to free whole pages, small enough to keep the WAL short. */
const EVICT_CHUNK_ROWS = 500_000;

export class CaptureStore {
  private nextRowid = 1;
  private readonly busIds = new Map<string, number>();
  private readonly lastSeq = new Map<number, number>();
  private readonly labelIds = new Map<string, number>();
  readonly siteId: string;
  readonly tsBaseUs: number;
  private readonly insert;
  private readonly insertMany;

  private constructor(
    readonly db: SqliteDatabase,
    readonly path: string,
    readonly readonly: boolean,
  ) {
    const meta = new Map(db.prepare('SELECT key, value FROM meta').raw().all() as Array<[string, unknown]>);
    this.siteId = String(meta.get('site_id'));
    this.tsBaseUs = Number(meta.get('ts_base_us'));
    for (const [id, name, seq] of db.prepare('SELECT id, name, last_seq FROM buses').raw().all() as Array<[number, string, number]>) {
      this.busIds.set(name, id);
      this.lastSeq.set(id, seq);
    }
    for (const [id, kind, name] of db.prepare('SELECT id, kind, name FROM labels').raw().all() as Array<[number, number, string]>) {
      this.labelIds.set(`${kind}:${name}`, id);
    }
    const max = (db.prepare('SELECT max(rowid) FROM frames').pluck().get() as number | null) ?? 0;
    this.nextRowid = Math.max(max, Number(meta.get('evicted_through') ?? 0)) + 1;
    this.insert = readonly ? null : db.prepare('INSERT INTO frames (rowid, bus, seq, ts, id, flags, data, origin, label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    // One statement for many rows: a third less CPU per frame than one call per row (measured).
    this.insertMany = readonly
      ? null
      : db.prepare(
          `INSERT INTO frames (rowid, bus, seq, ts, id, flags, data, origin, label) VALUES ${Array(INSERT_ROWS).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        );
  }

  /** Opens (or, for the writer, creates) the store at `options.path`. */
  static open(Database: SqliteConstructor, options: StoreOpenOptions): CaptureStore {
    const { path } = options;
    const state = checkForeign(path);
    if (state === 'new' && options.readonly) {
      throw new CaptureStoreError(
        'not_found',
        `no capture store at ${path}`,
        'start the bridge with --capture PATH first, or pass --capture with the path it uses',
      );
    }
    if (!existsSync(dirname(path))) {
      throw new CaptureStoreError(
        'unwritable',
        `cannot create the capture store ${path}: the directory ${dirname(path)} does not exist`,
        "create it (owned by the bridge user; setup uses /var/lib/ampio-bridge, the service's StateDirectory=) or choose another --capture path",
      );
    }
    let db: SqliteDatabase;
    try {
      db = new Database(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    } catch (err) {
      if (isBindingLoadError(err)) throw bindingBroken(err);
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY') {
        throw new CaptureStoreError(
          'unwritable',
          `cannot open the capture store ${path}: ${(err as Error).message}`,
          'check that the directory exists and the bridge user may write it (setup uses /var/lib/ampio-bridge)',
          { cause: err },
        );
      }
      throw corrupt(path, err);
    }
    try {
      db.pragma('busy_timeout = 5000');
      // In WAL mode the header on disk lags until a checkpoint: ask SQLite, which reads the WAL too.
      const appId = state === 'blank' ? (db.pragma('application_id', { simple: true }) as number) : APPLICATION_ID;
      const tables = state === 'blank' ? (db.prepare('SELECT count(*) FROM sqlite_master').pluck().get() as number) : 1;
      if (state === 'blank' && appId !== APPLICATION_ID && tables > 0) {
        throw new CaptureStoreError(
          'foreign_file',
          `${path} is an SQLite database of another program, not a capture store`,
          `move it away or choose another path with --capture (nothing was written to ${path})`,
        );
      }
      if (state === 'new' || (state === 'blank' && tables === 0)) {
        if (options.readonly) throw new CaptureStoreError('not_found', `${path} is an empty capture store`, 'the bridge has not committed any frame to it yet');
        initialise(db, options.now ?? Date.now);
      } else if (!options.readonly) db.pragma('journal_mode = WAL');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new CaptureStoreError(
          'newer_schema',
          `${path} was written by a newer ampio-bridge (store version ${version}, this one reads ${SCHEMA_VERSION})`,
          'upgrade ampio-bridge, or choose another --capture path',
        );
      }
      if (options.check && state !== 'new') {
        const findings = quickCheck(db);
        if (findings !== null) throw damagedStore(path, findings);
      }
      if (!options.readonly) {
        db.pragma('synchronous = NORMAL');
        // Bounds the WAL file after a checkpoint (large evictions grow it briefly).
        db.pragma('journal_size_limit = 16777216');
      }
      return new CaptureStore(db, path, options.readonly === true);
    } catch (err) {
      db.close();
      if (err instanceof CaptureStoreError) throw err;
      // A full disk or a failing card at open is not damage: the file may be fine.
      const reason = writeFailureReason(err);
      if (!isDamage(err) && reason !== 'write_failed') {
        throw new CaptureStoreError(
          'unwritable',
          `cannot open the capture store ${path}: ${(err as Error).message}`,
          writeProblem(reason, path, (err as Error).message, 0).hint,
          { cause: err },
        );
      }
      throw corrupt(path, err);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** µs since the epoch → the stored (relative) value and back. */
  toStoredTs(tsUs: number): number {
    return tsUs - this.tsBaseUs;
  }

  /** Appends records in one transaction; returns how many were stored. */
  append(records: Iterable<DecodedRecord>, busNames: Record<number, string>): number {
    const insert = this.insert;
    if (!insert) throw new Error('store opened read-only');
    const startRowid = this.nextRowid;
    const touched = new Set<number>();
    let count = 0;
    const many = this.insertMany;
    const params: unknown[] = new Array(INSERT_ROWS * 9);
    let k = 0;
    const run = this.db.transaction(() => {
      let rowid = startRowid;
      for (const r of records) {
        const busId = this.busId(busNames[r.bus] ?? `bus${r.bus}`);
        const seq = (this.lastSeq.get(busId) ?? 0) + 1;
        this.lastSeq.set(busId, seq);
        touched.add(busId);
        const f = r.frame;
        const tsUs = Math.round(f.timestamp * 1000);
        const labelKind = r.direction === DIR_REFUSED ? LABEL_REASON : LABEL_PROTOCOL;
        const label = r.label === null ? null : this.labelId(labelKind, r.label);
        params[k++] = rowid++;
        params[k++] = busId;
        params[k++] = seq;
        params[k++] = tsUs - this.tsBaseUs;
        params[k++] = storedId(f);
        params[k++] = flagsOf(f, r.direction);
        params[k++] = f.data;
        params[k++] = r.direction === 0 ? null : r.session;
        params[k++] = label;
        if (k === params.length) {
          many!.run(params);
          k = 0;
        }
        count++;
      }
      for (let j = 0; j < k; j += 9) insert.run(params.slice(j, j + 9));
      const update = this.db.prepare('UPDATE buses SET last_seq = ? WHERE id = ?');
      for (const id of touched) update.run(this.lastSeq.get(id), id);
      this.nextRowid = rowid;
    });
    try {
      run();
    } catch (err) {
      // The transaction rolled back: forget the sequence numbers and ids it handed out.
      this.reloadCounters();
      throw err;
    }
    return count;
  }

  private reloadCounters(): void {
    this.lastSeq.clear();
    this.busIds.clear();
    this.labelIds.clear();
    for (const [id, name, seq] of this.db.prepare('SELECT id, name, last_seq FROM buses').raw().all() as Array<[number, string, number]>) {
      this.busIds.set(name, id);
      this.lastSeq.set(id, seq);
    }
    for (const [id, kind, name] of this.db.prepare('SELECT id, kind, name FROM labels').raw().all() as Array<[number, number, string]>)
      this.labelIds.set(`${kind}:${name}`, id);
    const max = (this.db.prepare('SELECT max(rowid) FROM frames').pluck().get() as number | null) ?? 0;
    const evicted = Number(this.db.prepare("SELECT value FROM meta WHERE key = 'evicted_through'").pluck().get() ?? 0);
    this.nextRowid = Math.max(max, evicted) + 1;
  }

  private busId(name: string): number {
    let id = this.busIds.get(name);
    if (id === undefined) {
      // The first bus gets id 0, the second 1: SQLite stores both constants in zero bytes.
      id = this.busIds.size;
      this.db.prepare('INSERT INTO buses (id, name, last_seq) VALUES (?, ?, 0)').run(id, name);
      this.busIds.set(name, id);
      this.lastSeq.set(id, 0);
    }
    return id;
  }

  private labelId(kind: number, name: string): number {
    const key = `${kind}:${name}`;
    let id = this.labelIds.get(key);
    if (id === undefined) {
      id = Number(this.db.prepare('INSERT INTO labels (kind, name) VALUES (?, ?)').run(kind, name).lastInsertRowid);
      this.labelIds.set(key, id);
    }
    return id;
  }

  /** Bus id → name, and name → id. */
  buses(): Array<{ id: number; name: string; lastSeq: number }> {
    return (this.db.prepare('SELECT id, name, last_seq FROM buses ORDER BY id').raw().all() as Array<[number, string, number]>).map(([id, name, lastSeq]) => ({
      id,
      name,
      lastSeq,
    }));
  }

  labels(): Map<number, string> {
    return new Map(this.db.prepare('SELECT id, name FROM labels').raw().all() as Array<[number, string]>);
  }

  /** Cheap figures (no table scan): rowids are contiguous, so rows = last - first + 1. */
  summary(): StoreSummary {
    const [first, last] = this.db.prepare(FIRST_LAST).raw().get() as [number | null, number | null];
    const tsAt = this.db.prepare('SELECT ts FROM frames WHERE rowid = ?').pluck();
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    let bytes = 0;
    for (const suffix of ['', '-wal']) {
      try {
        bytes += statSync(this.path + suffix).size;
      } catch {
        // no WAL right after a clean close
      }
    }
    return {
      rows: first === null || last === null ? 0 : last - first + 1,
      bytes,
      usedBytes: (pages - free) * pageSize,
      firstRowid: first ?? 0,
      lastRowid: last ?? 0,
      oldestUs: first === null ? null : (tsAt.get(first) as number) + this.tsBaseUs,
      newestUs: last === null ? null : (tsAt.get(last) as number) + this.tsBaseUs,
      siteId: this.siteId,
    };
  }

  /**
   * The first rowid whose frame is at or after `tsUs` (bisecting rowids, which are in
   * arrival order); lastRowid + 1 when none. Exact for frames stored in time order.
   */
  firstRowidAtOrAfter(tsUs: number): number {
    const [first, last] = this.db.prepare(FIRST_LAST).raw().get() as [number | null, number | null];
    if (first === null || last === null) return this.nextRowid;
    const tsAt = this.db.prepare('SELECT ts FROM frames WHERE rowid = ?').pluck();
    const target = tsUs - this.tsBaseUs;
    let lo = first;
    let hi = last + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((tsAt.get(mid) as number) < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Deletes the oldest frames beyond the retention age or the size bound, in large
   * chunks (contiguous rowid ranges free whole pages, which SQLite reuses: the file
   * stops growing at about maxBytes instead of shrinking and regrowing).
   * Returns the rowid range deleted.
   */
  evict(options: { nowMs: number; retentionMs: number; maxBytes: number }): { deleted: number; through: number } {
    const s = this.summary();
    if (s.rows === 0) return { deleted: 0, through: 0 };
    let through = s.firstRowid - 1;
    if (options.retentionMs > 0) {
      through = Math.max(through, this.firstRowidAtOrAfter((options.nowMs - options.retentionMs) * 1000) - 1);
    }
    if (options.maxBytes > 0 && s.usedBytes > options.maxBytes) {
      // Down to 90 % of the bound, so eviction runs rarely and in big steps.
      const share = 1 - (0.9 * options.maxBytes) / s.usedBytes;
      through = Math.max(through, s.firstRowid - 1 + Math.ceil(s.rows * share));
    }
    through = Math.min(through, s.lastRowid);
    if (through < s.firstRowid) return { deleted: 0, through: 0 };
    const del = this.db.prepare('DELETE FROM frames WHERE rowid <= ?');
    const mark = this.db.prepare("INSERT INTO meta (key, value) VALUES ('evicted_through', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    for (let end = Math.min(s.firstRowid - 1 + EVICT_CHUNK_ROWS, through); ; end = Math.min(end + EVICT_CHUNK_ROWS, through)) {
      this.db.transaction(() => {
        del.run(end);
        mark.run(end);
      })();
      if (end >= through) break;
    }
    return { deleted: through - s.firstRowid + 1, through };
  }
}
