// The broadcast-manager part of socketcand's BCM mode, done by the bridge itself: upstream
// hands these commands to the kernel's CAN_BCM socket, we keep the same semantics with our
// own timers so that they work on every backend (serial, virtual) and every cyclic frame
// takes the normal send path (TX queue, --tx-max-age, counters).
//
// Cyclic TX (`add`/`update`/`delete`), as the kernel's TX_SETUP with SETTIMER|STARTTIMER:
// the first frame goes out at once, then one every period. Jobs are keyed by CAN ID; `add`
// for a running ID replaces its data and restarts it; `update` changes the data only.
// Ticks are scheduled against absolute times (start + k·period), so timer lateness does not
// accumulate into the period; a tick that is more than a period late is skipped, not burst.
//
// RX (`subscribe`/`filter`/`unsubscribe`), as the kernel's RX_SETUP: `subscribe` delivers
// every frame of an ID (RX_FILTER_ID); `filter` delivers a frame only when its bytes under
// the mask differ from the last delivered-or-held one (the first always passes). A non-zero
// interval throttles: at most one frame per interval, the latest one held back and delivered
// when the interval ends.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_RTR_FLAG, CAN_SFF_MASK, type CanFrame } from '../../core/frame.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Monotonic ms. */
  now(): number;
}

/** The smallest cyclic period we run (a shorter one is raised to it): 1 ms. */
export const MIN_CYCLE_MS = 1;
/** Jobs and RX entries per session: enough for any real test bench, bounded against abuse. */
export const MAX_BCM_ENTRIES = 256;

/** The key both tables use: can_id with its EFF flag, without RTR/ERR. */
export const bcmKey = (canId: number): number => ((canId & CAN_EFF_FLAG) !== 0 ? (canId & (CAN_EFF_FLAG | CAN_EFF_MASK)) >>> 0 : canId & CAN_SFF_MASK);

interface Job {
  frame: CanFrame;
  periodMs: number;
  start: number;
  ticks: number;
  timer: unknown;
}

export class CyclicJobs {
  private readonly jobs = new Map<number, Job>();

  private readonly transmit: (frame: CanFrame) => void;

  constructor(
    private readonly timers: Timers,
    transmit: (frame: CanFrame) => void,
  ) {
    // A fresh frame per tick: the bus stamps each frame with its send time, in place.
    this.transmit = (frame) => transmit({ ...frame, timestamp: 0 });
  }

  get size(): number {
    return this.jobs.size;
  }

  /**
   * Sends `frame` now and then every `periodUs` µs (0: once, no job). Returns false when the
   * session already runs MAX_BCM_ENTRIES jobs.
   */
  add(frame: CanFrame, periodUs: number): boolean {
    const key = bcmKey(frame.id);
    const old = this.jobs.get(key);
    if (!old && periodUs > 0 && this.jobs.size >= MAX_BCM_ENTRIES) return false;
    if (old) this.stopJob(key, old);
    this.transmit(frame);
    if (periodUs === 0) return true;
    const job: Job = { frame, periodMs: Math.max(MIN_CYCLE_MS, periodUs / 1000), start: this.timers.now(), ticks: 0, timer: null };
    this.jobs.set(key, job);
    this.schedule(key, job);
    return true;
  }

  /** New data for a running job, from its next tick on. False if no job has that ID. */
  update(frame: CanFrame): boolean {
    const job = this.jobs.get(bcmKey(frame.id));
    if (!job) return false;
    job.frame = frame;
    return true;
  }

  delete(canId: number): boolean {
    const key = bcmKey(canId);
    const job = this.jobs.get(key);
    if (!job) return false;
    this.stopJob(key, job);
    return true;
  }

  clear(): void {
    for (const [key, job] of this.jobs) this.stopJob(key, job);
  }

  private stopJob(key: number, job: Job): void {
    this.timers.clearTimeout(job.timer);
    this.jobs.delete(key);
  }

  private schedule(key: number, job: Job): void {
    const now = this.timers.now();
    job.ticks++;
    let due = job.start + job.ticks * job.periodMs;
    if (due < now - job.periodMs) {
      // Fell more than a period behind (event loop stalled): resume on the grid, no burst.
      job.ticks = Math.ceil((now - job.start) / job.periodMs);
      due = job.start + job.ticks * job.periodMs;
    }
    job.timer = this.timers.setTimeout(
      () => {
        if (this.jobs.get(key) !== job) return;
        this.transmit(job.frame);
        this.schedule(key, job);
      },
      Math.max(0, due - now),
    );
  }
}

interface RxEntry {
  /** null: every frame (subscribe); else the content mask (filter). */
  mask: Uint8Array | null;
  throttleMs: number;
  /** Data of the last frame that passed the content check (delivered or held). */
  last: Uint8Array | null;
  lastSentAt: number | null;
  held: CanFrame | null;
  timer: unknown;
}

export class RxFilters {
  private readonly entries = new Map<number, RxEntry>();

  constructor(
    private readonly timers: Timers,
    /** Delivers a frame that a throttle held back, when its interval ends. */
    private readonly deliverLater: (frame: CanFrame) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** subscribe (mask null) or filter (mask of DLC bytes). False when the table is full. */
  set(canId: number, throttleUs: number, mask: Uint8Array | null): boolean {
    const key = bcmKey(canId);
    const old = this.entries.get(key);
    if (!old && this.entries.size >= MAX_BCM_ENTRIES) return false;
    if (old) this.timers.clearTimeout(old.timer);
    this.entries.set(key, { mask, throttleMs: throttleUs / 1000, last: null, lastSentAt: null, held: null, timer: null });
    return true;
  }

  delete(canId: number): boolean {
    const key = bcmKey(canId);
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.timers.clearTimeout(entry.timer);
    this.entries.delete(key);
    return true;
  }

  clear(): void {
    for (const e of this.entries.values()) this.timers.clearTimeout(e.timer);
    this.entries.clear();
  }

  /** Whether to deliver `frame` now (the hub then sends it). Runs for every bus frame. */
  accept(frame: CanFrame): boolean {
    if ((frame.id & (CAN_RTR_FLAG | CAN_ERR_FLAG)) !== 0 || frame.fd) return false;
    const entry = this.entries.get(bcmKey(frame.id));
    if (!entry) return false;
    if (entry.mask !== null) {
      if (entry.last !== null && sameUnderMask(entry.mask, entry.last, frame.data)) return false;
      entry.last = frame.data;
    }
    if (entry.throttleMs <= 0) return true;
    if (entry.timer !== null) {
      entry.held = frame;
      return false;
    }
    const now = this.timers.now();
    if (entry.lastSentAt === null || now - entry.lastSentAt >= entry.throttleMs) {
      entry.lastSentAt = now;
      return true;
    }
    entry.held = frame;
    entry.timer = this.timers.setTimeout(
      () => {
        entry.timer = null;
        const held = entry.held;
        entry.held = null;
        if (held && this.entries.get(bcmKey(held.id)) === entry) {
          entry.lastSentAt = this.timers.now();
          this.deliverLater(held);
        }
      },
      entry.lastSentAt + entry.throttleMs - now,
    );
    return false;
  }
}

/** Compares the 8 data bytes (missing bytes read as 0) under the mask, as the kernel does. */
function sameUnderMask(mask: Uint8Array, a: Uint8Array, b: Uint8Array): boolean {
  for (let k = 0; k < 8; k++) {
    const m = mask[k] ?? 0;
    if (((a[k] ?? 0) & m) !== ((b[k] ?? 0) & m)) return false;
  }
  return true;
}
