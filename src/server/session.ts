// One client connection, whatever its wire protocol: the socket, a bounded ring of shared
// encoded frames, batching through the bus flush scheduler, congestion, timers and close.
// The protocol plug-in (ProtocolSession) does the talking; it reaches the world only through
// this object, as its SessionPeer.
//
// Frames wait in OUR ring (whose size the hub policy bounds), never in Node's stream buffer:
// while the socket is congested nothing more is written.
//
// Over our ~350-line habit on purpose: this is the write path (enqueue → batch → flush →
// socket) and the timers that guard it, kept in one class so the hot path reads top to
// bottom; the ring (frame-ring.ts) and the host contract (session-host.ts) are already apart.
import type { SendResult } from '../backends/types.js';
import type { CanFrame, FrameOrigin } from '../core/frame.js';
import type { HubSubscriber } from '../core/hub.js';
import type { BusInfo, CloseReason, JoinOptions, LogLevel, ProtocolSession, SessionPeer, WireProtocol } from '../protocols/types.js';
import { parseIp } from '../guard/address-list.js';
import { Freshness, type FreshnessAction } from '../guard/freshness.js';
import { TxGuard } from '../guard/tx-guard.js';
import { tcpKey } from '../guard/write-ledger.js';
import type { LagTarget } from '../system/lag-sampler.js';
import type { Logger } from '../system/logger.js';
import type { Flushable } from './flush-scheduler.js';
import { FrameRing } from './frame-ring.js';
import type { SessionHost, SessionOptions } from './session-host.js';
import type { SessionSocket } from './session-socket.js';

export type { SessionHost, SessionOptions };

/** Above this many bytes in Node's socket buffer we stop writing and wait for 'drain'. */
const SOCKET_HIGH_WATER = 64 * 1024;
/** Replies bypass the ring; a peer that asks without ever reading is closed at this backlog. */
const REPLY_BACKLOG_LIMIT = 1024 * 1024;
/** Bytes kept from before the negotiation, for the log of a failed one. */
const PRE_READY_KEEP = 64;

export class Session implements HubSubscriber, Flushable, SessionPeer, LagTarget {
  readonly id: number;
  readonly remote: string;
  readonly protocol: WireProtocol;
  readonly listenerBus: number | null;
  /** Who sent a frame, as the bus's taps see it. */
  readonly origin: FrameOrigin;
  /** ms since the epoch (shown to people) */
  readonly connectedAt: number;
  private readonly socket: SessionSocket;
  /** `in`: accepted (or a UDP peer); `out`: dialled by the bridge. */
  readonly direction: 'in' | 'out';
  /** Datagram sequence number of the next write (a datagram protocol's header carries it). */
  private datagramSeq = 0;
  private readonly host: SessionHost;
  private readonly logger: Logger;
  private state: ProtocolSession | null = null;
  private handshaken = false;
  private closing = false;
  private closeReason: CloseReason | null = null;
  private finished = false;
  /** Buses this session is subscribed to. */
  readonly joined = new Set<number>();
  private preReady: Uint8Array = new Uint8Array(0);

  private readonly ring: FrameRing;
  private congested = false;
  /** The protocol holds the queued frames (SessionPeer.hold). */
  private protocolHold = false;
  /** See Flushable: −1 when no flush is scheduled for the current batch. */
  flushDeadline = -1;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private readTimer: NodeJS.Timeout | null = null;
  private destroyTimer: NodeJS.Timeout | null = null;
  private lastRx = 0;

  capacity: number;
  batchSize: number;
  flushInterval: number;
  readTimeout: number;

  // Counters shown by `status`/`top`.
  framesOut = 0;
  framesIn = 0;
  bytesOut = 0;
  bytesIn = 0;
  drops = 0;
  /** Datagram peers: datagrams its sequence numbers show as skipped, and as arrived late. */
  datagramsLost = 0;
  datagramsMisordered = 0;
  /** Bus frames the protocol withheld from this client because it cannot take them, by reason. */
  readonly withheldFrames: Record<string, number> = {};
  /** What this client may put on the bus (listen-only, rate, IDs) and what it was refused. */
  readonly txGuard: TxGuard;
  /** How far behind the client is, and whether writing waits for the kernel to deliver. */
  readonly freshness: Freshness;
  readonly address: string | undefined;
  private key: string | null = null;

  constructor(private readonly options: SessionOptions) {
    this.id = options.id;
    this.remote = options.remote;
    this.protocol = options.protocol;
    this.listenerBus = options.listenerBus;
    this.origin = Object.freeze({ session: options.id, protocol: options.protocol.name });
    this.socket = options.socket;
    this.direction = options.direction ?? 'in';
    this.host = options.host;
    this.capacity = options.capacity;
    this.batchSize = options.batchSize;
    this.flushInterval = options.flushInterval;
    this.readTimeout = options.readTimeout;
    this.connectedAt = options.wallClock();
    this.ring = new FrameRing(options.capacity);
    this.address = options.address;
    this.txGuard = new TxGuard(options.txPolicy, options.now());
    this.freshness = new Freshness(options.maxLagMs);
    const remoteBytes = options.address ? parseIp(options.address) : null;
    if (remoteBytes && options.socket.localPort !== undefined && options.socket.remotePort !== undefined) {
      this.key = tcpKey(options.socket.localPort, remoteBytes, options.socket.remotePort);
    }
    this.logger = options.log.child({ conn_id: options.id, remote: options.remote, protocol: options.protocol.name });
  }

  /** Opens the protocol, sends its greeting and starts reading. */
  start(): void {
    const s = this.socket;
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('drain', () => {
      this.congested = false;
      if (this.ring.count > 0) this.flush();
    });
    // A reset (or a write into one) is how a peer that closed its socket shows itself: it left.
    s.on('error', (err: NodeJS.ErrnoException) => this.finish(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'client_closed' : 'socket_error'));
    s.on('close', () => this.finish(this.closeReason ?? 'client_closed'));
    // A FIN means the client has gone. A peer that only half-closed (`nc -N`, socat) and
    // still reads looks the same from here: both leave our socket in CLOSE_WAIT, TCP
    // keepalive probes are answered either way, and only data we write would tell them apart
    // (a closed peer answers it with RST). On a quiet bus nothing is written, so keeping
    // half-closed peers as listeners left every closed client behind as a ghost holding its
    // slot; every protocol therefore ends the session on FIN (README: Connect a client).
    s.on('end', () => {
      if (!this.closing) this.close('client_closed');
    });
    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = null;
      if (this.handshaken || this.closing) return;
      this.reject('timeout', this.preReady);
      if (!this.closing) this.close('handshake_timeout');
    }, this.options.handshakeTimeout);
    this.guard(() => {
      this.state = this.direction === 'out' && this.protocol.dial ? this.protocol.dial(this) : this.protocol.open(this);
      const hello = this.state.greeting();
      if (hello && !this.closing) this.reply(hello);
    });
  }

  get isHandshaken(): boolean {
    return this.handshaken;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  // ------------------------------------------------------------------ SessionPeer

  get buses(): readonly BusInfo[] {
    return this.host.buses;
  }

  now(): number {
    return this.options.now();
  }

  wallClock(): number {
    return this.options.wallClock();
  }

  forwardErrors(): boolean {
    return this.host.forwardErrors();
  }

  ready(): boolean {
    if (this.closing) return false;
    if (this.handshaken) return true;
    this.handshaken = true;
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.preReady = new Uint8Array(0);
    const refused = this.host.ready(this);
    if (refused !== null) {
      // Its greeting went out at accept; where the protocol can say why, it does.
      const lastWords = this.protocol.refusal?.(refused);
      if (lastWords) this.reply(lastWords);
      this.close('not_allowed');
      return false;
    }
    this.armReadTimer();
    // Frames that arrived during the negotiation (for a protocol that joined early) go now.
    if (this.ring.count > 0) this.flush();
    return true;
  }

  reject(reason: string, received: Uint8Array): void {
    if (this.closing) return;
    this.host.negotiationFailed(this, reason, received);
    this.close(reason === 'timeout' ? 'handshake_timeout' : 'bad_hello');
  }

  join(bus: number, options?: JoinOptions): void {
    if (this.closing || !this.host.buses[bus]) return;
    this.joined.add(bus);
    this.host.join(this, bus, options);
  }

  leave(bus: number): void {
    if (!this.joined.delete(bus)) return;
    this.host.leave(this, bus);
  }

  send(bus: number, frame: CanFrame): SendResult {
    this.framesIn++;
    const refused = this.txGuard.check(frame.id, this.options.now());
    if (refused) return this.host.txRefused(this, bus, frame, refused.reason, refused.first);
    return this.host.send(this, bus, frame);
  }

  reply(bytes: Uint8Array): void {
    if (this.closing || this.socket.destroyed) return;
    this.bytesOut += bytes.length;
    if (!this.protocol.datagram) this.freshness.wrote(bytes.length, this.options.now());
    this.socket.write(bytes);
    if (this.socket.writableLength > REPLY_BACKLOG_LIMIT) this.close('kicked_slow');
  }

  hold(on: boolean): void {
    if (this.protocolHold === on) return;
    this.protocolHold = on;
    if (!on && this.ring.count > 0) this.flush();
  }

  withheld(bus: number, reason: string): void {
    this.withheldFrames[reason] = (this.withheldFrames[reason] ?? 0) + 1;
    this.host.withheld(this, bus, reason);
  }

  malformed(code: string, detail: string, bytes?: Uint8Array): void {
    this.host.malformedInput(this, code, detail, bytes);
  }

  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void {
    this.logger[level](event, fields);
  }

  sequence(lost: number, misordered: number): void {
    this.datagramsLost += lost;
    this.datagramsMisordered += misordered;
    this.host.sequence(this, lost, misordered);
  }

  // ------------------------------------------------------------------ hub side

  queueDepth(): number {
    return this.ring.count;
  }

  /** Most frames ever queued at once. */
  get highWater(): number {
    return this.ring.highWater;
  }

  enqueue(bytes: Uint8Array, bus: number, at: number): void {
    // Between close() and the socket's 'close' event the hub may still list this session;
    // nothing more may be written after end().
    if (this.closing) return;
    this.ring.push(bytes, at);
    // Before the negotiation ends frames are held (ready() writes them); the hub's bound applies.
    if (!this.handshaken) return;
    if (this.protocolHold) {
      // A protocol's hold never costs frames: at half the queue it ends by itself.
      if (this.ring.count * 2 >= this.capacity) this.hold(false);
      return;
    }
    if (this.ring.count >= this.batchSize) {
      this.flush();
    } else if (this.flushDeadline < 0) {
      // First frame of a batch. A timer exists only while something waits: idle costs nothing.
      // Whichever bus starts the batch owns its deadline; frames of another bus ride along.
      this.host.scheduler(bus).schedule(this);
    }
  }

  dropped(): void {
    this.drops++;
  }

  kick(_reason: 'slow', bus: number): void {
    this.host.slowKicked(this, bus);
    this.close('kicked_slow');
  }

  /** Writes everything queued as one buffer, unless the socket is congested. */
  flush(): void {
    this.flushDeadline = -1;
    if (!this.handshaken || this.protocolHold || this.socket.destroyed || this.freshness.held) return;
    if (this.ring.count > 0 && !this.congested && this.dropStale(this.options.now())) return;
    const dg = this.protocol.datagram;
    // A datagram is cut at its payload size, as cannelloni cuts at its MTU.
    const max = dg ? dg.maxDatagramBytes - dg.headerBytes : this.protocol.maxWriteBytes;
    while (this.ring.count > 0 && !this.congested) {
      const oldest = this.ring.oldestAt() ?? 0;
      const { bytes, frames } = this.ring.take(max, dg ? dg.headerBytes : 0);
      if (dg) {
        dg.writeHeader(bytes, frames, this.datagramSeq);
        this.datagramSeq = (this.datagramSeq + 1) & 0xffff;
      }
      this.framesOut += frames;
      this.bytesOut += bytes.length;
      // A datagram leaves the kernel at once (no retransmit queue to measure): its freshness is
      // its own queue's age alone, and the lag sampler has nothing to read for it.
      if (!dg) this.freshness.wrote(bytes.length, oldest);
      const ok = this.socket.write(bytes);
      if (!ok || this.socket.writableLength > SOCKET_HIGH_WATER) this.congested = true;
    }
  }

  /**
   * Drops the frames at the head of the ring that waited longer than --client-max-lag (they
   * are never written). Under --hub-policy kick a client that let frames go stale is closed
   * instead. Returns true when the session was closed.
   */
  private dropStale(now: number): boolean {
    const n = this.ring.dropOldest((at) => this.freshness.tooOld(at, now));
    if (n === 0) return false;
    this.freshness.staleDrops += n;
    this.host.staleDropped(this, n);
    if (this.host.hubPolicy() === 'kick') {
      this.host.lagKicked(this, this.freshness.behindMs(this.ring.oldestAt(), now));
      this.close('kicked_slow');
      return true;
    }
    return false;
  }

  /** Time (monotonic ms) the oldest queued frame was queued; null when none is. */
  oldestQueuedAt(): number | null {
    return this.ring.oldestAt();
  }

  // ------------------------------------------------------------------ lag sampler side

  tcpKey(): string | null {
    return this.closing ? null : this.key;
  }

  nodeBuffered(): number {
    return this.socket.writableLength;
  }

  freshnessChanged(action: FreshnessAction, now: number): void {
    if (this.closing) return;
    if (action === 'too_late') {
      this.host.lagKicked(this, this.freshness.kernelLagMs);
      this.close('kicked_slow');
    } else if (action === 'resume') {
      if (this.ring.count > 0) this.flush();
    } else if (this.freshness.held && this.ring.count > 0) {
      // Nothing is written while held: frames still age out of the ring meanwhile.
      this.dropStale(now);
    }
  }

  // ------------------------------------------------------------------ reading

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.bytesIn += chunk.length;
    if (this.readTimeout > 0) this.lastRx = this.options.now();
    if (!this.handshaken && this.preReady.length < PRE_READY_KEEP) {
      const keep = new Uint8Array(Math.min(PRE_READY_KEEP, this.preReady.length + chunk.length));
      keep.set(this.preReady);
      keep.set(chunk.subarray(0, keep.length - this.preReady.length), this.preReady.length);
      this.preReady = keep;
    }
    this.guard(() => this.state?.receive(chunk));
  }

  /** A plug-in that throws has a bug: close only its session, never the daemon. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error('protocol_error', { error: String(err) });
      this.malformed('internal', `protocol plug-in failed: ${String(err)}`);
      this.close('malformed');
    }
  }

  private armReadTimer(): void {
    if (this.readTimeout <= 0 || this.closing) return;
    this.lastRx = this.options.now();
    const check = (): void => {
      this.readTimer = null;
      if (this.closing) return;
      const idle = this.options.now() - this.lastRx;
      if (idle >= this.readTimeout) this.close('read_timeout');
      else this.readTimer = setTimeout(check, this.readTimeout - idle);
    };
    this.readTimer = setTimeout(check, this.readTimeout);
  }

  // ------------------------------------------------------------------ closing

  /**
   * Closes the connection. On shutdown what is queued is flushed first; otherwise queued
   * frames are discarded. Either way only whole frames were ever written, so the peer's
   * decoder is left on a frame boundary (real cannelloni does not reset it on reconnect).
   */
  close(reason: CloseReason): void {
    if (this.closing) return;
    this.closing = true;
    this.closeReason = reason;
    this.clearTimers();
    if (reason === 'shutdown') {
      this.congested = false;
      this.protocolHold = false;
      this.flush();
    }
    this.ring.clear();
    this.socket.end();
    // A peer that never reads would keep the socket half-open: give it a second (the timer
    // goes when the socket closes, so a closed session is not kept alive by it).
    this.destroyTimer = setTimeout(() => this.socket.destroy(), reason === 'shutdown' ? 1500 : 1000);
    this.destroyTimer.unref();
  }

  /** Resolves when the socket is fully closed. */
  whenClosed(): Promise<void> {
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private finish(reason: CloseReason): void {
    if (this.finished) return;
    this.finished = true;
    this.closing = true;
    if (this.closeReason === null) this.closeReason = reason;
    this.clearTimers();
    if (this.destroyTimer) clearTimeout(this.destroyTimer);
    this.destroyTimer = null;
    this.ring.clear();
    try {
      this.state?.closed?.(this.closeReason);
    } catch (err) {
      this.logger.error('protocol_error', { error: String(err) });
    }
    this.host.closed(this, this.closeReason);
  }

  private clearTimers(): void {
    this.flushDeadline = -1; // the scheduler skips an entry whose deadline no longer matches
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.readTimer) clearTimeout(this.readTimer);
    this.handshakeTimer = this.readTimer = null;
  }
}
