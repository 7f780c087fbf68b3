// A socketcand client written from the protocol description (messages `< … >`, the frame
// forms of upstream socketcand 0.6.1), not from src/protocols/socketcand, so the bridge is
// checked against an independent reading. It records every message and each socket read
// (`reads`) so tests can check what arrived alone.
import type net from 'node:net';
import type { ConformanceAdapter, ConformanceClient, SpecFrame } from './protocol-conformance.js';
import { conformanceView, openSocket, StreamClient } from './stream-client.js';

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

export class SocketcandClient extends StreamClient {
  readonly messages: string[] = [];
  readonly reads: string[] = [];
  readonly frames: ScFrame[] = [];
  private buf = '';

  private constructor(socket: net.Socket) {
    super(socket);
  }

  /** Connects and waits for `< hi >`; with `open`, opens that bus (and waits for `< ok >`). */
  static async connect(port: number, open?: string): Promise<SocketcandClient> {
    const c = new SocketcandClient(await openSocket(port, { noDelay: true }));
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
    await this.until(
      () => this.frames.length >= n,
      timeoutMs,
      () => `${n} frames (have ${this.frames.length})`,
    );
    return this.frames;
  }

  /** Waits like every client, and a timeout names the last messages (what the server said instead). */
  override until(cond: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<void> {
    return super.until(cond, timeoutMs, () => `${typeof what === 'string' ? what : what()}; last messages: ${this.messages.slice(-5).join(' | ')}`);
  }

  protected onData(d: Buffer): void {
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
  }
}

// ---------------------------------------------------------------- conformance adapter

/** SpecFrame → `< send … >`: 8 hex digits for an extended id (so the server cannot mistake it), 3 for a standard one. */
function sendCommand(f: SpecFrame): string {
  const ext = (f.id & 0x80000000) !== 0;
  const id = (ext ? f.id & 0x1fffffff : f.id & 0x7ff)
    .toString(16)
    .toUpperCase()
    .padStart(ext ? 8 : 3, '0');
  return `< send ${id} ${f.len} ${f.data.map((b) => b.toString(16).padStart(2, '0')).join(' ')} >`;
}

/** The frames the suite compares: can_id with flags. An error message carries only its class. */
function asSpecFrames(c: SocketcandClient): ConformanceClient['frames'] {
  const out: Array<{ id: number; len: number; fd: boolean; flags: number; data: Buffer }> = [];
  for (const m of c.messages) {
    const frame = /^< frame ([0-9A-F]+) \d+\.\d{6} ([0-9A-F]*) >$/.exec(m);
    if (frame) {
      const ext = frame[1].length === 8;
      const data = Buffer.from(frame[2], 'hex');
      out.push({ id: (parseInt(frame[1], 16) | (ext ? 0x80000000 : 0)) >>> 0, len: data.length, fd: false, flags: 0, data });
    }
    // `< error CLASS SEC.USEC >`: socketcand sends the class bits only, not the 8 data bytes
    // (CAN_ERR_DLC); the suite's error frame has all-zero data, which is what we rebuild.
    const error = /^< error ([0-9A-F]{3,8}) \d+\.\d{6} >$/.exec(m);
    if (error) out.push({ id: (parseInt(error[1], 16) | 0x20000000) >>> 0, len: 8, fd: false, flags: 0, data: Buffer.alloc(8) });
  }
  return out;
}

/** A client in RAW mode on bus `vbus0` (the suite's virtual bus), for the conformance suite. */
export async function rawModeClient(port: number, bus = 'vbus0'): Promise<SocketcandClient> {
  const c = await SocketcandClient.connect(port, bus);
  await c.command('< rawmode >', '< ok >');
  // The server starts RAW frames a moment after that `< ok >` (python-can must read it alone).
  await new Promise((r) => setTimeout(r, 50));
  return c;
}

export function asConformanceClient(c: SocketcandClient): ConformanceClient {
  return conformanceView(
    c,
    () => asSpecFrames(c),
    (frames) => c.write(frames.map(sendCommand).join('')),
  );
}

/** socketcand for the shared conformance suite: open + rawmode, `< send >` out, RAW frames in. */
export const socketcandAdapter: ConformanceAdapter = {
  name: 'socketcand',
  config: { socketcandListen: { host: '127.0.0.1', port: 0 } },
  flags: ['--socketcand-listen', '127.0.0.1:0'],
  port: (d) => d.daemon.port(0, 'socketcand'),
  carries: { fd: false, rtr: false, errorFrames: true },
  connect: async (port) => asConformanceClient(await rawModeClient(port)),
  badHello: Buffer.from('< open nosuchbus >'),
  hello: Buffer.from('< open vbus0 >< rawmode >', 'latin1'),
  // python-can's first message, cut short.
  probe: Buffer.from('< open vb', 'latin1'),
  refusal: /< error refused: [^<>]*\(--max-clients(-per-host)?\) >$/,
  clientStream: (frames) => Buffer.from(`< open vbus0 >< rawmode >${frames.map(sendCommand).join('')}`, 'latin1'),
  // A message that never ends: past the server's bound the session is closed as malformed.
  malformed: Buffer.from(`< send ${'1'.repeat(4000)}`, 'latin1'),
};
