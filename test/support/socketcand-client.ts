// A socketcand client written from the protocol description (messages `< … >`, the frame
// forms of upstream socketcand 0.6.1), not from src/protocols/socketcand, so the bridge is
// checked against an independent reading. It records every message and each socket read
// (`reads`) so tests can check what arrived alone.
import net from 'node:net';

export interface ScFrame {
  /** The id as written (3 or 8 hex digits). */
  idText: string;
  id: number;
  extended: boolean;
  /** Seconds since the epoch, from SEC.USEC. */
  time: number;
  timeText: string;
  data: Buffer;
  /** Local monotonic ms when it was read. */
  at: number;
}

export class SocketcandClient {
  readonly messages: string[] = [];
  readonly reads: string[] = [];
  readonly frames: ScFrame[] = [];
  closed = false;
  private buf = '';
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  /** Connects and waits for `< hi >`; with `open`, opens that bus (and waits for `< ok >`). */
  static async connect(port: number, open?: string): Promise<SocketcandClient> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new SocketcandClient(socket);
    await c.expect('< hi >');
    if (open) await c.command(`< open ${open} >`, '< ok >');
    return c;
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Sends `text` and waits for the next message to equal `reply`. */
  async command(text: string, reply: string, timeoutMs = 3000): Promise<void> {
    const from = this.messages.length;
    this.write(text);
    await this.until(() => this.messages.length > from, timeoutMs, `a reply to ${text}`);
    if (this.messages[from] !== reply) throw new Error(`${text}: expected ${reply}, got ${this.messages[from]}`);
  }

  async expect(message: string, timeoutMs = 3000): Promise<void> {
    await this.until(() => this.messages.includes(message), timeoutMs, message);
  }

  async waitFrames(n: number, timeoutMs = 5000): Promise<ScFrame[]> {
    await this.until(() => this.frames.length >= n, timeoutMs, `${n} frames (have ${this.frames.length})`);
    return this.frames;
  }

  close(): void {
    this.socket.end();
  }

  until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last messages: ${this.messages.slice(-5).join(' | ')}`));
      }, timeoutMs);
      this.waiters.push(check);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(d: Buffer): void {
    const text = d.toString('latin1');
    this.reads.push(text);
    this.buf += text;
    for (;;) {
      const start = this.buf.indexOf('<');
      if (start < 0) {
        this.buf = '';
        break;
      }
      const end = this.buf.indexOf('>', start);
      if (end < 0) {
        this.buf = this.buf.slice(start);
        break;
      }
      const msg = this.buf.slice(start, end + 1);
      this.buf = this.buf.slice(end + 1);
      this.messages.push(msg);
      // RAW `< frame ID S.U HEX >` or BCM `< frame ID S.U B0 B1 …  >`
      const m = /^< frame ([0-9A-F]+) (\d+)\.(\d{6}) ((?:[0-9A-F]{2})*|(?:[0-9A-F]{2} )+) >$/.exec(msg);
      if (m) {
        this.frames.push({
          idText: m[1],
          id: parseInt(m[1], 16),
          extended: m[1].length === 8,
          time: Number(`${m[2]}.${m[3]}`),
          timeText: `${m[2]}.${m[3]}`,
          data: Buffer.from(m[4].replace(/ /g, ''), 'hex'),
          at: performance.now(),
        });
      }
    }
    this.notify();
  }
}
