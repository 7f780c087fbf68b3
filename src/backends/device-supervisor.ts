// One device's life for a hardware backend: open it, watch it, notice when it is gone,
// open it again, close it on stop. Shared by the serial and SocketCAN backends, which
// differ only in how they look at the device (stat a path; read a link) and in what an
// open handle is (a port; a socket): those come in as a SupervisedDevice.
//
// The rules, in one place:
// - One look at a time, never overlapping: every `lookMs.closed` while closed (a device
//   that comes back is noticed within one), every `lookMs.open` while open. The timers are
//   injected, so tests step a manual clock through whole schedules without waiting.
// - Open: a look that says the handle no longer belongs to the device (path gone or
//   replaced, link down, interface re-created, MTU changed) loses it, and so does a fault
//   the backend sees first (port closed, socket error) through lose().
// - Closed: a missing device is reported as such. One that (re)appears is tried at once
//   with a fresh backoff: a new device deserves a quick first try. One that is there but
//   will not open is retried on the backoff schedule (doubling up to the ceiling), its
//   problem handed on as new only when it differs from the last one (one log line per
//   distinct problem, not one per retry).
// - After a loss the next open comes at the next look or one backoff step later, as the
//   backend chooses (`retryAfterLoss`). The device counts as present until a look finds
//   it missing: only a device seen missing and then seen again counts as reappearing.
// - A successful open resets the backoff; every open after the first is a reopen.
// - stop() while an open is in flight: the handle that arrives afterwards is closed, never
//   used; an open that fails afterwards is not reported.
import { Backoff } from '../core/backoff.js';

export interface DeviceTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unref'd: neither a look nor a backend's read timeout keeps a stopping process alive. */
export const NODE_TIMERS: DeviceTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What the supervisor needs from a backend. None of these may throw, except open(). */
export interface SupervisedDevice<H, L> {
  /** Looks at the device without opening it (stat its path, read its link). */
  look(): Promise<L>;
  /** Whether the look finds a device worth trying to open. */
  present(look: L): boolean;
  /** While open: why this look means the handle is no longer the device's, or null. */
  faultOf(handle: H, look: L, atOpen: L): string | null;
  /** Opens the device; throws or rejects when it cannot. */
  open(look: L): H | Promise<H>;
  /** Releases a handle the supervisor is done with (lost, stopped, or opened too late). */
  close(handle: H): void | Promise<void>;
  /** The handle is now the device's; `reopen`: not the first open. Awaited before the next look. */
  opened(handle: H, reopen: boolean, look: L): void | Promise<void>;
  /** The problem an open failure stands for: the text repeats are recognised by. */
  problemOf(err: unknown, look: L): string;
  /** An open failed; `firstTime`: its problem differs from the previous failure's. */
  openFailed(err: unknown, failure: { problem: string; retryMs: number; firstTime: boolean; look: L }): void;
  /** The handle was lost (and is being closed); `retryMs` null: the next look tries again. */
  lost(handle: H, why: string, retryMs: number | null): void;
  /** A look while closed found no device; `vanished`: until now it counted as present. */
  missing(look: L, vanished: boolean): void;
}

export interface DeviceSupervisorOptions {
  /** Monotonic ms, on the same clock as `timers`. */
  now: () => number;
  timers?: DeviceTimers;
  /** Look interval, ms, while the device is open and while it is not. */
  lookMs: { open: number; closed: number };
  /** Backoff for failing opens (and for reopening after a loss when `retryAfterLoss` is 'backoff'). */
  backoff: { initial: number; max: number };
  /**
   * After a loss: 'next-look' tries again at the next look (the look itself says whether
   * the device is there), 'backoff' waits one backoff step first.
   */
  retryAfterLoss: 'next-look' | 'backoff';
  /** Try the first open even when the first look finds nothing, so its error is reported. */
  openOnFirstLook?: boolean;
}

export class DeviceSupervisor<H, L> {
  private readonly timers: DeviceTimers;
  private readonly backoff: Backoff;
  private current: H | null = null;
  private openLook: L | null = null;
  private timer: unknown = null;
  private busy = false;
  private isStopped = false;
  private everOpened = false;
  private reopenCount = 0;
  /** Whether the device counted as there at the last look (or the last loss). */
  private wasPresent = false;
  /** Monotonic time before which a present device is not tried again. */
  private nextAttemptAt = 0;
  private lastProblem = '';

  constructor(
    private readonly device: SupervisedDevice<H, L>,
    private readonly opts: DeviceSupervisorOptions,
  ) {
    this.timers = opts.timers ?? NODE_TIMERS;
    this.backoff = new Backoff(opts.backoff);
  }

  /** The open handle, or null while the device is not open (and after stop()). */
  get handle(): H | null {
    return this.current;
  }

  get stopped(): boolean {
    return this.isStopped;
  }

  /** Opens after the first. */
  get reopens(): number {
    return this.reopenCount;
  }

  /** Resolves once the first look (and the open it may try) is done; then keeps looking. */
  async start(): Promise<void> {
    this.isStopped = false;
    await this.step(true);
    this.schedule();
  }

  /** Stops looking and closes the open handle. Idempotent. */
  async stop(): Promise<void> {
    if (this.isStopped) return;
    this.isStopped = true;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    const handle = this.current;
    this.current = null;
    this.openLook = null;
    if (handle !== null) await this.device.close(handle);
  }

  /** A fault the backend saw on `handle` (port closed, socket error). Ignored for any other handle. */
  lose(handle: H, why: string): void {
    if (handle !== this.current || this.isStopped) return;
    this.current = null;
    this.openLook = null;
    void Promise.resolve(this.device.close(handle)).catch(() => undefined);
    let retryMs: number | null = null;
    if (this.opts.retryAfterLoss === 'backoff') {
      retryMs = this.backoff.next();
      this.nextAttemptAt = this.opts.now() + retryMs;
    } else {
      this.nextAttemptAt = 0;
    }
    this.wasPresent = true;
    this.device.lost(handle, why, retryMs);
    // Closed looks come at their own, usually shorter, interval: re-arm a pending open-look.
    // (A look in flight arms the next one itself when it ends.)
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.isStopped || this.timer !== null) return;
    const ms = this.current !== null ? this.opts.lookMs.open : this.opts.lookMs.closed;
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      void this.step(false).finally(() => this.schedule());
    }, ms);
  }

  private async step(first: boolean): Promise<void> {
    // Timer-driven looks cannot overlap (the next is armed when one ends); this guards a
    // start() that comes while an earlier look is still out.
    if (this.busy || this.isStopped) return;
    this.busy = true;
    try {
      const look = await this.device.look();
      if (this.isStopped) return;
      const present = this.device.present(look);
      const wasPresent = this.wasPresent;
      this.wasPresent = present;
      const handle = this.current;
      if (handle !== null) {
        const why = this.device.faultOf(handle, look, this.openLook as L);
        if (why !== null) this.lose(handle, why);
        return;
      }
      if (present && !wasPresent) {
        this.backoff.reset();
        this.nextAttemptAt = 0;
      }
      if (!present && !(first && this.opts.openOnFirstLook)) {
        this.device.missing(look, wasPresent);
        return;
      }
      if (this.opts.now() >= this.nextAttemptAt) await this.attempt(look);
    } finally {
      this.busy = false;
    }
  }

  private async attempt(look: L): Promise<void> {
    let handle: H;
    try {
      handle = await this.device.open(look);
    } catch (err) {
      if (this.isStopped) return;
      const retryMs = this.backoff.next();
      this.nextAttemptAt = this.opts.now() + retryMs;
      const problem = this.device.problemOf(err, look);
      const firstTime = problem !== this.lastProblem;
      this.lastProblem = problem;
      this.device.openFailed(err, { problem, retryMs, firstTime, look });
      return;
    }
    if (this.isStopped) {
      await this.device.close(handle);
      return;
    }
    this.current = handle;
    this.openLook = look;
    this.lastProblem = '';
    this.backoff.reset();
    const reopen = this.everOpened;
    if (reopen) this.reopenCount++;
    this.everOpened = true;
    await this.device.opened(handle, reopen, look);
  }
}
