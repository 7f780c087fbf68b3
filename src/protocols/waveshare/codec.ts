// The Waveshare 2-CH-CAN-TO-ETH TCP format: every frame, both ways, is one 13-byte record.
// Pure: no I/O, tested on its own and through the conformance suite.
//
//   byte 0     flags and length: 0x80 extended id, 0x40 remote request, low nibble DLC 0..8
//   bytes 1-4  CAN id, big-endian (11 or 29 bits, no flag bits)
//   bytes 5-12 data, zero-padded to 8 (a remote request carries none: its DLC is the length asked for)
//
// Facts from the client Home Assistant's Ampio integration uses, can-waveshare
// (kstaniek/python-can-waveshare-eth, can_waveshare/bus.py: `_WS_WIRE_LEN = 13`,
// `_WSFrame.from_bytes`/`to_bytes`), and the vendor's wiki (waveshare.com/wiki/2-CH-CAN-TO-ETH).
// The client reads exactly 13 bytes per record with no resynchronisation, so a record is
// never cut: frames leave whole, and input split anywhere is reassembled here.
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_MAX_DLEN, CAN_RTR_FLAG, CAN_SFF_MASK, type CanFrame } from '../../core/frame.js';

export const RECORD_LENGTH = 13;
const EXTENDED = 0x80;
const REMOTE = 0x40;
/** Bits 0x30 have no meaning in the format; the client never sets them. */
const RESERVED = 0x30;
const DLC_MASK = 0x0f;
const EMPTY = new Uint8Array(0);

/**
 * The record of one bus frame, or null when the format cannot carry it: CAN FD frames (no
 * FD form; the session counts them as withheld rather than truncating them) and error
 * frames (no error form).
 */
export function encodeRecord(f: CanFrame): Uint8Array | null {
  if (f.fd || (f.id & CAN_ERR_FLAG) !== 0 || f.len > CAN_MAX_DLEN) return null;
  const out = new Uint8Array(RECORD_LENGTH);
  const extended = (f.id & CAN_EFF_FLAG) !== 0;
  const remote = (f.id & CAN_RTR_FLAG) !== 0;
  const id = extended ? f.id & CAN_EFF_MASK : f.id & CAN_SFF_MASK;
  out[0] = (extended ? EXTENDED : 0) | (remote ? REMOTE : 0) | f.len;
  out[1] = id >>> 24;
  out[2] = (id >>> 16) & 0xff;
  out[3] = (id >>> 8) & 0xff;
  out[4] = id & 0xff;
  if (!remote && f.len > 0) out.set(f.data.length === f.len ? f.data : f.data.subarray(0, f.len), 5);
  return out;
}

export type RecordProblem = 'dlc' | 'reserved_bits' | 'id_range';

export interface RecordError {
  code: RecordProblem;
  message: string;
  /** The offending record, for the log. */
  bytes: Uint8Array;
}

/** Decodes the record at `at` of `buf` (13 bytes there), or says what is wrong with it. */
export function decodeRecord(buf: Uint8Array, at: number): CanFrame | RecordError {
  const head = buf[at];
  const len = head & DLC_MASK;
  const record = (): Uint8Array => buf.slice(at, at + RECORD_LENGTH);
  if (len > CAN_MAX_DLEN) return { code: 'dlc', message: `length ${len} is more than 8 (classic CAN only)`, bytes: record() };
  if ((head & RESERVED) !== 0)
    return { code: 'reserved_bits', message: `flag bits 0x${(head & RESERVED).toString(16)} are not part of the format`, bytes: record() };
  const id = ((buf[at + 1] << 24) | (buf[at + 2] << 16) | (buf[at + 3] << 8) | buf[at + 4]) >>> 0;
  const extended = (head & EXTENDED) !== 0;
  // A peer speaking another protocol at this port (a cannelloni hello, text) fails here.
  if (id > (extended ? CAN_EFF_MASK : CAN_SFF_MASK)) {
    return { code: 'id_range', message: `id 0x${id.toString(16)} does not fit ${extended ? '29' : '11'} bits`, bytes: record() };
  }
  const remote = (head & REMOTE) !== 0;
  return {
    id: ((extended ? CAN_EFF_FLAG : 0) | (remote ? CAN_RTR_FLAG : 0) | id) >>> 0,
    len,
    data: remote || len === 0 ? EMPTY : buf.slice(at + 5, at + 5 + len),
    fd: false,
    fdFlags: 0,
    timestamp: 0,
  };
}

const isError = (r: CanFrame | RecordError): r is RecordError => 'code' in r;

/**
 * Incremental decoder for a client's byte stream: chunks of any size in, whole frames out in
 * order. After an error it stays stopped (the session closes).
 */
export class RecordDecoder {
  private readonly partial = new Uint8Array(RECORD_LENGTH);
  private have = 0;
  private failed = false;

  constructor(private readonly onFrame: (frame: CanFrame) => void) {}

  /** Returns the first problem found (the frames before it were delivered), or null. */
  push(chunk: Uint8Array): RecordError | null {
    if (this.failed) return null;
    let p = 0;
    if (this.have > 0) {
      const take = Math.min(RECORD_LENGTH - this.have, chunk.length);
      this.partial.set(chunk.subarray(0, take), this.have);
      this.have += take;
      p = take;
      if (this.have < RECORD_LENGTH) return null;
      this.have = 0;
      const r = decodeRecord(this.partial, 0);
      if (isError(r)) return this.fail(r);
      this.onFrame(r);
    }
    for (; p + RECORD_LENGTH <= chunk.length; p += RECORD_LENGTH) {
      const r = decodeRecord(chunk, p);
      if (isError(r)) return this.fail(r);
      this.onFrame(r);
    }
    if (p < chunk.length) {
      this.partial.set(chunk.subarray(p), 0);
      this.have = chunk.length - p;
    }
    return null;
  }

  private fail(e: RecordError): RecordError {
    this.failed = true;
    return e;
  }
}
