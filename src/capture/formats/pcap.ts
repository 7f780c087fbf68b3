// Classic libpcap files for older tools: one global header (magic 0xa1b2c3d4 = µs
// timestamps, version 2.4, LINKTYPE_CAN_SOCKETCAN) and a record header per frame. The format
// has no interface names: frames of every bus share one file (filter with --bus to keep one).
// Layout from tcpdump.org's pcap-savefile(5) / the libpcap file format description. Pure.
import { ChunkBuffer } from './chunk-buffer.js';
import { CANFD_MTU, LINKTYPE_CAN_SOCKETCAN, socketcanLength, writeSocketcan } from './socketcan-header.js';
import type { EncoderOptions, ExportFrame, FrameEncoder } from './types.js';

const MAGIC_US = 0xa1b2c3d4;

export function pcapHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(MAGIC_US, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeInt32LE(0, 8); // thiszone: timestamps are UTC
  h.writeUInt32LE(0, 12); // sigfigs
  h.writeUInt32LE(CANFD_MTU, 16); // snaplen: the largest frame
  h.writeUInt32LE(LINKTYPE_CAN_SOCKETCAN, 20);
  return h;
}

export class PcapEncoder implements FrameEncoder {
  readonly format = 'pcap' as const;
  private readonly out = new ChunkBuffer(1 << 18);

  constructor(_options: EncoderOptions = {}) {
    const h = pcapHeader();
    h.copy(this.out.reserve(h.length), 0);
    this.out.pos = h.length;
  }

  add(c: ExportFrame): boolean {
    if (c.direction === 'refused') return false;
    const len = socketcanLength(c.frame);
    const buf = this.out.reserve(16 + len);
    const p = this.out.pos;
    const ts = Math.round(c.tsUs);
    const sec = Math.floor(ts / 1e6);
    buf.writeUInt32LE(sec, p);
    buf.writeUInt32LE(ts - sec * 1e6, p + 4);
    buf.writeUInt32LE(len, p + 8);
    buf.writeUInt32LE(len, p + 12);
    this.out.pos = p + 16 + writeSocketcan(c.frame, buf, p + 16);
    return true;
  }

  finish(): void {}

  get pending(): number {
    return this.out.pos;
  }

  take(): Buffer {
    return this.out.take();
  }
}
