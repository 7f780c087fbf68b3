// A run of failing commits (disk full, I/O errors): one line when it starts, a reminder at
// most every `remindEveryMs` while it lasts (with the frames lost since the last line), one
// line when a commit succeeds again. Pure: the worker feeds it the clock and the outcome.
import type { LogLevel } from '../core/log-fn.js';
import type { CaptureProblem } from './damage.js';
import { writeFailureReason, writeProblem } from './damage.js';

export interface TroubleLine {
  level: LogLevel;
  event: string;
  fields: Record<string, unknown>;
}

export class WriteTrouble {
  private current: CaptureProblem | null = null;
  private lostTotal = 0;
  private lostSinceLine = 0;
  private lastLineAt = 0;

  constructor(
    private readonly path: string,
    private readonly remindEveryMs = 60_000,
  ) {}

  /** The problem while commits fail; null while they succeed. */
  get problem(): CaptureProblem | null {
    return this.current;
  }

  /** A commit of `frames` frames failed with `err` at `now` (ms). Returns the line to log, if one is due. */
  failed(now: number, err: unknown, frames: number): TroubleLine | null {
    const reason = writeFailureReason(err);
    const error = (err as Error)?.message ?? String(err);
    this.lostTotal += frames;
    this.lostSinceLine += frames;
    if (this.current === null || this.current.reason !== reason) {
      this.current = writeProblem(reason, this.path, error, now);
      this.lastLineAt = now;
      this.lostSinceLine = 0;
      return { level: 'error', event: 'capture_write_failed', fields: { reason, error, frames, hint: this.current.hint } };
    }
    if (now - this.lastLineAt < this.remindEveryMs) return null;
    const line: TroubleLine = {
      level: 'warn',
      event: 'capture_write_failing',
      fields: {
        reason,
        error,
        for_s: Math.round((now - this.current.since) / 1000),
        frames: this.lostSinceLine,
        total: this.lostTotal,
        hint: this.current.hint,
      },
    };
    this.lastLineAt = now;
    this.lostSinceLine = 0;
    return line;
  }

  /** A commit succeeded at `now`. Returns the recovery line after a run of failures. */
  succeeded(now: number): TroubleLine | null {
    if (this.current === null) return null;
    const line: TroubleLine = {
      level: 'info',
      event: 'capture_write_recovered',
      fields: { reason: this.current.reason, after_s: Math.round((now - this.current.since) / 1000), frames_lost: this.lostTotal },
    };
    this.current = null;
    this.lostTotal = 0;
    this.lostSinceLine = 0;
    return line;
  }
}
