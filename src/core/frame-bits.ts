// The exact number of bits a CAN or CAN FD frame occupies on the wire (bus-load.ts sums
// them over a sliding window).
//
// Why exact bits: byte counters understate the load (they miss the framing); the worst-case
// stuffing formula overstates it. The load operators compare us against is Linux
// `canbusload -e`, which builds each classic frame's actual bit sequence, computes its
// CRC-15 and counts the stuff bits it really needs. We do the same, plus CAN FD.
//
// Model (ISO 11898-1:2015), bits counted from SOF to the end of the 3-bit intermission
// (bus idle beyond that is not load):
//
// Classic frame (stuffed region = SOF .. last CRC bit; a stuff bit after the last CRC bit
// counts, as on the wire):
//   base:     SOF | ID[11] | RTR | IDE=0 | r0 | DLC[4] | data 8n | CRC[15]
//   extended: SOF | ID[11] | SRR=1 | IDE=1 | ID[18] | RTR | r1 | r0 | DLC[4] | data 8n | CRC[15]
//   then CRC delimiter, ACK slot, ACK delimiter, EOF[7], intermission[3] = 13 unstuffed bits.
//   Remote frames carry no data field (n = 0 on the wire whatever the DLC). `canbusload -e`
//   counts DLC data bytes for them too; we count the bus, so RTR frames differ from it.
//   CRC-15 polynomial 0x4599, initial 0, over SOF .. data (unstuffed bits).
//
// CAN FD frame (dynamic stuffing over SOF .. last data bit, but never a dynamic stuff bit
// after the last data bit: the first fixed stuff bit takes its place):
//   FBFF: SOF | ID[11] | RRS=0 | IDE=0 | FDF=1 | res=0 | BRS | ESI | DLC[4] | data 8N
//   FEFF: SOF | ID[11] | SRR=1 | IDE=1 | ID[18] | RRS=0 | FDF=1 | res=0 | BRS | ESI | DLC[4] | data 8N
//   CRC field: stuff count 4 (3 Gray + parity) + CRC 17 (N <= 16) or 21 (N > 16), with fixed
//   stuff bits before the stuff count and after every 4th bit: 6 (CRC17) or 7 (CRC21).
//   Then CRC delimiter, ACK, ACK delimiter, EOF[7], intermission[3] = 13 bits.
//   Because the CRC field uses only fixed stuff bits, its length does not depend on the CRC
//   value, so FD needs no CRC computation: only the dynamic stuff bits of SOF .. data.
//   N is the length the DLC encodes (a 9-byte payload is sent as 12 bytes of which 3 pad).
//   With BRS the data phase runs from just after the BRS bit to the CRC delimiter: ESI, DLC,
//   data, their stuff bits and the CRC field run at the data bitrate; SOF .. BRS (with their
//   stuff bits) and CRC delimiter .. intermission at the nominal bitrate. The switch really
//   happens at the sample points of BRS and of the CRC delimiter; counting both bits whole
//   at the nominal rate errs by under one data-phase bit time per frame.
//   Cross-checked with Linux include/linux/can/length.h (FD header 22/41 bits, CRC17 field
//   28 and CRC21 field 33 bits incl. delimiter and fixed stuff bits, footer 9, IFS 3).
//
// Bounds (e.g. a standard 8-byte frame: 111..135 bits): `min` assumes no dynamic stuff
// bit, `max` the worst case: after the first 5 bits one stuff bit per 4, i.e. ⌊(g − 1)/4⌋
// for a classic stuffed span of g bits and ⌊(x − 2)/4⌋ for an FD dynamic span of x bits
// (no stuff bit after the last one). For FD with BRS the max bound puts as many of those
// stuff bits as can fit in the nominal phase (⌊(a − 2)/4⌋ for a bits up to and including
// BRS), which maximises the time.
//
// Error frames reported by SocketCAN (CAN_ERR_FLAG) are controller notifications, not
// frames on the wire, and count 0 bits.
//
// Cost: every bus frame goes through here (RX and our own TX), up to ~21,000 frames/s on a
// saturated 1 Mbit/s bus and on a Pi Zero. So the bits are not walked one at a time: they are
// fed in chunks of up to 8 bits through precomputed tables (CRC-15 and the stuffing state),
// and the window keeps fixed time buckets, not one entry per frame. `record` allocates
// nothing. test/src/core/bus-load.test.ts checks the tables against a bit-by-bit reference.
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, CANFD_BRS, CANFD_ESI, type CanFrame, lengthToDlc } from './frame.js';
import { BitWalker } from './bit-walker.js';

/** Bits after the CRC sequence: CRC delimiter, ACK slot, ACK delimiter, EOF 7, intermission 3. */
export const TRAILER_BITS = 13;

const FD_DLC_LENGTH = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

export interface FrameBits {
  /** Bits at the nominal (arbitration) bitrate, stuff bits included. */
  nominal: number;
  /** Bits at the data bitrate: CAN FD frames with BRS only, else 0. */
  data: number;
  /** nominal + data */
  total: number;
  /** Dynamic stuff bits actually needed (both phases). */
  stuffBits: number;
  /** CAN FD fixed stuff bits in the CRC field (already in the totals). */
  fixedStuffBits: number;
}

export interface FrameBitBounds {
  min: { nominal: number; data: number };
  max: { nominal: number; data: number };
}

const ZERO_BITS: FrameBits = Object.freeze({ nominal: 0, data: 0, total: 0, stuffBits: 0, fixedStuffBits: 0 });

/**
 * Measures frames with its own walker and result fields: the owner (a meter, one per bus)
 * reads the fields right after measure()/bound(), so nothing is allocated per frame and
 * no two owners share state.
 */
export class FrameBitCounter {
  private readonly walker = new BitWalker();
  /** Results of the last measure(). */
  nominal = 0;
  data = 0;
  stuffBits = 0;
  fixedStuffBits = 0;
  /** Results of the last bound(). */
  minNominal = 0;
  minData = 0;
  maxNominal = 0;
  maxData = 0;

  private measureClassic(f: CanFrame): void {
    const ext = (f.id & CAN_EFF_FLAG) !== 0;
    const rtr = (f.id & CAN_RTR_FLAG) !== 0 ? 1 : 0;
    const dlc = Math.min(f.len, 15);
    const w = this.walker;
    w.reset(true);
    if (ext) {
      // SOF 0 | ID[28..18] | SRR 1 | IDE 1
      w.bits((((f.id >>> 18) & 0x7ff) << 2) | 0b11, 14);
      // ID[17..0] | RTR | r1 0 | r0 0 | DLC[4]
      w.bits(((f.id & 0x3ffff) << 7) | (rtr << 6) | dlc, 25);
    } else {
      // SOF 0 | ID[10..0] | RTR | IDE 0 | r0 0 | DLC[4]
      w.bits(((f.id & 0x7ff) << 7) | (rtr << 6) | dlc, 19);
    }
    // A remote frame has no data field on the wire.
    const n = rtr ? 0 : Math.min(f.data.length, 8);
    w.bytes(f.data, n);
    // The CRC sequence is stuffed too, but is not part of its own input.
    const crc = w.crc;
    w.crcOn = false;
    w.bits(crc, 15);
    const unstuffed = (ext ? 54 : 34) + 8 * n;
    this.nominal = unstuffed + w.stuffed + TRAILER_BITS;
    this.data = 0;
    this.stuffBits = w.stuffed;
    this.fixedStuffBits = 0;
  }

  private measureFd(f: CanFrame): void {
    const ext = (f.id & CAN_EFF_FLAG) !== 0;
    const brs = (f.fdFlags & CANFD_BRS) !== 0;
    const w = this.walker;
    w.reset(false); // the FD CRC field length does not depend on the CRC value
    if (ext) {
      // SOF 0 | ID[28..18] | SRR 1 | IDE 1
      w.bits((((f.id >>> 18) & 0x7ff) << 2) | 0b11, 14);
      // ID[17..0] | RRS 0 | FDF 1 | res 0
      w.bits(((f.id & 0x3ffff) << 3) | 0b010, 21);
    } else {
      // SOF 0 | ID[10..0] | RRS 0 | IDE 0 | FDF 1 | res 0
      w.bits(((f.id & 0x7ff) << 4) | 0b0010, 16);
    }
    // Stuff bits triggered before BRS are sent before it, in the nominal phase.
    const arbStuff = w.stuffed;
    const dlc = lengthToDlc(Math.min(f.len, 64));
    // BRS | ESI | DLC[4]
    w.bits(((brs ? 1 : 0) << 5) | ((f.fdFlags & CANFD_ESI) !== 0 ? 1 << 4 : 0) | dlc, 6);
    // N bytes go out (the DLC's length); bytes beyond the payload are padding zeros.
    const n = FD_DLC_LENGTH[dlc];
    const have = Math.min(n, f.data.length);
    w.bytes(f.data, have);
    for (let i = have; i < n; i++) w.chunk(0, 8);
    // No dynamic stuff bit after the last data bit: the fixed stuff bit replaces it.
    const dynamic = w.stuffed - (w.lastTriggered ? 1 : 0);
    const crcLen = n <= 16 ? 17 : 21;
    const fixed = n <= 16 ? 6 : 7;
    const arbBits = (ext ? 36 : 17) + arbStuff + TRAILER_BITS;
    const dataBits = 1 + 4 + 8 * n + (dynamic - arbStuff) + 4 + crcLen + fixed;
    this.nominal = brs ? arbBits : arbBits + dataBits;
    this.data = brs ? dataBits : 0;
    this.stuffBits = dynamic;
    this.fixedStuffBits = fixed;
  }

  /** Fills nominal/data/stuffBits/fixedStuffBits; the caller skips error frames. */
  measure(f: CanFrame): void {
    if (f.fd) this.measureFd(f);
    else this.measureClassic(f);
  }

  /** Fills minNominal .. maxData; the caller skips error frames. */
  bound(f: CanFrame): void {
    const ext = (f.id & CAN_EFF_FLAG) !== 0;
    if (!f.fd) {
      const n = (f.id & CAN_RTR_FLAG) !== 0 ? 0 : Math.min(f.data.length, 8);
      const g = (ext ? 54 : 34) + 8 * n; // SOF .. CRC
      this.minNominal = g + TRAILER_BITS;
      this.maxNominal = g + TRAILER_BITS + Math.floor((g - 1) / 4);
      this.minData = 0;
      this.maxData = 0;
      return;
    }
    const n = FD_DLC_LENGTH[lengthToDlc(Math.min(f.len, 64))];
    const a = ext ? 36 : 17; // SOF .. BRS
    const x = (ext ? 41 : 22) + 8 * n; // dynamic span SOF .. data
    const fieldAfterBrs = 1 + 4 + 8 * n + 4 + (n <= 16 ? 17 + 6 : 21 + 7);
    const worst = Math.floor((x - 2) / 4);
    const worstArb = Math.floor((a - 2) / 4);
    if ((f.fdFlags & CANFD_BRS) !== 0) {
      this.minNominal = a + TRAILER_BITS;
      this.minData = fieldAfterBrs;
      this.maxNominal = a + TRAILER_BITS + worstArb;
      this.maxData = fieldAfterBrs + worst - worstArb;
      return;
    }
    this.minNominal = a + TRAILER_BITS + fieldAfterBrs;
    this.maxNominal = this.minNominal + worst;
    this.minData = 0;
    this.maxData = 0;
  }
}

/** For the one-off functions below (tests, tools); meters own their counter. */
const oneOff = new FrameBitCounter();

/** The exact bits this frame occupies on the bus, SOF to the end of the intermission. */
export function frameBits(f: CanFrame): FrameBits {
  if ((f.id & CAN_ERR_FLAG) !== 0) return ZERO_BITS;
  oneOff.measure(f);
  const { nominal, data, stuffBits, fixedStuffBits } = oneOff;
  return { nominal, data, total: nominal + data, stuffBits, fixedStuffBits };
}

/** Bounds without (min) and with worst-case (max) dynamic stuffing. */
export function frameBitBounds(f: CanFrame): FrameBitBounds {
  if ((f.id & CAN_ERR_FLAG) !== 0) return { min: { nominal: 0, data: 0 }, max: { nominal: 0, data: 0 } };
  oneOff.bound(f);
  return { min: { nominal: oneOff.minNominal, data: oneOff.minData }, max: { nominal: oneOff.maxNominal, data: oneOff.maxData } };
}
