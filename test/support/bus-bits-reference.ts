// The straightforward bit-by-bit count of a frame's bits on the wire: builds the frame one
// bit at a time, runs the CRC-15 shift register and the stuffing rule per bit. This is how
// src/core/bus-load.ts counted before it went table-driven; the tests keep it as the
// reference the fast version must equal (same model, see the comment atop bus-load.ts).
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, CANFD_BRS, CANFD_ESI, type CanFrame, lengthToDlc } from '../../src/core/frame.js';
import type { FrameBits } from '../../src/core/bus-load.js';

const TRAILER_BITS = 13;
const FD_DLC_LENGTH = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

/** Feeds bits MSB first into a stuff-bit counter and (optionally) the CRC-15 register. 0 = dominant. */
class BitStream {
  last = -1;
  run = 0;
  stuffed = 0;
  lastTriggered = false;
  crc = 0;
  crcOn = true;

  bit(b: number): void {
    if (this.crcOn) {
      const next = b ^ ((this.crc >> 14) & 1);
      this.crc = (this.crc << 1) & 0x7fff;
      if (next) this.crc ^= 0x4599;
    }
    if (b === this.last) this.run++;
    else {
      this.last = b;
      this.run = 1;
    }
    this.lastTriggered = false;
    if (this.run === 5) {
      // The stuff bit is the complement and starts the next run.
      this.stuffed++;
      this.last = b ^ 1;
      this.run = 1;
      this.lastTriggered = true;
    }
  }

  bits(value: number, count: number): void {
    for (let i = count - 1; i >= 0; i--) this.bit((value >>> i) & 1);
  }
}

function classicBits(f: CanFrame): FrameBits {
  const ext = (f.id & CAN_EFF_FLAG) !== 0;
  const rtr = (f.id & CAN_RTR_FLAG) !== 0 ? 1 : 0;
  const s = new BitStream();
  s.bit(0); // SOF
  if (ext) {
    s.bits((f.id >>> 18) & 0x7ff, 11);
    s.bit(1); // SRR
    s.bit(1); // IDE
    s.bits(f.id & 0x3ffff, 18);
    s.bit(rtr);
    s.bit(0); // r1
    s.bit(0); // r0
  } else {
    s.bits(f.id & 0x7ff, 11);
    s.bit(rtr);
    s.bit(0); // IDE
    s.bit(0); // r0
  }
  s.bits(Math.min(f.len, 15), 4);
  const n = rtr ? 0 : Math.min(f.data.length, 8);
  for (let i = 0; i < n; i++) s.bits(f.data[i], 8);
  const crc = s.crc;
  s.crcOn = false;
  s.bits(crc, 15);
  const nominal = (ext ? 54 : 34) + 8 * n + s.stuffed + TRAILER_BITS;
  return { nominal, data: 0, total: nominal, stuffBits: s.stuffed, fixedStuffBits: 0 };
}

function fdBits(f: CanFrame): FrameBits {
  const ext = (f.id & CAN_EFF_FLAG) !== 0;
  const brs = (f.fdFlags & CANFD_BRS) !== 0;
  const s = new BitStream();
  s.crcOn = false;
  s.bit(0); // SOF
  if (ext) {
    s.bits((f.id >>> 18) & 0x7ff, 11);
    s.bit(1); // SRR
    s.bit(1); // IDE
    s.bits(f.id & 0x3ffff, 18);
    s.bit(0); // RRS
  } else {
    s.bits(f.id & 0x7ff, 11);
    s.bit(0); // RRS
    s.bit(0); // IDE
  }
  s.bit(1); // FDF
  s.bit(0); // res
  const arbStuff = s.stuffed;
  s.bit(brs ? 1 : 0);
  s.bit((f.fdFlags & CANFD_ESI) !== 0 ? 1 : 0);
  const dlc = lengthToDlc(Math.min(f.len, 64));
  s.bits(dlc, 4);
  const n = FD_DLC_LENGTH[dlc];
  for (let i = 0; i < n; i++) s.bits(i < f.data.length ? f.data[i] : 0, 8);
  const dynamic = s.stuffed - (s.lastTriggered ? 1 : 0);
  const crcLen = n <= 16 ? 17 : 21;
  const fixed = n <= 16 ? 6 : 7;
  const arbBits = (ext ? 36 : 17) + arbStuff + TRAILER_BITS;
  const dataBits = 1 + 4 + 8 * n + (dynamic - arbStuff) + 4 + crcLen + fixed;
  const total = arbBits + dataBits;
  return brs
    ? { nominal: arbBits, data: dataBits, total, stuffBits: dynamic, fixedStuffBits: fixed }
    : { nominal: total, data: 0, total, stuffBits: dynamic, fixedStuffBits: fixed };
}

/** Bit-by-bit reference for frameBits(). */
export function referenceFrameBits(f: CanFrame): FrameBits {
  if ((f.id & CAN_ERR_FLAG) !== 0) return { nominal: 0, data: 0, total: 0, stuffBits: 0, fixedStuffBits: 0 };
  return f.fd ? fdBits(f) : classicBits(f);
}
