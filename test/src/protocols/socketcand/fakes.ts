// A fake SessionPeer and a manual clock for the socketcand session's unit tests: every
// effect the session has on the world is recorded here.
import type { CanFrame } from '../../../../src/core/frame.js';
import type { Timers } from '../../../../src/protocols/socketcand/bcm.js';
import type { BusInfo, CloseReason, JoinOptions, SessionPeer } from '../../../../src/protocols/types.js';

export const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
export const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

/** Timers driven by `advance`, so periods and throttles are tested exactly. */
export class ManualTimers implements Timers {
  private time = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  get active(): number {
    return this.pending.size;
  }

  /** Runs every timer due within `ms`, in time order, each at its own time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.pending) if (e[1].at <= end && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[0] < next[0]))) next = e;
      if (!next) break;
      this.pending.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
  }
}

export interface Joined {
  bus: number;
  options?: JoinOptions;
}

export class FakePeer implements SessionPeer {
  readonly id = 7;
  readonly remote = '127.0.0.1:5555';
  readonly listenerBus = null;
  readonly buses: BusInfo[];
  replies: string[] = [];
  sent: Array<{ bus: number; frame: CanFrame }> = [];
  joined = new Map<number, JoinOptions | undefined>();
  malformedCodes: string[] = [];
  logs: string[] = [];
  closedWith: CloseReason | null = null;
  rejected: string | null = null;
  isReady = false;
  forward = false;

  constructor(names: string[] = ['can0', 'can1']) {
    this.buses = names.map((name, index) => ({ index, name, fd: false, bitrate: () => 50_000 }));
  }

  now(): number {
    return 0;
  }
  wallClock(): number {
    return 1_700_000_000_000;
  }
  sequence(): void {}
  forwardErrors(): boolean {
    return this.forward;
  }
  ready(): boolean {
    this.isReady = true;
    return true;
  }
  reject(reason: string): void {
    this.rejected = reason;
    this.closedWith = 'bad_hello';
  }
  join(bus: number, options?: JoinOptions): void {
    this.joined.set(bus, options);
  }
  leave(bus: number): void {
    this.joined.delete(bus);
  }
  send(bus: number, frame: CanFrame) {
    this.sent.push({ bus, frame });
    return { ok: true } as const;
  }
  reply(b: Uint8Array): void {
    this.replies.push(text(b));
  }
  hold(): void {}
  withheld(): void {}
  malformed(code: string): void {
    this.malformedCodes.push(code);
  }
  close(reason: CloseReason): void {
    this.closedWith = reason;
  }
  log(_level: string, event: string): void {
    this.logs.push(event);
  }

  /** What the hub would deliver to this session for `frame` on `bus` (filter, then encode). */
  deliver(bus: number, frame: CanFrame, defaultEncoder: { encode(f: CanFrame, b: number): Uint8Array | null }): string | null {
    if (!this.joined.has(bus)) return null;
    const o = this.joined.get(bus);
    if (o?.filter && !o.filter(frame)) return null;
    const out = (o?.encoder ?? defaultEncoder).encode(frame, bus);
    return out ? text(out) : null;
  }
}
