// Runs a TxQueue (src/core/tx-queue.ts) with real timers for a hardware backend: pumps in
// a microtask after send() (send() itself returns at once), retries a busy device after
// the queue's backoff, keeps the stale counter moving while the device is blocked, and
// logs a device that keeps refusing, rate-limited, telling "briefly full" from "unusable".
import type { CanFrame, FrameOrigin } from '../core/frame.js';
import type { BackendSink, SendResult } from './types.js';
import { TxQueue, type TxDropReason, type TxQueueStats, type WriteOutcome } from '../core/tx-queue.js';
import type { LogFn } from '../core/log-fn.js';
import { atTurnEnd } from '../core/microtask.js';

export interface TxDriverOptions {
  capacity: number;
  maxAge: number;
  now: () => number;
  /** One write attempt; see WriteOutcome. */
  write(frame: CanFrame): WriteOutcome;
  onSent(frame: CanFrame, origin: FrameOrigin): void;
  onDropped(reason: TxDropReason, count: number): void;
  log: LogFn;
  /** A refusal streak longer than this is logged as "bus unusable" (default 1 s). */
  blockedLogAfterMs?: number;
  /** At most one such line per this many ms (default 5 s). */
  logEveryMs?: number;
}

export class TxDriver {
  readonly queue: TxQueue;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private staleTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastBlockedLog = -Infinity;
  private blockedLogged = false;
  private readonly blockedAfter: number;
  private readonly logEvery: number;

  constructor(private readonly opts: TxDriverOptions) {
    this.queue = new TxQueue({
      capacity: opts.capacity,
      maxAge: opts.maxAge,
      now: opts.now,
      onSent: opts.onSent,
      onDropped: opts.onDropped,
    });
    this.blockedAfter = opts.blockedLogAfterMs ?? 1000;
    this.logEvery = opts.logEveryMs ?? 5000;
  }

  /**
   * What a backend's send() does: a frame the device cannot take now (`refusal`, e.g. link
   * down, FD on a classic bus) is counted as refused by the queue; any other is queued.
   */
  offer(frame: CanFrame, origin: FrameOrigin, refusal: TxDropReason | null): SendResult {
    if (refusal) {
      this.queue.refuse(refusal);
      return { ok: false, reason: refusal };
    }
    return this.push(frame, origin);
  }

  /** Queues a frame and schedules a pump; never writes synchronously. */
  push(frame: CanFrame, origin: FrameOrigin): { ok: true } | { ok: false; reason: 'queue_full' } {
    const r = this.queue.push(frame, origin);
    if (r.ok) this.kick();
    return r;
  }

  /** Pumps soon (after send(), on drain, when the link comes back). */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    atTurnEnd(this.run);
  }

  clear(reason: TxDropReason): number {
    this.clearTimers();
    return this.queue.clear(reason);
  }

  setMaxAge(ms: number): void {
    this.queue.setMaxAge(ms);
    this.armStaleTimer();
  }

  stats(): TxQueueStats {
    return this.queue.stats();
  }

  get depth(): number {
    return this.queue.depth;
  }

  /** Drops the backlog (counted as `reason`) and stops all timers for good. */
  stop(reason: TxDropReason): void {
    this.stopped = true;
    this.clearTimers();
    this.queue.clear(reason);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    if (this.stopped) return;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    const r = this.queue.pump(this.opts.write);
    if (r.state === 'idle') {
      this.noteUnblocked();
      this.clearStaleTimer();
      return;
    }
    if (r.state === 'retry') {
      if (r.delayMs === 0) {
        // A full burst went out: let I/O callbacks run before the next one.
        this.retryTimer = setTimeout(this.run, 0);
        return;
      }
      this.noteBusy(r.busyForMs);
      this.retryTimer = setTimeout(this.run, r.delayMs);
      this.armStaleTimer();
      return;
    }
    // blocked: the backend calls kick() when the device drains or the link returns.
    this.armStaleTimer();
  };

  /** While blocked, expire frames on time so `stale` counts and depth stay truthful. */
  private armStaleTimer(): void {
    this.clearStaleTimer();
    if (this.stopped) return;
    const due = this.queue.nextExpiryIn();
    if (due === null) return;
    this.staleTimer = setTimeout(() => {
      this.staleTimer = null;
      this.queue.expire();
      this.armStaleTimer();
    }, Math.ceil(due) + 1);
    this.staleTimer.unref();
  }

  private clearStaleTimer(): void {
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleTimer = null;
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.clearStaleTimer();
  }

  private noteBusy(busyForMs: number): void {
    if (busyForMs < this.blockedAfter) return;
    const now = this.opts.now();
    if (now - this.lastBlockedLog < this.logEvery) return;
    this.lastBlockedLog = now;
    this.blockedLogged = true;
    const st = this.queue.stats();
    this.opts.log('warn', 'tx_blocked', {
      busy_ms: Math.round(busyForMs),
      queued: this.queue.depth,
      refusals: st.busy,
      stale: st.dropped.stale,
      message: 'the device has refused frames (ENOBUFS/full queue) for over a second: the bus is not taking frames (no ACK, bus-off, wrong bitrate?)',
    });
  }

  private noteUnblocked(): void {
    if (!this.blockedLogged) return;
    this.blockedLogged = false;
    const st = this.queue.stats();
    this.opts.log('info', 'tx_resumed', { refusals: st.busy, stale: st.dropped.stale });
  }
}

/** What a device backend tells its TX driver; the rest is forwarded to the backend's sink. */
export interface DeviceTxOptions {
  capacity: number;
  maxAge: number;
  now: () => number;
  write(frame: CanFrame): WriteOutcome;
  /** The backend's current sink (null while stopped): sent frames, drops and logs go there. */
  sink(): BackendSink | null;
  /** Added to every log line, e.g. `{ if: 'can0' }` or `{ dev: '/dev/ttyUSB0' }`. */
  logFields: Record<string, unknown>;
  /**
   * A frame was written to the device. Default: report it transmitted at once. SocketCAN
   * reports it only when the kernel confirms the transmission.
   */
  onWritten?(frame: CanFrame, origin: FrameOrigin): void;
}

/** A TxDriver wired to a backend's sink, as the serial and socketcan backends both need. */
export function createDeviceTxDriver(o: DeviceTxOptions): TxDriver {
  return new TxDriver({
    capacity: o.capacity,
    maxAge: o.maxAge,
    now: o.now,
    write: o.write,
    onSent: o.onWritten ?? ((f, origin) => o.sink()?.transmitted(f, origin)),
    onDropped: (reason, n) => o.sink()?.dropped(reason, n),
    log: (level, event, fields) => o.sink()?.log(level, event, { ...o.logFields, ...fields }),
  });
}
