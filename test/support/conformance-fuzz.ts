// The conformance suite's decoder fuzz: random bytes, well-formed frames of every kind the
// protocol carries, and well-formed frames with one byte changed, cut at random points and
// fed through the plug-in's session with a fake SessionPeer, without a daemon or sockets
// (so millions of runs are affordable: `npm run fuzz`). A throw fails the property.
import fc from 'fast-check';
import { PROTOCOLS } from '../../src/protocols/registry.js';
import type { BusInfo, SessionPeer } from '../../src/protocols/types.js';
import type { ConformanceAdapter, SpecFrame } from './protocol-conformance.js';

/** Valid frames of every kind the protocol carries (the fuzz's building blocks). */
function specFrameArb(carries: ConformanceAdapter['carries']): fc.Arbitrary<SpecFrame> {
  const classic = fc
    .record({ eff: fc.boolean(), id: fc.integer({ min: 0, max: 0x1fffffff }), data: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }) })
    .map(({ eff, id, data }) => ({ id: eff ? (id | 0x80000000) >>> 0 : id & 0x7ff, len: data.length, fd: false, flags: 0, data }));
  const arbs: Array<fc.Arbitrary<SpecFrame>> = [classic];
  if (carries.rtr)
    arbs.push(
      fc
        .record({ id: fc.integer({ min: 0, max: 0x7ff }), len: fc.integer({ min: 0, max: 8 }) })
        .map(({ id, len }) => ({ id: (id | 0x40000000) >>> 0, len, fd: false, flags: 0, data: [] })),
    );
  if (carries.fd) {
    arbs.push(
      fc
        .record({ id: fc.integer({ min: 0, max: 0x7ff }), len: fc.constantFrom(0, 5, 8, 12, 16, 20, 24, 32, 48, 64), flags: fc.integer({ min: 0, max: 3 }) })
        .chain(({ id, len, flags }) =>
          fc.array(fc.integer({ min: 0, max: 255 }), { minLength: len, maxLength: len }).map((data) => ({ id, len, fd: true, flags, data })),
        ),
    );
  }
  return fc.oneof(...arbs);
}

/** Runs the fuzz `runs` times; returns how many frames reached the bus (0: only the negotiation was fuzzed). */
export async function fuzzDecoder(adapter: ConformanceAdapter, runs: number): Promise<number> {
  // The plug-in with its options at their defaults.
  const plugin = PROTOCOLS[adapter.name];
  const defaults = Object.fromEntries(Object.entries(plugin.options).map(([k, spec]) => [k, spec.default]));
  const protocol = await plugin.load(defaults as never);
  // Named as the suite's daemon bus, so a shared-listener protocol's stream opens it.
  const bus: BusInfo = { index: 0, name: 'vbus0', fd: true, bitrate: () => 500_000 };
  // Bytes a decoder must survive: random noise, well-formed frames of every kind, and
  // well-formed frames with one byte changed (deep paths: lengths, flags, payloads), all
  // concatenated and cut at random points.
  const prefix = adapter.clientStream([]);
  const frameBytes = (f: SpecFrame): Uint8Array => adapter.clientStream([f]).subarray(prefix.length);
  const atom = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    specFrameArb(adapter.carries).map(frameBytes),
    fc.tuple(specFrameArb(adapter.carries).map(frameBytes), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
      const m = Uint8Array.from(b);
      if (m.length > 0) m[at % m.length] = v;
      return m;
    }),
  );
  const stream = fc.tuple(fc.array(atom, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 6 })).map(([atoms, cuts]) => {
    const all = Uint8Array.from(atoms.flatMap((a) => [...a]));
    const points = [...new Set(cuts.map((c) => (all.length ? c % all.length : 0)))].sort((x, y) => x - y);
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const p of [...points, all.length]) {
      chunks.push(all.subarray(from, p));
      from = p;
    }
    return chunks;
  });
  let delivered = 0;
  fc.assert(
    fc.property(fc.boolean(), stream, (negotiate, chunks) => {
      let closed = false;
      const peer: SessionPeer = {
        id: 1,
        remote: '127.0.0.1:1',
        buses: [bus],
        listenerBus: 0,
        now: () => 0,
        wallClock: () => 0,
        forwardErrors: () => true,
        ready: () => !closed,
        reject: () => void (closed = true),
        join() {},
        leave() {},
        send: () => (delivered++, { ok: true }),
        reply() {},
        hold() {},
        withheld() {},
        malformed() {},
        close: () => void (closed = true),
        log() {},
        sequence() {},
      };
      const session = protocol.open(peer);
      session.greeting();
      const input = negotiate ? [prefix, ...chunks] : chunks;
      // The server stops feeding a session once it is closing.
      for (const c of input) if (!closed) session.receive(c);
      session.closed?.('client_closed');
    }),
    { numRuns: runs },
  );
  return delivered;
}
