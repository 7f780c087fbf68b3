// Loads better-sqlite3 on demand, like the socketcan and serialport bindings: `serve`
// without --capture never loads it, and a missing or broken native module becomes an
// error that says what to run.
import type BetterSqlite3 from 'better-sqlite3';
import { findPackageRoot } from '../system/package-root.js';

export type SqliteDatabase = BetterSqlite3.Database;
export type SqliteConstructor = typeof BetterSqlite3;

export type CaptureErrorCode = 'sqlite_missing' | 'sqlite_broken' | 'foreign_file' | 'corrupt' | 'newer_schema' | 'not_found' | 'unwritable';

/** A capture-store problem with the next step for the user in `hint`. */
export class CaptureStoreError extends Error {
  constructor(
    readonly code: CaptureErrorCode,
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CaptureStoreError';
  }
}

function packageRoot(): string {
  return findPackageRoot(import.meta.url) ?? '<the ampio-bridge install directory>';
}

let cached: SqliteConstructor | null = null;

/** Imports better-sqlite3 (an optional dependency: it has a native part). */
export async function loadSqlite(importer: (specifier: string) => Promise<unknown> = (s) => import(s)): Promise<SqliteConstructor> {
  if (cached) return cached;
  const specifier = 'better-sqlite3';
  let mod: unknown;
  try {
    mod = await importer(specifier);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const text = String(e?.message ?? err);
    if ((e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && text.includes('better-sqlite3')) {
      throw new CaptureStoreError(
        'sqlite_missing',
        'frame capture needs the optional "better-sqlite3" package, which is not installed',
        `run: cd ${packageRoot()} && npm install --no-save better-sqlite3@12   (or start without --capture)`,
        { cause: err },
      );
    }
    throw bindingBroken(err);
  }
  const m = mod as { default?: unknown };
  const ctor = (typeof m.default === 'function' ? m.default : mod) as SqliteConstructor;
  if (typeof ctor !== 'function') {
    throw new CaptureStoreError(
      'sqlite_broken',
      'the "better-sqlite3" package does not export a Database class',
      `reinstall it: cd ${packageRoot()} && npm install --no-save better-sqlite3@12`,
    );
  }
  cached = ctor;
  return ctor;
}

/** The native part is loaded by the first `new Database()`; a failure there lands here. */
export function bindingBroken(err: unknown): CaptureStoreError {
  const text = String((err as Error)?.message ?? err).split('\n')[0];
  return new CaptureStoreError(
    'sqlite_broken',
    `the "better-sqlite3" package is installed but its native module does not load: ${text}`,
    `rebuild it for this Node.js (${process.version}): sudo apt install build-essential python3 && cd ${packageRoot()} && npm rebuild better-sqlite3`,
    { cause: err },
  );
}

/** True for errors thrown while loading a native addon (wrong ABI, missing .node file). */
export function isBindingLoadError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException;
  const text = String(e?.message ?? '');
  return e?.code === 'ERR_DLOPEN_FAILED' || /better_sqlite3\.node|Could not locate the bindings file|NODE_MODULE_VERSION/.test(text);
}
