// When each client's batched frames are written, for all the clients of one bus.
//
// Why shared: the clients of a bus receive the same frames at the same moments, so their
// batches start together. With a timer per client, a busy bus armed and cleared one timer
// per client per batch (tens of thousands a second, each a Node Timeout plus a list insert),
// and an idle-ish bus fired one timer per client per frame. One timer per bus (or, with
// --flush-interval 0, one microtask per bus) serves them all; no timer exists while nothing
// waits, so an idle bridge still costs nothing.
import { atTurnEnd } from '../core/microtask.js';

/** What the scheduler needs from a client connection. */
export interface Flushable {
  /** ms a frame may wait for its batch; 0 = write at the end of the current turn. */
  readonly flushInterval: number;
  /**
   * The deadline the scheduler set for this client's current batch: −1 none, 0 the next
   * microtask, else a time on the scheduler's clock. flush() resets it to −1, so an entry
   * whose deadline no longer matches is a batch that was already written (batch full).
   */
  flushDeadline: number;
  /** Writes what is queued; resets flushDeadline. */
  flush(): void;
}

/** Timers fire on a millisecond clock: treat a deadline this close as reached. */
const EARLY_MS = 1;

export class FlushScheduler {
  // Clients waiting for a timer deadline, with the deadline they were scheduled for.
  private waiting: Flushable[] = [];
  private deadlines: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Number.POSITIVE_INFINITY;
  /** The last Timeout made and its delay: reused (refreshed) for the next batch of that delay. */
  private spare: NodeJS.Timeout | null = null;
  private timerDelay = -1;
  // Clients to flush in the next microtask (--flush-interval 0).
  private soon: Flushable[] = [];
  private microtaskQueued = false;
  /** A paced read is being delivered: batches it starts wait for its end, not for a timer. */
  private held = false;

  /** `now`: monotonic ms (performance.now in the daemon). */
  constructor(private readonly now: () => number) {}

  /** `c` just queued the first frame of a batch: flush it when its interval has passed. */
  schedule(c: Flushable): void {
    if (c.flushInterval <= 0) {
      c.flushDeadline = 0;
      this.soon.push(c);
      if (!this.microtaskQueued) {
        this.microtaskQueued = true;
        atTurnEnd(this.flushSoon);
      }
      return;
    }
    const due = this.now() + c.flushInterval;
    c.flushDeadline = due;
    this.waiting.push(c);
    this.deadlines.push(due);
    if (!this.held && due < this.timerDue) this.arm(due);
  }

  /** This scheduler as its bus's `pacing` listener: a paced read holds the timers, its end writes. */
  readonly pacing = { start: (): void => this.holdTimers(), end: (): void => this.flushWaiting() };

  /**
   * A paced read starts delivering its frames: the batches they start are written by
   * flushWaiting() at its end, so arming (and later firing) a timer for each would be work
   * thrown away, under load once per pacing interval. The caller must end it by flushWaiting().
   */
  holdTimers(): void {
    this.held = true;
  }

  /**
   * Writes every batch waiting for its timer now. Called when the bus read its frames by
   * read pacing: those frames already waited in the kernel's queue, so the batch they start
   * is written at the end of the read instead of one more flush interval later (and under
   * load the writes follow the pacing reads instead of timers of their own).
   */
  flushWaiting(): void {
    this.held = false;
    if (this.waiting.length === 0) return;
    // The timer stays armed (cleared, it could not be refreshed): the next batch re-arms it
    // by refresh(), and if none comes it fires once and finds nothing to do.
    this.timerDue = Number.POSITIVE_INFINITY;
    const waiting = this.waiting;
    const deadlines = this.deadlines;
    this.waiting = [];
    this.deadlines = [];
    for (let k = 0; k < waiting.length; k++) {
      const c = waiting[k];
      if (c.flushDeadline === deadlines[k]) c.flush();
    }
  }

  /** Clients waiting for a timer (for tests and the curious). */
  get pending(): number {
    return this.waiting.length + this.soon.length;
  }

  private arm(due: number): void {
    const delay = Math.max(1, Math.ceil(due - this.now()));
    this.timerDue = due;
    // A busy bus arms a timer per batch, nearly always with the same delay (--flush-interval):
    // refresh() restarts the one Timeout we have instead of allocating a new one each time.
    const t = this.timer ?? this.spare;
    if (t !== null && this.timerDelay === delay) {
      this.timer = t.refresh();
      return;
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDelay = delay;
    this.timer = setTimeout(this.fire, delay);
    this.spare = this.timer;
  }

  private readonly flushSoon = (): void => {
    this.microtaskQueued = false;
    const list = this.soon;
    this.soon = [];
    for (let k = 0; k < list.length; k++) {
      const c = list[k];
      // −1: it already wrote this batch (batch full) and nothing new arrived since.
      if (c.flushDeadline === 0) c.flush();
    }
  };

  private readonly fire = (): void => {
    this.timer = null;
    // Everything due by the deadline this timer was armed for is due now: the timer firing
    // is the proof that the time passed, whatever the injected clock says (a clock held
    // still in a test must not turn this into a timer that re-arms forever).
    const now = Number.isFinite(this.timerDue) ? Math.max(this.now(), this.timerDue) : this.now();
    this.timerDue = Number.POSITIVE_INFINITY;
    // Taken out first: a flush must not see (or reschedule into) the list being walked.
    const waiting = this.waiting;
    const deadlines = this.deadlines;
    this.waiting = [];
    this.deadlines = [];
    let next = Number.POSITIVE_INFINITY;
    for (let k = 0; k < waiting.length; k++) {
      const c = waiting[k];
      const due = deadlines[k];
      if (c.flushDeadline !== due) continue; // written meanwhile (batch full) or closed
      if (due <= now + EARLY_MS) {
        c.flush();
      } else {
        this.waiting.push(c);
        this.deadlines.push(due);
        if (due < next) next = due;
      }
    }
    if (next < this.timerDue) this.arm(next);
  };
}
