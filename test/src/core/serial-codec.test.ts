import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAN_EFF_FLAG, frameProblem, makeFrame, type CanFrame } from '../../../src/core/frame.js';
import { encodeSerialTx, SERIAL_RX_MAX_FRAME, SerialDecoder, serialTxProblem } from '../../../src/core/serial-codec.js';

const hex = (s: string): Uint8Array =>
  Uint8Array.from(
    s.trim() === ''
      ? []
      : s
          .trim()
          .split(/\s+/)
          .map((b) => Number.parseInt(b, 16)),
  );
const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).toUpperCase().padStart(2, '0')).join(' ');

/** What a decoded frame looks like, for comparisons. */
const view = (f: CanFrame) => ({ id: f.id >>> 0, len: f.len, data: toHex(f.data), fd: f.fd, fdFlags: f.fdFlags });

/**
 * Independent RX encoder written from the wire format (not from the code under test):
 * 2D D4 LEN=n+5 ID[4] data CHK, CHK = LEN + 0x2D + Σ(ID, data) mod 256.
 */
function rxBytes(id29: number, data: number[]): number[] {
  const len = data.length + 5;
  const body = [(id29 >>> 24) & 0xff, (id29 >>> 16) & 0xff, (id29 >>> 8) & 0xff, id29 & 0xff, ...data];
  const chk = (len + 0x2d + body.reduce((a, b) => a + b, 0)) & 0xff;
  return [0x2d, 0xd4, len, ...body, chk];
}

function decodeAll(chunks: Uint8Array[]): { frames: CanFrame[]; dec: SerialDecoder } {
  const dec = new SerialDecoder();
  const frames: CanFrame[] = [];
  for (const c of chunks) {
    frames.push(...dec.push(c));
    expect(dec.pendingBytes).toBeLessThan(SERIAL_RX_MAX_FRAME);
  }
  return { frames, dec };
}

function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

// ------------------------------------------------------------ wire vectors
const RX_GOOD: [string, number, string][] = [
  ['2D D4 0D 00 00 00 02 FE 10 19 09 19 04 01 20 AA', 0x80000002, 'FE 10 19 09 19 04 01 20'],
  ['2D D4 0D 00 00 1E 5A 34 7B 70 D7 94 10 0D F7 50', 0x80001e5a, '34 7B 70 D7 94 10 0D F7'],
  ['2D D4 0B 00 00 1F 55 A1 B2 C3 D4 E5 F6 71', 0x80001f55, 'A1 B2 C3 D4 E5 F6'],
  ['2D D4 07 00 12 34 56 9A BC 26', 0x80123456, '9A BC'],
  ['2D D4 08 00 1A BC DE DE AD BE 32', 0x801abcde, 'DE AD BE'],
  ['2D D4 07 00 00 01 23 AA BB BD', 0x80000123, 'AA BB'],
  ['2D D4 06 00 00 00 01 AA DE', 0x80000001, 'AA'],
  ['2D D4 05 00 00 00 02 34', 0x80000002, ''],
];

const RX_BAD: [string, string, 'badChecksum' | 'badLength'][] = [
  ['2D D4 06 00 00 00 01 AA 21', 'bad CHK (valid ends DE)', 'badChecksum'],
  ['2D D4 0E 00 00 01 23 01 02 03 04 05 06 07 08 09 8C', 'LEN 14 with a good CHK (the Go daemon accepted it)', 'badLength'],
];

const TX: [string, CanFrame, string][] = [
  ['can_id 0x80000123 [AA BB]', makeFrame({ id: 0x80000123, data: [0xaa, 0xbb] }), '2D D4 09 02 82 00 00 01 23 AA BB 43'],
  ['SFF 0x123 [01 02 03], still INS 02', makeFrame({ id: 0x123, extended: false, data: [1, 2, 3] }), '2D D4 0A 02 83 00 00 01 23 01 02 03 E6'],
  ['0x80000002, no data', makeFrame({ id: 0x80000002 }), '2D D4 07 02 80 00 00 00 02 B8'],
  [
    '0x1E5A, 8 bytes',
    makeFrame({ id: 0x80001e5a, data: [0x34, 0x7b, 0x70, 0xd7, 0x94, 0x10, 0x0d, 0xf7] }),
    '2D D4 0F 02 88 00 00 1E 5A 34 7B 70 D7 94 10 0D F7 DC',
  ],
];

describe('SerialDecoder: RX vectors', () => {
  for (const [wire, id, data] of RX_GOOD) {
    it(`decodes ${wire}`, () => {
      const { frames, dec } = decodeAll([hex(wire)]);
      expect(frames.map(view)).toEqual([{ id, len: hex(data).length, data: toHex(hex(data)), fd: false, fdFlags: 0 }]);
      expect(frames[0].id & CAN_EFF_FLAG).not.toBe(0);
      expect(frameProblem(frames[0])).toBeNull();
      expect(dec.stats().malformed).toBe(0);
      expect(dec.pendingBytes).toBe(0);
    });

    it(`decodes ${wire} split at every point`, () => {
      const bytes = hex(wire);
      for (let i = 1; i < bytes.length; i++) {
        const { frames, dec } = decodeAll([bytes.slice(0, i), bytes.slice(i)]);
        expect(frames.map(view), `split at ${i}`).toEqual(decodeAll([bytes]).frames.map(view));
        expect(dec.stats().malformed).toBe(0);
      }
    });
  }

  it('decodes the four concatenated vectors in chunks of 1,2,3,4,5,7,11 (4 frames, EFF set)', () => {
    const all = hex(
      RX_GOOD.slice(1, 5)
        .map(([w]) => w)
        .join(' '),
    );
    const whole = decodeAll([all]).frames.map(view);
    expect(whole.map((f) => f.id)).toEqual([0x80001e5a, 0x80001f55, 0x80123456, 0x801abcde]);
    for (const size of [1, 2, 3, 4, 5, 7, 11]) {
      const { frames, dec } = decodeAll(chunked(all, size));
      expect(frames.map(view), `chunk size ${size}`).toEqual(whole);
      expect(dec.stats()).toMatchObject({ frames: 4, malformed: 0 });
    }
  });

  it('decodes every vector back to back, split at every pair of points', () => {
    const all = hex(RX_GOOD.map(([w]) => w).join(' '));
    const expected = RX_GOOD.map(([, id]) => id);
    for (let i = 1; i < all.length; i++) {
      for (let j = i; j < all.length; j += 7) {
        const { frames } = decodeAll([all.slice(0, i), all.slice(i, j), all.slice(j)]);
        expect(frames.map((f) => f.id >>> 0)).toEqual(expected);
      }
    }
  });

  for (const [wire, what, counter] of RX_BAD) {
    it(`counts ${what} as malformed and keeps the next good frame`, () => {
      const next = '2D D4 07 00 12 34 56 9A BC 26';
      const bytes = hex(`${wire} ${next}`);
      for (let i = 0; i < bytes.length; i++) {
        const chunks = i === 0 ? [bytes] : [bytes.slice(0, i), bytes.slice(i)];
        const { frames, dec } = decodeAll(chunks);
        expect(
          frames.map((f) => f.id >>> 0),
          `split at ${i}`,
        ).toEqual([0x80123456]);
        expect(dec.stats()[counter], `split at ${i}`).toBe(1);
        expect(dec.stats().malformed, `split at ${i}`).toBeGreaterThanOrEqual(1);
      }
    });
  }

  it('gives the same counters for a bad frame however it is split', () => {
    const bytes = hex('2D D4 06 00 00 00 01 AA 21 55 2D D4 05 00 00 00 02 34 2D D4 0E 00 00');
    const ref = decodeAll([bytes]).dec.stats();
    for (let i = 1; i < bytes.length; i++) {
      expect(decodeAll([bytes.slice(0, i), bytes.slice(i)]).dec.stats(), `split at ${i}`).toEqual(ref);
    }
    // The bad CHK starts a resync; the rest of that frame and the 55 belong to the same
    // resync (not a second count); the LEN 14 at the end is its own.
    expect(ref).toMatchObject({ frames: 1, badChecksum: 1, badLength: 1, garbageRuns: 0, malformed: 2 });
  });

  it('resynchronises after garbage between frames and counts each garbage run once', () => {
    const a = '2D D4 05 00 00 00 02 34';
    const b = '2D D4 07 00 12 34 56 9A BC 26';
    const bytes = hex(`FF 00 13 ${a} 99 88 77 66 ${b} D4 D4 ${a}`);
    const { frames, dec } = decodeAll([bytes]);
    expect(frames.map((f) => f.id >>> 0)).toEqual([0x80000002, 0x80123456, 0x80000002]);
    expect(dec.stats()).toMatchObject({ garbageRuns: 3, malformed: 3, droppedBytes: 9 });
  });

  it('does not let a false preamble inside garbage swallow the real frame after it', () => {
    // "2D D4 0D" looks like the start of a 13-byte frame that runs over the real one; its
    // checksum fails once the bytes are there, and dropping one byte finds the real frame.
    const bytes = hex('2D D4 0D 01 02 2D D4 07 00 12 34 56 9A BC 26 2D D4 05 00 00 00 02 34');
    for (let i = 1; i <= bytes.length; i++) {
      const { frames, dec } = decodeAll(chunked(bytes, i));
      expect(
        frames.map((f) => f.id >>> 0),
        `chunks of ${i}`,
      ).toEqual([0x80123456, 0x80000002]);
      expect(dec.pendingBytes).toBe(0);
      expect(dec.stats()).toMatchObject({ badChecksum: 1, malformed: 1 });
    }
  });

  it('expire() frees a real frame stuck behind a false preamble when the line goes quiet', () => {
    const dec = new SerialDecoder();
    // The false candidate needs 16 bytes, only 15 arrive: without expire() the real frame
    // would wait for the next one.
    expect(dec.push(hex('2D D4 0D 01 02 2D D4 07 00 12 34 56 9A BC 26'))).toEqual([]);
    expect(dec.pendingBytes).toBe(15);
    const freed = dec.expire(42);
    expect(freed.map((f) => [f.id >>> 0, f.timestamp])).toEqual([[0x80123456, 42]]);
    expect(dec.pendingBytes).toBe(0);
    expect(dec.stats()).toMatchObject({ truncated: 1, malformed: 1, frames: 1 });
    expect(dec.expire()).toEqual([]);
  });

  it('expire() gives up a frame cut short (adapter unplugged mid-frame) and counts it', () => {
    const dec = new SerialDecoder();
    dec.push(hex('2D D4 07 00 12'));
    expect(dec.expire()).toEqual([]);
    expect(dec.stats()).toMatchObject({ truncated: 1, malformed: 1 });
    expect(dec.push(hex('2D D4 05 00 00 00 02 34'))).toHaveLength(1);
  });

  it('keeps a trailing 2D (a preamble split across reads) and nothing else', () => {
    const dec = new SerialDecoder();
    expect(dec.push(hex('11 22 2D'))).toEqual([]);
    expect(dec.pendingBytes).toBe(1);
    expect(dec.push(hex('D4 05 00 00 00 02 34')).map((f) => f.id >>> 0)).toEqual([0x80000002]);
    expect(dec.pendingBytes).toBe(0);
  });

  it('stamps frames with the time given to push()', () => {
    const dec = new SerialDecoder();
    const [f] = dec.push(hex('2D D4 05 00 00 00 02 34'), 1234.5);
    expect(f.timestamp).toBe(1234.5);
  });

  it('reset() forgets a half-received frame', () => {
    const dec = new SerialDecoder();
    dec.push(hex('2D D4 07 00 12 34'));
    expect(dec.pendingBytes).toBe(6);
    dec.reset();
    expect(dec.pendingBytes).toBe(0);
    expect(dec.push(hex('2D D4 05 00 00 00 02 34'))).toHaveLength(1);
  });

  it('masks the top three id bits of a received frame (they are not part of a 29-bit id)', () => {
    const [f] = new SerialDecoder().push(Uint8Array.from(rxBytes(0xffffffff, [])));
    expect(f.id >>> 0).toBe(0x9fffffff);
  });
});

describe('encodeSerialTx: TX vectors', () => {
  for (const [what, frame, wire] of TX) {
    it(`encodes ${what}`, () => {
      expect(toHex(encodeSerialTx(frame))).toBe(wire);
    });
  }

  it('writes the id without RTR/ERR leaking into the first byte, masked to 29 or 11 bits', () => {
    expect(toHex(encodeSerialTx(makeFrame({ id: 0x9fffffff, extended: true, data: [] })))).toBe(
      toHex(encodeSerialTx(makeFrame({ id: 0x1fffffff, extended: true, data: [] }))),
    );
    const sff = encodeSerialTx({ id: 0x7ff | 0x1800, len: 0, data: new Uint8Array(0), fd: false, fdFlags: 0, timestamp: 0 });
    expect(toHex(sff.subarray(5, 9))).toBe('00 00 07 FF');
  });

  it('refuses RTR, error and FD frames (unsupported) and more than 8 bytes (malformed)', () => {
    const rtr = makeFrame({ id: 0x123, rtr: true, len: 2 });
    const err = makeFrame({ id: 0x40, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] });
    const fd = makeFrame({ id: 0x123, fd: true, data: [1, 2] });
    const long = { ...makeFrame({ id: 0x123, data: [] }), len: 9, data: new Uint8Array(9) };
    expect(serialTxProblem(rtr)).toBe('unsupported');
    expect(serialTxProblem(err)).toBe('unsupported');
    expect(serialTxProblem(fd)).toBe('unsupported');
    expect(serialTxProblem(long)).toBe('malformed');
    expect(() => encodeSerialTx(long)).toThrow(RangeError);
    expect(serialTxProblem(makeFrame({ id: 0x123, data: [1, 2, 3, 4, 5, 6, 7, 8] }))).toBeNull();
  });
});

// ------------------------------------------------------------ properties
const arbRxFrame = fc.record({
  id: fc.integer({ min: 0, max: 0x1fffffff }),
  data: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }),
});

/** Split points for a byte array: sorted unique cut positions. */
const arbCuts = (n: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, n - 1) }), { maxLength: 40 }).map((c) => c.filter((x) => x < n).sort((a, b) => a - b));

function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(bytes.slice(prev, c));
    prev = c;
  }
  out.push(bytes.slice(prev));
  return out;
}

describe('SerialDecoder properties', () => {
  it('any segmentation of valid frames yields exactly those frames', () => {
    fc.assert(
      fc.property(
        fc.array(arbRxFrame, { maxLength: 30 }).chain((frames) => {
          const bytes = Uint8Array.from(frames.flatMap((f) => rxBytes(f.id, f.data)));
          return fc.tuple(fc.constant(frames), fc.constant(bytes), arbCuts(bytes.length));
        }),
        ([frames, bytes, cuts]) => {
          const { frames: got, dec } = decodeAll(cut(bytes, cuts));
          expect(got.map(view)).toEqual(
            frames.map((f) => ({ id: (f.id | CAN_EFF_FLAG) >>> 0, len: f.data.length, data: toHex(Uint8Array.from(f.data)), fd: false, fdFlags: 0 })),
          );
          expect(dec.stats().malformed).toBe(0);
          expect(dec.pendingBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any segmentation of any byte stream yields the same frames and counters', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }).chain((b) => fc.tuple(fc.constant(b), arbCuts(b.length))),
        ([bytes, cuts]) => {
          const whole = decodeAll([bytes]);
          const parts = decodeAll(cut(bytes, cuts));
          expect(parts.frames.map(view)).toEqual(whole.frames.map(view));
          expect(parts.dec.stats()).toEqual(whole.dec.stats());
          expect(parts.dec.pendingBytes).toBe(whole.dec.pendingBytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('garbage never throws, never yields an invalid frame, and the buffer stays bounded', () => {
    // Bias the garbage towards preamble bytes and valid lengths so the resync paths run.
    const arbByte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x2d, 0xd4, 0x05, 0x0d, 0x0e, 0x04));
    fc.assert(
      fc.property(fc.array(fc.array(arbByte, { maxLength: 64 }), { maxLength: 40 }), (chunks) => {
        const dec = new SerialDecoder();
        for (const c of chunks) {
          for (const f of dec.push(Uint8Array.from(c))) {
            expect(frameProblem(f)).toBeNull();
            expect(f.id & CAN_EFF_FLAG).not.toBe(0);
            expect(f.len).toBeLessThanOrEqual(8);
            expect(f.fd).toBe(false);
          }
          expect(dec.pendingBytes).toBeLessThan(SERIAL_RX_MAX_FRAME);
        }
        const s = dec.stats();
        expect(s.malformed).toBe(s.badLength + s.badChecksum + s.garbageRuns);
        dec.expire();
        const e = dec.stats();
        expect(dec.pendingBytes).toBe(0);
        expect(e.malformed).toBe(e.badLength + e.badChecksum + e.garbageRuns + e.truncated);
      }),
      { numRuns: 500 },
    );
  });

  it('frames separated by garbage without 2D bytes all survive, one malformed per garbage run', () => {
    const arbGarbage = fc.array(
      fc.integer({ min: 0, max: 255 }).filter((b) => b !== 0x2d),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(arbGarbage, arbRxFrame), { maxLength: 20 }), fc.integer({ min: 1, max: 17 }), (items, size) => {
        const bytes = Uint8Array.from(items.flatMap(([g, f]) => [...g, ...rxBytes(f.id, f.data)]));
        const { frames, dec } = decodeAll(chunked(bytes, size));
        expect(frames.map((f) => f.id >>> 0)).toEqual(items.map(([, f]) => (f.id | CAN_EFF_FLAG) >>> 0));
        expect(dec.stats().malformed).toBe(items.filter(([g]) => g.length > 0).length);
      }),
      { numRuns: 300 },
    );
  });

  it('a huge chunk of noise is consumed without keeping it', () => {
    const noise = new Uint8Array(1 << 20);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919 + (i >>> 3)) & 0xff;
    const dec = new SerialDecoder();
    dec.push(noise);
    expect(dec.pendingBytes).toBeLessThan(SERIAL_RX_MAX_FRAME);
  });

  it('TX encoding round-trips through an RX-style reading of its id and data', () => {
    fc.assert(
      fc.property(arbRxFrame, (f) => {
        const bytes = encodeSerialTx(makeFrame({ id: f.id, extended: true, data: f.data }));
        expect(bytes.length).toBe(f.data.length + 10);
        expect(bytes[2]).toBe(f.data.length + 7);
        expect(bytes[4]).toBe(0x80 + f.data.length);
        expect(((bytes[5] << 24) | (bytes[6] << 16) | (bytes[7] << 8) | bytes[8]) >>> 0).toBe(f.id);
        expect(Array.from(bytes.subarray(9, 9 + f.data.length))).toEqual(f.data);
        // CHK: every byte before it, minus the D4 (the same sum as LEN + 0x2D + the rest).
        const sum = bytes.subarray(0, bytes.length - 1).reduce((a, b) => a + b, 0) - 0xd4;
        expect(bytes[bytes.length - 1]).toBe(sum & 0xff);
      }),
      { numRuns: 300 },
    );
  });
});
