// A cannelloni UDP peer of the load generator: binds 127.0.0.1, makes itself known to the
// bridge with one empty DATA datagram (version 2, op 0, seq 0, count 0: cannelloni's
// doc/udp_format.md), then reads datagrams: the 5-byte header, then frames in the TCP encoding
// (parsed by the cannelloni reader). A datagram is always whole: nothing carries over.
import dgram from 'node:dgram';
import { CannelloniLoadConnection } from './cannelloni-load.js';
import type { LatencySink } from './load-connection.js';
import type { ClientSpec } from './messages.js';

const HEADER = 5;

export class UdpLoadConnection extends CannelloniLoadConnection {
  private udp: dgram.Socket | null = null;

  constructor(spec: ClientSpec, sink: LatencySink) {
    super(spec, sink, -1);
  }

  override connect(): Promise<void> {
    const udp = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    this.udp = udp;
    udp.on('message', (msg) => this.onBytes(msg, msg.length));
    udp.on('close', () => (this.closed = true));
    return new Promise((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => {
        this.localPort = udp.address().port;
        udp.send(Buffer.from([2, 0, 0, 0, 0]), this.spec.port, '127.0.0.1', (err) => (err ? reject(err) : resolve()));
      });
    });
  }

  protected override negotiated(): boolean {
    return true;
  }

  protected override parse(buf: Buffer): number {
    if (buf.length < HEADER) return buf.length;
    return HEADER + super.parse(buf.subarray(HEADER));
  }

  override send(_n: number): void {}

  override stop(): void {
    this.udp?.close();
    this.udp = null;
  }
}
