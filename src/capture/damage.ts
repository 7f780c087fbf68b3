// What a failed store operation means, in one place: damage (capture goes off until the
// store is recovered), a full disk or an I/O error (capture keeps trying, and says so).
// The same words reach the log, `status`, `top`, `doctor`, metrics and the CLI.
import { CaptureStoreError, type SqliteDatabase } from './sqlite-binding.js';

/** Why capture is off or not recording. */
// The problem's shape is part of the snapshot schema (control/protocol.ts); re-exported here.
export type { CaptureProblem, CaptureProblemReason } from '../control/protocol.js';
import type { CaptureProblem } from '../control/protocol.js';

function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : '';
}

/** SQLite says the file is damaged: SQLITE_CORRUPT (and its extended codes) or SQLITE_NOTADB. */
export function isDamage(err: unknown): boolean {
  if (err instanceof CaptureStoreError) return err.code === 'corrupt';
  const code = sqliteCode(err);
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

/** The reason for a failed write that capture survives (it retries at the next commit). */
export function writeFailureReason(err: unknown): 'disk_full' | 'io_error' | 'write_failed' {
  const code = sqliteCode(err);
  if (code === 'SQLITE_FULL' || (err as NodeJS.ErrnoException)?.code === 'ENOSPC') return 'disk_full';
  if (code.startsWith('SQLITE_IOERR')) return 'io_error';
  return 'write_failed';
}

/** The next step for a damaged store at `path`. */
export function recoverHint(path: string): string {
  return `run: ampio-bridge capture recover --capture ${path} (keeps the damaged file, salvages what is readable into a new store), then: sudo systemctl reload ampio-bridge`;
}

export function damagedStore(path: string, detail: string, cause?: unknown): CaptureStoreError {
  return new CaptureStoreError('corrupt', `the capture store ${path} is damaged (${detail})`, recoverHint(path), { cause });
}

/** What a failing write means to someone reading `status`. */
export function writeProblem(reason: 'disk_full' | 'io_error' | 'write_failed', path: string, error: string, since: number): CaptureProblem {
  if (reason === 'disk_full') {
    return {
      reason,
      message: `the disk holding ${path} is full: frames are not recorded (${error})`,
      hint: 'free space on that file system (or lower --capture-max-size); capture resumes by itself',
      since,
    };
  }
  if (reason === 'io_error') {
    return {
      reason,
      message: `writing ${path} fails with an I/O error: frames are not recorded (${error})`,
      hint: 'check the SD card or disk (dmesg); capture resumes by itself when writes succeed',
      since,
    };
  }
  return {
    reason,
    message: `writing ${path} fails: frames are not recorded (${error})`,
    hint: 'see the log; capture resumes by itself when writes succeed',
    since,
  };
}

/**
 * SQLite's own check of every page of the file (b-tree structure, cell layout, free list),
 * without the cross-check of index contents that integrity_check adds: the store has no
 * secondary index on frames, so it sees the same damage. Linear in the file size: measured
 * 2.8 s warm / 16 s cold for a 1 GB store on an x64 VM (`npm run bench -- --capture-check`);
 * it runs in the capture worker, never on the thread that serves the bus.
 * Returns null when the file is sound, else SQLite's first findings.
 */
export function quickCheck(db: SqliteDatabase): string | null {
  try {
    const rows = db.pragma('quick_check(3)', { simple: false }) as Array<{ quick_check: string }>;
    const findings = rows.map((r) => r.quick_check).filter((t) => t !== 'ok');
    return findings.length === 0 ? null : findings.join('; ');
  } catch (err) {
    if (isDamage(err)) return (err as Error).message;
    throw err;
  }
}
