// The conformance suite for datagram (UDP) protocols: a real daemon on 127.0.0.1, the virtual
// FD-capable bus, and a peer written from the protocol's spec. A datagram cannot be split
// across reads, so instead of the stream suite's split test this one sends datagrams that are
// truncated, oversized or lying about their contents: each is counted, dropped whole (nothing
// of it reaches the bus), and the peer goes on working. Used by
// test/src/protocols/<name>/conformance.test.ts of every protocol with `datagram`.
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualBackend, type VirtualBackend } from '../../src/backends/virtual.js';
import type { Config } from '../../src/config/options.js';
import type { CanFrame } from '../../src/core/frame.js';
import { parseAddressList } from '../../src/guard/address-list.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import type { PROTOCOLS } from '../../src/protocols/registry.js';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { until } from './until.js';

/** A spec-written peer of the datagram protocol (one local UDP socket). */
export interface DatagramPeer {
  readonly port: number;
  readonly frames: ReadonlyArray<{ id: number; len: number; fd: boolean; flags: number; data: Uint8Array }>;
  readonly datagrams: readonly Uint8Array[];
  /** One datagram of `frames` with sequence number `seq`. */
  send(port: number, frames: Array<{ id: number; data?: number[]; fd?: boolean; flags?: number; rtr?: boolean; len?: number }>, seq?: number): Promise<void>;
  raw(port: number, bytes: Buffer): Promise<void>;
  waitForFrames(n: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

export interface DatagramAdapter {
  name: keyof typeof PROTOCOLS;
  /** Config with the protocol on 127.0.0.1:0 and `peers` configured. */
  config(peers: number[]): Partial<Config>;
  port(d: TestDaemon): number;
  openPeer(): Promise<DatagramPeer>;
  /** The largest datagram the protocol writes (its MTU payload). */
  maxDatagram: number;
  /** Datagrams that must be counted as malformed and dropped whole, by name. */
  garbage: Record<string, Buffer>;
  /** Sequence numbers a peer sends, and the lost/misordered counts they must give. */
  sequence: { seqs: number[]; lost: number; misordered: number };
}

const view = (f: { id: number; len: number; fd: boolean; flags?: number; fdFlags?: number; data: ArrayLike<number> }) => [
  f.id >>> 0,
  f.len,
  f.fd,
  f.flags ?? f.fdFlags ?? 0,
  Array.from(f.data),
];
const frame = (id: number, data: number[], fd = false, flags = 0): CanFrame => ({
  id,
  len: data.length,
  data: Uint8Array.from(data),
  fd,
  fdFlags: flags,
  timestamp: 0,
});

export function runDatagramConformance(adapter: DatagramAdapter): void {
  let running: TestDaemon | null = null;
  const peers: DatagramPeer[] = [];

  afterEach(async () => {
    await running?.stop();
    running = null;
    for (const p of peers.splice(0)) p.close();
  });

  async function start(peerPorts: number[], overrides: Partial<Config> = {}) {
    let bus!: VirtualBackend;
    const d = await startTestDaemon(
      { ...adapter.config(peerPorts), ...overrides },
      {
        backends: (c) => [
          (bus = createVirtualBackend({
            name: 'vbus0',
            index: 0,
            rate: 0,
            payload: 'ampio',
            bitrate: c.bitrate,
            fd: true,
            now: () => performance.now(),
            wallClock: () => Date.now(),
          })),
        ],
      },
    );
    running = d;
    const onBus: CanFrame[] = [];
    d.daemon.bus(0)!.addTap({ received: () => {}, transmitted: (_b, f) => void onBus.push(f) });
    return { d, bus, onBus, port: adapter.port(d) };
  }
  async function peer(): Promise<DatagramPeer> {
    const p = await adapter.openPeer();
    peers.push(p);
    return p;
  }

  describe(`${adapter.name}: datagram protocol conformance`, () => {
    it('a configured peer is a UDP client from the start and gets every kind of frame, batched into datagrams', async () => {
      const p = await peer();
      const { d, bus } = await start([p.port]);
      const snap = d.daemon.snapshot();
      expect(snap.clients).toHaveLength(1);
      expect(snap.clients[0]).toMatchObject({ protocol: adapter.name, transport: 'udp', remote: `127.0.0.1:${p.port}` });
      const frames = [
        frame(0x123, [1, 2, 3]),
        frame((0x1abcdef0 | 0x80000000) >>> 0, [0xde, 0xad]),
        frame((0x124 | 0x40000000) >>> 0, []),
        frame(0x125, []),
        frame(
          0x126,
          Array.from({ length: 12 }, (_, k) => k),
          true,
          1,
        ),
      ];
      for (const f of frames) bus.inject(f);
      await p.waitForFrames(frames.length);
      expect(p.frames.map(view)).toEqual(frames.map(view));
      expect(p.datagrams.length).toBeLessThan(frames.length); // batched
    });

    it('1,000 frames go out in datagrams no larger than the MTU payload, numbered one by one, none lost', async () => {
      const p = await peer();
      const { bus } = await start([p.port], { flushInterval: 20, batchSize: 4096, hubBuffer: 2048 });
      for (let n = 0; n < 1000; n++) bus.inject(frame(0x200, [n >> 8, n & 0xff, 0, 0, 0, 0, 0, 0]));
      await p.waitForFrames(1000);
      expect(p.frames.map((f) => (f.data[0] << 8) | f.data[1])).toEqual(Array.from({ length: 1000 }, (_, k) => k));
      expect(Math.max(...p.datagrams.map((x) => x.length))).toBeLessThanOrEqual(adapter.maxDatagram);
      expect(p.datagrams.length).toBeGreaterThanOrEqual(Math.ceil((1000 * 13) / adapter.maxDatagram));
      expect(p.datagrams.map((x) => x[2])).toEqual(p.datagrams.map((_, k) => k & 0xff));
    });

    it('frames peer → bus, from a peer learned from its first datagram (loopback is in the default --allow)', async () => {
      const { d, onBus, port } = await start([]);
      const p = await peer();
      await p.send(port, [
        { id: 0x321, data: [3, 2] },
        { id: 0x126, fd: true, flags: 1, data: Array.from({ length: 16 }, (_, k) => k) },
      ]);
      await until(() => onBus.length === 2, 'two frames on the bus');
      expect(onBus.map(view)).toEqual([
        view(frame(0x321, [3, 2])),
        view(
          frame(
            0x126,
            Array.from({ length: 16 }, (_, k) => k),
            true,
            1,
          ),
        ),
      ]);
      const c = d.daemon.snapshot().clients;
      expect(c).toHaveLength(1);
      expect(c[0]).toMatchObject({ transport: 'udp', framesIn: 2, remote: `127.0.0.1:${p.port}` });
    });

    it('echo: a learned peer gets the frames of a configured one, never its own', async () => {
      const a = await peer();
      const { d, port } = await start([a.port]);
      const b = await peer();
      await b.send(port, [{ id: 0x10, data: [1] }]);
      await a.waitForFrames(1);
      await a.send(port, [{ id: 0x11, data: [2] }]);
      await b.waitForFrames(1);
      await new Promise((r) => setTimeout(r, 50));
      expect(a.frames.map((f) => f.id)).toEqual([0x10]);
      expect(b.frames.map((f) => f.id)).toEqual([0x11]);
      expect(d.daemon.snapshot().clients).toHaveLength(2);
    });

    it('a sender --allow does not admit becomes no peer: nothing reaches the bus, counted as refused', async () => {
      const { d, onBus, port } = await start([], { allow: parseAddressList('10.0.0.0/8') });
      const p = await peer();
      await p.send(port, [{ id: 0x1, data: [1] }]);
      await until(() => d.daemon.snapshot().totals.rejected === 1, 'the refusal counted');
      expect(onBus).toHaveLength(0);
      expect(d.daemon.snapshot().clients).toHaveLength(0);
    });

    for (const [name, bytes] of Object.entries(adapter.garbage)) {
      it(`a ${name} datagram is counted as malformed and dropped whole; the peer goes on`, async () => {
        const p = await peer();
        const { d, onBus, port } = await start([p.port]);
        await p.raw(port, bytes);
        await until(() => d.daemon.snapshot().totals.malformed === 1, 'the malformed datagram counted');
        expect(onBus).toHaveLength(0);
        await p.send(port, [{ id: 0x77, data: [7] }]);
        await until(() => onBus.length === 1, 'the next good frame');
        expect(d.daemon.snapshot().clients).toHaveLength(1);
      });
    }

    it('sequence numbers: skipped and reordered datagrams are counted exactly, per peer, in status and metrics', async () => {
      const p = await peer();
      const { d, onBus, port } = await start([p.port]);
      const { seqs, lost, misordered } = adapter.sequence;
      for (const s of seqs) await p.send(port, [{ id: 0x300 + s, data: [s] }], s);
      await until(() => onBus.length === seqs.length, 'every datagram delivered');
      const c = d.daemon.snapshot().clients[0];
      expect({ lost: c.datagramsLost, misordered: c.datagramsMisordered }).toEqual({ lost, misordered });
      const proto = d.daemon.counters().byProtocol?.find((x) => x.protocol === adapter.name);
      expect({ lost: proto?.datagramsLost, misordered: proto?.datagramsMisordered }).toEqual({ lost, misordered });
      const text = await createMetricsRegistry({ source: d.daemon, build: { version: 'x', commit: null, date: null } }).metrics();
      expect(text).toContain(`udp_datagrams_lost_total{protocol="${adapter.name}"} ${lost}`);
      expect(text).toContain(`udp_datagrams_misordered_total{protocol="${adapter.name}"} ${misordered}`);
    });

    it('the TX guard applies: a peer outside --tx-allow only listens, its frames counted as refused', async () => {
      const p = await peer();
      const { d, onBus, port } = await start([p.port], { txAllow: parseAddressList('10.0.0.0/8') });
      await p.send(port, [{ id: 0x5, data: [5] }]);
      await until(() => (d.daemon.snapshot().clients[0]?.txRefused?.read_only ?? 0) === 1, 'the refusal');
      expect(onBus).toHaveLength(0);
    });

    it('--client-max-lag: frames older than the lag are never sent late', async () => {
      const p = await peer();
      const { d, bus } = await start([p.port], { clientMaxLag: 50, flushInterval: 1000, batchSize: 4096 });
      bus.inject(frame(0x1, [1]));
      await until(() => d.daemon.snapshot().clients[0].staleDrops === 1, 'the stale frame dropped', 5000);
      expect(p.frames).toHaveLength(0);
    });
  });
}
