// A SessionPeer that records what a protocol session does, for unit tests of plug-ins
// without a socket. `deliver` plays the hub: it runs a joined session's filter and encoder.
import type { CanFrame } from '../../src/core/frame.js';
import type { SendResult } from '../../src/backends/types.js';
import type { BusInfo, CloseReason, JoinOptions, LogLevel, ProtocolSession, SessionPeer, WireProtocol } from '../../src/protocols/types.js';

export interface FakeBus {
  name?: string;
  bitrate?: number | null;
  fd?: boolean;
}

export class FakeSessionPeer implements SessionPeer {
  readonly id = 7;
  readonly remote = '127.0.0.1:40000';
  readonly buses: BusInfo[];
  listenerBus: number | null = null;
  readyCalls = 0;
  refuseReady = false;
  rejected: { reason: string; received: Uint8Array } | null = null;
  readonly joined = new Map<number, JoinOptions | undefined>();
  readonly sent: Array<{ bus: number; frame: CanFrame }> = [];
  readonly replies: Uint8Array[] = [];
  readonly malformedCalls: Array<{ code: string; detail: string }> = [];
  readonly logs: Array<{ level: LogLevel; event: string; fields?: Record<string, unknown> }> = [];
  closedWith: CloseReason | null = null;
  /** Whether the session holds its frames now, and every hold()/release in order. */
  held = false;
  readonly holds: boolean[] = [];
  /** withheld() calls, as `bus:reason`. */
  readonly withheldCalls: string[] = [];
  wall = 1_764_500_000_000;
  session!: ProtocolSession;

  constructor(buses: FakeBus[] = [{ bitrate: 500_000 }, { bitrate: 250_000 }]) {
    this.buses = buses.map((b, index) => ({ index, name: b.name ?? `can${index}`, bitrate: () => b.bitrate ?? null, fd: b.fd ?? false }));
  }

  /** Opens a session of `protocol` on this peer. */
  static open(protocol: WireProtocol, buses?: FakeBus[]): FakeSessionPeer {
    const peer = new FakeSessionPeer(buses);
    peer.session = protocol.open(peer);
    return peer;
  }

  now(): number {
    return 1000;
  }
  wallClock(): number {
    return this.wall;
  }
  forwardErrors(): boolean {
    return false;
  }
  ready(): boolean {
    this.readyCalls++;
    return !this.refuseReady;
  }
  reject(reason: string, received: Uint8Array): void {
    this.rejected = { reason, received };
  }
  join(bus: number, options?: JoinOptions): void {
    this.joined.set(bus, options);
  }
  leave(bus: number): void {
    this.joined.delete(bus);
  }
  send(bus: number, frame: CanFrame): SendResult {
    this.sent.push({ bus, frame });
    return { ok: true };
  }
  reply(bytes: Uint8Array): void {
    this.replies.push(bytes);
  }
  hold(on: boolean): void {
    this.held = on;
    this.holds.push(on);
  }
  withheld(bus: number, reason: string): void {
    this.withheldCalls.push(`${bus}:${reason}`);
  }
  malformed(code: string, detail: string): void {
    this.malformedCalls.push({ code, detail });
  }
  close(reason: CloseReason): void {
    this.closedWith = reason;
  }
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void {
    this.logs.push({ level, event, fields });
  }
  /** What sequence() reported, summed. */
  readonly sequenceTotals = { lost: 0, misordered: 0 };
  sequence(lost: number, misordered: number): void {
    this.sequenceTotals.lost += lost;
    this.sequenceTotals.misordered += misordered;
  }

  /** The hub's part: the bytes this session gets for a bus frame (null = not sent). */
  deliver(frame: CanFrame, bus: number, defaultEncoder: WireProtocol['encoder']): Uint8Array | null {
    if (!this.joined.has(bus)) return null;
    const options = this.joined.get(bus);
    if (options?.filter && !options.filter(frame)) return null;
    return (options?.encoder ?? defaultEncoder).encode(frame, bus);
  }

  /** Sends bytes from the "client". */
  input(bytes: ArrayLike<number>): void {
    this.session.receive(Uint8Array.from(bytes));
  }

  /** Every reply so far, as one hex string. */
  replyHex(): string {
    return this.replies.flatMap((r) => Array.from(r, (x) => x.toString(16).padStart(2, '0').toUpperCase())).join(' ');
  }
}
