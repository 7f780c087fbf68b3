// How many file descriptors the process has and may have (Linux /proc). Needed because
// libuv hides EMFILE on accept: it closes its own spare descriptor, accepts and drops the
// waiting connections, and reports nothing when that works, so running out is invisible to
// Node unless counted.
import { readdirSync, readFileSync } from 'node:fs';

/** The soft RLIMIT_NOFILE, or null when unknown or unlimited. */
export function descriptorLimit(limitsFile = '/proc/self/limits'): number | null {
  try {
    const line = readFileSync(limitsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

/** Descriptors open now; the limit itself when even listing them fails for lack of one. */
export function descriptorsInUse(limit: number, fdDir = '/proc/self/fd'): number | null {
  try {
    // The listing holds one descriptor of its own while it runs.
    return readdirSync(fdDir).length - 1;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EMFILE' || code === 'ENFILE' ? limit : null;
  }
}
