// Bus load from observed frames, with the real bit count of every frame on the wire.
//
// Why exact bits: byte counters understate the load (user-needs #16); the worst-case
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
// Bounds (user-needs #16, hardware.md §11): `min` assumes no dynamic stuff bit, `max` the
// worst case: after the first 5 bits one stuff bit per 4, i.e. ⌊(g − 1)/4⌋ for a classic
// stuffed span of g bits and ⌊(x − 2)/4⌋ for an FD dynamic span of x bits (no stuff bit
// after the last one). For FD with BRS the max bound puts as many of those stuff bits as
// can fit in the nominal phase (⌊(a − 2)/4⌋ for a bits up to and including BRS), which
// maximises the time.
//
// Error frames reported by SocketCAN (CAN_ERR_FLAG) are controller notifications, not
// frames on the wire, and count 0 bits.
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, CANFD_BRS, CANFD_ESI, type CanFrame, lengthToDlc } from './frame.js';

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
 * Feeds bits MSB first into a stuff-bit counter and (optionally) the CRC-15 register.
 * Values: 0 = dominant, 1 = recessive.
 */
class BitStream {
  last = -1;
  run = 0;
  stuffed = 0;
  /** Whether the most recent bit triggered a stuff bit (FD suppresses one after the last data bit). */
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
  const dlc = Math.min(f.len, 15);
  s.bits(dlc, 4);
  // A remote frame has no data field on the wire.
  const n = rtr ? 0 : Math.min(f.data.length, 8);
  for (let i = 0; i < n; i++) s.bits(f.data[i], 8);
  const crc = s.crc;
  s.crcOn = false;
  s.bits(crc, 15);
  const unstuffed = (ext ? 54 : 34) + 8 * n;
  const nominal = unstuffed + s.stuffed + TRAILER_BITS;
  return { nominal, data: 0, total: nominal, stuffBits: s.stuffed, fixedStuffBits: 0 };
}

function fdBits(f: CanFrame): FrameBits {
  const ext = (f.id & CAN_EFF_FLAG) !== 0;
  const brs = (f.fdFlags & CANFD_BRS) !== 0;
  const s = new BitStream();
  s.crcOn = false; // the FD CRC field length does not depend on the CRC value
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
  // Stuff bits triggered before BRS are sent before it, in the nominal phase.
  const arbStuff = s.stuffed;
  s.bit(brs ? 1 : 0);
  s.bit((f.fdFlags & CANFD_ESI) !== 0 ? 1 : 0);
  const dlc = lengthToDlc(Math.min(f.len, 64));
  s.bits(dlc, 4);
  const n = FD_DLC_LENGTH[dlc];
  for (let i = 0; i < n; i++) s.bits(i < f.data.length ? f.data[i] : 0, 8);
  // No dynamic stuff bit after the last data bit: the fixed stuff bit replaces it.
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

/** The exact bits this frame occupies on the bus, SOF to the end of the intermission. */
export function frameBits(f: CanFrame): FrameBits {
  if ((f.id & CAN_ERR_FLAG) !== 0) return ZERO_BITS;
  return f.fd ? fdBits(f) : classicBits(f);
}

/** Bounds without (min) and with worst-case (max) dynamic stuffing. */
export function frameBitBounds(f: CanFrame): FrameBitBounds {
  if ((f.id & CAN_ERR_FLAG) !== 0) return { min: { nominal: 0, data: 0 }, max: { nominal: 0, data: 0 } };
  const ext = (f.id & CAN_EFF_FLAG) !== 0;
  if (!f.fd) {
    const n = (f.id & CAN_RTR_FLAG) !== 0 ? 0 : Math.min(f.data.length, 8);
    const g = (ext ? 54 : 34) + 8 * n; // SOF .. CRC
    const min = g + TRAILER_BITS;
    return { min: { nominal: min, data: 0 }, max: { nominal: min + Math.floor((g - 1) / 4), data: 0 } };
  }
  const n = FD_DLC_LENGTH[lengthToDlc(Math.min(f.len, 64))];
  const a = ext ? 36 : 17; // SOF .. BRS
  const x = (ext ? 41 : 22) + 8 * n; // dynamic span SOF .. data
  const fieldAfterBrs = 1 + 4 + 8 * n + 4 + (n <= 16 ? 17 + 6 : 21 + 7);
  const worst = Math.floor((x - 2) / 4);
  const worstArb = Math.floor((a - 2) / 4);
  if ((f.fdFlags & CANFD_BRS) !== 0) {
    return {
      min: { nominal: a + TRAILER_BITS, data: fieldAfterBrs },
      max: { nominal: a + TRAILER_BITS + worstArb, data: fieldAfterBrs + worst - worstArb },
    };
  }
  const min = a + TRAILER_BITS + fieldAfterBrs;
  return { min: { nominal: min, data: 0 }, max: { nominal: min + worst, data: 0 } };
}

// ---------------------------------------------------------------- sliding window

export type Direction = 'rx' | 'tx';

export interface BusLoadReading {
  /** Load ratios (1 = 100 %) over the window; 0 when the bitrate is unknown. */
  exact: number;
  min: number;
  max: number;
  /** Frames in the window, by direction. */
  rxFrames: number;
  txFrames: number;
  /** Whether a bitrate is known (else the ratios are 0 and meaningless). */
  bitrateKnown: boolean;
}

export interface BusLoadMeterOptions {
  /** Monotonic clock in ms (injected: performance.now in the daemon, a manual clock in tests). */
  now: () => number;
  /** Nominal bitrate in bit/s; null = unknown. */
  bitrate: number | null;
  /** CAN FD data-phase bitrate; null = same as nominal. */
  dataBitrate?: number | null;
  /** Window length, default 1000 ms. */
  windowMs?: number;
  /** One-second samples kept, default 60. */
  historyLength?: number;
}

// Per-frame entry fields, stored in parallel typed arrays (no allocation per frame).
const F_TIME = 0;
const F_EXACT_NOM = 1;
const F_EXACT_DATA = 2;
const F_MIN_NOM = 3;
const F_MIN_DATA = 4;
const F_MAX_NOM = 5;
const F_MAX_DATA = 6;
const F_DIR = 7;
const FIELDS = 8;

/**
 * Sliding-window bus load: the exact bits of every frame seen in the last window (RX and
 * our own TX) over the bitrate, plus min/max bounds and a per-second history.
 *
 * Window semantics: a reading at time t covers frames recorded at times in (t − W, t].
 * History sample k covers (start + k·1 s − W, start + k·1 s], start being construction time.
 * Bits are summed as integers per phase and converted with the bitrate only when read, so a
 * bitrate learned later (or changed) applies to the frames already in the window.
 */
export class BusLoadMeter {
  private readonly now: () => number;
  private bitrate: number | null;
  private dataBitrate: number | null;
  private readonly windowMs: number;
  private readonly historyLength: number;
  private buf = new Float64Array(FIELDS * 1024);
  private head = 0; // index of the oldest entry
  private count = 0;
  private readonly sums = new Float64Array(FIELDS); // F_TIME unused; F_DIR: tx count
  private lastTime = -Infinity;
  private nextSampleAt: number;
  private readonly history: Array<{ exact: number; min: number; max: number }> = [];

  constructor(opts: BusLoadMeterOptions) {
    this.now = opts.now;
    this.bitrate = opts.bitrate && opts.bitrate > 0 ? opts.bitrate : null;
    this.dataBitrate = opts.dataBitrate && opts.dataBitrate > 0 ? opts.dataBitrate : null;
    this.windowMs = opts.windowMs ?? 1000;
    this.historyLength = opts.historyLength ?? 60;
    this.nextSampleAt = this.now() + 1000;
  }

  setBitrate(bitrate: number | null, dataBitrate: number | null = this.dataBitrate): void {
    this.bitrate = bitrate && bitrate > 0 ? bitrate : null;
    this.dataBitrate = dataBitrate && dataBitrate > 0 ? dataBitrate : null;
  }

  /** Counts one frame seen on the bus now (received, or sent by us). */
  record(frame: CanFrame, dir: Direction): void {
    if ((frame.id & CAN_ERR_FLAG) !== 0) return;
    const t = this.monotonic(this.now());
    // Samples due strictly before this frame are taken without it.
    this.takeSamples(t, false);
    const exact = frameBits(frame);
    const bounds = frameBitBounds(frame);
    if (this.count * FIELDS === this.buf.length) this.grow();
    const at = ((this.head + this.count) * FIELDS) % this.buf.length;
    const b = this.buf;
    b[at + F_TIME] = t;
    b[at + F_EXACT_NOM] = exact.nominal;
    b[at + F_EXACT_DATA] = exact.data;
    b[at + F_MIN_NOM] = bounds.min.nominal;
    b[at + F_MIN_DATA] = bounds.min.data;
    b[at + F_MAX_NOM] = bounds.max.nominal;
    b[at + F_MAX_DATA] = bounds.max.data;
    b[at + F_DIR] = dir === 'tx' ? 1 : 0;
    for (let k = 1; k < FIELDS; k++) this.sums[k] += b[at + k];
    this.count++;
  }

  /** Load over the last window, ending now. */
  reading(): BusLoadReading {
    const t = this.monotonic(this.now());
    this.takeSamples(t, true);
    this.evict(t);
    return this.readSums();
  }

  /** The last `historyLength` one-second exact-load samples in percent, oldest first. */
  historyPercent(): number[] {
    this.takeSamples(this.monotonic(this.now()), true);
    return this.history.map((h) => round2(h.exact * 100));
  }

  /** Average load over the history (up to 60 s), per bound. */
  historyAverage(): { exact: number; min: number; max: number; samples: number } {
    this.takeSamples(this.monotonic(this.now()), true);
    const n = this.history.length;
    if (n === 0) return { exact: 0, min: 0, max: 0, samples: 0 };
    let exact = 0;
    let min = 0;
    let max = 0;
    for (const h of this.history) {
      exact += h.exact;
      min += h.min;
      max += h.max;
    }
    return { exact: exact / n, min: min / n, max: max / n, samples: n };
  }

  private monotonic(t: number): number {
    // A clock that steps back must not un-count frames or reorder the ring.
    if (t < this.lastTime) return this.lastTime;
    this.lastTime = t;
    return t;
  }

  private takeSamples(t: number, inclusive: boolean): void {
    while (inclusive ? this.nextSampleAt <= t : this.nextSampleAt < t) {
      // After a long idle gap only the last `historyLength` samples matter, and they are 0.
      const missed = Math.floor((t - this.nextSampleAt) / 1000);
      if (missed > this.historyLength + Math.ceil(this.windowMs / 1000)) {
        // Skipped samples would have been shifted out of the history anyway.
        this.nextSampleAt += (missed - this.historyLength) * 1000;
      }
      this.evict(this.nextSampleAt);
      const r = this.readSums();
      this.history.push({ exact: r.exact, min: r.min, max: r.max });
      if (this.history.length > this.historyLength) this.history.shift();
      this.nextSampleAt += 1000;
    }
  }

  /** Drops entries at or before end − window. */
  private evict(end: number): void {
    const cutoff = end - this.windowMs;
    const b = this.buf;
    while (this.count > 0) {
      const at = this.head * FIELDS;
      if (b[at + F_TIME] > cutoff) break;
      for (let k = 1; k < FIELDS; k++) this.sums[k] -= b[at + k];
      this.head = (this.head + 1) % (b.length / FIELDS);
      this.count--;
    }
    if (this.count === 0) this.sums.fill(0); // no drift from float subtraction
  }

  private readSums(): BusLoadReading {
    const s = this.sums;
    const txFrames = s[F_DIR];
    const rxFrames = this.count - txFrames;
    if (this.bitrate === null) return { exact: 0, min: 0, max: 0, rxFrames, txFrames, bitrateKnown: false };
    const nominal = this.bitrate;
    const data = this.dataBitrate ?? nominal;
    const seconds = this.windowMs / 1000;
    const ratio = (nom: number, dat: number): number => (nom / nominal + dat / data) / seconds;
    return {
      exact: ratio(s[F_EXACT_NOM], s[F_EXACT_DATA]),
      min: ratio(s[F_MIN_NOM], s[F_MIN_DATA]),
      max: ratio(s[F_MAX_NOM], s[F_MAX_DATA]),
      rxFrames,
      txFrames,
      bitrateKnown: true,
    };
  }

  private grow(): void {
    const old = this.buf;
    const next = new Float64Array(old.length * 2);
    const slots = old.length / FIELDS;
    for (let i = 0; i < this.count; i++) {
      const from = ((this.head + i) % slots) * FIELDS;
      next.set(old.subarray(from, from + FIELDS), i * FIELDS);
    }
    this.buf = next;
    this.head = 0;
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
