// Clients for the hostile-peer tests: sockets bound to a chosen source address (127.0.0.2,
// 127.0.0.3, ::1, or the extra addresses of a test's network namespace), what they saw, and
// a cannelloni client among them that counts the frames it reads (through the tests' one
// spec-written cannelloni reader).
import net from 'node:net';
import { CannelloniReader, encode, HELLO } from './cannelloni-client.js';
import { until } from './until.js';

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

/** A classic cannelloni frame. */
export function frame(id: number, data: number[] = [1, 2, 3, 4, 5, 6, 7, 8]): Buffer {
  return encode({ id, data });
}

/** A cannelloni client from a chosen source address that counts the frames it reads. */
export class CannelloniListener {
  frames = 0;
  private readonly reader = new CannelloniReader();

  constructor(readonly w: Watched) {
    w.socket.on('data', (d: Buffer) => this.reader.push(d, () => this.frames++));
  }

  /** Whether the daemon's 12 hello bytes arrived. */
  get helloSeen(): boolean {
    return this.reader.hello !== null;
  }

  static async connect(port: number, opts: { host?: string; localAddress?: string; hello?: boolean } = {}): Promise<CannelloniListener> {
    const w = await openFrom(port, opts);
    const c = new CannelloniListener(w);
    if (opts.hello !== false) {
      w.socket.write(HELLO);
      await until(() => c.helloSeen || w.closed, 'the daemon hello');
    }
    return c;
  }

  send(...frames: Buffer[]): void {
    this.w.socket.write(Buffer.concat(frames));
  }
}
