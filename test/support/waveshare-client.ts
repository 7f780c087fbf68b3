// A Waveshare 2-CH-CAN-TO-ETH TCP client written from the format as the vendor's wiki and the
// can-waveshare client describe it (13 bytes per frame both ways: flags/DLC byte with 0x80 =
// extended and 0x40 = remote, a big-endian id, 8 data bytes zero-padded; no handshake), not
// from src/protocols/waveshare, so the daemon is checked against an independent reading. It
// reads exactly as the real client does, 13 bytes at a time, and records any record it could
// not have parsed (a desynchronised stream shows up there).
import type net from 'node:net';
import type { ConformanceAdapter, ConformanceClient, SpecFrame } from './protocol-conformance.js';
import { conformanceView, FrameClient, openSocket } from './stream-client.js';

export interface WaveshareWireFrame {
  /** can_id with EFF/RTR flags, as SocketCAN writes it */
  id: number;
  len: number;
  fd: false;
  flags: 0;
  data: Buffer;
}

/** One 13-byte record. `id` may carry the SocketCAN EFF (0x80000000) and RTR (0x40000000) flags. */
export function waveshareRecord(f: { id: number; len?: number; data?: number[] | Buffer }): Buffer {
  const extended = (f.id & 0x80000000) !== 0;
  const remote = (f.id & 0x40000000) !== 0;
  const data = Buffer.from(f.data ?? []);
  const len = remote ? (f.len ?? 0) : data.length;
  const b = Buffer.alloc(13);
  b[0] = (extended ? 0x80 : 0) | (remote ? 0x40 : 0) | len;
  b.writeUInt32BE((f.id & (extended ? 0x1fffffff : 0x7ff)) >>> 0, 1);
  if (!remote) data.copy(b, 5);
  return b;
}

export class WaveshareTestClient extends FrameClient<WaveshareWireFrame> {
  /** Records that are not valid (a DLC above 8, bytes where padding must be zero…). */
  readonly invalid: Buffer[] = [];
  private buf: Buffer = Buffer.alloc(0);

  private constructor(socket: net.Socket) {
    super(socket);
  }

  static async connect(port: number, options: { host?: string } = {}): Promise<WaveshareTestClient> {
    return new WaveshareTestClient(await openSocket(port, { host: options.host }));
  }

  protected onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 13) {
      const r = this.buf.subarray(0, 13);
      this.buf = this.buf.subarray(13);
      const len = r[0] & 0x0f;
      const extended = (r[0] & 0x80) !== 0;
      const remote = (r[0] & 0x40) !== 0;
      const id = r.readUInt32BE(1);
      const padding = r.subarray(5 + (remote ? 0 : Math.min(len, 8)));
      if (len > 8 || (r[0] & 0x30) !== 0 || id > (extended ? 0x1fffffff : 0x7ff) || padding.some((b) => b !== 0)) {
        this.invalid.push(Buffer.from(r));
        continue;
      }
      this.frames.push({
        id: ((extended ? 0x80000000 : 0) | (remote ? 0x40000000 : 0) | id) >>> 0,
        len,
        fd: false,
        flags: 0,
        data: remote ? Buffer.alloc(0) : Buffer.from(r.subarray(5, 5 + len)),
      });
    }
  }
}

// ---------------------------------------------------------------- conformance adapter

const specToWire = (f: SpecFrame): Buffer => waveshareRecord({ id: f.id, len: f.len, data: f.data });

export function asConformanceClient(c: WaveshareTestClient): ConformanceClient {
  return conformanceView(
    c,
    () => c.frames,
    (frames) => c.send(...frames.map(specToWire)),
  );
}

/** Waveshare for the shared conformance suite: no handshake, classic frames only, a DLC of 9 as the malformed input. */
export const waveshareAdapter: ConformanceAdapter = {
  name: 'waveshare',
  config: { waveshareListen: { host: '127.0.0.1', port: 0 } },
  flags: ['--waveshare-listen', '127.0.0.1:0'],
  port: (d) => d.daemon.port(0, 'waveshare'),
  carries: { fd: false, rtr: true, errorFrames: false },
  connect: async (port) => asConformanceClient(await WaveshareTestClient.connect(port)),
  badHello: null,
  // No negotiation: a client from accept, and a probe is a connection that says nothing.
  hello: Buffer.alloc(0),
  probe: Buffer.alloc(0),
  clientStream: (frames) => Buffer.concat(frames.map(specToWire)),
  malformed: Buffer.from([0x09, 0, 0, 0x01, 0x23, 1, 2, 3, 4, 5, 6, 7, 8]),
};
