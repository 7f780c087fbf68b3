import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAN_EFF_FLAG, CAN_RTR_FLAG, type CanFrame, makeFrame } from '../../../../src/core/frame.js';
import { encodeFrame, encodeVersion, TcpcanDecoder, type TcpcanMessage } from '../../../../src/protocols/tcpcan/codec.js';

const hex = (s: string): Uint8Array =>
  Uint8Array.from(
    s
      .trim()
      .split(/\s+/)
      .map((b) => parseInt(b, 16)),
  );
const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');

function decodeAll(chunks: Uint8Array[]): { messages: TcpcanMessage[]; error: string | null } {
  const messages: TcpcanMessage[] = [];
  const d = new TcpcanDecoder((m) => (messages.push(m), true));
  for (const c of chunks) {
    const e = d.push(c);
    if (e) return { messages, error: e.code };
  }
  return { messages, error: null };
}

describe('tcpcan codec: the vectors of the wire format', () => {
  it('version 1 is 76 04 00 00 00 01', () => {
    expect(hexOf(encodeVersion(1))).toBe('76 04 00 00 00 01');
    expect(decodeAll([hex('76 04 00 00 00 01')]).messages).toEqual([{ type: 'version', version: 1 }]);
  });

  it('SFF 0x123 [01 02 03] is a 16-byte little-endian can_frame, zero-padded', () => {
    const wire = '64 10 23 01 00 00 03 00 00 00 01 02 03 00 00 00 00 00';
    expect(hexOf(encodeFrame(makeFrame({ id: 0x123, data: [1, 2, 3] })))).toBe(wire);
    const [m] = decodeAll([hex(wire)]).messages;
    expect(m).toMatchObject({ type: 'frame', frame: { id: 0x123, len: 3, fd: false, fdFlags: 0, data: Uint8Array.of(1, 2, 3) } });
  });

  it('EFF 0x1ABCDEF0 has id bytes F0 DE BC 9A', () => {
    const out = encodeFrame(makeFrame({ id: 0x1abcdef0, extended: true, data: [0xde, 0xad] }));
    expect(hexOf(out.subarray(2, 6))).toBe('F0 DE BC 9A');
    expect((decodeAll([out]).messages[0] as { frame: CanFrame }).frame.id >>> 0).toBe((0x1abcdef0 | CAN_EFF_FLAG) >>> 0);
  });

  it('FD 0x123, 12 bytes, BRS: 64 48 23 01 00 00 0C 01 00 00 + 64 data bytes', () => {
    const data = Array.from({ length: 12 }, (_, k) => k + 1);
    const out = encodeFrame(makeFrame({ id: 0x123, fd: true, fdFlags: 1, data }));
    expect(out.length).toBe(74);
    expect(hexOf(out.subarray(0, 10))).toBe('64 48 23 01 00 00 0C 01 00 00');
    expect([...out.subarray(10, 22)]).toEqual(data);
    expect([...out.subarray(22)]).toEqual(Array(52).fill(0));
    const [m] = decodeAll([out]).messages as Array<{ frame: CanFrame }>;
    expect(m.frame).toMatchObject({ id: 0x123, len: 12, fd: true, fdFlags: 1 });
  });

  it('an FD frame from the kernel (flags 05 = BRS|FDF) keeps its flags', () => {
    const wire = new Uint8Array(74);
    wire.set(hex('64 48 23 01 00 00 08 05 00 00'));
    const [m] = decodeAll([wire]).messages as Array<{ frame: CanFrame }>;
    expect(m.frame).toMatchObject({ fd: true, fdFlags: 5, len: 8 });
  });

  it('RTR keeps the 0x40000000 flag and its DLC, with no data', () => {
    const out = encodeFrame(makeFrame({ id: 0x123, rtr: true, len: 4 }));
    expect(hexOf(out.subarray(0, 8))).toBe('64 10 23 01 00 40 04 00');
    const [m] = decodeAll([out]).messages as Array<{ frame: CanFrame }>;
    expect(m.frame).toMatchObject({ id: (0x123 | CAN_RTR_FLAG) >>> 0, len: 4, data: new Uint8Array(0) });
  });

  it.each([
    ['an unknown type', '41 04 00 00 00 01', 'unknown_type'],
    ['a version of the wrong length', '76 05 00 00 00 00 01', 'bad_length'],
    ['a data message of 17 bytes', '64 11', 'bad_length'],
    ['classic len 9', '64 10 23 01 00 00 09 00 00 00 00 00 00 00 00 00 00 00', 'classic_len'],
  ])('rejects %s', (_, wire, code) => {
    expect(decodeAll([hex(wire)]).error).toBe(code);
  });

  it('rejects an FD length that is not a CAN FD length, and RTR on FD', () => {
    const fd = (len: number, idHigh = 0) => {
      const w = new Uint8Array(74);
      w.set([0x64, 0x48, 0x23, 0x01, 0x00, idHigh, len]);
      return w;
    };
    expect(decodeAll([fd(13)]).error).toBe('fd_len');
    expect(decodeAll([fd(65)]).error).toBe('fd_len');
    expect(decodeAll([fd(8, 0x40)]).error).toBe('rtr_fd');
  });

  it('a standard id above 0x7FF is a refused message (never masked to 11 bits); the stream goes on', () => {
    const refusedThenFrame = hex('64 10 00 09 00 00 01 00 00 00 AA 00 00 00 00 00 00 00  64 10 23 01 00 00 01 00 00 00 BB 00 00 00 00 00 00 00');
    const { messages, error } = decodeAll([refusedThenFrame]);
    expect(error).toBeNull();
    expect(messages.map((m) => m.type)).toEqual(['refused', 'frame']);
    expect(messages[0]).toMatchObject({ type: 'refused', code: 'sff_id', message: expect.stringContaining('0x900') });
  });

  it('stops at the message whose handler says so: nothing after it is decoded', () => {
    const seen: TcpcanMessage[] = [];
    const d = new TcpcanDecoder((m) => (seen.push(m), false));
    const two = new Uint8Array([...encodeVersion(1), ...encodeVersion(2)]);
    expect(d.push(two)).toBeNull();
    expect(seen).toHaveLength(1);
  });
});

const frameArb: fc.Arbitrary<CanFrame> = fc.oneof(
  fc.record({ id: fc.integer({ min: 0, max: 0x7ff }), data: fc.uint8Array({ maxLength: 8 }) }).map((r) => makeFrame({ id: r.id, data: r.data })),
  fc
    .record({ id: fc.integer({ min: 0, max: 0x1fffffff }), data: fc.uint8Array({ maxLength: 8 }) })
    .map((r) => makeFrame({ id: r.id, extended: true, data: r.data })),
  fc.record({ id: fc.integer({ min: 0, max: 0x7ff }), len: fc.integer({ min: 0, max: 8 }) }).map((r) => makeFrame({ id: r.id, rtr: true, len: r.len })),
  fc
    .record({ id: fc.integer({ min: 0, max: 0x7ff }), len: fc.constantFrom(0, 1, 8, 12, 16, 20, 24, 32, 48, 64), flags: fc.integer({ min: 0, max: 7 }) })
    .chain((r) => fc.uint8Array({ minLength: r.len, maxLength: r.len }).map((data) => makeFrame({ id: r.id, fd: true, fdFlags: r.flags, data }))),
);
const view = (f: CanFrame) => ({ id: f.id >>> 0, len: f.len, fd: f.fd, fdFlags: f.fdFlags, data: [...f.data] });

describe('tcpcan codec: properties', () => {
  it('frames survive encode → decode, the stream split at any positions', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 6 }), (frames, cuts) => {
        const stream = Uint8Array.from(frames.flatMap((f) => [...encodeFrame(f)]));
        const points = [...new Set(cuts.map((c) => (stream.length ? c % stream.length : 0)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const p of [...points, stream.length]) {
          chunks.push(stream.subarray(from, p));
          from = p;
        }
        const got = decodeAll(chunks);
        expect(got.error).toBeNull();
        expect(got.messages.map((m) => view((m as { frame: CanFrame }).frame))).toEqual(frames.map(view));
      }),
    );
  });
});
