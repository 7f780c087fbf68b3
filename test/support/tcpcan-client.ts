// A tcpcan 0.0.2 peer written from the wire format (type byte, length byte, payload; `v` with
// a big-endian u32 version, `d` with a little-endian struct can_frame / canfd_frame), not
// from src/protocols/tcpcan, so the daemon is checked against an independent reading.
import type net from 'node:net';
import type { ConformanceAdapter, ConformanceClient, SpecFrame } from './protocol-conformance.js';
import { conformanceView, FrameClient, openSocket } from './stream-client.js';

export interface TcpcanWireFrame {
  /** can_id with EFF/RTR/ERR flags */
  id: number;
  len: number;
  fd: boolean;
  flags: number;
  data: Buffer;
}

export function tcpcanVersion(version = 1): Buffer {
  const b = Buffer.alloc(6);
  b[0] = 0x76;
  b[1] = 4;
  b.writeUInt32BE(version >>> 0, 2);
  return b;
}

/** One `d` message, as the reference peer sends it: the kernel's struct, zero-padded. */
export function tcpcanFrame(f: { id: number; data?: number[] | Buffer; rtr?: boolean; len?: number; fd?: boolean; flags?: number }): Buffer {
  const data = Buffer.from(f.data ?? []);
  const size = f.fd ? 72 : 16;
  const b = Buffer.alloc(2 + size);
  b[0] = 0x64;
  b[1] = size;
  b.writeUInt32LE((f.rtr ? f.id | 0x40000000 : f.id) >>> 0, 2);
  b[6] = f.rtr ? (f.len ?? 0) : data.length;
  if (f.fd) b[7] = f.flags ?? 0;
  if (!f.rtr) data.copy(b, 10);
  return b;
}

export class TcpcanTestClient extends FrameClient<TcpcanWireFrame> {
  readonly versions: number[] = [];
  /** Set when the daemon sent bytes that are not valid messages. */
  protocolError: string | null = null;
  private buf: Buffer = Buffer.alloc(0);

  private constructor(socket: net.Socket) {
    super(socket);
  }

  /**
   * Connects; with `version` (default 1) proposes it and negotiates as tcpcan's README says: the
   * server answers the same number (agreed) or a lower proposal, which this client, speaking
   * every version up to its own, accepts by sending that number back (the server does not
   * answer its own proposal). Version 0 is sent as is (no agreement possible).
   */
  static async connect(port: number, options: { version?: number | false; host?: string } = {}): Promise<TcpcanTestClient> {
    const c = new TcpcanTestClient(await openSocket(port, { host: options.host }));
    const version = options.version ?? 1;
    if (version !== false) {
      c.socket.write(tcpcanVersion(version));
      if (version >= 1) {
        await c.until(() => c.versions.length > 0 || c.closed, 5000, 'the daemon version');
        const answer = c.versions[0];
        if (answer !== undefined && answer >= 1 && answer < version) c.socket.write(tcpcanVersion(answer));
      }
    }
    return c;
  }

  /** The version both sides agreed on: the server's answer when it is not above ours. */
  agreedVersion(proposed: number): number | null {
    const answer = this.versions[0];
    return answer !== undefined && answer >= 1 && answer <= proposed ? answer : null;
  }

  protected onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 2) {
      const type = this.buf[0];
      const len = this.buf[1];
      if (this.buf.length < 2 + len) break;
      const payload = this.buf.subarray(2, 2 + len);
      if (type === 0x76 && len === 4) this.versions.push(payload.readUInt32BE(0));
      else if (type === 0x64 && (len === 16 || len === 72)) {
        const id = payload.readUInt32LE(0);
        const n = payload[4];
        const rtr = (id & 0x40000000) !== 0;
        this.frames.push({
          id,
          len: n,
          fd: len === 72,
          flags: len === 72 ? payload[5] : 0,
          data: rtr ? Buffer.alloc(0) : Buffer.from(payload.subarray(8, 8 + n)),
        });
      } else {
        this.protocolError = `unexpected message ${type.toString(16)}/${len}`;
      }
      this.buf = this.buf.subarray(2 + len);
    }
  }
}

// ---------------------------------------------------------------- conformance adapter

const specToWire = (f: SpecFrame): Buffer =>
  tcpcanFrame({ id: f.id & ~0x40000000, data: f.data, rtr: (f.id & 0x40000000) !== 0, len: f.len, fd: f.fd, flags: f.flags });

export function asConformanceClient(c: TcpcanTestClient): ConformanceClient {
  return conformanceView(
    c,
    () => c.frames,
    (frames) => c.send(...frames.map(specToWire)),
  );
}

/** tcpcan for the shared conformance suite: `v 1`, raw (FD) frames, a 17-byte `d` as the malformed input. */
export const tcpcanAdapter: ConformanceAdapter = {
  name: 'tcpcan',
  config: { tcpcanListen: { host: '127.0.0.1', port: 0 } },
  flags: ['--tcpcan-listen', '127.0.0.1:0'],
  port: (d) => d.daemon.port(0, 'tcpcan'),
  carries: { fd: true, rtr: true, errorFrames: true },
  connect: async (port) => asConformanceClient(await TcpcanTestClient.connect(port)),
  // Version 0: no agreement is possible (a higher one is answered with our `v 1`).
  badHello: tcpcanVersion(0),
  hello: tcpcanVersion(1),
  // The type byte and half the length: a negotiation that never finishes.
  probe: Buffer.from([0x76, 0x04, 0x00]),
  clientStream: (frames) => Buffer.concat([tcpcanVersion(1), ...frames.map(specToWire)]),
  malformed: Buffer.from([0x64, 0x11]),
};
