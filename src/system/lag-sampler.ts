// Measures, a few times a second, what the kernel holds for each client (see
// guard/freshness): one read of /proc/net/tcp{,6} for all clients, only while some client
// has bytes in flight. Without /proc (not Linux) it stops reading and clients are kept fresh
// by the age of the frames in their own queues alone.
//
// A read walks the kernel's whole TCP hash table, whose size grows with the machine's memory:
// about a millisecond on a Raspberry Pi, 30 ms on the 2-core CI VM. So the pause after a read
// is 40 times what the read took (at least 250 ms, at most 2 s): measuring never takes more
// than about 2.5 % of a core.
import type { Freshness, FreshnessAction } from '../guard/freshness.js';
import type { TcpSendQueues } from './tcp-send-queues.js';

export interface LagTarget {
  readonly freshness: Freshness;
  /** The connection's key in the kernel's table (guard/write-ledger tcpKey); null once closed. */
  tcpKey(): string | null;
  /** Bytes Node still buffers for the socket (not yet in the kernel). */
  nodeBuffered(): number;
  /** Called after every measurement with what to do (also 'none': a chance to drop stale frames). */
  freshnessChanged(action: FreshnessAction, now: number): void;
}

export interface LagSamplerOptions {
  queues: TcpSendQueues;
  targets: () => Iterable<LagTarget>;
  now: () => number;
  policy: () => 'drop' | 'kick';
  /** Least ms between measurements; a quarter of the default lag (2 s) keeps the bound tight. */
  intervalMs?: number;
}

/** Pause after a read, as a multiple of what the read took. */
const COST_FACTOR = 40;
const MAX_INTERVAL_MS = 2000;

export class LagSampler {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private busy = false;
  /** Measurements taken (for tests and the benchmark notes). */
  reads = 0;
  /** The pause before the next measurement (grows with what a read costs). */
  nextDelayMs: number;

  constructor(private readonly options: LagSamplerOptions) {
    this.nextDelayMs = options.intervalMs ?? 250;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick().finally(() => this.schedule());
    }, this.nextDelayMs);
    this.timer.unref();
  }

  /** One measurement (the timer calls it; tests may too). */
  async tick(): Promise<void> {
    if (this.busy) return;
    const targets = [...this.options.targets()].filter((t) => t.freshness.inFlight || t.freshness.held);
    if (targets.length === 0) return;
    this.busy = true;
    try {
      // Bytes written after the read started are not in the kernel's count: count them as
      // unacknowledged, which can only overstate the lag.
      const writtenAtRead = targets.map((t) => t.freshness.ledger.totalWritten);
      const started = this.options.now();
      const queues = await this.options.queues.read();
      this.reads++;
      const now = this.options.now();
      const least = this.options.intervalMs ?? 250;
      this.nextDelayMs = Math.min(MAX_INTERVAL_MS, Math.max(least, (now - started) * COST_FACTOR));
      const policy = this.options.policy();
      targets.forEach((t, i) => {
        const key = t.tcpKey();
        if (key === null) return;
        const inKernel = queues ? (queues.get(key) ?? 0) : 0;
        const unacked = inKernel + t.nodeBuffered() + (t.freshness.ledger.totalWritten - writtenAtRead[i]);
        t.freshnessChanged(t.freshness.observe(unacked, now, policy), now);
      });
    } finally {
      this.busy = false;
    }
  }
}
