// A cannelloni UDP peer written from cannelloni's doc/udp_format.md (mguentner/cannelloni
// 2.1.2), not from src/protocols: version 2 | op 0 DATA | seq | count BE16 | frames in the TCP
// v1 encoding (encode() of cannelloni-client.ts). It records every datagram it receives,
// decoded by its own reader, and sends datagrams with any sequence number the test picks.
import dgram from 'node:dgram';
import { encode } from './cannelloni-client.js';
import { until } from './until.js';

export interface UdpFrame {
  id: number;
  len: number;
  fd: boolean;
  flags: number;
  data: Buffer;
}

/** The 5-byte header and `frames` (already encoded), with an optional lie about the count. */
export function datagram(seq: number, frames: Buffer[], count = frames.length): Buffer {
  const h = Buffer.from([2, 0, seq & 0xff, (count >> 8) & 0xff, count & 0xff]);
  return Buffer.concat([h, ...frames]);
}

/** Decodes one received datagram (throws on anything cannelloni would refuse). */
export function readDatagram(d: Buffer): { version: number; op: number; seq: number; count: number; frames: UdpFrame[] } {
  if (d.length < 5) throw new Error(`datagram of ${d.length} bytes`);
  const count = d.readUInt16BE(3);
  const frames: UdpFrame[] = [];
  let p = 5;
  while (p < d.length) {
    const id = d.readUInt32BE(p);
    const lenByte = d[p + 4];
    const fd = (lenByte & 0x80) !== 0;
    const len = lenByte & 0x7f;
    p += 5;
    const flags = fd ? d[p++] : 0;
    const rtr = (id & 0x40000000) !== 0;
    const n = rtr ? 0 : len;
    if (p + n > d.length) throw new Error('a frame cut at the end of the datagram');
    frames.push({ id, len, fd, flags, data: Buffer.from(d.subarray(p, p + n)) });
    p += n;
  }
  if (frames.length !== count) throw new Error(`header count ${count}, ${frames.length} frames`);
  return { version: d[0], op: d[1], seq: d[2], count, frames };
}

export class UdpPeer {
  readonly datagrams: Buffer[] = [];
  readonly frames: UdpFrame[] = [];
  private seq = 0;

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (msg) => {
      this.datagrams.push(msg);
      for (const f of readDatagram(msg).frames) this.frames.push(f);
    });
  }

  static async open(): Promise<UdpPeer> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new UdpPeer(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends raw bytes to the bridge's UDP port. */
  async raw(port: number, bytes: Buffer): Promise<void> {
    await new Promise<void>((r, j) => this.socket.send(bytes, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  }

  /** Sends frames in one datagram with the next sequence number (or `seq`). */
  async send(port: number, frames: Array<Parameters<typeof encode>[0]>, seq?: number): Promise<void> {
    const s = seq ?? this.seq;
    this.seq = (s + 1) & 0xff;
    await this.raw(
      port,
      datagram(
        s,
        frames.map((f) => encode(f)),
      ),
    );
  }

  waitForFrames(n: number, timeoutMs = 5000): Promise<void> {
    return until(() => this.frames.length >= n, `${n} frames over UDP (have ${this.frames.length})`, timeoutMs);
  }

  close(): void {
    this.socket.close();
  }
}
