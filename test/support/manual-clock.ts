// A clock moved by hand, for code that takes its timers as an argument (setTimeout,
// clearTimeout, now). Unlike vi.useFakeTimers it replaces nothing global: sockets, child
// processes and the test's own waits keep Node's real timers, so real I/O stays real
// while the code under test sees time pass only when the test says so.

interface PendingTimer {
  at: number;
  fn: () => void;
}

export class ManualClock {
  private time = 0;
  private lastId = 0;
  private readonly timers = new Map<number, PendingTimer>();
  private readonly armWaiters = new Set<(at: number) => void>();

  readonly now = (): number => this.time;

  readonly setTimeout = (fn: () => void, ms: number): number => {
    const id = ++this.lastId; // never 0: a handle is always truthy
    const at = this.time + Math.max(0, ms);
    this.timers.set(id, { at, fn });
    for (const w of [...this.armWaiters]) w(at);
    return id;
  };

  readonly clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  /**
   * Moves time forward by `ms` for code whose timer callbacks start async work (a look, an
   * open): after each due timer fires, every promise chain it started settles (one
   * setImmediate) before the next timer is due, so nothing overlaps that would not for real.
   */
  async settleThrough(ms: number): Promise<void> {
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const end = this.time + ms;
    for (;;) {
      await settle();
      const next = this.dueTimes()[0];
      if (next === undefined || next > end) break;
      this.advance(next - this.time);
    }
    this.advance(end - this.time);
    await settle();
  }

  /** Due times of the timers still waiting, earliest first. */
  dueTimes(): number[] {
    return [...this.timers.values()].map((t) => t.at).sort((a, b) => a - b);
  }

  /**
   * Moves time forward by `ms`, firing every timer due by then in due order (ties in the
   * order they were armed), including timers armed by the callbacks themselves.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move a clock back (${ms} ms)`);
    const end = this.time + ms;
    for (;;) {
      let nextId = -1;
      let next: PendingTimer | null = null;
      for (const [id, t] of this.timers) {
        if (t.at <= end && (next === null || t.at < next.at)) {
          nextId = id;
          next = t;
        }
      }
      if (!next) break;
      this.timers.delete(nextId);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
  }

  /**
   * Resolves once a timer due at `at` is armed (now or later): the way to wait, in real
   * time, for a callback's asynchronous work to finish when it ends by re-arming itself.
   */
  whenArmed(at: number, what: string, timeoutMs = 5000): Promise<void> {
    if (this.dueTimes().includes(at)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = (armedAt: number) => {
        if (armedAt !== at) return;
        this.armWaiters.delete(waiter);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.armWaiters.delete(waiter);
        reject(new Error(`no timer armed for ${at} ms within ${timeoutMs} ms (real) waiting for ${what}; armed: ${this.dueTimes().join(', ') || 'none'}`));
      }, timeoutMs);
      this.armWaiters.add(waiter);
    });
  }
}
