import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CAN_EFF_FLAG, frameProblem } from '../../../../src/core/frame.js';
import { GvretDecoder, type GvretEvent } from '../../../../src/protocols/gvret/decoder.js';

const hex = (s: string): Uint8Array =>
  Uint8Array.from(
    s
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((b) => parseInt(b, 16)),
  );

/** Events in a comparable shape (Uint8Arrays as plain arrays). */
function plain(events: GvretEvent[]): unknown[] {
  return events.map((e) => {
    switch (e.type) {
      case 'frame':
        return { type: e.type, cmd: e.cmd, bus: e.bus, id: e.frame.id >>> 0, len: e.frame.len, fd: e.frame.fd, data: Array.from(e.frame.data) };
      case 'setting':
        return { type: e.type, cmd: e.cmd, args: Array.from(e.args) };
      case 'bad_frame':
        return { type: e.type, reason: e.reason, bytes: Array.from(e.bytes) };
      default:
        return e;
    }
  });
}

function decode(...chunks: string[]): unknown[] {
  const d = new GvretDecoder();
  return plain(chunks.flatMap((c) => d.push(hex(c))));
}

describe('GVRET decoder (vectors)', () => {
  it("SavvyCAN's connect burst: two mode entries and five commands", () => {
    expect(decode('E7 E7 F1 0C F1 06 F1 07 F1 01 F1 09')).toEqual([
      { type: 'mode' },
      { type: 'mode' },
      { type: 'command', cmd: 0x0c },
      { type: 'command', cmd: 0x06 },
      { type: 'command', cmd: 0x07 },
      { type: 'command', cmd: 0x01 },
      { type: 'command', cmd: 0x09 },
    ]);
  });

  it('TX 0x123 on bus 1 [AA BB CC]', () => {
    expect(decode('F1 00 23 01 00 00 01 03 AA BB CC')).toEqual([{ type: 'frame', cmd: 0, bus: 1, id: 0x123, len: 3, fd: false, data: [0xaa, 0xbb, 0xcc] }]);
  });

  it('TX EFF ids keep bit 31 as the EFF flag and are masked to 29 bits', () => {
    expect(decode('F1 00 10 F1 DA 98 00 01 55', 'F1 00 78 56 34 F2 01 02 AA BB')).toEqual([
      { type: 'frame', cmd: 0, bus: 0, id: (CAN_EFF_FLAG | 0x18daf110) >>> 0, len: 1, fd: false, data: [0x55] },
      { type: 'frame', cmd: 0, bus: 1, id: (CAN_EFF_FLAG | 0x12345678) >>> 0, len: 2, fd: false, data: [0xaa, 0xbb] },
    ]);
  });

  it("SavvyCAN's trailer 00 after a TX frame is skipped, and counted", () => {
    const d = new GvretDecoder();
    const events = d.push(hex('F1 00 DF 07 00 00 00 03 02 01 0D 00 F1 09'));
    expect(plain(events)).toEqual([
      { type: 'frame', cmd: 0, bus: 0, id: 0x7df, len: 3, fd: false, data: [2, 1, 0x0d] },
      { type: 'command', cmd: 9 },
    ]);
    expect(d.skipped).toBe(1);
  });

  it('a frame is complete on its last data byte: nothing waits for a trailer', () => {
    const d = new GvretDecoder();
    expect(d.push(hex('F1 00 23 01 00 00 00 04 AA BB CC'))).toEqual([]);
    expect(d.pending).toBe(2 + 6 + 3);
    expect(plain(d.push(hex('DD')))).toEqual([{ type: 'frame', cmd: 0, bus: 0, id: 0x123, len: 4, fd: false, data: [0xaa, 0xbb, 0xcc, 0xdd] }]);
    expect(d.pending).toBe(0);
  });

  it('E7 E7 inside a payload is data, not a mode entry', () => {
    expect(decode('E7 E7 F1 00 23 01 00 00 00 04 E7 E7 F1 E7')).toEqual([
      { type: 'mode' },
      { type: 'mode' },
      { type: 'frame', cmd: 0, bus: 0, id: 0x123, len: 4, fd: false, data: [0xe7, 0xe7, 0xf1, 0xe7] },
    ]);
  });

  it('a zero-length TX frame completes on its length byte', () => {
    expect(decode('F1 00 7F 00 00 00 01 00 F1 09')).toEqual([
      { type: 'frame', cmd: 0, bus: 1, id: 0x7f, len: 0, fd: false, data: [] },
      { type: 'command', cmd: 9 },
    ]);
  });

  it("WireTAP's FD TX (the byte count as length) is an FD frame", () => {
    const data = Array.from({ length: 12 }, (_, i) => i);
    const bytes = `F1 00 23 01 00 00 00 0C ${data.map((b) => b.toString(16)).join(' ')}`;
    expect(decode(bytes)).toEqual([{ type: 'frame', cmd: 0, bus: 0, id: 0x123, len: 12, fd: true, data }]);
  });

  it('lengths that are neither classic nor FD are refused at once; the next command is read', () => {
    expect(decode('F1 00 23 01 00 00 00 09 F1 09')).toEqual([
      { type: 'bad_frame', reason: 'length 9 is neither 0..8 nor a CAN FD length', bytes: [0xf1, 0, 0x23, 1, 0, 0, 0, 9] },
      { type: 'command', cmd: 9 },
    ]);
  });

  it('a standard id over 0x7FF is refused after its data, so the stream stays in sync', () => {
    const events = decode('F1 00 00 08 00 00 00 01 F1 F1 09');
    expect(events[0]).toMatchObject({ type: 'bad_frame', bytes: [0xf1, 0, 0, 8, 0, 0, 0, 1, 0xf1] });
    expect(events[1]).toEqual({ type: 'command', cmd: 9 });
  });

  it('setting commands take their arguments: F1 05 (8 bytes + SavvyCAN 00), F1 0E (12), F1 08 (1)', () => {
    expect(decode('F1 05 20 A1 07 C0 20 A1 07 80 00 F1 0E 01 02 03 04 05 06 07 08 09 0A 0B 0C 00 F1 08 10')).toEqual([
      { type: 'setting', cmd: 5, args: [0x20, 0xa1, 0x07, 0xc0, 0x20, 0xa1, 0x07, 0x80] },
      { type: 'setting', cmd: 0x0e, args: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] },
      { type: 'setting', cmd: 8, args: [0x10] },
    ]);
  });

  it('unknown commands are reported and the decoder returns to idle', () => {
    expect(decode('F1 16 F1 09')).toEqual([
      { type: 'unknown', cmd: 0x16 },
      { type: 'command', cmd: 9 },
    ]);
  });

  it('F1 F1 restarts the command (a stray F1 trailer before the next command)', () => {
    expect(decode('F1 F1 0C')).toEqual([{ type: 'command', cmd: 0x0c }]);
  });

  it('F1 0B (echo) is read like a TX frame', () => {
    expect(decode('F1 0B 23 01 00 00 00 01 42 00')).toEqual([{ type: 'frame', cmd: 0x0b, bus: 0, id: 0x123, len: 1, fd: false, data: [0x42] }]);
  });
});

describe('GVRET decoder (properties)', () => {
  const message = fc.oneof(
    fc.constantFrom(hex('E7'), hex('F1 09'), hex('F1 0C'), hex('F1 01'), hex('00'), hex('F1 05 20 A1 07 C0 20 A1 07 80 00')),
    fc
      .record({
        id: fc.integer({ min: 0, max: 0x7ff }),
        bus: fc.integer({ min: 0, max: 255 }),
        data: fc.uint8Array({ maxLength: 8 }),
        trailer: fc.boolean(),
      })
      .map(({ id, bus, data, trailer }) => {
        const out = [0xf1, 0, id & 0xff, id >> 8, 0, 0, bus, data.length, ...data];
        if (trailer) out.push(0);
        return Uint8Array.from(out);
      }),
    fc.uint8Array({ maxLength: 40 }),
  );
  const stream = fc.array(message, { maxLength: 30 }).map((parts) => {
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  });

  it('random input never throws, and every frame it yields can exist on a bus', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const events = new GvretDecoder().push(bytes);
        for (const e of events) if (e.type === 'frame') expect(frameProblem(e.frame)).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it('split invariance: any split of a stream yields the same events', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (bytes, cutsRaw) => {
        const whole = new GvretDecoder();
        const expected = plain(whole.push(bytes));
        const cuts = [...new Set(cutsRaw.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
        const split = new GvretDecoder();
        const got: GvretEvent[] = [];
        let from = 0;
        for (const cut of [...cuts, bytes.length]) {
          got.push(...split.push(bytes.subarray(from, cut)));
          from = cut;
        }
        expect(plain(got)).toEqual(expected);
        expect(split.skipped).toBe(whole.skipped);
        expect(split.pending).toBe(whole.pending);
      }),
      { numRuns: 500 },
    );
  });

  it('well-formed TX frames are all decoded, in order, whatever surrounds them in idle', () => {
    const frame = fc.record({ id: fc.integer({ min: 0, max: 0x7ff }), data: fc.uint8Array({ maxLength: 8 }) });
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 20 }),
        fc.array(
          fc.integer({ min: 0, max: 0xff }).filter((b) => b !== 0xf1),
          { maxLength: 20 },
        ),
        (frames, noise) => {
          const parts: number[] = [];
          frames.forEach((f, i) => {
            parts.push(noise[i] ?? 0, 0xf1, 0, f.id & 0xff, f.id >> 8, 0, 0, 1, f.data.length, ...f.data);
          });
          const got = new GvretDecoder().push(Uint8Array.from(parts)).filter((e) => e.type === 'frame');
          expect(got.map((e) => (e.type === 'frame' ? [e.frame.id, Array.from(e.frame.data)] : null))).toEqual(frames.map((f) => [f.id, Array.from(f.data)]));
        },
      ),
      { numRuns: 300 },
    );
  });
});
