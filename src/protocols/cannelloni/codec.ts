// cannelloni TCP protocol v1 (mguentner/cannelloni 2.1.x): hello, frame encoder and an
// incremental decoder. Pure: no I/O, tested on its own and through the conformance suite.
//
//   can_id (4, big-endian, SocketCAN flags) | len (1, bit 7 = FD) | [flags (1), FD only] | data
//   RTR frames carry no data bytes; their `len` is the DLC.
//   A frame without the EFF flag and an id above 0x7FF is read whole and refused (counted as
//   malformed; the connection goes on), never masked to 11 bits.
import { CAN_MAX_DLEN, CAN_RTR_FLAG, CANFD_FLAGS_MASK, CANFD_MAX_DLEN, type CanFrame, isValidFdLength, standardIdProblem } from '../../core/frame.js';

/** `CANNELLONIv1`, sent by both sides at once on connect. */
export const CANNELLONI_HELLO = Uint8Array.from([0x43, 0x41, 0x4e, 0x4e, 0x45, 0x4c, 0x4c, 0x4f, 0x4e, 0x49, 0x76, 0x31]);
export const HELLO_LENGTH = CANNELLONI_HELLO.length;

const FD_BIT = 0x80;
const EMPTY = new Uint8Array(0);

/** Bytes a frame takes on the wire. */
export function encodedLength(f: CanFrame): number {
  const dataBytes = (f.id & CAN_RTR_FLAG) !== 0 ? 0 : f.len;
  return (f.fd ? 6 : 5) + dataBytes;
}

/**
 * Writes one frame at `offset` and returns the offset after it. The caller guarantees the
 * frame is valid (frameProblem() === null) and that `out` has room (encodedLength()).
 */
export function encodeInto(f: CanFrame, out: Uint8Array, offset: number): number {
  const id = f.id;
  out[offset] = id >>> 24;
  out[offset + 1] = (id >>> 16) & 0xff;
  out[offset + 2] = (id >>> 8) & 0xff;
  out[offset + 3] = id & 0xff;
  let p = offset + 4;
  if (f.fd) {
    out[p++] = FD_BIT | f.len;
    out[p++] = f.fdFlags & CANFD_FLAGS_MASK;
  } else {
    out[p++] = f.len;
  }
  if ((id & CAN_RTR_FLAG) === 0 && f.len > 0) {
    out.set(f.data.length === f.len ? f.data : f.data.subarray(0, f.len), p);
    p += f.len;
  }
  return p;
}

/** Encodes one frame into a new buffer: done once per bus frame and shared by every client. */
export function encodeFrame(f: CanFrame): Uint8Array {
  const out = new Uint8Array(encodedLength(f));
  encodeInto(f, out, 0);
  return out;
}

export type DecodeErrorCode = 'classic_len' | 'fd_len' | 'fd_flags' | 'rtr_fd';

/**
 * A whole frame the decoder read and refused without losing the frame boundary: the stream
 * stays in sync, so the connection may go on.
 */
export interface RefusedFrame {
  code: 'sff_id';
  message: string;
  /** The frame's header bytes, for the log. */
  bytes: Uint8Array;
}

export class CannelloniDecodeError extends Error {
  readonly code: DecodeErrorCode;
  /** The offending header bytes, for the log. */
  readonly bytes: Uint8Array;
  constructor(code: DecodeErrorCode, message: string, bytes: Uint8Array) {
    super(message);
    this.name = 'CannelloniDecodeError';
    this.code = code;
    this.bytes = bytes;
  }
}

// Decoder states: collecting the 5-byte header, the FD flags byte, then the data.
const S_HEADER = 0;
const S_FLAGS = 1;
const S_DATA = 2;

/**
 * Incremental decoder for a cannelloni TCP byte stream (after the hello). Feed it chunks of
 * any size; it calls `onFrame` for every complete frame in order. After an error it stays
 * failed: the connection must be closed (a stream that lost
 * its frame boundary cannot be trusted again). At most one partial frame
 * (≤ 70 bytes) is ever held, so memory per connection is bounded.
 */
export class CannelloniDecoder {
  private state = S_HEADER;
  private readonly header = new Uint8Array(5);
  private headerFill = 0;
  private id = 0;
  private len = 0;
  private fd = false;
  private fdFlags = 0;
  private data: Uint8Array = EMPTY;
  private dataFill = 0;
  private failed: CannelloniDecodeError | null = null;
  /** Frames decoded so far. */
  frames = 0;

  /** Frames refused whole (the stream stays in sync). */
  refused = 0;

  constructor(
    private readonly onFrame: (frame: CanFrame) => void,
    private readonly onRefused: (refused: RefusedFrame) => void = () => {},
  ) {}

  /** Bytes of an incomplete frame currently held. */
  get pending(): number {
    if (this.state === S_HEADER) return this.headerFill;
    return 5 + (this.fd ? 1 : 0) + this.dataFill - (this.state === S_FLAGS ? 1 : 0);
  }

  get error(): CannelloniDecodeError | null {
    return this.failed;
  }

  /**
   * Consumes a chunk. Returns null, or the first protocol error (frames before it were
   * delivered; nothing after it is).
   */
  push(chunk: Uint8Array): CannelloniDecodeError | null {
    if (this.failed) return this.failed;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      if (this.state === S_HEADER) {
        // Fast path: a whole header available in the chunk and nothing buffered.
        if (this.headerFill === 0 && n - i >= 5) {
          this.id = ((chunk[i] << 24) | (chunk[i + 1] << 16) | (chunk[i + 2] << 8) | chunk[i + 3]) >>> 0;
          const err = this.startFrame(chunk[i + 4], chunk, i);
          if (err) return err;
          i += 5;
        } else {
          this.header[this.headerFill++] = chunk[i++];
          if (this.headerFill < 5) continue;
          const h = this.header;
          this.headerFill = 0;
          this.id = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
          const err = this.startFrame(h[4], h, 0);
          if (err) return err;
        }
      } else if (this.state === S_FLAGS) {
        const flags = chunk[i++];
        if ((flags & ~CANFD_FLAGS_MASK) !== 0) {
          return this.fail('fd_flags', `CAN FD flags 0x${flags.toString(16)} has unknown bits`, Uint8Array.of(flags));
        }
        this.fdFlags = flags;
        if (this.len === 0) this.emit();
        else this.state = S_DATA;
      } else {
        const need = this.len - this.dataFill;
        const take = Math.min(n - i, need);
        if (this.dataFill === 0 && take === this.len) {
          // Whole payload in this chunk: one copy, no intermediate buffer.
          this.data = chunk.slice(i, i + take);
        } else {
          if (this.dataFill === 0) this.data = new Uint8Array(this.len);
          this.data.set(chunk.subarray(i, i + take), this.dataFill);
        }
        this.dataFill += take;
        i += take;
        if (this.dataFill === this.len) this.emit();
      }
    }
    return null;
  }

  private startFrame(lenByte: number, src: Uint8Array, at: number): CannelloniDecodeError | null {
    const fd = (lenByte & FD_BIT) !== 0;
    const len = lenByte & 0x7f;
    const rtr = (this.id & CAN_RTR_FLAG) !== 0;
    if (fd) {
      if (rtr) return this.fail('rtr_fd', 'RTR flag set on a CAN FD frame', src.slice(at, at + 5));
      if (len > CANFD_MAX_DLEN) return this.fail('fd_len', `CAN FD length ${len} > 64`, src.slice(at, at + 5));
      if (!isValidFdLength(len)) return this.fail('fd_len', `CAN FD length ${len} is not a valid FD length`, src.slice(at, at + 5));
    } else if (len > CAN_MAX_DLEN) {
      return this.fail('classic_len', `classic CAN length ${len} > 8`, src.slice(at, at + 5));
    }
    this.fd = fd;
    this.len = len;
    this.fdFlags = 0;
    this.dataFill = 0;
    this.data = EMPTY;
    if (fd) this.state = S_FLAGS;
    else if (rtr || len === 0)
      this.emit(); // RTR: `len` is the DLC, no data on the wire
    else this.state = S_DATA;
    return null;
  }

  private emit(): void {
    const rtr = (this.id & CAN_RTR_FLAG) !== 0;
    const idProblem = standardIdProblem(this.id);
    if (idProblem !== null) {
      const h = new Uint8Array(5);
      h[0] = this.id >>> 24;
      h[1] = (this.id >>> 16) & 0xff;
      h[2] = (this.id >>> 8) & 0xff;
      h[3] = this.id & 0xff;
      h[4] = (this.fd ? FD_BIT : 0) | this.len;
      this.state = S_HEADER;
      this.data = EMPTY;
      this.dataFill = 0;
      this.refused++;
      this.onRefused({ code: 'sff_id', message: idProblem, bytes: h });
      return;
    }
    const frame: CanFrame = {
      id: this.id,
      len: this.len,
      data: rtr ? EMPTY : this.data,
      fd: this.fd,
      fdFlags: this.fdFlags,
      timestamp: 0,
    };
    this.state = S_HEADER;
    this.data = EMPTY;
    this.dataFill = 0;
    this.frames++;
    this.onFrame(frame);
  }

  private fail(code: DecodeErrorCode, message: string, bytes: Uint8Array): CannelloniDecodeError {
    this.failed = new CannelloniDecodeError(code, message, bytes);
    return this.failed;
  }
}

/**
 * Collects the peer's 12-byte hello from the first chunk(s). Returns 'more' until 12 bytes
 * arrived, then 'ok' (with any bytes after the hello in `rest`: they are frames) or 'bad'.
 */
export class HelloReader {
  private readonly got = new Uint8Array(HELLO_LENGTH);
  private fill = 0;
  rest: Uint8Array = EMPTY;

  push(chunk: Uint8Array): 'more' | 'ok' | 'bad' {
    const take = Math.min(HELLO_LENGTH - this.fill, chunk.length);
    this.got.set(chunk.subarray(0, take), this.fill);
    this.fill += take;
    if (this.fill < HELLO_LENGTH) {
      // A wrong byte already decides it: no need to wait for the rest.
      for (let k = 0; k < this.fill; k++) if (this.got[k] !== CANNELLONI_HELLO[k]) return 'bad';
      return 'more';
    }
    for (let k = 0; k < HELLO_LENGTH; k++) if (this.got[k] !== CANNELLONI_HELLO[k]) return 'bad';
    this.rest = chunk.subarray(take);
    return 'ok';
  }

  /** What was received so far (for the log on a bad hello). */
  received(): Uint8Array {
    return this.got.slice(0, this.fill);
  }
}
