// A GVRET client that behaves like SavvyCAN's GVRET connection over TCP, written from the
// protocol notes (not from SavvyCAN's code, nor from src/protocols/gvret):
// - on connect, one write: E7 E7 F1 0C F1 06 F1 07 F1 01 F1 09; after the F1 0C reply, F1 0D;
// - "validate comm": CONNECTED only after a complete F1 06 (10 body bytes) or F1 0D (15);
//   5 s after connecting, if not CONNECTED it disconnects (SavvyCAN then reconnects), else it
//   starts a 250 ms tick: counter - 1, disconnect at 0, send F1 09; each F1 09 reply sets
//   the counter to 10 (so ~2.5 s without replies disconnects it);
// - its parser: a frame completes on its last data byte (the trailer is skipped in idle); a
//   zero-length frame is dropped and eats the next byte; an unknown command byte makes the
//   next byte the command; F1 03 and F1 16 replies never return to idle; an F1 14 frame with a
//   length of 1..63 never completes (Qt5), so everything after it is lost;
// - TX: F1 00 id(4, bit 31 = EFF) bus(&3) len data 00.
import type net from 'node:net';
import { openSocket, StreamClient } from './stream-client.js';

export const SAVVYCAN_CONNECT_BURST = Buffer.from([0xe7, 0xe7, 0xf1, 0x0c, 0xf1, 0x06, 0xf1, 0x07, 0xf1, 0x01, 0xf1, 0x09]);

export interface SavvyFrame {
  /** Wrapped µs timestamp as sent (SavvyCAN adds its own offset from the F1 01 reply). */
  timestamp: number;
  id: number;
  extended: boolean;
  bus: number;
  data: Buffer;
}

type State = 'idle' | 'command' | 'frame' | 'fd_frame' | 'body' | 'stuck';

export interface SavvyOptions {
  /** SavvyCAN's validation delay; 5000 ms. */
  validationDelayMs?: number;
  /** Keepalive tick; 250 ms. */
  tickMs?: number;
}

export class SavvyCanClient extends StreamClient {
  readonly frames: SavvyFrame[] = [];
  status: 'connecting' | 'connected' | 'disconnected' = 'connecting';
  /** Why it disconnected: 'validation_timeout', 'keepalive_lost', 'server_closed'. */
  disconnectReason: string | null = null;
  numBuses = 2;
  bitrates: [number, number] = [0, 0];
  busEnabled: [boolean, boolean] = [false, false];
  deviceBuild: number | null = null;
  timeBasis: number | null = null;
  keepaliveReplies = 0;
  keepalivesSent = 0;
  /** Lowest validation counter seen (10 = every reply came before the next tick). */
  minCounter = 10;
  /** Set when the parser entered a state it never leaves. */
  stuckAt: string | null = null;
  private counter = 10;
  private state: State = 'idle';
  private step = 0;
  private cmd = 0;
  private body: number[] = [];
  private bodyLen = 0;
  private frameLen = 0;
  private frame: SavvyFrame = { timestamp: 0, id: 0, extended: false, bus: 0, data: Buffer.alloc(0) };
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    socket: net.Socket,
    private readonly options: Required<SavvyOptions>,
  ) {
    super(socket);
  }

  static async connect(port: number, options: SavvyOptions = {}, host = '127.0.0.1'): Promise<SavvyCanClient> {
    const socket = await openSocket(port, { host, noDelay: true });
    const c = new SavvyCanClient(socket, { validationDelayMs: options.validationDelayMs ?? 5000, tickMs: options.tickMs ?? 250 });
    socket.write(SAVVYCAN_CONNECT_BURST);
    c.timers.push(setTimeout(() => c.validationCheck(), c.options.validationDelayMs));
    return c;
  }

  /** SavvyCAN's TX: F1 00 id bus len data 00. */
  send(frame: { id: number; extended?: boolean; bus: number; data: ArrayLike<number> }): void {
    const id = (frame.extended ? frame.id | 0x80000000 : frame.id) >>> 0;
    const out = Buffer.alloc(9 + frame.data.length);
    out[0] = 0xf1;
    out[1] = 0x00;
    out.writeUInt32LE(id, 2);
    out[6] = frame.bus & 3;
    out[7] = frame.data.length;
    Buffer.from(Array.from(frame.data)).copy(out, 8);
    this.socket.write(out);
  }

  /** Raw bytes (bus settings, debug input). */
  write(bytes: ArrayLike<number>): void {
    this.socket.write(Uint8Array.from(bytes));
  }

  waitConnected(timeoutMs = 5000): Promise<void> {
    return this.until(() => this.status !== 'connecting', timeoutMs, 'CONNECTED').then(() => {
      if (this.status !== 'connected') throw new Error(`SavvyCAN client ${this.status}: ${this.disconnectReason}`);
    });
  }

  override close(): void {
    this.stopTimers();
    this.status = 'disconnected';
    this.disconnectReason ??= 'closed_by_test';
    this.socket.destroy();
  }

  private stopTimers(): void {
    for (const t of this.timers) clearTimeout(t);
  }

  private disconnect(reason: string): void {
    if (this.status === 'disconnected') return;
    this.status = 'disconnected';
    this.disconnectReason = reason;
    this.stopTimers();
    this.socket.destroy();
    this.notify();
  }

  protected onData(d: Buffer): void {
    for (const c of d) this.byte(c);
  }

  protected override onClose(): void {
    this.disconnect('server_closed');
  }

  private validationCheck(): void {
    if (this.status !== 'connected') {
      this.disconnect('validation_timeout');
      return;
    }
    const tick = setInterval(() => this.tick(), this.options.tickMs);
    this.timers.push(tick);
  }

  private tick(): void {
    if (this.status !== 'connected') return;
    this.counter--;
    this.minCounter = Math.min(this.minCounter, this.counter);
    if (this.counter === 0) {
      this.disconnect('keepalive_lost');
      return;
    }
    this.keepalivesSent++;
    this.socket.write(Buffer.from([0xf1, 0x09]));
  }

  private byte(c: number): void {
    switch (this.state) {
      case 'idle':
        if (c === 0xf1) this.state = 'command';
        return;
      case 'command':
        this.command(c);
        return;
      case 'frame':
        this.frameByte(c);
        return;
      case 'fd_frame':
        this.fdFrameByte(c);
        return;
      case 'body':
        this.body.push(c);
        if (this.body.length === this.bodyLen) this.bodyDone();
        return;
      case 'stuck':
        return;
    }
  }

  private command(c: number): void {
    this.cmd = c;
    this.step = 0;
    this.body = [];
    const bodies: Record<number, number> = { 0x01: 4, 0x02: 2, 0x06: 10, 0x07: 6, 0x0c: 1, 0x0d: 15 };
    if (c === 0x00) this.state = 'frame';
    else if (c === 0x14) this.state = 'fd_frame';
    else if (c === 0x09) {
      this.counter = 10;
      this.keepaliveReplies++;
      this.state = 'idle';
    } else if (c === 0x04 || c === 0x05) this.state = 'idle';
    else if (c === 0x03 || c === 0x16) this.stick(`F1 ${c.toString(16)} reply`);
    else if (bodies[c] !== undefined) {
      this.bodyLen = bodies[c];
      this.state = 'body';
    }
    // Any other byte: still waiting for a command byte (the next byte is taken as one).
  }

  private stick(where: string): void {
    this.state = 'stuck';
    this.stuckAt ??= where;
  }

  private frameByte(c: number): void {
    const s = this.step++;
    if (s < 4) this.frame.timestamp = s === 0 ? c : (this.frame.timestamp | (c << (8 * s))) >>> 0;
    else if (s < 8) {
      const id = s === 4 ? c : (this.frame.id | (c << (8 * (s - 4)))) >>> 0;
      this.frame.id = id;
      if (s === 7) {
        this.frame.extended = (id & 0x80000000) !== 0;
        this.frame.id = id & 0x7fffffff;
      }
    } else if (s === 8) {
      this.frameLen = c & 0x0f;
      this.frame.bus = c >> 4;
      this.frame.data = Buffer.alloc(this.frameLen);
    } else if (s - 9 < this.frameLen) {
      this.frame.data[s - 9] = c;
      if (s - 9 === this.frameLen - 1) {
        this.frames.push({ ...this.frame });
        this.state = 'idle';
      }
    } else {
      // Length 0: this byte is swallowed and the frame is lost.
      this.state = 'idle';
    }
  }

  private fdFrameByte(c: number): void {
    const s = this.step++;
    if (s === 8) this.frameLen = c & 0x3f;
    if (s === 10 && this.frameLen === 0)
      this.state = 'idle'; // completes with a 1-byte payload read wrong
    else if (s >= 10) this.stick('F1 14 frame');
  }

  private bodyDone(): void {
    const b = Buffer.from(this.body);
    this.state = 'idle';
    switch (this.cmd) {
      case 0x01:
        this.timeBasis = b.readUInt32LE(0);
        return;
      case 0x06:
        this.busEnabled = [(b[0] & 0x0f) !== 0, (b[5] & 0x0f) !== 0];
        this.bitrates = [b.readUInt32LE(1), b.readUInt32LE(6)];
        this.connected();
        return;
      case 0x07:
        this.deviceBuild = b.readUInt16LE(0);
        return;
      case 0x0c:
        this.numBuses = b[0];
        this.socket.write(Buffer.from([0xf1, 0x0d]));
        return;
      case 0x0d:
        this.connected();
        return;
    }
  }

  private connected(): void {
    if (this.status === 'connecting') this.status = 'connected';
  }
}
