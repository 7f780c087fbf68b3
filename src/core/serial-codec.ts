// Ampio USB-serial CAN adapter framing (115200 8N1). The framing is
// asymmetric:
//
//   host → adapter:  2D D4 LEN 02 (80+n) ID[4] data[n] CHK     LEN = n + 7
//   adapter → host:  2D D4 LEN ID[4] data[n] CHK               LEN = n + 5
//
// CHK = (LEN + 0x2D + Σ bytes after LEN, before CHK) mod 256 — the D4 is not summed.
// Pure: no I/O, no clock (the caller passes the receive time in).
import { CAN_EFF_FLAG, CAN_EFF_MASK, CAN_ERR_FLAG, CAN_MAX_DLEN, CAN_RTR_FLAG, CAN_SFF_MASK, type CanFrame } from './frame.js';

export const SERIAL_PREAMBLE_0 = 0x2d;
export const SERIAL_PREAMBLE_1 = 0xd4;
/** INS byte of every host → adapter frame: "send with extended id". */
export const SERIAL_INS_SEND = 0x02;
const FLAGS_BASE = 0x80;

/** RX LEN is n + 5 with n = 0..8 (RX has no INS/FLAGS bytes; the Go daemon's 7..15 was a bug). */
export const SERIAL_RX_MIN_LEN = 5;
export const SERIAL_RX_MAX_LEN = 13;
/** The longest RX frame on the wire: preamble + LEN + 13. */
export const SERIAL_RX_MAX_FRAME = SERIAL_RX_MAX_LEN + 3;

/** Why a frame cannot be sent through the adapter (null = it can). */
export type SerialTxProblem = 'unsupported' | 'malformed' | null;

/**
 * The adapter can only send data frames with 0..8 bytes: it has no encoding for RTR, error
 * or FD frames (they are dropped and counted as `unsupported`), and a classic length above
 * 8 is a broken frame (`malformed`).
 */
export function serialTxProblem(f: CanFrame): SerialTxProblem {
  if (f.fd || (f.id & (CAN_RTR_FLAG | CAN_ERR_FLAG)) !== 0) return 'unsupported';
  if (f.len > CAN_MAX_DLEN || f.data.length !== f.len) return 'malformed';
  return null;
}

/**
 * Encodes a frame for the adapter. The id is written without flag bits: `id & 0x1FFFFFFF`
 * for extended frames, `id & 0x7FF` for standard ones (the Go daemon leaked RTR/ERR bits
 * into the first id byte). INS is always 02; the adapter has no "standard id" instruction.
 * Throws on a frame serialTxProblem() refuses — callers check first.
 */
export function encodeSerialTx(f: CanFrame): Uint8Array {
  const problem = serialTxProblem(f);
  if (problem !== null) throw new RangeError(`frame cannot be sent through the serial adapter (${problem})`);
  const n = f.len;
  const id = (f.id & CAN_EFF_FLAG) !== 0 ? f.id & CAN_EFF_MASK : f.id & CAN_SFF_MASK;
  const out = new Uint8Array(n + 10);
  out[0] = SERIAL_PREAMBLE_0;
  out[1] = SERIAL_PREAMBLE_1;
  out[2] = n + 7;
  out[3] = SERIAL_INS_SEND;
  out[4] = FLAGS_BASE + n;
  out[5] = id >>> 24;
  out[6] = (id >>> 16) & 0xff;
  out[7] = (id >>> 8) & 0xff;
  out[8] = id & 0xff;
  out.set(f.data, 9);
  out[n + 9] = checksum(out, 2, n + 9);
  return out;
}

/** CHK over bytes [from, to): LEN at `from`, plus the 0x2D of the preamble. */
function checksum(buf: Uint8Array, from: number, to: number): number {
  let sum = SERIAL_PREAMBLE_0;
  for (let i = from; i < to; i++) sum += buf[i];
  return sum & 0xff;
}

export interface SerialDecoderStats {
  frames: number;
  /** Resync events: a bad LEN, a bad CHK, or a run of bytes that were not a frame. */
  malformed: number;
  badLength: number;
  badChecksum: number;
  /** Runs of bytes skipped while looking for `2D D4` (each run counts once). */
  garbageRuns: number;
  /** Partial frames given up by expire() (the stream went quiet mid-frame). */
  truncated: number;
  /** Bytes thrown away in total. */
  droppedBytes: number;
}

/**
 * Incremental decoder for the adapter → host direction. Resync rule (dropping ONE byte keeps
 * a false `2D D4` inside data from swallowing a real frame):
 *  1. find `2D D4`, dropping everything before it (a trailing `2D` is kept: it may be the
 *     first half of a preamble split across reads);
 *  2. LEN outside 5..13 → malformed, drop ONE byte, back to 1;
 *  3. wait for LEN + 3 bytes; wrong CHK → malformed, drop ONE byte, back to 1;
 *  4. emit the frame (always extended) and consume it.
 * Dropping a single byte means a false `2D D4` inside garbage or data cannot swallow the
 * real frame that follows. Between calls at most SERIAL_RX_MAX_FRAME - 1 bytes are kept,
 * whatever the input, so the buffer cannot grow. The decisions depend only on the byte
 * stream, never on how it was split into reads, so any segmentation yields the same
 * frames and the same counters.
 */
export class SerialDecoder {
  private pending = new Uint8Array(0);
  /** True while bytes are being skipped: a garbage run is counted once, not per byte. */
  private skipping = false;
  private readonly s: SerialDecoderStats = {
    frames: 0,
    malformed: 0,
    badLength: 0,
    badChecksum: 0,
    garbageRuns: 0,
    truncated: 0,
    droppedBytes: 0,
  };

  /** Decodes what `chunk` completes; `timestamp` is stamped on every frame it yields. */
  push(chunk: Uint8Array, timestamp = 0): CanFrame[] {
    const out: CanFrame[] = [];
    let buf: Uint8Array;
    if (this.pending.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending, 0);
      buf.set(chunk, this.pending.length);
    }
    const end = buf.length;
    let p = 0;
    while (p < end) {
      // 1. preamble
      if (buf[p] !== SERIAL_PREAMBLE_0) {
        this.skip(1);
        p++;
        continue;
      }
      if (p + 1 >= end) break; // a lone trailing 2D: keep it
      if (buf[p + 1] !== SERIAL_PREAMBLE_1) {
        this.skip(1);
        p++;
        continue;
      }
      if (p + 2 >= end) break;
      // 2. length
      const len = buf[p + 2];
      if (len < SERIAL_RX_MIN_LEN || len > SERIAL_RX_MAX_LEN) {
        this.s.badLength++;
        this.s.malformed++;
        this.skipping = true;
        this.s.droppedBytes++;
        p++;
        continue;
      }
      // 3. whole frame + checksum
      const total = len + 3;
      if (p + total > end) break;
      const chk = checksum(buf, p + 2, p + total - 1);
      if (chk !== buf[p + total - 1]) {
        this.s.badChecksum++;
        this.s.malformed++;
        this.skipping = true;
        this.s.droppedBytes++;
        p++;
        continue;
      }
      // 4. emit
      const id = ((buf[p + 3] << 24) | (buf[p + 4] << 16) | (buf[p + 5] << 8) | buf[p + 6]) & CAN_EFF_MASK;
      const n = len - 5;
      out.push({
        id: (id | CAN_EFF_FLAG) >>> 0,
        len: n,
        data: buf.slice(p + 7, p + 7 + n),
        fd: false,
        fdFlags: 0,
        timestamp,
      });
      this.s.frames++;
      this.skipping = false;
      p += total;
    }
    // Keep only the undecided tail (< SERIAL_RX_MAX_FRAME bytes by construction); copy it
    // so a big chunk is never retained through a subarray.
    this.pending = p >= end ? new Uint8Array(0) : buf.slice(p);
    return out;
  }

  /**
   * The stream went quiet with bytes held back (the caller's read timeout, like the Go
   * daemon's 50 ms). Nothing more is coming for them, so a candidate frame that is still
   * incomplete is not a frame: drop one byte at a time and rescan, exactly as for a bad
   * checksum. This frees a real frame that sits behind a false `2D D4 LEN` (which would
   * otherwise wait for up to 15 more bytes, i.e. for the next frame on a quiet bus).
   * Each abandoned candidate counts one malformed (`truncated`).
   */
  expire(timestamp = 0): CanFrame[] {
    const out: CanFrame[] = [];
    // pending always starts at a candidate preamble (2D): push() keeps nothing else.
    while (this.pending.length > 0) {
      this.s.truncated++;
      this.s.malformed++;
      this.s.droppedBytes++;
      this.skipping = true;
      const rest = this.pending.subarray(1);
      this.pending = new Uint8Array(0);
      out.push(...this.push(rest, timestamp));
    }
    return out;
  }

  /** Forgets buffered bytes (the device was reopened: old bytes belong to a dead stream). */
  reset(): void {
    this.pending = new Uint8Array(0);
    this.skipping = false;
  }

  /** Bytes held back waiting for the rest of a frame (never more than 15). */
  get pendingBytes(): number {
    return this.pending.length;
  }

  stats(): Readonly<SerialDecoderStats> {
    return { ...this.s };
  }

  private skip(n: number): void {
    if (!this.skipping) {
      this.skipping = true;
      this.s.garbageRuns++;
      this.s.malformed++;
    }
    this.s.droppedBytes += n;
  }
}
