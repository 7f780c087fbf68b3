// Bus-load bit math: canbusload's measured counts, the unstuffed/worst-case bounds, the
// 50 kbit/s load example, hand-computed CAN FD vectors, an independent bit-level reference,
// and the window.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BusLoadMeter, frameBitBounds, frameBits } from '../../../src/core/bus-load.js';
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, CANFD_BRS, CANFD_ESI, makeFrame, type CanFrame } from '../../../src/core/frame.js';
import { referenceFrameBits } from '../../support/bus-bits-reference.js';

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

describe('frameBits: classic frames against canbusload -e', () => {
  // Measured with Debian's can-utils on vcan (shared canvm examples/canbusload-bits.sh):
  // cansend 123#, 123#0000000000000000, 1ABCDEF0#0000000000000000.
  it('123# is 48 bits', () => {
    expect(frameBits(makeFrame({ id: 0x123 })).total).toBe(48);
  });
  it('123#0000000000000000 is 125 bits', () => {
    expect(frameBits(makeFrame({ id: 0x123, data: zeros(8) })).total).toBe(125);
  });
  it('1ABCDEF0#0000000000000000 is 146 bits', () => {
    expect(frameBits(makeFrame({ id: 0x1abcdef0, extended: true, data: zeros(8) })).total).toBe(146);
  });

  it('all-dominant base frame: one stuff bit per 5 zeros (hand-counted)', () => {
    // ID 0, DLC 0: SOF..DLC = 19 zeros, CRC-15 of all zeros = 0: 34 zeros in a row.
    // A stuff bit (1) after every 5th zero, and the next zero starts a fresh run:
    // after zeros 5, 10, 15, 20, 25, 30 → 6 stuff bits. 34 + 6 + 13 = 53.
    const b = frameBits(makeFrame({ id: 0 }));
    expect(b.stuffBits).toBe(6);
    expect(b.total).toBe(53);
    expect(b.data).toBe(0);
    expect(b.nominal).toBe(53);
  });

  it('a remote frame has no data field on the wire', () => {
    const rtr = frameBits(makeFrame({ id: 0x123, rtr: true, len: 8 }));
    // RTR=1 changes the bits, but the length stays within the 0-byte bounds (47..55)
    expect(rtr.total).toBeGreaterThanOrEqual(47);
    expect(rtr.total).toBeLessThanOrEqual(55);
  });

  it('error frames (SocketCAN notifications) count nothing', () => {
    expect(frameBits(makeFrame({ id: 0x4, error: true, data: zeros(8) })).total).toBe(0);
  });
});

describe('frameBitBounds: unstuffed and worst-case stuffed bit counts of classic frames', () => {
  const cases: Array<[string, CanFrame, number, number]> = [
    ['std 0 B', makeFrame({ id: 0x123 }), 47, 55],
    ['std 8 B', makeFrame({ id: 0x123, data: zeros(8) }), 111, 135],
    ['ext 0 B', makeFrame({ id: 0x1abcdef0, extended: true }), 67, 80],
    ['ext 8 B', makeFrame({ id: 0x1abcdef0, extended: true, data: zeros(8) }), 131, 160],
  ];
  for (const [label, f, min, max] of cases) {
    it(`${label}: ${min}..${max} bits`, () => {
      const b = frameBitBounds(f);
      expect(b.min).toEqual({ nominal: min, data: 0 });
      expect(b.max).toEqual({ nominal: max, data: 0 });
    });
  }
});

describe('frameBits: CAN FD, hand-computed', () => {
  // 0x123 = 001 0010 0011. FBFF bits 1..22:
  //   SOF 0 | ID 0 0 1 0 0 1 0 0 0 1 1 | RRS 0 | IDE 0 | FDF 1 | res 0 | BRS | ESI 0 | DLC
  // CRC field: stuff count 4 + CRC17 + 6 fixed stuff bits = 27 (CRC21: 4 + 21 + 7 = 32);
  // then CRC delimiter, ACK, ACK delimiter, EOF 7, intermission 3 = 13.

  it('FBFF 0x123, 0 bytes, no BRS: 63 bits', () => {
    // Stream: 000 1 00 1 000 11 00 1 | 0(res) 0(BRS) 0(ESI) 0000(DLC) = bits 16..22 are seven 0s
    // → one stuff bit after bit 20; bits 21-22 start a new run. 22 + 1 + 27 + 13 = 63.
    const b = frameBits(makeFrame({ id: 0x123, fd: true }));
    expect(b).toEqual({ nominal: 63, data: 0, total: 63, stuffBits: 1, fixedStuffBits: 6 });
    // Linux can/length.h without stuffing: 22 + 28 + 9 + 3 = 62; worst ⌊(22 − 2)/4⌋ = 5 more.
    expect(frameBitBounds(makeFrame({ id: 0x123, fd: true }))).toEqual({
      min: { nominal: 62, data: 0 },
      max: { nominal: 67, data: 0 },
    });
  });

  it('FBFF 0x123, 0 bytes, BRS: the stuff condition on the last DLC bit inserts no dynamic stuff bit', () => {
    // BRS=1 at bit 17; ESI + DLC = bits 18..22 are five 0s: the fifth is the last bit before
    // the stuff count, where the fixed stuff bit replaces the dynamic one → 0 dynamic.
    // Nominal phase: SOF..BRS 17 + trailer 13 = 30. Data phase: ESI 1 + DLC 4 + 27 = 32.
    const f = makeFrame({ id: 0x123, fd: true, fdFlags: CANFD_BRS });
    expect(frameBits(f)).toEqual({ nominal: 30, data: 32, total: 62, stuffBits: 0, fixedStuffBits: 6 });
  });

  it('FBFF 0x123, 64 zero bytes, BRS: 682 bits, 30 nominal + 652 data', () => {
    // From bit 15: 1(FDF) 0(res) 1(BRS) 0(ESI) 1111(DLC 15 = 64 bytes), then 512 zeros.
    // Before BRS the longest run is 3: no stuff bit in the nominal phase.
    // Data zeros: a stuff bit after every 5th, the last after zero 510 (512 is not a
    // multiple of 5, so none falls on the last data bit): 102 stuff bits.
    // Nominal: 17 + 13 = 30. Data: ESI 1 + DLC 4 + 512 + 102 + stuff count 4 + CRC21 21 + 7 fixed = 651.
    const f = makeFrame({ id: 0x123, fd: true, fdFlags: CANFD_BRS, data: zeros(64) });
    const b = frameBits(f);
    expect(b.stuffBits).toBe(102);
    expect(b.fixedStuffBits).toBe(7);
    expect(b.nominal).toBe(30);
    expect(b.data).toBe(651);
    expect(b.total).toBe(681);
    // no-stuff length per Linux can/length.h: 22 + 512 + 33 + 9 + 3 = 579; + 102 = 681
    expect(b.total).toBe(579 + 102);
    // bounds: x = 534 → worst ⌊532/4⌋ = 133, of which ⌊(17 − 2)/4⌋ = 3 before BRS
    expect(frameBitBounds(f)).toEqual({ min: { nominal: 30, data: 549 }, max: { nominal: 33, data: 679 } });
  });

  it('FEFF ID 0, 0 bytes, no BRS: 87 bits', () => {
    // SOF + base ID = 12 zeros → stuff after zeros 5 and 10 (2); SRR 1, IDE 1;
    // 18 ext-ID zeros + RRS 0 = 19 zeros → stuff after 5, 10, 15 (3), 4 left;
    // FDF 1; res, BRS, ESI, DLC = 7 zeros → stuff after the 5th (1), 2 left, last bit no stuff.
    // 41 + 6 + 27 + 13 = 87
    const f = makeFrame({ id: 0, extended: true, fd: true });
    expect(frameBits(f)).toEqual({ nominal: 87, data: 0, total: 87, stuffBits: 6, fixedStuffBits: 6 });
    expect(frameBitBounds(f)).toEqual({ min: { nominal: 81, data: 0 }, max: { nominal: 90, data: 0 } });
  });

  it('FD lengths round up to the DLC size, padded', () => {
    // 9 bytes go out as 12: same as an explicit 12-byte frame with 3 zero bytes of padding
    const nine = makeFrame({ id: 0x100, fd: true, data: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    const twelve = makeFrame({ id: 0x100, fd: true, data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0] });
    expect(frameBits(nine)).toEqual(frameBits(twelve));
  });

  it('FBFF 0x123, 0 bytes, ESI set: the recessive ESI breaks the zero run → 62 bits', () => {
    // bits 15..22: 1(FDF) 0(res) 0(BRS) 1(ESI) 0000(DLC): longest run 4 → no stuff bit.
    // 22 + 0 + 27 + 13 = 62 (one less than with ESI clear, above)
    const b = frameBits(makeFrame({ id: 0x123, fd: true, fdFlags: CANFD_ESI }));
    expect(b).toEqual({ nominal: 62, data: 0, total: 62, stuffBits: 0, fixedStuffBits: 6 });
  });
});

// ------------------------------------------------------------------ independent reference

/** Builds the unstuffed bit string of a classic frame SOF..data, then CRC, then stuffs it. */
function referenceClassic(f: CanFrame): { stuffed: string; unstuffed: string } {
  const bin = (v: number, n: number): string =>
    (v >>> 0)
      .toString(2)
      .padStart(32, '0')
      .slice(32 - n);
  const ext = (f.id & 0x80000000) !== 0;
  const rtr = (f.id & 0x40000000) !== 0 ? '1' : '0';
  let s = '0';
  s += ext ? `${bin(f.id >>> 18, 11)}11${bin(f.id & 0x3ffff, 18)}${rtr}00` : `${bin(f.id, 11) + rtr}00`;
  s += bin(f.len, 4);
  if (rtr === '0') for (const byte of f.data) s += bin(byte, 8);
  // CRC-15 by polynomial long division of s·x^15 by x^15+x^14+x^10+x^8+x^7+x^4+x^3+1
  const poly = '1100010110011001';
  const work = (s + '0'.repeat(15)).split('');
  for (let i = 0; i < s.length; i++) {
    if (work[i] === '1') for (let j = 0; j < poly.length; j++) work[i + j] = work[i + j] === poly[j] ? '0' : '1';
  }
  const unstuffed = s + work.slice(s.length).join('');
  // stuff: after five equal bits insert the complement, which counts toward the next run
  let out = '';
  let run = 0;
  let last = '';
  for (const b of unstuffed) {
    out += b;
    run = b === last ? run + 1 : 1;
    last = b;
    if (run === 5) {
      last = b === '0' ? '1' : '0';
      out += last;
      run = 1;
    }
  }
  return { stuffed: out, unstuffed };
}

const classicFrame = fc
  .record({
    ext: fc.boolean(),
    id: fc.integer({ min: 0, max: 0x1fffffff }),
    rtr: fc.boolean(),
    data: fc.uint8Array({ maxLength: 8 }),
  })
  .map(({ ext, id, rtr, data }) => makeFrame({ id: ext ? id : id & 0x7ff, extended: ext, rtr, len: rtr ? data.length : undefined, data: rtr ? [] : data }));

describe('frameBits: property checks', () => {
  it('classic: equals an independent bit-level reference (long division CRC, explicit stuffing)', () => {
    fc.assert(
      fc.property(classicFrame, (f) => {
        const ref = referenceClassic(f);
        // the reference's stuffed stream never holds six equal bits
        expect(ref.stuffed).not.toMatch(/000000|111111/);
        expect(frameBits(f).total).toBe(ref.stuffed.length + 13);
      }),
      { numRuns: 2000 },
    );
  });

  it('classic: min <= exact <= max', () => {
    fc.assert(
      fc.property(classicFrame, (f) => {
        const b = frameBits(f);
        const bounds = frameBitBounds(f);
        expect(b.total).toBeGreaterThanOrEqual(bounds.min.nominal);
        expect(b.total).toBeLessThanOrEqual(bounds.max.nominal);
      }),
    );
  });

  it('FD: min <= exact <= max per phase, with and without BRS', () => {
    const fdFrame = fc
      .record({
        ext: fc.boolean(),
        id: fc.integer({ min: 0, max: 0x1fffffff }),
        flags: fc.constantFrom(0, CANFD_BRS, CANFD_ESI, CANFD_BRS | CANFD_ESI),
        len: fc.constantFrom(0, 1, 7, 8, 12, 16, 20, 24, 32, 48, 64),
        fill: fc.constantFrom('zeros', 'ones', 'random'),
        seed: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      })
      .map(({ ext, id, flags, len, fill, seed }) => {
        const data = fill === 'zeros' ? zeros(len) : fill === 'ones' ? new Array<number>(len).fill(0xff) : Array.from(seed.subarray(0, len));
        return makeFrame({ id: ext ? id : id & 0x7ff, extended: ext, fd: true, fdFlags: flags, data });
      });
    fc.assert(
      fc.property(fdFrame, (f) => {
        const b = frameBits(f);
        const bounds = frameBitBounds(f);
        expect(b.nominal).toBeGreaterThanOrEqual(bounds.min.nominal);
        expect(b.nominal).toBeLessThanOrEqual(bounds.max.nominal);
        expect(b.data).toBeGreaterThanOrEqual(bounds.min.data);
        expect(b.total).toBeLessThanOrEqual(bounds.max.nominal + bounds.max.data);
        expect(b.total).toBe(b.nominal + b.data);
        if ((f.fdFlags & CANFD_BRS) === 0) expect(b.data).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });
});

// ------------------------------------------------------------------ fast path = bit-by-bit

// Bytes that make long runs (and so stuff bits at every offset) turn up far more often than
// in uniform random data, so the chunk tables' run-state carry is exercised hard.
const wireByte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x00, 0xff, 0x0f, 0xf0, 0x1f, 0xf8, 0x07, 0xe0, 0x83, 0x7c));

/** Any classic frame the meter may be handed, odd ones included (len ≠ data length, DLC > 8, error flag). */
const anyClassic = fc
  .record({
    id: fc.oneof(fc.integer({ min: 0, max: 0x1fffffff }), fc.constantFrom(0, 0x7ff, 0x1fffffff, 0x1f, 0x3e0)),
    ext: fc.boolean(),
    rtr: fc.boolean(),
    err: fc.integer({ min: 0, max: 19 }).map((x) => x === 0),
    len: fc.integer({ min: 0, max: 15 }),
    data: fc.array(wireByte, { maxLength: 8 }),
  })
  .map(
    ({ id, ext, rtr, err, len, data }): CanFrame => ({
      id: ((ext ? (id & 0x1fffffff) | CAN_EFF_FLAG : id & 0x7ff) | (rtr ? CAN_RTR_FLAG : 0) | (err ? CAN_ERR_FLAG : 0)) >>> 0,
      len: rtr ? len : data.length,
      data: Uint8Array.from(rtr ? [] : data),
      fd: false,
      fdFlags: 0,
      timestamp: 0,
    }),
  );

/** Any CAN FD frame: every length 0..64 (non-DLC lengths are padded on the wire), BRS/ESI. */
const anyFd = fc
  .record({
    id: fc.oneof(fc.integer({ min: 0, max: 0x1fffffff }), fc.constantFrom(0, 0x7ff, 0x1fffffff)),
    ext: fc.boolean(),
    flags: fc.integer({ min: 0, max: 7 }),
    data: fc.array(wireByte, { maxLength: 64 }),
  })
  .map(
    ({ id, ext, flags, data }): CanFrame => ({
      id: (ext ? (id & 0x1fffffff) | CAN_EFF_FLAG : id & 0x7ff) >>> 0,
      len: data.length,
      data: Uint8Array.from(data),
      fd: true,
      fdFlags: flags,
      timestamp: 0,
    }),
  );

describe('frameBits: the table-driven count equals the bit-by-bit reference', () => {
  it('classic frames: every field (test/support/bus-bits-reference.ts)', () => {
    fc.assert(
      fc.property(anyClassic, (f) => {
        expect(frameBits(f)).toEqual(referenceFrameBits(f));
      }),
      { numRuns: 5000 },
    );
  });

  it('CAN FD frames: every field, both phases', () => {
    fc.assert(
      fc.property(anyFd, (f) => {
        expect(frameBits(f)).toEqual(referenceFrameBits(f));
      }),
      { numRuns: 5000 },
    );
  });

  it('runs of equal bits across every chunk boundary (all-0 and all-1 payloads, every length)', () => {
    for (const fill of [0x00, 0xff]) {
      for (let len = 0; len <= 64; len++) {
        for (const id of [0, 0x7ff, 0x1fffffff]) {
          for (const ext of [false, true]) {
            const data = new Array<number>(len).fill(fill);
            const fd = makeFrame({ id, extended: ext, fd: true, fdFlags: CANFD_BRS, data });
            expect(frameBits(fd)).toEqual(referenceFrameBits(fd));
            if (len <= 8) {
              const classic = makeFrame({ id, extended: ext, data });
              expect(frameBits(classic)).toEqual(referenceFrameBits(classic));
            }
          }
        }
      }
    }
  });
});

// ------------------------------------------------------------------ the sliding window

class ManualClock {
  t = 10_000;
  now = (): number => this.t;
}

describe('BusLoadMeter', () => {
  it('100 standard 8-byte frames in 1 s at 50 kbit/s → 22.2 % min, 27.0 % max', () => {
    const clock = new ManualClock();
    const m = new BusLoadMeter({ now: clock.now, bitrate: 50_000 });
    const f = makeFrame({ id: 0x123, data: zeros(8) });
    for (let i = 0; i < 100; i++) {
      clock.t = 10_000 + i * 10;
      m.record(f);
    }
    const r = m.reading();
    expect(r.min * 100).toBeCloseTo(22.2, 10);
    expect(r.max * 100).toBeCloseTo(27.0, 10);
    // exact: 125 bits × 100 / 50 000 (as canbusload -e counts it)
    expect(r.exact * 100).toBeCloseTo(25.0, 10);
  });

  it('counts RX and own TX, and forgets frames older than the window', () => {
    const clock = new ManualClock();
    const m = new BusLoadMeter({ now: clock.now, bitrate: 50_000 });
    const f = makeFrame({ id: 0x123 }); // 48 bits
    clock.t = 10_000;
    m.record(f);
    clock.t = 10_400;
    m.record(f);
    clock.t = 10_999;
    expect(m.reading().exact).toBeCloseTo(96 / 50_000, 12);
    clock.t = 11_000; // the frame at 10 000 is now exactly one window old: out
    expect(m.reading().exact).toBeCloseTo(48 / 50_000, 12);
    clock.t = 11_400;
    expect(m.reading()).toMatchObject({ exact: 0, min: 0, max: 0 });
  });

  it('keeps a 60-sample per-second history, oldest first, in percent', () => {
    const clock = new ManualClock();
    const m = new BusLoadMeter({ now: clock.now, bitrate: 50_000 });
    const f = makeFrame({ id: 0x123, data: zeros(8) }); // 125 bits = 0.25 % at 50 kbit/s
    // second k (k = 0..69) carries k frames
    for (let k = 0; k < 70; k++) {
      for (let i = 0; i < k; i++) {
        clock.t = 10_000 + k * 1000 + 1 + i;
        m.record(f);
      }
    }
    clock.t = 10_000 + 70 * 1000;
    const h = m.historyPercent();
    expect(h).toHaveLength(60);
    // sample at the end of second k holds k frames: the last 60 are k = 10..69
    expect(h[0]).toBeCloseTo(10 * 0.25, 10);
    expect(h[59]).toBeCloseTo(69 * 0.25, 10);
    const avg = m.historyAverage();
    expect(avg.samples).toBe(60);
    expect(avg.exact * 100).toBeCloseTo(((10 + 69) / 2) * 0.25, 10);
  });

  it('an idle gap fills the history with zeros without looping per missed second', () => {
    const clock = new ManualClock();
    const m = new BusLoadMeter({ now: clock.now, bitrate: 50_000 });
    m.record(makeFrame({ id: 0x123 }));
    clock.t += 1e9; // ~11 days
    expect(m.historyPercent()).toEqual(new Array<number>(60).fill(0));
  });

  it('weights FD data-phase bits by the data bitrate', () => {
    const clock = new ManualClock();
    const m = new BusLoadMeter({ now: clock.now, bitrate: 500_000, dataBitrate: 2_000_000 });
    // 30 nominal + 32 data bits (hand-computed above): 30/500k + 32/2M = 76 µs per frame
    const f = makeFrame({ id: 0x123, fd: true, fdFlags: CANFD_BRS });
    for (let i = 0; i < 1000; i++) m.record(f);
    expect(m.reading().exact).toBeCloseTo(1000 * 76e-6, 12);
    // without a data bitrate the data phase runs at the nominal rate
    m.setBitrate(500_000, null);
    expect(m.reading().exact).toBeCloseTo((1000 * 62) / 500_000, 12);
  });

  it('two meters interleaved do not see each other (each owns its bit counter)', () => {
    const clock = new ManualClock();
    const a = new BusLoadMeter({ now: clock.now, bitrate: 50_000 });
    const b = new BusLoadMeter({ now: clock.now, bitrate: 50_000 });
    const small = makeFrame({ id: 0x123 }); // 48 bits
    const big = makeFrame({ id: 0x123, data: zeros(8) }); // 125 bits
    for (let i = 0; i < 10; i++) {
      clock.t = 10_000 + i;
      a.record(small);
      b.record(big);
    }
    expect(a.reading().exact).toBeCloseTo((10 * 48) / 50_000, 12);
    expect(b.reading().exact).toBeCloseTo((10 * 125) / 50_000, 12);
  });

  it('unknown bitrate: frames are counted, ratios are 0 and flagged', () => {
    const clock = new ManualClock();
    const m = new BusLoadMeter({ now: clock.now, bitrate: null });
    m.record(makeFrame({ id: 1 }));
    expect(m.reading()).toEqual({ exact: 0, min: 0, max: 0, bitrateKnown: false });
    m.setBitrate(125_000);
    expect(m.reading().bitrateKnown).toBe(true);
    expect(m.reading().exact).toBeGreaterThan(0);
  });

  it('grows its ring past the initial capacity without losing frames (1 Mbit/s stress rate)', () => {
    const clock = new ManualClock();
    const m = new BusLoadMeter({ now: clock.now, bitrate: 1_000_000 });
    const f = makeFrame({ id: 0x123 });
    // 21 277 frames/s of 47..48 bits ≈ 100 %; spread over one second
    for (let i = 0; i < 20_000; i++) {
      clock.t = 10_000 + i * 0.05;
      m.record(f);
    }
    const r = m.reading();
    expect(r.exact).toBeCloseTo((20_000 * 48) / 1_000_000, 12);
  });

  it('a clock stepping back does not un-count frames', () => {
    const clock = new ManualClock();
    const m = new BusLoadMeter({ now: clock.now, bitrate: 50_000 });
    m.record(makeFrame({ id: 0x123 }));
    clock.t -= 5000;
    m.record(makeFrame({ id: 0x123 }));
    expect(m.reading().exact).toBeCloseTo((2 * 48) / 50_000, 12);
  });
});

// ------------------------------------------------------------------ buckets vs per-frame window

describe('BusLoadMeter: 50 ms buckets against a per-frame sliding window', () => {
  const START = 10_000;
  const NOMINAL = 500_000;
  const DATA = 2_000_000;
  const BUCKET = 50;

  /** Per-frame reference: (nominal bits, data bits, rx, tx) of the frames at times in (end − 1000, end]. */
  function perFrame(log: Array<{ t: number; nom: number; dat: number; tx: boolean }>, end: number) {
    let nom = 0;
    let dat = 0;
    let rx = 0;
    let tx = 0;
    for (const e of log) {
      if (e.t > end - 1000 && e.t <= end) {
        nom += e.nom;
        dat += e.dat;
        if (e.tx) tx++;
        else rx++;
      }
    }
    return { nom, dat, rx, tx, ratio: nom / NOMINAL + dat / DATA };
  }

  const step = fc.record({
    dt: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 120, noNaN: true }), fc.integer({ min: 0, max: 3000 })),
    frame: fc.oneof(anyClassic, anyFd),
    tx: fc.boolean(),
  });

  it('history samples equal the per-frame window; a reading is exact on bucket edges and off by at most the cut bucket elsewhere', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 150 }), fc.double({ min: 0, max: 2500, noNaN: true }), fc.boolean(), (steps, tail, onEdge) => {
        const clock = { t: START };
        const m = new BusLoadMeter({ now: () => clock.t, bitrate: NOMINAL, dataBitrate: DATA });
        const log: Array<{ t: number; nom: number; dat: number; tx: boolean }> = [];
        for (const s of steps) {
          clock.t += s.dt;
          m.record(s.frame);
          const b = frameBits(s.frame);
          if ((s.frame.id & CAN_ERR_FLAG) === 0) log.push({ t: clock.t, nom: b.nominal, dat: b.data, tx: s.tx });
        }
        clock.t += tail;
        if (onEdge) clock.t = START + Math.ceil((clock.t - START) / BUCKET) * BUCKET;
        const end = clock.t;
        const r = m.reading();
        const ref = perFrame(log, end);
        // the bucket the window's old edge (end − 1000) falls in, with its frames
        const edgeBucket = Math.ceil((end - 1000 - START) / BUCKET);
        const cut = perFrame(
          log.filter((e) => Math.ceil((e.t - START) / BUCKET) === edgeBucket),
          Infinity,
        );
        if ((end - START) % BUCKET === 0) {
          expect(r.exact).toBe(ref.ratio);
        } else {
          // (Infinity window above: every frame of that bucket, whatever its time)
          expect(Math.abs(r.exact - ref.ratio)).toBeLessThanOrEqual(cut.ratio + 1e-12);
        }
        // history: one sample per second since START, the last 60, each the per-frame window
        const expected: number[] = [];
        for (let s = START + 1000; s <= end; s += 1000) expected.push(Math.round(perFrame(log, s).ratio * 100 * 100) / 100);
        expect(m.historyPercent()).toEqual(expected.slice(-60));
      }),
      { numRuns: 300 },
    );
  });

  it('a bucket cut by the window edge counts its share of the first-to-last frame span', () => {
    const clock = { t: START };
    const m = new BusLoadMeter({ now: () => clock.t, bitrate: 50_000 });
    const f = makeFrame({ id: 0x123 }); // 48 bits
    // bucket (10 000, 10 050]: frames at 10 010, 10 020, 10 030, 10 040
    for (const t of [10_010, 10_020, 10_030, 10_040]) {
      clock.t = t;
      m.record(f);
    }
    // window (10 015, 11 015]: the edge cuts the span 10 010..10 040 at 3/4 of its length left
    clock.t = 11_015;
    const r = m.reading();
    expect(r.exact).toBeCloseTo((4 * 48 * (25 / 30)) / 50_000, 12);
  });

  it('holds the same memory at 80,000 frames/s as at 10 (no per-frame entries)', () => {
    const clock = { t: START };
    const m = new BusLoadMeter({ now: () => clock.t, bitrate: 1_000_000 });
    const f = makeFrame({ id: 0x123, extended: true, data: zeros(8) });
    for (let i = 0; i < 160_000; i++) {
      clock.t = START + i / 80;
      m.record(f);
    }
    // everything the meter holds is in fixed typed arrays sized at construction
    const arrays = Object.values(m).filter((v): v is Float64Array => v instanceof Float64Array);
    const bytes = arrays.reduce((n, a) => n + a.byteLength, 0);
    expect(bytes).toBeLessThan(4096);
    // the last second: 80,000 frames of 146 bits (extended, 8 zero bytes) at 1 Mbit/s
    expect(m.reading().exact).toBeCloseTo((80_000 * frameBits(f).total) / 1_000_000, 6);
  });
});
