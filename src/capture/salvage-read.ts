// Reading a damaged store for `capture recover` (salvage.ts): frames through SQLite, past
// the damaged stretches, and from the leaf pages SQLite can no longer reach.
import { closeSync, openSync, readSync } from 'node:fs';
import { isDamage } from './damage.js';
import { leafRowidSpan, pageSizeOf, type SqlValue, tableLeafRows } from './page-scan.js';
import type { SqliteDatabase } from './sqlite-binding.js';

export type FrameRow = [
  rowid: number,
  bus: number,
  seq: number,
  ts: number,
  id: number,
  flags: number,
  data: Uint8Array,
  origin: number | null,
  label: number | null,
];

const MAX_ROWID = 2 ** 53;

/** `read()`, or null when SQLite reports damage (other errors are thrown). */
export function attempt<T>(read: () => T): T | null {
  try {
    return read();
  } catch (err) {
    if (isDamage(err)) return null;
    throw err;
  }
}

/** Rowids copied per statement while nothing is damaged (SQL to SQL, no row through JS). */
const CHUNK = 100_000;

/**
 * Frames in rowid order into the stage, skipping what SQLite cannot read; returns the
 * unread ranges. Undamaged stretches are copied in bulk (`copy`), a stretch that holds
 * damage row by row through `put`.
 */
export function readFrames(db: SqliteDatabase, copy: (from: number, to: number) => void, put: (row: FrameRow) => void): Array<[number, number | null]> {
  const lost: Array<[number, number | null]> = [];
  const read = db.prepare('SELECT rowid, bus, seq, ts, id, flags, data, origin, label FROM frames WHERE rowid >= ? AND rowid < ? ORDER BY rowid').raw();
  const probe = db.prepare('SELECT rowid FROM frames WHERE rowid >= ? ORDER BY rowid LIMIT 1').pluck();
  /** The first rowid at or after `rowid`; null past the end; 'bad' when the way there is damaged. */
  const at = (rowid: number): number | null | 'bad' => {
    const found = attempt(() => ({ rowid: (probe.get(rowid) as number | undefined) ?? null }));
    return found === null ? 'bad' : found.rowid;
  };

  /** Row by row from `from` up to `end`; returns where to go on (past a damaged stretch it may be beyond `end`), null at the end of the table. */
  const slowly = (from: number, end: number): number | null => {
    let last = from - 1;
    const done = attempt(() => {
      for (const row of read.iterate(from, end) as IterableIterator<[number, number, number, number, number, number, Buffer, number | null, number | null]>) {
        put([row[0], row[1], row[2], row[3], row[4], row[5], new Uint8Array(row[6]), row[7], row[8]]);
        last = row[0];
      }
      return true;
    });
    if (done) return end;
    // Damage after `last`: the first rowid SQLite reaches again (exponential steps, then bisection).
    let bad = last + 1;
    let step = 1;
    let good: number | null = null;
    while (bad + step <= MAX_ROWID) {
      if (at(bad + step) !== 'bad') {
        good = bad + step;
        break;
      }
      bad += step;
      step *= 2;
    }
    while (good !== null && good - bad > 1) {
      const mid = Math.floor((bad + good) / 2);
      if (at(mid) === 'bad') bad = mid;
      else good = mid;
    }
    const resume = good === null ? null : at(good);
    if (resume === null || resume === 'bad') {
      lost.push([last + 1, null]);
      return null;
    }
    lost.push([last + 1, resume - 1]);
    return resume;
  };

  let next: number | null = 0;
  while (next !== null) {
    const first = at(next);
    if (first === null) break;
    if (first !== 'bad') {
      const from = first;
      if (
        attempt(() => {
          copy(from, from + CHUNK);
          return true;
        })
      ) {
        next = from + CHUNK;
        continue;
      }
      next = from;
    }
    next = slowly(next, next + CHUNK);
  }
  return lost;
}

const isInt = (v: SqlValue): v is number => typeof v === 'number' && Number.isInteger(v);
const isFrame = (v: SqlValue[]): boolean =>
  v.length === 8 &&
  isInt(v[0]) &&
  isInt(v[1]) &&
  isInt(v[2]) &&
  isInt(v[3]) &&
  isInt(v[4]) &&
  v[5] instanceof Uint8Array &&
  (v[6] === null || isInt(v[6])) &&
  (v[7] === null || isInt(v[7]));

/** Leaf pages of the main file, read directly: frames (and bus names) SQLite could not reach. */
export function scanPages(
  file: string,
  wanted: (rowid: number) => boolean,
  wantedSpan: (first: number, last: number) => boolean,
  put: (row: FrameRow) => boolean,
  bus: (id: number, name: string, lastSeq: number) => void,
): number {
  const fd = openSync(file, 'r');
  let found = 0;
  try {
    const head = Buffer.alloc(100);
    readSync(fd, head, 0, 100, 0);
    const size = pageSizeOf(head);
    const page = Buffer.alloc(size);
    for (let no = 1; readSync(fd, page, 0, size, (no - 1) * size) === size; no++) {
      const span = leafRowidSpan(page, no, size);
      // Frames leaves outside the lost ranges are skipped unread (bus rows are few: their pages are read).
      if (span && span[1] - span[0] > 64 && !wantedSpan(span[0], span[1])) continue;
      for (const { rowid, values: v } of tableLeafRows(page, no, size)) {
        if (isFrame(v)) {
          if (
            wanted(rowid) &&
            put([
              rowid,
              v[0] as number,
              v[1] as number,
              v[2] as number,
              v[3] as number,
              v[4] as number,
              v[5] as Uint8Array,
              v[6] as number | null,
              v[7] as number | null,
            ])
          )
            found++;
        } else if (v.length === 3 && v[0] === null && typeof v[1] === 'string' && isInt(v[2])) bus(rowid, v[1], v[2]);
      }
    }
  } finally {
    closeSync(fd);
  }
  return found;
}
