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
import { damagedStore, isDamage } from './damage.js';
import { WriteTrouble } from './write-trouble.js';

class CaptureWorker {
  private pending: FrameBatch[] = [];
  /** Set once the store turned out damaged: nothing is written any more. */
  private closed = false;
  private readonly trouble: WriteTrouble;
  private lastAgeCheck = 0;
  private forwarder: PgForwarder | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: CaptureStore,
    private readonly init: WorkerInit,
    private readonly port: MessagePort,
  ) {
    this.trouble = new WriteTrouble(init.path, init.remindEveryMs);
    this.timer = setInterval(() => this.commit(), init.commitIntervalMs);
    port.on('message', (m: MainToWorker) => {
      if (m.type === 'batch') {
        if (this.closed) this.send({ type: 'commit_failed', frames: m.batch.frames, message: 'the store is damaged' });
        else this.pending.push(m.batch);
      } else if (m.type === 'stop') void this.stop();
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
    if (this.closed) return;
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
      onDamage: (err) => this.damaged(err),
    });
    this.forwarder.start();
  }

  commit(): void {
    if (this.pending.length === 0 || this.closed) return;
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
    } catch (err) {
      // These frames are lost (the main thread counts them).
      this.send({ type: 'commit_failed', frames, message: (err as Error).message });
      if (isDamage(err)) return this.damaged(err);
      // Disk full, I/O error: the next commit tries again; the user hears of it at most once a minute.
      const line = this.trouble.failed(Date.now(), err, frames);
      if (line) {
        this.log(line.level, line.event, line.fields);
        this.send({ type: 'problem', problem: this.trouble.problem });
      }
      return;
    }
    const recovered = this.trouble.succeeded(Date.now());
    if (recovered) {
      this.log(recovered.level, recovered.event, recovered.fields);
      this.send({ type: 'problem', problem: null });
    }
    const commitMs = performance.now() - started;
    this.evict(false);
    if (this.closed) return;
    this.send({ type: 'committed', frames, summary: this.store.summary(), commitMs });
    this.forwarder?.wake();
  }

  /**
   * SQLite reported the store damaged while running: capture goes off the same way as when
   * the check at open finds it (the main thread logs capture_off with the way forward).
   */
  damaged(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const frames = this.pending.reduce((n, b) => n + b.frames, 0);
    this.pending = [];
    if (frames > 0) this.send({ type: 'commit_failed', frames, message: 'the store is damaged' });
    const e = damagedStore(this.init.path, (err as Error).message, err);
    this.send({ type: 'damaged', message: e.message, hint: e.hint });
    void (async () => {
      await this.forwarder?.stop().catch(() => {});
      this.store.close();
      this.port.close();
    })();
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
      if (isDamage(err)) return this.damaged(err);
      this.log('error', 'capture_evict_failed', { error: (err as Error).message });
    }
  }

  async stop(): Promise<void> {
    if (this.closed) return;
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
  // Every page is checked before the first write: a damaged store is found here whichever
  // page is bad, not later by whichever write or query happens to touch it.
  const store = CaptureStore.open(await loadSqlite(), { path: init.path, check: true });
  await new CaptureWorker(store, init, port).start();
} catch (err) {
  const e =
    err instanceof CaptureStoreError
      ? err
      : isDamage(err)
        ? damagedStore(init.path, (err as Error).message, err)
        : new CaptureStoreError(
            'unwritable',
            `the capture store ${init.path} cannot be opened: ${(err as Error).message}`,
            'see the log above; capture is off, the bridge keeps serving',
          );
  port.postMessage({ type: 'failed', code: e.code, message: e.message, hint: e.hint } satisfies WorkerToMain);
  port.close();
}
