// The store file itself: telling a capture store from anything else at PATH (without
// touching it), and laying out a new one.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { APPLICATION_ID, CREATE_SQL, SCHEMA_VERSION, SQLITE_HEADER } from './schema.js';
import { damagedStore } from './damage.js';
import { CaptureStoreError, type SqliteDatabase } from './sqlite-binding.js';

/** Reads the first page (4096 bytes) of `path`; null when it does not exist or is empty. */
function readHeader(path: string): Buffer | null {
  let fd: number;
  try {
    if (statSync(path).size === 0) return null;
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, 4096, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Our schema's text, which SQLite keeps in page 1 after the 100-byte header: it tells a
 * capture store whose header is damaged from another program's file.
 */
const SCHEMA_MARK = Buffer.from('CREATE TABLE forward_state', 'latin1');

/**
 * Refuses anything at `path` that is not a capture store: another program's database, a
 * text file. A capture store with a damaged header is reported as damaged (the way forward
 * is `capture recover`, not another path). The file is never touched.
 */
export function checkForeign(path: string): 'new' | 'ours' | 'blank' {
  const header = readHeader(path);
  if (header === null) return 'new';
  const next = `move it away or choose another path with --capture (nothing was written to ${path})`;
  const ours = header.includes(SCHEMA_MARK);
  if (header.length < 100 || header.subarray(0, 16).toString('latin1') !== SQLITE_HEADER) {
    if (ours) throw damagedStore(path, 'its SQLite header is not readable');
    throw new CaptureStoreError('foreign_file', `${path} exists and is not a capture store (not an SQLite database)`, next);
  }
  const appId = header.readUInt32BE(68);
  // Id 0: maybe our own first start, killed before its first commit (checked for tables).
  if (appId === 0 && !ours) return 'blank';
  if (appId !== APPLICATION_ID) {
    if (ours) throw damagedStore(path, 'its SQLite header is not readable');
    throw new CaptureStoreError(
      'foreign_file',
      `${path} is an SQLite database of another program (application_id 0x${appId.toString(16)}), not a capture store`,
      next,
    );
  }
  return 'ours';
}

export function initialise(db: SqliteDatabase, now: () => number): void {
  // page_size and auto_vacuum must be set before the first table exists.
  db.pragma('page_size = 4096');
  db.pragma('journal_mode = WAL');
  const dayUs = 86_400_000_000;
  const tsBase = Math.floor((now() * 1000) / dayUs) * dayUs;
  db.transaction(() => {
    db.exec(CREATE_SQL);
    const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    put.run('site_id', randomBytes(8).toString('hex'));
    put.run('ts_base_us', tsBase);
    put.run('created_at', Math.round(now()));
    put.run('evicted_through', 0);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
  // Puts the application id into the file's own header at once (not only into the WAL).
  db.pragma('wal_checkpoint(TRUNCATE)');
}

export function corrupt(path: string, err: unknown): CaptureStoreError {
  return damagedStore(path, (err as Error).message, err);
}
