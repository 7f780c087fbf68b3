// What `capture export -o FILE` leaves behind: the whole file or none. Frames go to a
// temporary file next to FILE that is renamed over it once every frame is written; a
// damaged store (or any other failure) mid-way removes it. And what a damaged store
// means to a reader: the way forward, not SQLite's bare "malformed".
import { createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import { damagedStore, isDamage } from '../../capture/damage.js';
import { CaptureStoreError } from '../../capture/sqlite-binding.js';
import type { DaemonCapture } from '../daemon-capture.js';

export interface OutputFile {
  stream: WriteStream;
  /** Flushes and puts the file in place. */
  commit(): Promise<void>;
  /** Removes the temporary file unless commit() ran (safe to call always). */
  abort(): Promise<void>;
}

export function outputFile(path: string): OutputFile {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  const stream = createWriteStream(temp);
  let done = false;
  return {
    stream,
    async commit() {
      stream.end();
      await once(stream, 'finish');
      renameSync(temp, path);
      done = true;
    },
    async abort() {
      if (done) return;
      done = true;
      if (!stream.closed) {
        stream.destroy();
        await once(stream, 'close').catch(() => {});
      }
      rmSync(temp, { force: true });
    },
  };
}

/** SQLite's damage error while reading → the store's error with `capture recover` as the next step. */
export function asDamage(err: unknown, path: string): unknown {
  return isDamage(err) && !(err as { hint?: string }).hint ? damagedStore(path, (err as Error).message, err) : err;
}

/**
 * The running bridge already found this store damaged: every reader says so at once (no
 * check of its own, which would read the whole file), query included.
 */
export function damageSeenByDaemon(daemon: DaemonCapture, path: string): CaptureStoreError | null {
  const p = daemon.reached ? daemon.capture?.problem : null;
  if (!daemon.reached || daemon.capture?.path !== path || p?.reason !== 'corrupt') return null;
  return new CaptureStoreError('corrupt', p.message, p.hint);
}
