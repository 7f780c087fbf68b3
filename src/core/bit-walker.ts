// The bit walker behind FrameBitCounter: a frame's bits fed in chunks through lookup tables
// that give the CRC-15 and the stuff bits a chunk at a time (pure; no imports).

// ---------------------------------------------------------------- chunk tables
//
// A frame's bits are fed MSB first in chunks of n = 1..8 bits. For every width n and every
// n-bit value v the tables hold the effect of those n bits, so a chunk costs one lookup per
// table instead of n rounds of a bit loop. Chunks of every width share one index space:
// width n starts at chunkBase(n) = 2^n − 2 (widths 1..8 take 2 + 4 + … + 256 = 510 slots).
// Fields are not byte-aligned (a base header is 19 bits), hence the odd widths.

const chunkBase = (n: number): number => (1 << n) - 2;
const CHUNK_SLOTS = chunkBase(9);
const BYTE_BASE = chunkBase(8);

const CRC15_POLY = 0x4599;

/**
 * CRC-15 by chunks. With the register `crc` (15 bits), feeding n bits v gives
 * `((crc << n) & 0x7fff) ^ CRC_TABLE[chunkBase(n) + ((crc >> (15 − n)) ^ v)]`: the n bits
 * leaving the top of the register, XORed with the input, decide what the division
 * subtracts (the usual table CRC, n bits at a time; the CRC is linear, so this is exact).
 */
const CRC_TABLE = ((): Uint16Array => {
  const t = new Uint16Array(CHUNK_SLOTS);
  for (let n = 1; n <= 8; n++) {
    for (let v = 0; v < 1 << n; v++) {
      let r = v << (15 - n);
      for (let i = 0; i < n; i++) r = r & 0x4000 ? ((r << 1) ^ CRC15_POLY) & 0x7fff : (r << 1) & 0x7fff;
      t[chunkBase(n) + v] = r;
    }
  }
  return t;
})();

// Stuffing state: (last bit << 3) | run, run = how many equal bits end the stream so far
// (1..4; 0 = no bit yet). After 5 equal bits the transmitter inserts their complement, and
// that stuff bit starts the next run: it is run 1 of the other value. The state carries
// exactly this across chunk boundaries, so counting by chunks equals counting bit by bit.
const STATE_SLOTS = 16;
const S_LAST_TRIGGERED = 0x10;
const S_COUNT_SHIFT = 5;

/**
 * Entry for (chunk, state) at `(chunkBase(n) + v) * 16 + state`: the new state (bits 0..3),
 * S_LAST_TRIGGERED when the chunk's last bit caused a stuff bit (CAN FD sends none after the
 * last data bit), and the stuff bits inserted (bits 5..6: at most 2 fit in 8 bits).
 */
const STUFF_TABLE = ((): Uint8Array => {
  const t = new Uint8Array(CHUNK_SLOTS * STATE_SLOTS);
  for (let n = 1; n <= 8; n++) {
    for (let v = 0; v < 1 << n; v++) {
      for (let state = 0; state < STATE_SLOTS; state++) {
        let last = state >> 3;
        let run = state & 7;
        let count = 0;
        let triggered = false;
        for (let i = n - 1; i >= 0; i--) {
          const b = (v >> i) & 1;
          run = run > 0 && b === last ? run + 1 : 1;
          last = b;
          triggered = run === 5;
          if (triggered) {
            count++;
            last = b ^ 1;
            run = 1;
          }
        }
        t[(chunkBase(n) + v) * STATE_SLOTS + state] = (count << S_COUNT_SHIFT) | (triggered ? S_LAST_TRIGGERED : 0) | (last << 3) | run;
      }
    }
  }
  return t;
})();

/** Feeds a frame's bits through both tables (reused per frame: no allocation). */
export class BitWalker {
  crc = 0;
  state = 0;
  stuffed = 0;
  /** The stuff table entry of the last chunk fed (0 before any). */
  lastEntry = 0;
  crcOn = true;

  /** Whether the most recent bit triggered a stuff bit (FD suppresses one after the last data bit). */
  get lastTriggered(): boolean {
    return (this.lastEntry & S_LAST_TRIGGERED) !== 0;
  }

  reset(crcOn: boolean): void {
    this.crc = 0;
    this.state = 0;
    this.stuffed = 0;
    this.lastEntry = 0;
    this.crcOn = crcOn;
  }

  /** The low `count` bits of `value` (1 <= count <= 31), MSB first. */
  bits(value: number, count: number): void {
    while (count > 8) {
      count -= 8;
      this.chunk((value >>> count) & 0xff, 8);
    }
    this.chunk(value & ((1 << count) - 1), count);
  }

  /**
   * The first `count` payload bytes: the same as chunk(data[i], 8) for each, written out with the
   * state in locals because most of a frame's bits are here.
   */
  bytes(data: Uint8Array, count: number): void {
    let crc = this.crc;
    let state = this.state;
    let stuffed = this.stuffed;
    let e = this.lastEntry;
    const crcOn = this.crcOn;
    for (let i = 0; i < count; i++) {
      const v = data[i];
      if (crcOn) crc = ((crc << 8) & 0x7fff) ^ CRC_TABLE[BYTE_BASE + ((crc >> 7) ^ v)];
      e = STUFF_TABLE[(BYTE_BASE + v) * STATE_SLOTS + state];
      state = e & 0x0f;
      stuffed += e >> S_COUNT_SHIFT;
    }
    this.crc = crc;
    this.state = state;
    this.stuffed = stuffed;
    this.lastEntry = e;
  }

  /** n bits (1..8) of v, MSB first. */
  chunk(v: number, n: number): void {
    const base = chunkBase(n);
    if (this.crcOn) this.crc = ((this.crc << n) & 0x7fff) ^ CRC_TABLE[base + ((this.crc >> (15 - n)) ^ v)];
    const e = STUFF_TABLE[(base + v) * STATE_SLOTS + this.state];
    this.state = e & 0x0f;
    this.lastEntry = e;
    this.stuffed += e >> S_COUNT_SHIFT;
  }
}
