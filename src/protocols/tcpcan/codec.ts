// tcpcan (PyPI `tcpcan` 0.0.2) wire format. Pure: no I/O.
//
//   message = type (1 byte) | length (1 byte) | payload (length bytes)
//   `v` 0x76, length 4: protocol version, u32 big-endian (1 is the only one)
//   `d` 0x64, length 16: a raw Linux `struct can_frame`, length 72: `struct canfd_frame`,
//        in the byte order of the hosts that speak it (little-endian: x86 and the Pi):
//        can_id u32 (EFF/RTR/ERR flags included) | len | flags (FD) / pad | res0 | res1 | data[8|64]
//
// The reference peer reads a message's header and payload with two recv() calls and no
// reassembly, so each message is encoded as one buffer and written whole.
import { CAN_MAX_DLEN, CAN_RTR_FLAG, CANFD_FLAGS_MASK, CANFD_MAX_DLEN, type CanFrame, isValidFdLength, standardIdProblem } from '../../core/frame.js';

export const TCPCAN_VERSION = 1;
export const TYPE_VERSION = 0x76;
export const TYPE_DATA = 0x64;
export const CAN_FRAME_SIZE = 16;
export const CANFD_FRAME_SIZE = 72;
const HEADER = 2;
const EMPTY = new Uint8Array(0);

/** `v` message announcing `version`. */
export function encodeVersion(version = TCPCAN_VERSION): Uint8Array {
  const out = new Uint8Array(HEADER + 4);
  out[0] = TYPE_VERSION;
  out[1] = 4;
  new DataView(out.buffer).setUint32(HEADER, version >>> 0, false);
  return out;
}

/** `d` message carrying one frame: 18 bytes (classic) or 74 (FD), zero-padded like the kernel's structs. */
export function encodeFrame(f: CanFrame): Uint8Array {
  const size = f.fd ? CANFD_FRAME_SIZE : CAN_FRAME_SIZE;
  const out = new Uint8Array(HEADER + size);
  out[0] = TYPE_DATA;
  out[1] = size;
  const id = f.id >>> 0;
  out[2] = id & 0xff;
  out[3] = (id >>> 8) & 0xff;
  out[4] = (id >>> 16) & 0xff;
  out[5] = id >>> 24;
  out[6] = f.len;
  if (f.fd) out[7] = f.fdFlags & CANFD_FLAGS_MASK;
  if ((id & CAN_RTR_FLAG) === 0 && f.len > 0) out.set(f.data.length === f.len ? f.data : f.data.subarray(0, f.len), HEADER + 8);
  return out;
}

export type TcpcanMessage =
  | { type: 'version'; version: number }
  | { type: 'frame'; frame: CanFrame }
  /** A whole `d` message refused (a standard id above 0x7FF): the stream is still in sync. */
  | { type: 'refused'; code: 'sff_id'; message: string; bytes: Uint8Array };

export type TcpcanErrorCode = 'unknown_type' | 'bad_length' | 'classic_len' | 'fd_len' | 'rtr_fd';

export class TcpcanDecodeError extends Error {
  constructor(
    readonly code: TcpcanErrorCode,
    message: string,
    /** The offending message (header and what was read of its payload), for the log. */
    readonly bytes: Uint8Array,
  ) {
    super(message);
    this.name = 'TcpcanDecodeError';
  }
}

/**
 * Incremental decoder: feed chunks split anywhere; it calls `onMessage` per whole message, in
 * order. `onMessage` returns false to stop (the session is closing): nothing after that
 * message is decoded. After an error the decoder stays failed. At most one message (74
 * bytes) is held.
 */
export class TcpcanDecoder {
  private readonly buf = new Uint8Array(HEADER + 255);
  private fill = 0;
  private need = HEADER;
  private stopped: TcpcanDecodeError | 'stopped' | null = null;

  constructor(private readonly onMessage: (m: TcpcanMessage) => boolean) {}

  /** Returns null, or the first protocol error (messages before it were delivered). */
  push(chunk: Uint8Array): TcpcanDecodeError | null {
    let i = 0;
    while (i < chunk.length && this.stopped === null) {
      const take = Math.min(this.need - this.fill, chunk.length - i);
      this.buf.set(chunk.subarray(i, i + take), this.fill);
      this.fill += take;
      i += take;
      if (this.fill < this.need) break;
      if (this.need === HEADER) {
        const err = this.checkHeader(this.buf[0], this.buf[1]);
        if (err) return (this.stopped = err);
        this.need = HEADER + this.buf[1];
        continue;
      }
      const message = this.message();
      this.fill = 0;
      this.need = HEADER;
      if (message instanceof TcpcanDecodeError) return (this.stopped = message);
      if (!this.onMessage(message)) this.stopped = 'stopped';
    }
    return this.stopped instanceof TcpcanDecodeError ? this.stopped : null;
  }

  private checkHeader(type: number, length: number): TcpcanDecodeError | null {
    const bytes = Uint8Array.of(type, length);
    if (type === TYPE_VERSION) return length === 4 ? null : new TcpcanDecodeError('bad_length', `version message of ${length} bytes (expected 4)`, bytes);
    if (type === TYPE_DATA) {
      return length === CAN_FRAME_SIZE || length === CANFD_FRAME_SIZE
        ? null
        : new TcpcanDecodeError('bad_length', `data message of ${length} bytes (expected 16 or 72)`, bytes);
    }
    return new TcpcanDecodeError('unknown_type', `unknown message type 0x${type.toString(16).padStart(2, '0')}`, bytes);
  }

  private message(): TcpcanMessage | TcpcanDecodeError {
    const b = this.buf;
    if (b[0] === TYPE_VERSION) return { type: 'version', version: ((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0 };
    const fd = b[1] === CANFD_FRAME_SIZE;
    const id = (b[2] | (b[3] << 8) | (b[4] << 16) | (b[5] << 24)) >>> 0;
    const len = b[6];
    const rtr = (id & CAN_RTR_FLAG) !== 0;
    const bad = (code: TcpcanErrorCode, message: string): TcpcanDecodeError => new TcpcanDecodeError(code, message, b.slice(0, HEADER + 8));
    if (fd) {
      if (rtr) return bad('rtr_fd', 'RTR flag set on a CAN FD frame');
      if (len > CANFD_MAX_DLEN || !isValidFdLength(len)) return bad('fd_len', `CAN FD length ${len} is not a valid FD length`);
    } else if (len > CAN_MAX_DLEN) {
      return bad('classic_len', `classic CAN length ${len} > 8`);
    }
    const idProblem = standardIdProblem(id);
    if (idProblem !== null) return { type: 'refused', code: 'sff_id', message: idProblem, bytes: b.slice(0, HEADER + 8) };
    const data = rtr || len === 0 ? EMPTY : b.slice(HEADER + 8, HEADER + 8 + len);
    // Flag bits a newer kernel may add are not ours to judge: kept are BRS, ESI and FDF.
    const fdFlags = fd ? b[7] & CANFD_FLAGS_MASK : 0;
    return { type: 'frame', frame: { id, len, data, fd, fdFlags, timestamp: 0 } };
  }
}
