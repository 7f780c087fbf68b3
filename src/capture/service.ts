// The capture service of `serve`: the tap on the buses (this thread) plus the worker that
// owns the store (another thread). Frames cross as transferred batches; the worker reports
// commits back, which is what frees room in the tap's bounded queue.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CaptureSnapshot } from '../control/protocol.js';
import type { CaptureProblem, CaptureProblemReason } from './damage.js';
import type { StoreSummary } from './sqlite-store.js';
import { CaptureTap } from './tap.js';
import type { FrameBatch } from './batch.js';
import type { ForwardSettings, ForwardStatus, WorkerInit, WorkerToMain } from './worker-messages.js';
import type { LogFn } from '../core/log-fn.js';

export interface CaptureServiceOptions {
  path: string;
  commitIntervalMs: number;
  retentionMs: number;
  maxBytes: number;
  drops: boolean;
  forward: ForwardSettings | null;
  hostname: string;
  log: LogFn;
  /** Frames held in memory before new ones are dropped (default 262144, about 12 s of a saturated 1 Mbit/s bus). */
  maxQueuedFrames?: number;
  /** How often overflow drops are logged, at most (default 10 s). */
  dropLogIntervalMs?: number;
  /** How often a run of failing commits (disk full) is logged again, at most (default 60 s). */
  remindEveryMs?: number;
}

/** How long a stop waits for a store still being checked before giving it up. */
const STOP_WAITS_FOR_OPEN_MS = 1000;

/** Under vitest the sources run as .ts; the worker then runs from the build (npm test builds first). */
function workerUrl(): URL {
  const here = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL(here.href.replace('/src/capture/', '/dist/src/capture/'));
}

export class CaptureService {
  readonly name = 'capture';
  readonly tap: CaptureTap;
  private worker: Worker | null = null;
  private state: CaptureSnapshot['state'] = 'starting';
  private summary: StoreSummary | null = null;
  private forward: ForwardStatus | null = null;
  private committed = 0;
  private writeFailures = 0;
  private evicted = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private droppedLogged = 0;
  private lastDropLog = 0;
  private stopped: Promise<void> | null = null;
  private onStopped: (() => void) | null = null;
  private early: FrameBatch[] = [];
  private opening: Promise<void> | null = null;
  private problem: CaptureProblem | null = null;

  constructor(private readonly options: CaptureServiceOptions) {
    this.tap = new CaptureTap({
      maxQueuedFrames: options.maxQueuedFrames ?? 1 << 18,
      drops: options.drops,
      post: (batch) => {
        if (this.worker && this.state === 'on') this.worker.postMessage({ type: 'batch', batch }, [batch.buffer]);
        // The buses start before the services: keep their first frames until the store is open
        // (bounded: they count against maxQueuedFrames).
        else if (this.state === 'starting') this.early.push(batch);
        else {
          // The store failed or stopped: these frames are not recorded, and say so.
          this.writeFailures += batch.frames;
          this.tap.settled(batch.frames);
        }
      },
    });
    if (options.forward)
      this.forward = {
        state: 'connecting',
        target: options.forward.display,
        backlogRows: 0,
        lagSeconds: 0,
        rowsTotal: 0,
        errorsTotal: 0,
        lostTotal: 0,
        lastError: null,
      };
  }

  /**
   * Starts the worker, which checks and opens the store. Resolves at once: the check reads
   * the whole file (seconds for a large store), and the bridge serves meanwhile; frames wait
   * in the bounded queue. A store that cannot be used never stops the bridge: capture goes
   * off with the reason (`capture_off`, status, top, metrics) and the next step.
   */
  async start(): Promise<void> {
    this.opening = this.open();
    const flushEvery = Math.min(250, this.options.commitIntervalMs);
    this.flushTimer = setInterval(() => this.tick(), flushEvery);
    this.flushTimer.unref();
  }

  /** Settles once the store is open or capture is off (tests, and stop()). */
  opened(): Promise<void> {
    return this.opening ?? Promise.resolve();
  }

  /**
   * SIGHUP: capture that is off because of its store is tried again (after `capture
   * recover`, or once the file was moved away), without restarting the bridge.
   */
  async reload(): Promise<void> {
    if (this.state !== 'failed' || this.stopped) return;
    this.options.log('info', 'capture_retry', { path: this.options.path });
    this.state = 'starting';
    this.opening = this.open();
    await this.opening;
  }

  private open(): Promise<void> {
    const init: WorkerInit = {
      path: this.options.path,
      commitIntervalMs: this.options.commitIntervalMs,
      retentionMs: this.options.retentionMs,
      maxBytes: this.options.maxBytes,
      hostname: this.options.hostname,
      forward: this.options.forward,
      remindEveryMs: this.options.remindEveryMs,
    };
    const worker = new Worker(workerUrl(), { workerData: init, name: 'ampio-bridge capture' });
    this.worker = worker;
    return new Promise<void>((resolve) => {
      worker.on('message', (m: WorkerToMain) => {
        if (m.type === 'ready') {
          this.state = 'on';
          this.problem = null;
          this.summary = m.summary;
          for (const batch of this.early) worker.postMessage({ type: 'batch', batch }, [batch.buffer]);
          this.early = [];
          this.options.log('info', 'capture_open', {
            path: this.options.path,
            rows: m.summary.rows,
            bytes: m.summary.bytes,
            forward: this.options.forward?.display ?? 'off',
          });
          resolve();
        } else if (m.type === 'failed') {
          this.off(m.code as CaptureProblemReason, m.message, m.hint);
          resolve();
        } else this.onMessage(m);
      });
      worker.on('error', (err) => {
        this.off(
          'worker_failed',
          `the capture worker failed: ${err.message}`,
          'see the log; capture is off, the bridge keeps serving (sudo systemctl reload ampio-bridge tries again)',
        );
        resolve();
      });
      worker.on('exit', () => {
        // A worker replaced by a reload says nothing about the current one.
        const current = this.worker === worker;
        if (current) this.worker = null;
        if (current && (this.state === 'on' || this.state === 'starting')) {
          this.off(
            'worker_failed',
            'the capture worker exited',
            'see the log; capture is off, the bridge keeps serving (sudo systemctl reload ampio-bridge tries again)',
          );
        }
        resolve();
        this.onStopped?.();
      });
    });
  }

  /** Capture goes off; the buses and clients carry on. */
  private off(reason: CaptureProblemReason, message: string, hint: string): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.problem = { reason, message, hint, since: Date.now() };
    // Frames waiting for this store will not be recorded (counted as dropped).
    for (const batch of this.early) this.writeFailures += batch.frames;
    this.early = [];
    this.tap.settleAll();
    this.options.log('error', 'capture_off', { reason, path: this.options.path, error: message, hint });
  }

  private onMessage(m: WorkerToMain): void {
    switch (m.type) {
      case 'committed':
        this.committed += m.frames;
        this.summary = m.summary;
        this.tap.settled(m.frames);
        break;
      case 'commit_failed':
        this.writeFailures += m.frames;
        this.tap.settled(m.frames);
        break;
      case 'evicted':
        this.evicted += m.rows;
        break;
      case 'forward':
        this.forward = m.status;
        break;
      case 'problem':
        this.problem = m.problem;
        break;
      case 'damaged':
        this.off('corrupt', m.message, m.hint);
        break;
      case 'log':
        this.options.log(m.level, m.event, m.fields);
        break;
      case 'stopped':
        this.state = 'stopped';
        break;
      default:
        break;
    }
  }

  private tick(): void {
    this.tap.flush();
    const dropped = this.tap.dropped;
    const now = Date.now();
    if (dropped > this.droppedLogged && now - this.lastDropLog >= (this.options.dropLogIntervalMs ?? 10_000)) {
      this.options.log('warn', 'capture_dropped', {
        frames: dropped - this.droppedLogged,
        total: dropped,
        message: 'the capture store cannot keep up (slow disk?); frames were not recorded',
      });
      this.droppedLogged = dropped;
      this.lastDropLog = now;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.stopped = this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    // A store about to open is waited for, briefly (its first frames are committed too); a
    // long check of a large store is abandoned: the stop stays within systemd's budget.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.opening, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAITS_FOR_OPEN_MS)))]);
    clearTimeout(timer);
    const worker = this.worker;
    if (!worker || this.state !== 'on') {
      if (this.state === 'starting') {
        // Given up while checking: not a failure, and its queued frames were not recorded.
        this.state = 'stopped';
        for (const batch of this.early) this.writeFailures += batch.frames;
        this.early = [];
      }
      await worker?.terminate();
      return;
    }
    this.tap.flush();
    await new Promise<void>((resolve) => {
      this.onStopped = resolve;
      worker.postMessage({ type: 'stop' });
    });
  }

  /** The daemon service's snapshot section: the `capture` field of status/top. */
  contribute(snapshot: { capture?: CaptureSnapshot }): void {
    snapshot.capture = this.snapshot();
  }

  /** For status/top/snapshot (the `capture` field). */
  snapshot(): CaptureSnapshot {
    const s = this.summary;
    return {
      path: this.options.path,
      state: this.state,
      rows: s?.rows ?? 0,
      bytes: s?.bytes ?? 0,
      oldestFrame: s?.oldestUs == null ? null : s.oldestUs / 1000,
      newestFrame: s?.newestUs == null ? null : s.newestUs / 1000,
      frames: this.committed,
      dropped: this.tap.dropped + this.writeFailures,
      queued: this.tap.queued,
      evicted: this.evicted,
      forward: this.forward,
      problem: this.problem,
    };
  }
}
