// Frames the bridge wrote to its CAN_RAW socket, waiting for the kernel to say they were
// transmitted. With CAN_RAW_RECV_OWN_MSGS a socket reads its own frames back, flagged
// MSG_CONFIRM, once the controller (or vcan's echo) reports them sent: only then is a
// client's frame "on the bus", so only then is it echoed to the other clients and counted
// as transmitted. Writing merely put it into the qdisc, which at 50 kbit/s holds up to a
// third of a second of frames. Pure: the clock is injected.
import type { CanFrame, FrameOrigin } from '../../core/frame.js';

interface Pending {
  frame: CanFrame;
  origin: FrameOrigin;
  writtenAt: number;
}

export interface ConfirmedFrame {
  frame: CanFrame;
  origin: FrameOrigin;
}

/** How far into the pending list a confirmation is looked for (they come back in order). */
const SEARCH_DEPTH = 64;

export class TxConfirmations {
  private pending: Pending[] = [];
  private head = 0;
  /** Written but never confirmed within the limit, or lost with the link. */
  unconfirmed = 0;
  /** MSG_CONFIRM frames that matched nothing pending (e.g. confirmed after they expired). */
  unmatched = 0;

  constructor(
    private readonly now: () => number,
    /** ms a frame may take from write to confirmation before it is counted unconfirmed. */
    private limitMs: number,
    /** Most frames awaiting confirmation; beyond it the oldest is counted unconfirmed. */
    private readonly capacity = 4096,
  ) {}

  get depth(): number {
    return this.pending.length - this.head;
  }

  setLimit(ms: number): void {
    this.limitMs = ms;
  }

  written(frame: CanFrame, origin: FrameOrigin): void {
    if (this.depth >= this.capacity) {
      this.head++;
      this.unconfirmed++;
    }
    this.pending.push({ frame, origin, writtenAt: this.now() });
  }

  /**
   * A frame read back with MSG_CONFIRM. Returns what was sent (with the kernel's
   * transmit time as its timestamp) and who sent it, or null when nothing matches.
   */
  confirm(echo: CanFrame): ConfirmedFrame | null {
    const end = Math.min(this.pending.length, this.head + SEARCH_DEPTH);
    for (let i = this.head; i < end; i++) {
      const p = this.pending[i];
      if (!sameFrame(p.frame, echo)) continue;
      // Frames ahead of it were skipped by the device? They come back in order, so an
      // earlier pending one is only passed over when its own echo was reordered on a
      // multi-CPU receive path: leave it for its own confirmation.
      if (i === this.head) this.head++;
      else this.pending.splice(i, 1);
      this.compact();
      return { frame: { ...p.frame, timestamp: echo.timestamp }, origin: p.origin };
    }
    this.unmatched++;
    return null;
  }

  /** Counts and forgets frames older than the limit; returns how many. */
  expire(): number {
    if (this.limitMs <= 0) return 0;
    const cutoff = this.now() - this.limitMs;
    let n = 0;
    while (this.head < this.pending.length && this.pending[this.head].writtenAt < cutoff) {
      this.head++;
      n++;
    }
    this.unconfirmed += n;
    this.compact();
    return n;
  }

  /** The socket is gone: whatever was still in the kernel's queue is lost. */
  clear(): number {
    const n = this.depth;
    this.unconfirmed += n;
    this.pending = [];
    this.head = 0;
    return n;
  }

  private compact(): void {
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
  }
}

function sameFrame(a: CanFrame, b: CanFrame): boolean {
  if (a.id !== b.id || a.len !== b.len || a.fd !== b.fd) return false;
  const n = a.data.length;
  if (n !== b.data.length) return false;
  for (let i = 0; i < n; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}
