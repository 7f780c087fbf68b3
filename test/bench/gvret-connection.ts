// A GVRET reader for the load generator: connects like SavvyCAN (its connect burst, a
// keepalive every 250 ms), then checks the sequence payload of every `F1 00` frame exactly
// as the cannelloni reader does (per bus key: gaps, ordering) and records the latency from
// the send time in the payload to the read that carried the frame.
import net from 'node:net';
import type { ClientResult, ClientSpec } from './messages.js';
import { BUS_KEY_BASE, KEY_SPACE, wallMicros32 } from './wire.js';

const BURST = Buffer.from([0xe7, 0xe7, 0xf1, 0x0c, 0xf1, 0x06, 0xf1, 0x07, 0xf1, 0x01, 0xf1, 0x09]);
const KEEPALIVE = Buffer.from([0xf1, 0x09]);
/** Total lengths of the replies the burst and keepalives bring. */
const REPLY_LEN: Record<number, number> = { 0x01: 6, 0x06: 12, 0x07: 8, 0x09: 4, 0x0c: 3, 0x0d: 17 };
const READ_BUFFER = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export interface LatencySink {
  measuring(): boolean;
  record(us: number, count: number): void;
  negative(): void;
}

export class GvretLoadConnection {
  socket!: net.Socket;
  private readonly expected = new Float64Array(KEY_SPACE).fill(-1);
  private carry: Buffer = EMPTY;
  private keepalive: NodeJS.Timeout | null = null;
  connected = false;
  closed = false;
  localPort = 0;
  frames = 0;
  gaps = 0;
  violations = 0;
  other = 0;
  readonly sent = 0;

  constructor(
    readonly spec: ClientSpec,
    private readonly sink: LatencySink,
  ) {}

  /** Resolves once the `F1 06` reply arrived (SavvyCAN's CONNECTED). */
  connect(): Promise<void> {
    this.socket = net.connect({
      port: this.spec.port,
      host: '127.0.0.1',
      noDelay: true,
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: (n: number, buf: Uint8Array) => this.onBytes(buf as Buffer, n) },
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.closed = true;
      if (this.keepalive) clearInterval(this.keepalive);
    });
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        this.localPort = this.socket.localPort ?? 0;
        this.socket.write(BURST);
        this.keepalive = setInterval(() => this.socket.write(KEEPALIVE), 250);
        const check = (): void => (this.connected ? resolve() : void setTimeout(check, 5));
        check();
      });
      this.socket.once('error', reject);
    });
  }

  resetCounters(): void {
    this.frames = this.gaps = this.violations = this.other = 0;
  }

  send(): void {
    // Readers only.
  }

  stop(): void {
    if (this.keepalive) clearInterval(this.keepalive);
    this.socket?.destroy();
  }

  private onBytes(chunk: Buffer, n: number): boolean {
    const now = wallMicros32();
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    const end = buf.length;
    const measuring = this.sink.measuring();
    let p = 0;
    let frames = 0;
    let lastLatency = -1;
    let same = 0;
    while (p < end) {
      if (buf[p] !== 0xf1) {
        p++; // the trailer after a frame
        continue;
      }
      if (p + 2 > end) break;
      const cmd = buf[p + 1];
      if (cmd !== 0x00) {
        const len = REPLY_LEN[cmd];
        if (len === undefined) throw new Error(`unexpected GVRET command 0x${cmd.toString(16)}`);
        if (p + len > end) break;
        if (cmd === 0x06) this.connected = true;
        p += len;
        continue;
      }
      if (p + 11 > end) break;
      const len = buf[p + 10] & 0x0f;
      if (p + 11 + len > end) break;
      const key = (buf.readUInt32LE(p + 6) & 0x1fffffff) - BUS_KEY_BASE;
      if (len === 8 && key >= 0 && key < KEY_SPACE) {
        const seq = buf.readUInt32BE(p + 11);
        const want = this.expected[key];
        if (want >= 0 && seq !== want) {
          if (seq > want) this.gaps += seq - want;
          else this.violations++;
        }
        this.expected[key] = seq + 1;
        frames++;
        if (measuring) {
          let us = (now - buf.readUInt32BE(p + 15)) >>> 0;
          if (us > 0x7fffffff) {
            this.sink.negative();
            us = 0;
          }
          if (us === lastLatency) same++;
          else {
            if (same > 0) this.sink.record(lastLatency, same);
            lastLatency = us;
            same = 1;
          }
        }
      } else {
        this.other++;
      }
      p += 11 + len;
    }
    if (same > 0) this.sink.record(lastLatency, same);
    this.frames += frames;
    this.carry = p < end ? Buffer.from(buf.subarray(p)) : EMPTY;
    return true;
  }

  result(): ClientResult {
    return {
      role: this.spec.role,
      port: this.spec.port,
      localPort: this.localPort,
      frames: this.frames,
      gaps: this.gaps,
      violations: this.violations,
      other: this.other,
      sent: 0,
      closed: this.closed,
    };
  }
}
