// Keeps one client's frames fresh (--client-max-lag). Three places can hold a frame on its way
// to a client: our per-client ring, the kernel's send buffer for its socket, and the client's
// own receive buffer. The ring is ours: a frame that waited there longer than the lag is
// dropped before it is written (counted `stale`). The kernel's send buffer autotunes up to
// megabytes, minutes of frames at an Ampio bus's rate, and cannot be capped from Node (no
// SO_SNDBUF) — but it can be measured (see system/tcp-send-queues): the write ledger turns the
// kernel's unacknowledged byte count into the age of the oldest unacknowledged frame. Once that
// passes half the lag while the client acknowledges nothing (it stopped reading), or passes the
// whole lag anyway, nothing more is written to it (its frames wait in the ring, where they age
// out) until the kernel has delivered what it holds; a client that is slow but still reading
// keeps being written to. Past the whole lag, with --hub-policy kick, the client is closed.
//
// What the client's kernel already acknowledged is beyond any server's reach: a client that
// stops reading still finds in its own receive buffer what arrived before it stopped.
import { WriteLedger } from './write-ledger.js';

export type FreshnessAction = 'none' | 'hold' | 'resume' | 'too_late';

export class Freshness {
  readonly ledger = new WriteLedger();
  /** Nothing more is written while true. */
  held = false;
  /** Age (ms) of the oldest frame the peer has not acknowledged, at the last measurement. */
  kernelLagMs = 0;
  /** Frames dropped for this client because they waited longer than the lag. */
  staleDrops = 0;
  /** Bytes the peer had acknowledged at the last measurement (-1: none yet). */
  private lastAcked = -1;

  constructor(public maxLagMs: number) {}

  wrote(bytes: number, oldestQueuedAt: number): void {
    this.ledger.wrote(bytes, oldestQueuedAt);
  }

  /** Whether a frame queued at `queuedAt` may no longer be written. */
  tooOld(queuedAt: number, now: number): boolean {
    return now - queuedAt > this.maxLagMs;
  }

  /**
   * The kernel (plus Node's own buffer) holds `unacked` bytes for this client. Returns what
   * to do: start holding, resume writing, close the client (lag passed, policy kick), or none.
   */
  observe(unacked: number, now: number, policy: 'drop' | 'kick'): FreshnessAction {
    this.kernelLagMs = this.ledger.lag(unacked, now);
    const acked = this.ledger.totalWritten - Math.min(unacked, this.ledger.totalWritten);
    const progressing = this.lastAcked >= 0 && acked > this.lastAcked;
    this.lastAcked = acked;
    if (policy === 'kick' && this.kernelLagMs > this.maxLagMs) return 'too_late';
    const over = this.kernelLagMs > this.maxLagMs || (this.kernelLagMs > this.maxLagMs / 2 && !progressing);
    if (over && !this.held) {
      this.held = true;
      return 'hold';
    }
    if (!over && this.held) {
      this.held = false;
      return 'resume';
    }
    return 'none';
  }

  /** How far behind the client is: the older of its oldest queued and oldest unacknowledged frame. */
  behindMs(oldestQueuedAt: number | null, now: number): number {
    const ring = oldestQueuedAt === null ? 0 : Math.max(0, now - oldestQueuedAt);
    return Math.max(ring, this.kernelLagMs);
  }

  /** Whether the kernel may still hold bytes for this client (worth measuring). */
  get inFlight(): boolean {
    return this.ledger.size > 0;
  }
}
