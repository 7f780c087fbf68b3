// PCAPNG for Wireshark/tshark: one Section Header Block, one Interface Description Block per
// bus (if_name = the bus, LINKTYPE_CAN_SOCKETCAN, if_tsresol = 6: the store keeps µs), and one
// Enhanced Packet Block per frame with epb_flags carrying the direction (inbound = rx,
// outbound = tx). Pure. Block and option codes from the PCAPNG specification
// (IETF draft-ietf-opsawg-pcapng: SHB 0x0A0D0D0A, IDB 1, EPB 6; shb_userappl 4, if_name 2,
// if_tsresol 9, epb_flags 2). Little-endian, declared by the byte-order magic.
import { ChunkBuffer } from './chunk-buffer.js';
import { CANFD_MTU, LINKTYPE_CAN_SOCKETCAN, socketcanLength, writeSocketcan } from './socketcan-header.js';
import { BusIndex, type EncoderOptions, type ExportFrame, type FrameEncoder } from './types.js';

const SHB = 0x0a0d0d0a;
const IDB = 1;
const EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;
const INBOUND = 1;
const OUTBOUND = 2;
const TWO32 = 2 ** 32;

const pad4 = (n: number): number => (n + 3) & ~3;

/** Option bytes (code, length, value padded to 4). */
function option(code: number, value: Buffer): Buffer {
  const out = Buffer.alloc(4 + pad4(value.length));
  out.writeUInt16LE(code, 0);
  out.writeUInt16LE(value.length, 2);
  value.copy(out, 4);
  return out;
}

/** A block with a fixed body and options, framed by its type and (twice) its length. */
function block(type: number, body: Buffer, options: Buffer[]): Buffer {
  const opts = options.length > 0 ? Buffer.concat([...options, Buffer.alloc(4) /* opt_endofopt */]) : Buffer.alloc(0);
  const len = 12 + body.length + opts.length;
  const out = Buffer.alloc(len);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(len, 4);
  body.copy(out, 8);
  opts.copy(out, 8 + body.length);
  out.writeUInt32LE(len, len - 4);
  return out;
}

export function sectionHeader(application = 'ampio-bridge'): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8); // section length not known: streamed
  return block(SHB, body, [option(SHB_USERAPPL, Buffer.from(application))]);
}

export function interfaceDescription(name: string): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(LINKTYPE_CAN_SOCKETCAN, 0);
  body.writeUInt32LE(CANFD_MTU, 4);
  return block(IDB, body, [option(IF_NAME, Buffer.from(name)), option(IF_TSRESOL, Buffer.from([6]))]);
}

export class PcapngEncoder implements FrameEncoder {
  readonly format = 'pcapng' as const;
  private readonly out = new ChunkBuffer(1 << 18);
  private readonly buses: BusIndex;

  constructor(options: EncoderOptions = {}) {
    this.buses = new BusIndex(options.buses);
    this.put(sectionHeader());
    for (const name of this.buses.names()) this.put(interfaceDescription(name));
  }

  private put(bytes: Buffer): void {
    bytes.copy(this.out.reserve(bytes.length), this.out.pos);
    this.out.pos += bytes.length;
  }

  add(c: ExportFrame): boolean {
    if (c.direction === 'refused') return false; // never on the bus
    const [ifId, isNew] = this.buses.of(c.bus);
    // An interface may be described anywhere before its first packet: live streams meet buses as they come.
    if (isNew) this.put(interfaceDescription(c.bus));
    const dataLen = socketcanLength(c.frame);
    const total = 28 + dataLen + 12 + 4;
    const buf = this.out.reserve(total);
    let p = this.out.pos;
    const ts = Math.round(c.tsUs);
    buf.writeUInt32LE(EPB, p);
    buf.writeUInt32LE(total, p + 4);
    buf.writeUInt32LE(ifId, p + 8);
    buf.writeUInt32LE(Math.floor(ts / TWO32), p + 12);
    buf.writeUInt32LE(ts % TWO32, p + 16);
    buf.writeUInt32LE(dataLen, p + 20);
    buf.writeUInt32LE(dataLen, p + 24);
    p += 28;
    p += writeSocketcan(c.frame, buf, p);
    buf.writeUInt16LE(EPB_FLAGS, p);
    buf.writeUInt16LE(4, p + 2);
    buf.writeUInt32LE(c.direction === 'rx' ? INBOUND : OUTBOUND, p + 4);
    buf.writeUInt32LE(OPT_END, p + 8);
    buf.writeUInt32LE(total, p + 12);
    this.out.pos = p + 16;
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
