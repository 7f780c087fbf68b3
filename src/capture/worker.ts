// The capture worker thread: owns the SQLite connection, commits the batches the bus
// thread sends at most once per commit interval (one transaction each), bounds the store
// by age and size, and runs the PostgreSQL forwarder. Everything slow (disk, fsync,
// network) happens here, never on the event loop that serves the bus.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { type FrameBatch, readBatch } from './batch.js';
import { loadSqlite } from './sqlite-binding.js';
import { CaptureStore, CaptureStoreError } from './sqlite-store.js';
import type { MainToWorker, WorkerInit, WorkerToMain } from './worker-messages.js';
import type { PgForwarder } from './pg-forwarder.js';
import type { LogLevel } from '../core/log-fn.js';

class CaptureWorker {
  private pending: FrameBatch[] = [];
  private failing = false;
  private lastAgeCheck = 0;
  private forwarder: PgForwarder | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: CaptureStore,
    private readonly init: WorkerInit,
    private readonly port: MessagePort,
  ) {
    this.timer = setInterval(() => this.commit(), init.commitIntervalMs);
    port.on('message', (m: MainToWorker) => {
      if (m.type === 'batch') this.pending.push(m.batch);
      else if (m.type === 'stop') void this.stop();
    });
  }

  send(m: WorkerToMain): void {
    this.port.postMessage(m);
  }

  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void {
    this.send({ type: 'log', level, event, fields });
  }

  async start(): Promise<void> {
    this.evict(true);
    this.send({ type: 'ready', summary: this.store.summary() });
    if (!this.init.forward) return;
    const { PgForwarder } = await import('./pg-forwarder.js');
    const Database = await loadSqlite();
    this.forwarder = new PgForwarder({
      store: this.store,
      reader: new Database(this.init.path, { readonly: true }),
      settings: this.init.forward,
      hostname: this.init.hostname,
      log: (level, event, fields) => this.log(level, event, fields),
      status: (status) => this.send({ type: 'forward', status }),
    });
    this.forwarder.start();
  }

  commit(): void {
    if (this.pending.length === 0) return;
    const batches = this.pending;
    this.pending = [];
    const frames = batches.reduce((n, b) => n + b.frames, 0);
    const started = performance.now();
    try {
      const busNames: Record<number, string> = {};
      for (const b of batches) Object.assign(busNames, b.buses);
      this.store.append(
        (function* () {
          for (const b of batches) yield* readBatch(b);
        })(),
        busNames,
      );
      if (this.failing) {
        this.failing = false;
        this.log('info', 'capture_write_recovered');
      }
    } catch (err) {
      // Disk full, I/O error: these frames are lost (the main thread counts them); the next commit tries again.
      if (!this.failing) this.log('error', 'capture_write_failed', { error: (err as Error).message });
      this.failing = true;
      this.send({ type: 'commit_failed', frames, message: (err as Error).message });
      return;
    }
    const commitMs = performance.now() - started;
    this.evict(false);
    this.send({ type: 'committed', frames, summary: this.store.summary(), commitMs });
    this.forwarder?.wake();
  }

  /** The size bound is checked after every commit (cheap pragmas), the age bound once a minute. */
  evict(force: boolean): void {
    const now = Date.now();
    const checkAge = force || now - this.lastAgeCheck >= (this.init.retentionCheckMs ?? 60_000);
    if (checkAge) this.lastAgeCheck = now;
    try {
      const overSize = this.init.maxBytes > 0 && this.store.summary().usedBytes > this.init.maxBytes;
      if (!overSize && !checkAge) return;
      const { deleted, through } = this.store.evict({ nowMs: now, retentionMs: checkAge ? this.init.retentionMs : 0, maxBytes: this.init.maxBytes });
      if (deleted === 0) return;
      const reason = overSize ? 'max_size' : 'retention';
      this.log('info', 'capture_evicted', { rows: deleted, reason });
      this.send({ type: 'evicted', rows: deleted, reason });
      this.forwarder?.evicted(through);
    } catch (err) {
      this.log('error', 'capture_evict_failed', { error: (err as Error).message });
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.commit();
    await this.forwarder?.stop();
    this.store.close();
    this.send({ type: 'stopped' });
    this.port.close();
  }
}

const port = parentPort;
if (!port) throw new Error('capture worker started outside a worker thread');
const init = workerData as WorkerInit;
try {
  const store = CaptureStore.open(await loadSqlite(), { path: init.path });
  await new CaptureWorker(store, init, port).start();
} catch (err) {
  const e = err instanceof CaptureStoreError ? err : new CaptureStoreError('corrupt', (err as Error).message, 'see the log above');
  port.postMessage({ type: 'failed', code: e.code, message: e.message, hint: e.hint } satisfies WorkerToMain);
  port.close();
}
