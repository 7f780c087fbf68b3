// One cannelloni TCP client: handshake with timeout, incremental reader, and a batching
// writer with its own bounded queue. Frames wait in OUR queue (whose size the hub policy
// bounds), never in Node's stream buffer: while the socket is congested nothing more is
// written, so memory per client stays bounded however slow the peer is.
import type { Socket } from 'node:net';
import { CANNELLONI_HELLO, CannelloniDecoder, type CannelloniDecodeError, HelloReader } from '../core/cannelloni.js';
import type { CanFrame } from '../core/frame.js';
import type { HubSubscriber } from '../core/hub.js';
import { type Flushable, FlushScheduler } from './flush-scheduler.js';

export type CloseReason =
  | 'client_closed'
  | 'handshake_timeout'
  | 'bad_magic'
  | 'malformed'
  | 'read_timeout'
  | 'kicked_slow'
  | 'kicked_by_operator'
  | 'shutdown'
  | 'socket_error';

export interface ClientEvents {
  handshakeDone(c: ClientConnection): void;
  handshakeFailed(c: ClientConnection, reason: 'timeout' | 'bad_magic', received: Uint8Array): void;
  frame(c: ClientConnection, frame: CanFrame): void;
  malformed(c: ClientConnection, error: CannelloniDecodeError): void;
  closed(c: ClientConnection, reason: CloseReason): void;
}

export interface ClientOptions {
  id: number;
  socket: Socket;
  remote: string;
  capacity: number;
  batchSize: number;
  /** ms; 0 = write at the end of the current turn of the event loop */
  flushInterval: number;
  handshakeTimeout: number;
  /** ms of silence from the client before closing it; 0 = never */
  readTimeout: number;
  /** Monotonic ms, for timeouts. */
  now: () => number;
  /** Wall-clock ms since the epoch, for connectedAt. */
  wallClock: () => number;
  events: ClientEvents;
  /** Shared by the clients of one bus (one flush timer for all); default: a private one. */
  flushScheduler?: FlushScheduler;
}

/** Above this many bytes in Node's socket buffer we stop writing and wait for 'drain'. */
const SOCKET_HIGH_WATER = 64 * 1024;

export class ClientConnection implements HubSubscriber, Flushable {
  readonly id: number;
  readonly remote: string;
  /** ms since the epoch (shown to people) */
  readonly connectedAt: number;
  private readonly socket: Socket;
  private readonly events: ClientEvents;
  private readonly hello = new HelloReader();
  private readonly decoder: CannelloniDecoder;
  private handshaken = false;
  private closing = false;
  private closeReason: CloseReason | null = null;

  // Outbound ring of shared, already encoded frames.
  private readonly ring: Uint8Array[];
  private head = 0;
  private count = 0;
  private queuedBytes = 0;
  private congested = false;
  private readonly flushScheduler: FlushScheduler;
  /** See Flushable: −1 when no flush is scheduled for the current batch. */
  flushDeadline = -1;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private readTimer: NodeJS.Timeout | null = null;
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
  highWater = 0;

  constructor(private readonly options: ClientOptions) {
    this.id = options.id;
    this.remote = options.remote;
    this.socket = options.socket;
    this.events = options.events;
    this.capacity = options.capacity;
    this.batchSize = options.batchSize;
    this.flushInterval = options.flushInterval;
    this.readTimeout = options.readTimeout;
    this.connectedAt = options.wallClock();
    this.ring = new Array<Uint8Array>(options.capacity);
    this.flushScheduler = options.flushScheduler ?? new FlushScheduler(options.now);
    this.decoder = new CannelloniDecoder((f) => {
      this.framesIn++;
      this.events.frame(this, f);
    });
  }

  /** Sends our hello and starts reading. */
  start(): void {
    const s = this.socket;
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('drain', () => {
      this.congested = false;
      if (this.count > 0) this.flush();
    });
    s.on('error', () => this.finish('socket_error'));
    s.on('close', () => this.finish(this.closeReason ?? 'client_closed'));
    s.on('end', () => {
      // The peer half-closed: cannelloni has no half-duplex use, so close our side too.
      this.close('client_closed');
    });
    s.write(CANNELLONI_HELLO);
    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = null;
      if (this.handshaken || this.closing) return;
      this.events.handshakeFailed(this, 'timeout', this.hello.received());
      this.close('handshake_timeout');
    }, this.options.handshakeTimeout);
  }

  get isHandshaken(): boolean {
    return this.handshaken;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  // ------------------------------------------------------------------ hub side

  queueDepth(): number {
    return this.count;
  }

  enqueue(_frame: CanFrame, bytes: Uint8Array): void {
    // Between close() and the socket's 'close' event the hub still lists this client;
    // nothing more may be written after end().
    if (this.closing) return;
    const cap = this.ring.length;
    this.ring[(this.head + this.count) % cap] = bytes;
    this.count++;
    this.queuedBytes += bytes.length;
    if (this.count > this.highWater) this.highWater = this.count;
    if (this.count >= this.batchSize) {
      this.flush();
    } else if (this.flushDeadline < 0) {
      // First frame of a batch. A timer exists only while something waits: idle costs nothing.
      this.flushScheduler.schedule(this);
    }
  }

  kick(_reason: 'slow'): void {
    this.close('kicked_slow');
  }

  /** Writes everything queued as one buffer, unless the socket is congested. */
  flush(): void {
    this.flushDeadline = -1;
    if (this.count === 0 || this.congested || this.socket.destroyed) return;
    const cap = this.ring.length;
    let out: Uint8Array;
    if (this.count === 1) {
      // One frame (a quiet bus, or --flush-interval 0 on a real one): its shared encoded
      // bytes are never mutated, so they are written as they are, without a copy.
      out = this.ring[this.head];
      this.ring[this.head] = undefined as unknown as Uint8Array;
    } else {
      out = Buffer.allocUnsafe(this.queuedBytes);
      let p = 0;
      for (let k = 0; k < this.count; k++) {
        const slot = (this.head + k) % cap;
        const b = this.ring[slot];
        out.set(b, p);
        p += b.length;
        this.ring[slot] = undefined as unknown as Uint8Array; // let shared buffers be collected
      }
    }
    this.framesOut += this.count;
    this.bytesOut += out.length;
    this.head = 0;
    this.count = 0;
    this.queuedBytes = 0;
    const ok = this.socket.write(out);
    if (!ok || this.socket.writableLength > SOCKET_HIGH_WATER) this.congested = true;
  }

  // ------------------------------------------------------------------ reading

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.bytesIn += chunk.length;
    if (this.readTimeout > 0) this.lastRx = this.options.now();
    let bytes: Uint8Array = chunk;
    if (!this.handshaken) {
      const r = this.hello.push(chunk);
      if (r === 'more') return;
      if (r === 'bad') {
        this.events.handshakeFailed(this, 'bad_magic', this.hello.received());
        this.close('bad_magic');
        return;
      }
      this.handshaken = true;
      if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
      this.handshakeTimer = null;
      this.events.handshakeDone(this);
      this.armReadTimer();
      bytes = this.hello.rest;
      if (bytes.length === 0 || this.closing) return;
    }
    const err = this.decoder.push(bytes);
    if (err) {
      this.events.malformed(this, err);
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
      this.flush();
    }
    this.count = 0;
    this.queuedBytes = 0;
    this.socket.end();
    // A peer that never reads would keep the socket half-open: give it a second.
    setTimeout(() => this.socket.destroy(), reason === 'shutdown' ? 1500 : 1000).unref();
  }

  /** Resolves when the socket is fully closed. */
  whenClosed(): Promise<void> {
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('close', () => resolve()));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private finished = false;
  private finish(reason: CloseReason): void {
    if (this.finished) return;
    this.finished = true;
    this.closing = true;
    if (this.closeReason === null) this.closeReason = reason;
    this.clearTimers();
    this.count = 0;
    this.queuedBytes = 0;
    this.events.closed(this, this.closeReason);
  }

  private clearTimers(): void {
    this.flushDeadline = -1; // the scheduler skips an entry whose deadline no longer matches
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    if (this.readTimer) clearTimeout(this.readTimer);
    this.handshakeTimer = this.readTimer = null;
  }
}
