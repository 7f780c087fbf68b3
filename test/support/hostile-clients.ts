// Clients for the hostile-peer tests: sockets bound to a chosen source address (127.0.0.2,
// 127.0.0.3, ::1, or the extra addresses of a test's network namespace), what they saw, and
// a cannelloni client that reads the virtual bus's `sequence` payload (bytes 0-3 a sequence
// number, 4-7 the send time in µs, low 32 bits of the wall clock).
import net from 'node:net';

export const HELLO = Buffer.from('CANNELLONIv1', 'ascii');

export interface Watched {
  socket: net.Socket;
  received: number;
  closed: boolean;
  whenClosed: Promise<void>;
}

/** Connects from `localAddress` (default: the OS's choice); resolves once connected. */
export function openFrom(port: number, opts: { host?: string; localAddress?: string } = {}): Promise<Watched> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: opts.host ?? '127.0.0.1', localAddress: opts.localAddress });
    const w: Watched = { socket, received: 0, closed: false, whenClosed: Promise.resolve() };
    w.whenClosed = new Promise((r) =>
      socket.once('close', () => {
        w.closed = true;
        r();
      }),
    );
    socket.on('data', (d: Buffer) => (w.received += d.length));
    socket.on('error', () => {});
    socket.once('connect', () => resolve(w));
    socket.once('error', reject);
  });
}

/** Whether the daemon closed the connection within `ms` without sending a single byte. */
export async function closedSilently(w: Watched, ms = 2000): Promise<boolean> {
  await Promise.race([w.whenClosed, sleep(ms)]);
  return w.closed && w.received === 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A classic cannelloni frame. */
export function frame(id: number, data: number[] = [1, 2, 3, 4, 5, 6, 7, 8]): Buffer {
  const b = Buffer.alloc(5 + data.length);
  b.writeUInt32BE(id >>> 0, 0);
  b[4] = data.length;
  Buffer.from(data).copy(b, 5);
  return b;
}

export interface SequenceFrame {
  seq: number;
  /** Age (ms) when it was read: now − send time, from the payload's µs stamp. */
  ageMs: number;
}

/** A cannelloni client that keeps every frame it reads (sequence payload: with its age). */
export class CannelloniListener {
  helloSeen = false;
  frames = 0;
  readonly seq: SequenceFrame[] = [];
  private buf: Buffer = Buffer.alloc(0);
  keep = true;

  constructor(readonly w: Watched) {
    w.socket.on('data', (d: Buffer) => this.onData(d));
  }

  static async connect(port: number, opts: { host?: string; localAddress?: string; hello?: boolean } = {}): Promise<CannelloniListener> {
    const w = await openFrom(port, opts);
    const c = new CannelloniListener(w);
    if (opts.hello !== false) {
      w.socket.write(HELLO);
      await until(() => c.helloSeen || w.closed, 5000, 'the daemon hello');
    }
    return c;
  }

  send(...frames: Buffer[]): void {
    this.w.socket.write(Buffer.concat(frames));
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (!this.helloSeen) {
      if (this.buf.length < 12) return;
      this.helloSeen = true;
      this.buf = this.buf.subarray(12);
    }
    const now = Date.now();
    const nowUs = Math.floor(now * 1000) % 4294967296;
    let p = 0;
    while (this.buf.length - p >= 5) {
      const len = this.buf[p + 4] & 0x7f;
      if (this.buf.length - p < 5 + len) break;
      this.frames++;
      if (this.keep && len === 8) {
        const seq = this.buf.readUInt32BE(p + 5);
        const sentUs = this.buf.readUInt32BE(p + 9);
        const ageUs = (nowUs - sentUs) | 0; // signed: the sender's clock may run a hair ahead
        this.seq.push({ seq, ageMs: ageUs / 1000 });
      }
      p += 5 + len;
    }
    this.buf = this.buf.subarray(p);
  }
}
