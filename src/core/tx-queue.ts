// The bridge's own bounded TX queue, one per bus: ENOBUFS must not lose frames, and a
// blocked bus must not replay old commands later.
//
// - Bounded: a full queue refuses new frames (`queue_full`) instead of growing.
// - Stamped with a monotonic clock at enqueue; a frame older than `maxAge` when its turn
//   comes is dropped as `stale`, so a light or blind never moves seconds after the tap
//   (as cannelloni's -x; the kernel qdisc is kept at qlen 100 for the same reason).
//   maxAge 0 = never expire.
// - A transient refusal by the device (ENOBUFS on SocketCAN: the qdisc is full) is retried
//   in order after a capped exponential backoff (1 → 2 → 4 → 5 ms); the frame is given up
//   only through staleness or when the link goes away.
// - Single writer: pump() is called by the backend's own timer; this module never blocks
//   and owns no timers (pure, clock injected).
import { Backoff } from './backoff.js';
import type { CanFrame, FrameOrigin } from './frame.js';

/** Drop reasons the queue itself produces (a subset of backends/types.ts DropReason). */
export type TxDropReason = 'stale' | 'queue_full' | 'link_down' | 'bus_off' | 'enobufs_giveup' | 'fd_unsupported' | 'unsupported' | 'malformed';

/**
 * What the device said about one write:
 * - `sent`: on the bus (or in the kernel's queue);
 * - `busy`: transient refusal (ENOBUFS/EAGAIN): retry this frame after a short backoff;
 * - `wait`: the device buffer is full and will tell us when it drains (serial stream):
 *   the caller calls pump() again on that event;
 * - `down`: the device is gone; the caller decides what to do with the backlog (usually
 *   clear('link_down'));
 * - `{ drop }`: this frame can never be sent (e.g. FD on a classic interface): drop it,
 *   count it and go on with the next.
 */
export type WriteOutcome = 'sent' | 'busy' | 'wait' | 'down' | { drop: TxDropReason };

export type PumpResult =
  /** The queue is empty. */
  | { state: 'idle' }
  /** Call pump() again after `delayMs` (busy backoff). `busyForMs`: length of the streak. */
  | { state: 'retry'; delayMs: number; busyForMs: number }
  /** Waiting for the device (`wait`) or the link (`down`); pump() again on that event. */
  | { state: 'blocked'; reason: 'wait' | 'down' };

export interface TxQueueStats {
  enqueued: number;
  sent: number;
  /** Busy refusals (each retry counts): `can_tx_enobufs_total`. */
  busy: number;
  dropped: Record<TxDropReason, number>;
  /** Highest depth seen. */
  highWater: number;
}

export interface TxQueueOptions {
  /** Frames held at most. */
  capacity: number;
  /** ms; 0 = frames never expire. */
  maxAge: number;
  /** Monotonic ms (performance.now() in production, a manual clock in tests). */
  now: () => number;
  /** Busy retry backoff, ms (default 1 → 5). */
  retryInitial?: number;
  retryMax?: number;
  /** Most frames written per pump() call, so one pump never hogs the event loop. */
  maxBurst?: number;
  onSent(frame: CanFrame, origin: FrameOrigin): void;
  onDropped(reason: TxDropReason, count: number): void;
}

interface Entry {
  frame: CanFrame;
  origin: FrameOrigin;
  at: number;
}

export class TxQueue {
  private readonly ring: (Entry | undefined)[];
  private head = 0;
  private size = 0;
  private readonly retry: Backoff;
  private busySince: number | null = null;
  private readonly st: TxQueueStats;
  private maxAgeMs: number;

  constructor(private readonly opts: TxQueueOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 1) throw new RangeError('capacity must be >= 1');
    this.ring = new Array(opts.capacity);
    this.maxAgeMs = opts.maxAge;
    this.retry = new Backoff({ initial: opts.retryInitial ?? 1, max: opts.retryMax ?? 5 });
    this.st = {
      enqueued: 0,
      sent: 0,
      busy: 0,
      dropped: {
        stale: 0,
        queue_full: 0,
        link_down: 0,
        bus_off: 0,
        enobufs_giveup: 0,
        fd_unsupported: 0,
        unsupported: 0,
        malformed: 0,
      },
      highWater: 0,
    };
  }

  get depth(): number {
    return this.size;
  }

  get capacity(): number {
    return this.ring.length;
  }

  /** `--tx-max-age` is reloadable: applies to frames already queued too. */
  setMaxAge(ms: number): void {
    this.maxAgeMs = ms;
  }

  /**
   * Queues a frame; refuses when full. A refusal is counted in stats() but not reported
   * through onDropped: the caller gets it as the return value (backends/types.ts: the
   * sink's `dropped` is only for frames accepted earlier and given up later).
   */
  push(frame: CanFrame, origin: FrameOrigin): { ok: true } | { ok: false; reason: 'queue_full' } {
    if (this.size === this.ring.length) {
      this.st.dropped.queue_full++;
      return { ok: false, reason: 'queue_full' };
    }
    this.ring[(this.head + this.size) % this.ring.length] = { frame, origin, at: this.opts.now() };
    this.size++;
    this.st.enqueued++;
    if (this.size > this.st.highWater) this.st.highWater = this.size;
    return { ok: true };
  }

  /**
   * Writes queued frames in order through `write` until the queue is empty, the device
   * pushes back, or `maxBurst` frames went out (then it asks to be called again at once:
   * `retry` with delay 0).
   */
  pump(write: (frame: CanFrame) => WriteOutcome): PumpResult {
    const burst = this.opts.maxBurst ?? 256;
    let written = 0;
    for (;;) {
      this.expire();
      const e = this.peekEntry();
      if (!e) {
        this.busySince = null;
        this.retry.reset();
        return { state: 'idle' };
      }
      if (written >= burst) return { state: 'retry', delayMs: 0, busyForMs: 0 };
      const outcome = write(e.frame);
      if (outcome === 'sent') {
        this.shift();
        this.st.sent++;
        written++;
        this.busySince = null;
        this.retry.reset();
        this.opts.onSent(e.frame, e.origin);
        continue;
      }
      if (outcome === 'busy') {
        this.st.busy++;
        const now = this.opts.now();
        if (this.busySince === null) this.busySince = now;
        return { state: 'retry', delayMs: this.retry.next(), busyForMs: now - this.busySince };
      }
      if (outcome === 'wait' || outcome === 'down') return { state: 'blocked', reason: outcome };
      this.shift();
      this.count(outcome.drop, 1);
    }
  }

  /**
   * Drops expired frames from the head (frames are in enqueue order, so every stale frame
   * is at the head). Returns how many went.
   */
  expire(): number {
    if (this.maxAgeMs <= 0 || this.size === 0) return 0;
    const limit = this.opts.now() - this.maxAgeMs;
    let n = 0;
    for (let e = this.peekEntry(); e && e.at < limit; e = this.peekEntry()) {
      this.shift();
      n++;
    }
    if (n > 0) this.count('stale', n);
    return n;
  }

  /** ms until the head frame turns stale (for a timer while blocked); null if never. */
  nextExpiryIn(): number | null {
    const e = this.peekEntry();
    if (!e || this.maxAgeMs <= 0) return null;
    return Math.max(0, e.at + this.maxAgeMs - this.opts.now());
  }

  /** Drops everything queued (link gone, bus-off, stop) with one reason. */
  clear(reason: TxDropReason): number {
    const n = this.size;
    for (let i = 0; i < n; i++) this.ring[(this.head + i) % this.ring.length] = undefined;
    this.head = 0;
    this.size = 0;
    this.busySince = null;
    this.retry.reset();
    if (n > 0) this.count(reason, n);
    return n;
  }

  /**
   * Counts a frame the backend refused before queueing it (link down, FD on a classic
   * bus...), so stats() holds every drop; like push(), not reported through onDropped.
   */
  refuse(reason: TxDropReason): void {
    this.st.dropped[reason]++;
  }

  stats(): TxQueueStats {
    return { ...this.st, dropped: { ...this.st.dropped } };
  }

  private peekEntry(): Entry | undefined {
    return this.size === 0 ? undefined : this.ring[this.head];
  }

  private shift(): void {
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
  }

  private count(reason: TxDropReason, n: number): void {
    this.st.dropped[reason] += n;
    this.opts.onDropped(reason, n);
  }
}
