// The capture service of `serve`: the tap on the buses (this thread) plus the worker that
// owns the store (another thread). Frames cross as transferred batches; the worker reports
// commits back, which is what frees room in the tap's bounded queue.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CaptureSnapshot } from '../control/protocol.js';
import { CaptureStoreError } from './sqlite-binding.js';
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
}

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

  constructor(private readonly options: CaptureServiceOptions) {
    this.tap = new CaptureTap({
      maxQueuedFrames: options.maxQueuedFrames ?? 1 << 18,
      drops: options.drops,
      post: (batch) => {
        if (this.worker && this.state === 'on') this.worker.postMessage({ type: 'batch', batch }, [batch.buffer]);
        // The buses start before the services: keep their first frames until the store is open.
        else if (this.state === 'starting') this.early.push(batch);
        else {
          // The store failed or stopped: these frames are not recorded, and say so.
          this.writeFailures += batch.frames;
          this.tap.settled(batch.frames);
        }
      },
    });
    if (options.forward) this.forward = { state: 'connecting', target: options.forward.display, backlogRows: 0, lagSeconds: 0, rowsTotal: 0, errorsTotal: 0, lostTotal: 0, lastError: null };
  }

  /** Opens the store in the worker; rejects with a CaptureStoreError when it is foreign, damaged or unwritable. */
  async start(): Promise<void> {
    const init: WorkerInit = {
      path: this.options.path,
      commitIntervalMs: this.options.commitIntervalMs,
      retentionMs: this.options.retentionMs,
      maxBytes: this.options.maxBytes,
      hostname: this.options.hostname,
      forward: this.options.forward,
    };
    const worker = new Worker(workerUrl(), { workerData: init, name: 'ampio-bridge capture' });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerToMain) => {
        if (m.type === 'ready') {
          this.state = 'on';
          this.summary = m.summary;
          for (const batch of this.early) worker.postMessage({ type: 'batch', batch }, [batch.buffer]);
          this.early = [];
          this.options.log('info', 'capture_open', { path: this.options.path, rows: m.summary.rows, bytes: m.summary.bytes, forward: this.options.forward?.display ?? 'off' });
          resolve();
        } else if (m.type === 'failed') {
          this.state = 'failed';
          for (const batch of this.early) this.tap.settled(batch.frames);
          this.early = [];
          reject(new CaptureStoreError(m.code as CaptureStoreError['code'], m.message, m.hint));
        } else this.onMessage(m);
      });
      worker.on('error', (err) => {
        this.state = 'failed';
        this.options.log('error', 'capture_worker_failed', { error: err.message });
        reject(err);
      });
      worker.on('exit', () => {
        if (this.state === 'on') {
          this.state = 'failed';
          this.options.log('error', 'capture_worker_failed', { error: 'the capture worker exited' });
        }
        this.onStopped?.();
      });
    });
    const flushEvery = Math.min(250, this.options.commitIntervalMs);
    this.flushTimer = setInterval(() => this.tick(), flushEvery);
    this.flushTimer.unref();
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
      this.options.log('warn', 'capture_dropped', { frames: dropped - this.droppedLogged, total: dropped, message: 'the capture store cannot keep up (slow disk?); frames were not recorded' });
      this.droppedLogged = dropped;
      this.lastDropLog = now;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    if (this.flushTimer) clearInterval(this.flushTimer);
    const worker = this.worker;
    if (!worker || this.state !== 'on') {
      await worker?.terminate();
      return;
    }
    this.tap.flush();
    this.stopped = new Promise<void>((resolve) => {
      this.onStopped = resolve;
      worker.postMessage({ type: 'stop' });
    });
    return this.stopped;
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
    };
  }
}
