// A cannelloni TCP v1 client written from the spec (shared/docs/protocols.md §1), not from
// src/core/cannelloni.ts, so the daemon is checked against an independent reading of the
// protocol. Used by integration, stress and end-to-end tests.
import net from 'node:net';
import type { ConformanceAdapter, ConformanceClient, SpecFrame } from './protocol-conformance.js';

export const HELLO = Buffer.from('CANNELLONIv1', 'ascii');

export interface WireFrame {
  /** can_id with EFF/RTR/ERR flags */
  id: number;
  len: number;
  fd: boolean;
  flags: number;
  data: Buffer;
}

export function encode(f: { id: number; data?: number[] | Buffer; rtr?: boolean; len?: number; fd?: boolean; flags?: number }): Buffer {
  const data = Buffer.from(f.data ?? []);
  const id = (f.rtr ? f.id | 0x40000000 : f.id) >>> 0;
  const header = Buffer.alloc(4);
  header.writeUInt32BE(id);
  if (f.fd) return Buffer.concat([header, Buffer.from([0x80 | data.length, f.flags ?? 0]), data]);
  if (f.rtr) return Buffer.concat([header, Buffer.from([f.len ?? 0])]);
  return Buffer.concat([header, Buffer.from([data.length]), data]);
}

export class TestClient {
  readonly frames: WireFrame[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private helloSeen = false;
  receivedHello: Buffer | null = null;
  closed = false;
  readonly whenClosed: Promise<void>;
  private waiters: Array<() => void> = [];
  /** Set when the daemon sent bytes that are not valid frames. */
  protocolError: string | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => this.onData(d));
    this.whenClosed = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.notify();
        resolve();
      }),
    );
    socket.on('error', () => {});
  }

  /** Connects; with `hello` (default) sends CANNELLONIv1 and waits for the daemon's. */
  static async connect(port: number, options: { hello?: boolean | Buffer; host?: string; pause?: boolean } = {}): Promise<TestClient> {
    const socket = net.connect({ port, host: options.host ?? '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new TestClient(socket);
    const hello = options.hello ?? true;
    if (hello !== false) {
      socket.write(hello === true ? HELLO : hello);
      if (hello === true) await c.until(() => c.helloSeen || c.closed, 5000, 'the daemon hello');
    }
    return c;
  }

  send(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** Stops reading (a stalled client): the kernel buffers fill and the daemon must cope. */
  stall(): void {
    this.socket.pause();
  }

  close(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  async waitForFrames(n: number, timeoutMs = 5000): Promise<WireFrame[]> {
    await this.until(() => this.frames.length >= n, timeoutMs, `${n} frames (have ${this.frames.length})`);
    return this.frames;
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await this.until(() => this.closed, timeoutMs, 'the connection to close');
  }

  until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.waiters.push(check);
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (!this.helloSeen) {
      if (this.buf.length < 12) return;
      this.receivedHello = this.buf.subarray(0, 12);
      this.helloSeen = true;
      this.buf = this.buf.subarray(12);
    }
    let p = 0;
    while (this.buf.length - p >= 5) {
      const id = this.buf.readUInt32BE(p);
      const lenByte = this.buf[p + 4];
      const fd = (lenByte & 0x80) !== 0;
      const len = lenByte & 0x7f;
      const rtr = (id & 0x40000000) !== 0;
      const head = fd ? 6 : 5;
      const dataLen = rtr ? 0 : len;
      if ((!fd && len > 8) || len > 64) {
        this.protocolError = `bad length ${len}`;
        break;
      }
      if (this.buf.length - p < head + dataLen) break;
      this.frames.push({ id, len, fd, flags: fd ? this.buf[p + 5] : 0, data: Buffer.from(this.buf.subarray(p + head, p + head + dataLen)) });
      p += head + dataLen;
    }
    this.buf = this.buf.subarray(p);
    this.notify();
  }
}

// ---------------------------------------------------------------- conformance adapter

const specToWire = (f: SpecFrame): Buffer => encode({ id: f.id, data: f.data, rtr: (f.id & 0x40000000) !== 0, len: f.len, fd: f.fd, flags: f.flags });

export function asConformanceClient(c: TestClient): ConformanceClient {
  return {
    get frames() {
      return c.frames;
    },
    get closed() {
      return c.closed;
    },
    socket: c.socket,
    send: (...frames) => c.send(...frames.map(specToWire)),
    waitForFrames: (n, t) => c.waitForFrames(n, t),
    waitClosed: (t) => c.waitClosed(t),
    destroy: () => c.destroy(),
  };
}

/** cannelloni for the shared conformance suite: hello, v1 frames, classic len 9 as the malformed input. */
export const cannelloniAdapter: ConformanceAdapter = {
  name: 'cannelloni',
  config: { listen: { host: '127.0.0.1', port: 0 } },
  port: (d) => d.daemon.port(0, 'cannelloni'),
  carries: { fd: true, rtr: true, errorFrames: true },
  connect: async (port) => asConformanceClient(await TestClient.connect(port)),
  badHello: Buffer.from('CANNELLONIv2'),
  clientStream: (frames) => Buffer.concat([HELLO, ...frames.map(specToWire)]),
  malformed: Buffer.from([0, 0, 1, 0x11, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
};
