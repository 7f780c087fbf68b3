// A socketcand RAW-mode reader for the load generator: `< hi >`, `< open can0 >`,
// `< rawmode >`, then ` < frame 00001000 SEC.USEC 0000002A12345678 >` messages, checked like
// the cannelloni readers (sequence per key, latency from the send time in the payload).
// Parsed straight from the bytes (no strings per frame), so the generator stays cheaper than
// the bridge it measures even at 32 × 21,300 frames/s.
import net from 'node:net';
import type { ClientResult, ClientSpec } from './messages.js';
import { BUS_KEY_BASE, KEY_SPACE, wallMicros32 } from './wire.js';

export interface LatencySink {
  measuring(): boolean;
  /** `count` frames of one read with the same latency (µs; negative → counted apart). */
  record(us: number, count: number): void;
}

const EMPTY = Buffer.alloc(0);
const READ_BUFFER = 64 * 1024;
const LT = 0x3c;
const GT = 0x3e;
const SP = 0x20;
/** hex digit value by byte, 255 for anything else */
const HEX = new Uint8Array(256).fill(255);
for (let k = 0; k < 10; k++) HEX[0x30 + k] = k;
for (let k = 0; k < 6; k++) HEX[0x41 + k] = HEX[0x61 + k] = 10 + k;

/** Up to 8 hex digits at buf[from, to) → number (>>> 0), or −1. */
function hexAt(buf: Buffer, from: number, to: number): number {
  let v = 0;
  for (let k = from; k < to; k++) {
    const d = HEX[buf[k]];
    if (d === 255) return -1;
    v = v * 16 + d;
  }
  return v;
}

export class SocketcandLoadConnection {
  socket!: net.Socket;
  private readonly expected = new Float64Array(KEY_SPACE).fill(-1);
  private carry: Buffer = EMPTY;
  /** Replies still awaited before frames: `< hi >`, then `< ok >` twice. */
  private handshake: string[] = ['< hi >', '< ok >', '< ok >'];
  private text = '';
  private onReady: (() => void) | null = null;
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
    private readonly bus = 'can0',
  ) {}

  connect(): Promise<void> {
    this.socket = net.connect({
      port: this.spec.port,
      host: '127.0.0.1',
      noDelay: true,
      onread: { buffer: Buffer.allocUnsafe(READ_BUFFER), callback: (n: number, buf: Uint8Array) => this.onBytes(buf as Buffer, n) },
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => (this.closed = true));
    return new Promise((resolve, reject) => {
      this.onReady = resolve;
      this.socket.once('connect', () => (this.localPort = this.socket.localPort ?? 0));
      this.socket.once('error', reject);
    });
  }

  resetCounters(): void {
    this.frames = this.gaps = this.violations = this.other = 0;
  }

  send(): void {
    // Readers only.
  }

  /** The handshake, one reply at a time; returns the bytes after the last reply. */
  private negotiate(buf: Buffer): Buffer {
    let p = 0;
    while (this.handshake.length > 0) {
      const gt = buf.indexOf(GT, p);
      if (gt < 0) {
        this.text += buf.toString('latin1', p);
        return EMPTY;
      }
      const msg = (this.text + buf.toString('latin1', p, gt + 1)).trim();
      this.text = '';
      p = gt + 1;
      const want = this.handshake.shift();
      if (msg !== want) throw new Error(`socketcand handshake: expected ${want}, got ${msg}`);
      if (this.handshake.length === 2) this.socket.write(`< open ${this.bus} >`);
      else if (this.handshake.length === 1) this.socket.write('< rawmode >');
      else this.onReady?.();
    }
    return buf.subarray(p);
  }

  private onBytes(chunk: Buffer, n: number): boolean {
    const now = wallMicros32();
    let buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    if (this.handshake.length > 0) buf = this.negotiate(buf);
    const end = buf.length;
    const expected = this.expected;
    const measuring = this.sink.measuring();
    let p = 0;
    let frames = 0;
    let lastLatency = -1;
    let same = 0;
    for (;;) {
      const lt = buf.indexOf(LT, p);
      if (lt < 0) {
        p = end;
        break;
      }
      const gt = buf.indexOf(GT, lt);
      if (gt < 0) {
        p = lt;
        break;
      }
      p = gt + 1;
      // `< frame ` ID ` ` SEC.USEC ` ` DATA ` >`
      const idStart = lt + 8;
      const idEnd = buf.indexOf(SP, idStart);
      const tsEnd = idEnd < 0 ? -1 : buf.indexOf(SP, idEnd + 1);
      const dataStart = tsEnd + 1;
      const dataEnd = gt - 1;
      if (buf[lt + 2] !== 0x66 || idEnd - idStart !== 8 || tsEnd < 0 || dataEnd - dataStart !== 16) {
        this.other++;
        continue;
      }
      const key = hexAt(buf, idStart, idEnd) - BUS_KEY_BASE;
      const seq = hexAt(buf, dataStart, dataStart + 8);
      if (key < 0 || key >= KEY_SPACE || seq < 0) {
        this.other++;
        continue;
      }
      const want = expected[key];
      if (want >= 0 && seq !== want) {
        if (seq > want) this.gaps += seq - want;
        else this.violations++;
      }
      expected[key] = seq + 1;
      frames++;
      if (measuring) {
        const us = (now - hexAt(buf, dataStart + 8, dataStart + 16)) >>> 0;
        if (us === lastLatency) same++;
        else {
          if (same > 0) this.sink.record(lastLatency, same);
          lastLatency = us;
          same = 1;
        }
      }
    }
    if (same > 0) this.sink.record(lastLatency, same);
    this.frames += frames;
    this.carry = p < end ? Buffer.from(buf.subarray(p)) : EMPTY;
    return true;
  }

  result(): ClientResult {
    return { role: this.spec.role, port: this.spec.port, localPort: this.localPort, frames: this.frames, gaps: this.gaps, violations: this.violations, other: this.other, sent: 0, closed: this.closed };
  }
}
