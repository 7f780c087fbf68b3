// The datagram codec and the sequence accounting, without sockets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import cannelloniUdp from '../../../../src/protocols/cannelloni-udp/index.js';
import { FakeSessionPeer } from '../../../support/fake-session-peer.js';
import { decodeDatagram, encodeDatagram } from '../../../../src/protocols/cannelloni-udp/codec.js';
import { SequenceTracker } from '../../../../src/protocols/cannelloni-udp/sequence.js';

describe('cannelloni UDP datagram', () => {
  it('decodes the doc/udp_format.md layout: version 2, DATA, seq, count BE16, frames', () => {
    const d = Uint8Array.from([2, 0, 7, 0, 2, 0, 0, 1, 0x23, 3, 1, 2, 3, 0, 0, 1, 0x26, 0x8c, 1, ...Array.from({ length: 12 }, (_, k) => k)]);
    const r = decodeDatagram(d);
    expect(r.ok && r.seq).toBe(7);
    expect(r.ok && r.frames.map((f) => [f.id, f.len, f.fd, f.fdFlags])).toEqual([
      [0x123, 3, false, 0],
      [0x126, 12, true, 1],
    ]);
  });

  it('an empty DATA datagram (count 0) is valid and carries nothing, as in cannelloni', () => {
    expect(decodeDatagram(Uint8Array.from([2, 0, 0, 0, 0]))).toEqual({ ok: true, seq: 0, frames: [] });
  });

  it('encodes the header the same way', () => {
    expect([...encodeDatagram([Uint8Array.from([0, 0, 1, 0x23, 0])], 300)]).toEqual([2, 0, 44, 0, 1, 0, 0, 1, 0x23, 0]);
  });
});

describe('sequence accounting', () => {
  const run = (seqs: number[]) => {
    const t = new SequenceTracker();
    for (const s of seqs) t.next(s);
    return { lost: t.lost, misordered: t.misordered };
  };
  it('in order, wrapping at 256: nothing counted', () => expect(run([254, 255, 0, 1])).toEqual({ lost: 0, misordered: 0 }));
  it('a gap counts what was skipped', () => expect(run([0, 1, 4])).toEqual({ lost: 2, misordered: 0 }));
  it('a late datagram is misordered, and no longer lost', () => expect(run([0, 2, 1])).toEqual({ lost: 0, misordered: 1 }));
  it('a duplicate is misordered, not lost again', () => expect(run([0, 1, 1, 2])).toEqual({ lost: 0, misordered: 1 }));
  it('a gap across the wrap', () => expect(run([250, 3])).toEqual({ lost: 8, misordered: 0 }));
  it('a jump far back is a restarted peer: resynchronised, nothing counted', () => expect(run([100, 101, 10, 11])).toEqual({ lost: 0, misordered: 0 }));
});

describe('garbage never throws', () => {
  it(`random datagrams and valid ones with a byte changed: each decoded whole or refused, counted (${Number(process.env.AMPIO_FUZZ_RUNS ?? 300)} runs)`, () => {
    const valid = encodeDatagram(
      [Uint8Array.from([0, 0, 1, 0x23, 3, 1, 2, 3]), Uint8Array.from([0, 0, 1, 0x26, 0x8c, 1, ...Array.from({ length: 12 }, (_, k) => k)])],
      9,
    );
    const mutated = fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const d = Uint8Array.from(valid);
      d[i] = b;
      return d;
    });
    const cut = fc.nat(valid.length).map((n) => valid.slice(0, n));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated, cut), (d) => {
        const peer = FakeSessionPeer.open(cannelloniUdp, [{ fd: true }]);
        const before = peer.sent.length;
        peer.session.receive(d);
        const ok = decodeDatagram(d).ok;
        // Whole or nothing: a refused datagram puts no frame on the bus and is counted once.
        if (!ok) expect([peer.sent.length - before, peer.malformedCalls.length]).toEqual([0, 1]);
        else expect(peer.malformedCalls).toHaveLength(0);
        expect(peer.closedWith).toBeNull();
      }),
      { numRuns: Number(process.env.AMPIO_FUZZ_RUNS ?? 300) },
    );
  });
});
