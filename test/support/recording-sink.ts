// A BackendSink that records everything a backend reports, with a waitFor() helper, for
// driving a real backend (serial on a PTY, socketcan on vcan) without the daemon.
import type { CanFrame, FrameOrigin } from '../../src/core/frame.js';
import type { BackendSink, BackendState, BusState, DropReason } from '../../src/backends/types.js';

export interface StateRecord {
  backend: BackendState;
  bus: BusState;
  detail?: string;
  /** performance.now() when reported */
  at: number;
}

export class RecordingSink implements BackendSink {
  readonly rx: { frame: CanFrame; at: number; waitedMs?: number }[] = [];
  readonly tx: { frame: CanFrame; origin: FrameOrigin; at: number }[] = [];
  readonly drops: { reason: DropReason; count: number }[] = [];
  readonly states: StateRecord[] = [];
  readonly errors: CanFrame[] = [];
  readonly logs: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  malformedCount = 0;
  /** Optional sink hooks a test may set (BackendSink.pacedBatchStart/End). */
  pacedBatchStart?: () => void;
  pacedBatchEnd?: () => void;
  private waiters = new Set<() => void>();

  received(frame: CanFrame, waitedMs?: number): void {
    this.rx.push({ frame, at: performance.now(), waitedMs });
    this.notify();
  }

  transmitted(frame: CanFrame, origin: FrameOrigin): void {
    this.tx.push({ frame, origin, at: performance.now() });
    this.notify();
  }

  dropped(reason: DropReason, count: number): void {
    this.drops.push({ reason, count });
    this.notify();
  }

  stateChanged(backend: BackendState, bus: BusState, detail?: string): void {
    this.states.push({ backend, bus, detail, at: performance.now() });
    this.notify();
  }

  malformed(count: number): void {
    this.malformedCount += count;
    this.notify();
  }

  errorFrame(frame: CanFrame): void {
    this.errors.push(frame);
    this.notify();
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', event: string, fields?: Record<string, unknown>): void {
    this.logs.push({ level, event, fields });
    this.notify();
  }

  get state(): StateRecord | undefined {
    return this.states.at(-1);
  }

  dropCount(reason: DropReason): number {
    return this.drops.filter((d) => d.reason === reason).reduce((n, d) => n + d.count, 0);
  }

  /** Resolves when `check()` is true (re-checked on every report), rejects after `timeoutMs`. */
  waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last state ${JSON.stringify(this.state)}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
