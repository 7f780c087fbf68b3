// A cannelloni (or tcpcan) connection of the load generator: says hello, skips the bridge's,
// then reads frames as the wire format has them and, in role `send`, writes sequence frames
// of its own sender key.
//   cannelloni: id BE (4) | len (bit 7 FD) | [flags] | data
//   tcpcan: 'd' | 16 or 72 | id LE (4) | len | flags | res0 | res1 | data (8 or 64)
import { type LatencySink, LoadConnection } from './load-connection.js';
import type { ClientSpec } from './messages.js';
import {
  BUS_KEY_BASE,
  HELLO,
  KEY_SPACE,
  SENDER_KEY_BASE,
  SEQ_FRAME_BYTES,
  TCPCAN_SEQ_FRAME_BYTES,
  TCPCAN_VERSION,
  wallMicros32,
  writeSeqFrame,
  writeTcpcanSeqFrame,
} from './wire.js';

export class CannelloniLoadConnection extends LoadConnection {
  private readonly tcpcan: boolean;
  /** Bytes of the bridge's hello (or tcpcan version answer) still to skip. */
  private helloLeft: number;
  private seqOut = 0;

  constructor(
    spec: ClientSpec,
    sink: LatencySink,
    readonly senderIndex: number,
  ) {
    super(spec, sink);
    this.tcpcan = spec.protocol === 'tcpcan';
    // cannelloni over UDP has no hello (udp-load.ts skips each datagram's header itself).
    this.helloLeft = this.tcpcan ? TCPCAN_VERSION.length : spec.protocol === 'cannelloni-udp' ? 0 : HELLO.length;
  }

  protected override greet(): void {
    this.socket.write(this.tcpcan ? TCPCAN_VERSION : HELLO);
  }

  protected negotiated(): boolean {
    return this.helloLeft === 0;
  }

  /** Sends `n` sequence frames in one write, all stamped now. */
  override send(n: number): void {
    if (this.closed || n <= 0) return;
    const size = this.tcpcan ? TCPCAN_SEQ_FRAME_BYTES : SEQ_FRAME_BYTES;
    const write = this.tcpcan ? writeTcpcanSeqFrame : writeSeqFrame;
    const out = Buffer.allocUnsafe(n * size);
    const now = wallMicros32();
    const key = SENDER_KEY_BASE + this.senderIndex;
    for (let k = 0; k < n; k++) write(out, k * size, key, this.seqOut++, now);
    this.socket.write(out);
    if (this.sink.measuring()) this.sent += n;
  }

  protected parse(buf: Buffer): number {
    const end = buf.length;
    let p = 0;
    if (this.helloLeft > 0) {
      p = Math.min(this.helloLeft, end);
      this.helloLeft -= p;
      if (this.helloLeft > 0) return p;
    }
    const tcpcan = this.tcpcan;
    while (p + (tcpcan ? 2 : 5) <= end) {
      let id: number;
      let len: number;
      let fd: boolean;
      let size: number;
      let dataAt: number;
      if (tcpcan) {
        size = 2 + buf[p + 1];
        if (p + size > end) break;
        id = buf.readUInt32LE(p + 2);
        len = buf[p + 6];
        fd = size === 74;
        dataAt = p + 10;
      } else {
        id = buf.readUInt32BE(p);
        const lenByte = buf[p + 4];
        fd = (lenByte & 0x80) !== 0;
        len = lenByte & 0x7f;
        size = (fd ? 6 : 5) + ((id & 0x40000000) !== 0 ? 0 : len);
        if (p + size > end) break;
        dataAt = p + 5;
      }
      const rtr = (id & 0x40000000) !== 0;
      const key = (id & 0x1fffffff) - BUS_KEY_BASE;
      if (!fd && !rtr && len === 8 && key >= 0 && key < KEY_SPACE) this.sequenceFrame(key, buf.readUInt32BE(dataAt), buf.readUInt32BE(dataAt + 4));
      else this.other++;
      p += size;
    }
    return p;
  }
}
