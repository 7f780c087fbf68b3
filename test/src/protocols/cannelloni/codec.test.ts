import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CANNELLONI_HELLO, CannelloniDecoder, encodedLength, encodeFrame, HelloReader } from '../../../../src/protocols/cannelloni/codec.js';
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, CANFD_BRS, type CanFrame, frameProblem, isValidFdLength, makeFrame } from '../../../../src/core/frame.js';

const hex = (s: string): Uint8Array =>
  Uint8Array.from(
    s
      .trim()
      .split(/\s+/)
      .map((b) => parseInt(b, 16)),
  );
const toHexStr = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');

function decodeAll(chunks: Uint8Array[]): { frames: CanFrame[]; error: string | null; pending: number } {
  const frames: CanFrame[] = [];
  const d = new CannelloniDecoder((f) => frames.push(f));
  let error: string | null = null;
  for (const c of chunks) {
    const e = d.push(c);
    if (e) {
      error = e.code;
      break;
    }
  }
  return { frames, error, pending: d.pending };
}

const plain = (f: CanFrame) => ({ id: f.id >>> 0, len: f.len, data: Array.from(f.data), fd: f.fd, fdFlags: f.fdFlags });

describe('cannelloni wire vectors', () => {
  it('hello is the 12 ASCII bytes CANNELLONIv1', () => {
    expect(toHexStr(CANNELLONI_HELLO)).toBe('43 41 4E 4E 45 4C 4C 4F 4E 49 76 31');
  });

  const vectors: Array<[string, CanFrame]> = [
    ['00 00 01 23 03 01 02 03', makeFrame({ id: 0x123, data: [1, 2, 3] })],
    ['00 00 04 56 02 09 08', makeFrame({ id: 0x456, data: [9, 8] })],
    ['00 00 07 FF 08 11 22 33 44 DE AD BE EF', makeFrame({ id: 0x7ff, data: [0x11, 0x22, 0x33, 0x44, 0xde, 0xad, 0xbe, 0xef] })],
    ['9A BC DE F0 02 DE AD', makeFrame({ id: 0x1abcdef0, extended: true, data: [0xde, 0xad] })],
    ['40 00 01 23 08', makeFrame({ id: 0x123, rtr: true, len: 8 })],
    [
      '00 00 01 23 8C 01 00 01 02 03 04 05 06 07 08 09 0A 0B',
      makeFrame({ id: 0x123, fd: true, fdFlags: CANFD_BRS, data: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }),
    ],
    ['00 00 02 00 00', makeFrame({ id: 0x200 })],
    ['A0 00 00 40 08 00 00 00 00 00 00 00 00', makeFrame({ id: 0x40, error: true, extended: true, data: [0, 0, 0, 0, 0, 0, 0, 0] })],
  ];

  for (const [wire, frame] of vectors) {
    it(`encodes and decodes ${wire}`, () => {
      expect(toHexStr(encodeFrame(frame))).toBe(wire);
      expect(encodedLength(frame)).toBe(hex(wire).length);
      const { frames, error } = decodeAll([hex(wire)]);
      expect(error).toBeNull();
      expect(frames.map(plain)).toEqual([plain(frame)]);
    });
  }

  it('RTR keeps its DLC and carries no data bytes', () => {
    const { frames } = decodeAll([hex('40 00 01 23 08 00 00 01 24 01 AA')]);
    expect(frames).toHaveLength(2);
    expect(frames[0].id).toBe((CAN_RTR_FLAG | 0x123) >>> 0);
    expect(frames[0].len).toBe(8);
    expect(frames[0].data.length).toBe(0);
    expect(Array.from(frames[1].data)).toEqual([0xaa]);
  });

  it('two zero-length frames back to back', () => {
    const { frames } = decodeAll([hex('00 00 02 00 00 00 00 02 01 00')]);
    expect(frames.map((f) => f.id)).toEqual([0x200, 0x201]);
  });

  it.each([
    ['00 00 01 11 09', 'classic_len'],
    ['00 00 00 01 C1', 'fd_len'],
    ['00 00 00 01 89', 'fd_len'], // FD length 9 is not a valid FD length
    ['00 00 00 01 88 08', 'fd_flags'],
    ['40 00 00 01 88 00', 'rtr_fd'],
  ])('rejects %s (%s)', (wire, code) => {
    const { error } = decodeAll([hex(wire)]);
    expect(error).toBe(code);
  });

  it('a standard id above 0x7FF is refused whole (never masked to 11 bits); the frames around it decode', () => {
    const frames: CanFrame[] = [];
    const refused: string[] = [];
    const d = new CannelloniDecoder(
      (f) => frames.push(f),
      (r) => refused.push(`${r.code} ${toHexStr(r.bytes)}`),
    );
    // 0x900 [AA BB], an RTR 0xFFF, an FD 0x1000 with 12 bytes, then 0x100 [CC].
    const wire = hex(`00 00 09 00 02 AA BB  40 00 0F FF 02  00 00 10 00 8C 01 ${'00 '.repeat(12)} 00 00 01 00 01 CC`);
    expect(d.push(wire)).toBeNull();
    expect(frames.map(plain)).toEqual([plain(makeFrame({ id: 0x100, data: [0xcc] }))]);
    expect(refused).toEqual(['sff_id 00 00 09 00 02', 'sff_id 40 00 0F FF 02', 'sff_id 00 00 10 00 8C']);
    expect(d.refused).toBe(3);
    expect(d.pending).toBe(0);
  });

  it('EFF and error frames are not standard ids: 0x900 with EFF, and an error class above 0x7FF, decode', () => {
    const { frames, error } = decodeAll([hex('80 00 09 00 01 01  20 00 08 00 08 00 00 00 00 00 00 00 00')]);
    expect(error).toBeNull();
    expect(frames.map((f) => f.id >>> 0)).toEqual([(CAN_EFF_FLAG | 0x900) >>> 0, (CAN_ERR_FLAG | 0x800) >>> 0]);
  });

  it('frames before a bad one are delivered, nothing after it', () => {
    const { frames, error } = decodeAll([hex('00 00 01 23 01 AA 00 00 01 11 09 00 00 01 24 01 BB')]);
    expect(frames.map((f) => f.id)).toEqual([0x123]);
    expect(error).toBe('classic_len');
  });

  it('a truncated frame stays pending', () => {
    const { frames, error, pending } = decodeAll([hex('00 00 00 02 05 01 02 03')]);
    expect(frames).toHaveLength(0);
    expect(error).toBeNull();
    expect(pending).toBe(8);
  });

  it('hello + 3 frames in one write yields 3 frames', () => {
    const h = new HelloReader();
    const frames = [
      makeFrame({ id: 1, data: [1] }),
      makeFrame({ id: 2, data: [] }),
      makeFrame({ id: 0x1abcdef0, extended: true, data: [1, 2, 3, 4, 5, 6, 7, 8] }),
    ];
    const all = concat([CANNELLONI_HELLO, ...frames.map(encodeFrame)]);
    expect(h.push(all)).toBe('ok');
    expect(decodeAll([h.rest]).frames.map(plain)).toEqual(frames.map(plain));
  });

  it('hello split byte by byte, then a wrong hello', () => {
    const h = new HelloReader();
    for (let k = 0; k < 11; k++) expect(h.push(CANNELLONI_HELLO.subarray(k, k + 1))).toBe('more');
    expect(h.push(CANNELLONI_HELLO.subarray(11))).toBe('ok');
    expect(new HelloReader().push(new TextEncoder().encode('< hi >'))).toBe('bad');
    expect(new HelloReader().push(new TextEncoder().encode('CANNELLONIv2'))).toBe('bad');
  });
});

// ---------------------------------------------------------------- properties

const FD_LENGTHS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64];

const arbId = fc.oneof(
  fc.integer({ min: 0, max: 0x7ff }),
  fc.integer({ min: 0, max: 0x1fffffff }).map((v) => (v | CAN_EFF_FLAG) >>> 0),
);

const arbFrame: fc.Arbitrary<CanFrame> = fc.oneof(
  // classic data frame
  fc.record({ id: arbId, data: fc.uint8Array({ maxLength: 8 }), err: fc.boolean() }).map(({ id, data, err }) => ({
    id: (err ? id | CAN_ERR_FLAG : id) >>> 0,
    len: data.length,
    data,
    fd: false,
    fdFlags: 0,
    timestamp: 0,
  })),
  // RTR
  fc.record({ id: arbId, dlc: fc.integer({ min: 0, max: 8 }) }).map(({ id, dlc }) => ({
    id: (id | CAN_RTR_FLAG) >>> 0,
    len: dlc,
    data: new Uint8Array(0),
    fd: false,
    fdFlags: 0,
    timestamp: 0,
  })),
  // FD
  fc.record({ id: arbId, len: fc.constantFrom(...FD_LENGTHS), flags: fc.integer({ min: 0, max: 7 }), seed: fc.integer() }).map(({ id, len, flags, seed }) => ({
    id,
    len,
    data: Uint8Array.from({ length: len }, (_, k) => (seed + k * 31) & 0xff),
    fd: true,
    fdFlags: flags,
    timestamp: 0,
  })),
);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Splits `bytes` at the given cut points (sorted, deduplicated). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

describe('cannelloni decoder properties', () => {
  it('arbitrary segmentation decodes to the same frames', () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
        const wire = concat(frames.map(encodeFrame));
        const { frames: got, error, pending } = decodeAll(split(wire, cuts));
        expect(error).toBeNull();
        expect(pending).toBe(0);
        expect(got.map(plain)).toEqual(frames.map(plain));
      }),
      { numRuns: 500 },
    );
  });

  it('one byte at a time decodes to the same frames', () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { maxLength: 20 }), (frames) => {
        const wire = concat(frames.map(encodeFrame));
        const chunks = Array.from(wire, (b) => Uint8Array.of(b));
        expect(decodeAll(chunks).frames.map(plain)).toEqual(frames.map(plain));
      }),
      { numRuns: 200 },
    );
  });

  it('garbage never throws and never yields an invalid frame; pending stays bounded', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }), (chunks) => {
        const frames: CanFrame[] = [];
        const d = new CannelloniDecoder((f) => frames.push(f));
        for (const c of chunks) {
          if (d.push(c)) break;
          expect(d.pending).toBeLessThanOrEqual(70);
        }
        for (const f of frames) {
          expect(frameProblem(f)).toBeNull();
          if ((f.id & (CAN_EFF_FLAG | CAN_ERR_FLAG)) === 0) expect(f.id & 0x1fffffff).toBeLessThanOrEqual(0x7ff);
          if (f.fd) expect(isValidFdLength(f.len)).toBe(true);
          else expect(f.len).toBeLessThanOrEqual(8);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('encode(decode(x)) reproduces the bytes of any valid stream', () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { maxLength: 30 }), (frames) => {
        const wire = concat(frames.map(encodeFrame));
        const back = concat(decodeAll([wire]).frames.map(encodeFrame));
        expect(toHexStr(back)).toBe(toHexStr(wire));
      }),
    );
  });
});
