// What the listeners do when the process runs out of file descriptors (EMFILE: our limit,
// ENFILE: the system's). Accepting more would only fail again, and every descriptor the bus
// ports take is one the control socket and /metrics cannot have. So: pause accepting on the
// bus ports (connections arriving meanwhile are closed at once, which frees their descriptor
// again), grow the pause with each failure (100 ms … 5 s), and log at most once per interval
// with the counts of what happened since the last line. Pure: the caller owns timers and
// sockets and passes the time in.
import { Backoff } from '../core/backoff.js';

export interface AcceptGovernorOptions {
  /** Minimum ms between two log lines about exhaustion. */
  logIntervalMs: number;
  initialPauseMs: number;
  maxPauseMs: number;
}

export const DEFAULT_ACCEPT_GOVERNOR: AcceptGovernorOptions = { logIntervalMs: 10_000, initialPauseMs: 100, maxPauseMs: 5_000 };

export interface ExhaustionReport {
  code: string;
  /** accept() failures since the last report. */
  failures: number;
  /** Connections closed at once because accepting was paused, since the last report. */
  refused: number;
  pauseMs: number;
  /** The first report of an episode (a recovery was logged in between or none ever). */
  first: boolean;
}

export class AcceptGovernor {
  private readonly backoff: Backoff;
  private pausedUntil = -1;
  private lastLogAt = Number.NEGATIVE_INFINITY;
  private failuresSinceLog = 0;
  private refusedSinceLog = 0;
  private lastCode = 'EMFILE';
  private lastFailureAt = Number.NEGATIVE_INFINITY;
  /** Since when descriptors ran out (monotonic ms), -1 when they did not. */
  exhaustedSince = -1;
  /** Counters for metrics and status. */
  failuresTotal = 0;
  refusedTotal = 0;
  episodes = 0;

  constructor(private readonly options: AcceptGovernorOptions = DEFAULT_ACCEPT_GOVERNOR) {
    this.backoff = new Backoff({ initial: options.initialPauseMs, max: options.maxPauseMs });
  }

  /** accept() failed with `code`. Returns the pause to apply, and a report to log if one is due. */
  failed(code: string, now: number): { pauseMs: number; report: ExhaustionReport | null } {
    this.failuresTotal++;
    this.failuresSinceLog++;
    this.lastFailureAt = now;
    this.lastCode = code;
    const first = this.exhaustedSince < 0;
    if (first) {
      this.exhaustedSince = now;
      this.episodes++;
    }
    // Already paused: a failure from a connection accepted just before the pause began.
    if (now < this.pausedUntil) return { pauseMs: this.pausedUntil - now, report: this.reportIfDue(now, first, this.pausedUntil - now) };
    const pauseMs = this.backoff.next();
    this.pausedUntil = now + pauseMs;
    return { pauseMs, report: this.reportIfDue(now, first, pauseMs) };
  }

  /** Whether new connections on the bus ports are to be closed at once. */
  paused(now: number): boolean {
    return now < this.pausedUntil;
  }

  /** A connection arrived while paused and was closed. */
  refused(): void {
    this.refusedTotal++;
    this.refusedSinceLog++;
  }

  /**
   * A connection was accepted outside a pause. When an episode is on and no accept() failed
   * for `quietMs`, descriptors are back: returns the closing counts to log once (else null).
   * The quiet time keeps a limit that is still hit now and then from logging a recovery and a
   * new episode on every pause.
   */
  recovered(now: number, quietMs = 1000): { code: string; durationMs: number; failures: number; refused: number } | null {
    if (this.exhaustedSince < 0 || now - this.lastFailureAt < quietMs) return null;
    const out = { code: this.lastCode, durationMs: now - this.exhaustedSince, failures: this.failuresSinceLog, refused: this.refusedSinceLog };
    this.exhaustedSince = -1;
    this.failuresSinceLog = 0;
    this.refusedSinceLog = 0;
    this.lastLogAt = Number.NEGATIVE_INFINITY;
    this.backoff.reset();
    return out;
  }

  get exhausted(): boolean {
    return this.exhaustedSince >= 0;
  }

  private reportIfDue(now: number, first: boolean, pauseMs: number): ExhaustionReport | null {
    if (!first && now - this.lastLogAt < this.options.logIntervalMs) return null;
    const report: ExhaustionReport = { code: this.lastCode, failures: this.failuresSinceLog, refused: this.refusedSinceLog, pauseMs, first };
    this.lastLogAt = now;
    this.failuresSinceLog = 0;
    this.refusedSinceLog = 0;
    return report;
  }
}
