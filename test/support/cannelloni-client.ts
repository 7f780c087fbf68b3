// A cannelloni TCP v1 client written from the spec (mguentner/cannelloni 2.1), not from
// src/core/cannelloni.ts, so the daemon is checked against an independent reading of the
// protocol. Its stream reader is the one cannelloni decoder of the tests: the client here,
// the hostile-peer listener and the 64-client stress test all read frames through it.
import type net from 'node:net';
import type { ConformanceAdapter, ConformanceClient, SpecFrame } from './protocol-conformance.js';
import { conformanceView, FrameClient, openSocket } from './stream-client.js';

export const HELLO = Buffer.from('CANNELLONIv1', 'ascii');
const EMPTY = Buffer.alloc(0);

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

/**
 * One frame as the reader walks it. The view object and `buf` are reused: valid only during
 * the callback, so a caller copies what it keeps (TestClient) or reads numbers out of
 * `buf` at `dataAt` without allocating (the 64-client stress test).
 */
export interface FrameView {
  /** can_id with EFF/RTR/ERR flags */
  id: number;
  len: number;
  fd: boolean;
  flags: number;
  buf: Buffer;
  /** Where the data bytes start in `buf`; an RTR frame has none. */
  dataAt: number;
  dataLen: number;
}

/**
 * The daemon-to-client byte stream, read from the spec: the 12-byte hello, then v1 frames
 * (id BE u32 with flags | len byte, bit 7 = FD | FD flags byte | data; an RTR frame carries
 * no data). Partial frames wait for the next read.
 */
export class CannelloniReader {
  /** The daemon's hello, once all 12 bytes arrived. */
  hello: Buffer | null = null;
  /** Set when the daemon sent bytes that are not valid frames (reading stops there). */
  error: string | null = null;
  private buf: Buffer = EMPTY;
  private readonly view: FrameView = { id: 0, len: 0, fd: false, flags: 0, buf: this.buf, dataAt: 0, dataLen: 0 };
  private awaitingHello: boolean;

  /** `hello: false` reads frames from the first byte (a stream that has no hello). */
  constructor(options: { hello?: boolean } = {}) {
    this.awaitingHello = options.hello ?? true;
  }

  /** Reads `d`; calls `onFrame` for each complete frame, in order. */
  push(d: Buffer, onFrame: (f: FrameView) => void): void {
    let buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (this.awaitingHello) {
      if (buf.length < HELLO.length) {
        this.buf = Buffer.from(buf);
        return;
      }
      this.hello = Buffer.from(buf.subarray(0, HELLO.length));
      this.awaitingHello = false;
      buf = buf.subarray(HELLO.length);
    }
    const v = this.view;
    v.buf = buf;
    let p = 0;
    while (this.error === null && buf.length - p >= 5) {
      const id = buf.readUInt32BE(p);
      const lenByte = buf[p + 4];
      const fd = (lenByte & 0x80) !== 0;
      const len = lenByte & 0x7f;
      if ((!fd && len > 8) || len > 64) {
        this.error = `bad length ${len}`;
        break;
      }
      const head = fd ? 6 : 5;
      const dataLen = (id & 0x40000000) !== 0 ? 0 : len;
      if (buf.length - p < head + dataLen) break;
      v.id = id;
      v.len = len;
      v.fd = fd;
      v.flags = fd ? buf[p + 5] : 0;
      v.dataAt = p + head;
      v.dataLen = dataLen;
      onFrame(v);
      p += head + dataLen;
    }
    // Copied: a caller's read buffer may be reused.
    this.buf = p < buf.length ? Buffer.from(buf.subarray(p)) : EMPTY;
  }
}

export class TestClient extends FrameClient<WireFrame> {
  private readonly reader = new CannelloniReader();

  private constructor(socket: net.Socket) {
    super(socket);
  }

  /** The daemon's 12 hello bytes, once read. */
  get receivedHello(): Buffer | null {
    return this.reader.hello;
  }

  /** Set when the daemon sent bytes that are not valid frames. */
  get protocolError(): string | null {
    return this.reader.error;
  }

  /** Connects; with `hello` (default) sends CANNELLONIv1 and waits for the daemon's. */
  static async connect(port: number, options: { hello?: boolean | Buffer; host?: string } = {}): Promise<TestClient> {
    const c = new TestClient(await openSocket(port, { host: options.host }));
    const hello = options.hello ?? true;
    if (hello !== false) {
      c.socket.write(hello === true ? HELLO : hello);
      if (hello === true) await c.until(() => c.receivedHello !== null || c.closed, 5000, 'the daemon hello');
    }
    return c;
  }

  protected onData(d: Buffer): void {
    this.reader.push(d, (f) =>
      this.frames.push({ id: f.id, len: f.len, fd: f.fd, flags: f.flags, data: Buffer.from(f.buf.subarray(f.dataAt, f.dataAt + f.dataLen)) }),
    );
  }
}

// ---------------------------------------------------------------- conformance adapter

const specToWire = (f: SpecFrame): Buffer => encode({ id: f.id, data: f.data, rtr: (f.id & 0x40000000) !== 0, len: f.len, fd: f.fd, flags: f.flags });

export function asConformanceClient(c: TestClient): ConformanceClient {
  return conformanceView(
    c,
    () => c.frames,
    (frames) => c.send(...frames.map(specToWire)),
  );
}

/** cannelloni for the shared conformance suite: hello, v1 frames, classic len 9 as the malformed input. */
export const cannelloniAdapter: ConformanceAdapter = {
  name: 'cannelloni',
  config: { listen: { host: '127.0.0.1', port: 0 } },
  flags: [],
  port: (d) => d.daemon.port(0, 'cannelloni'),
  carries: { fd: true, rtr: true, errorFrames: true },
  connect: async (port) => asConformanceClient(await TestClient.connect(port)),
  badHello: Buffer.from('CANNELLONIv2'),
  hello: HELLO,
  probe: HELLO.subarray(0, 6),
  clientStream: (frames) => Buffer.concat([HELLO, ...frames.map(specToWire)]),
  malformed: Buffer.from([0, 0, 1, 0x11, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
};
