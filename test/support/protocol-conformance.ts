// The shared conformance suite every wire-protocol plug-in passes: a real daemon on
// 127.0.0.1 (port 0), the virtual backend (FD-capable), and clients written from each
// protocol's spec, never from src/protocols.
//
// How a protocol plugs in (socketcand, GVRET, …): write a `ConformanceAdapter` next to its
// tests, e.g. test/src/protocols/socketcand/conformance.test.ts:
//
//   import { runConformance, type ConformanceAdapter } from '../../../support/protocol-conformance.js';
//   const adapter: ConformanceAdapter = {
//     name: 'socketcand',                       // the registry name (the `protocol` label)
//     config: { socketcandListen: { host: '127.0.0.1', port: 0 } },
//     port: (d) => d.daemon.port(0, 'socketcand'),
//     carries: { fd: false, rtr: true, errorFrames: true },
//     connect: async (port) => …,              // a spec client past the negotiation, ready for frames
//     badHello: Buffer.from('…'),               // bytes that fail the negotiation (null: none, a client from accept)
//     clientStream: (frames) => Buffer,         // hello/negotiation + frames, as one client byte stream
//     malformed: Buffer,                        // bytes after the negotiation that must close the session
//   };
//   runConformance(adapter, { partner: cannelloniAdapter });
//
// A shared-listener protocol's `connect` does its own bus selection (`< open vbus0 >`), and its
// `clientStream` includes it. The decoder fuzz (conformance-fuzz.ts) needs nothing more: it
// loads the plug-in from the registry and feeds random bytes through a fake SessionPeer
// (AMPIO_FUZZ_RUNS sets the count; `npm run fuzz` runs 10^6 per protocol).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualBackend, type VirtualBackend } from '../../src/backends/virtual.js';
import type { CanFrame } from '../../src/core/frame.js';
import type { Config } from '../../src/config/options.js';
import type { PROTOCOLS } from '../../src/protocols/registry.js';
import { BridgeChild } from './bridge-child.js';
import { churn, type CloseKind, MB, mb, measurableNodeArgs, type MemoryReading, readMemory } from './churn.js';
import { fuzzDecoder } from './conformance-fuzz.js';
import { startTestDaemon, type TestDaemon } from './daemon.js';
import { openFrom } from './hostile-clients.js';
import { until } from './until.js';

/** A frame as a spec client sees it: can_id with EFF/RTR/ERR flags. */
export interface SpecFrame {
  id: number;
  len: number;
  fd: boolean;
  flags: number;
  data: number[];
}

/** What the suite needs from a spec-written client of the protocol. */
export interface ConformanceClient {
  readonly frames: ReadonlyArray<{ id: number; len: number; fd: boolean; flags: number; data: Buffer | Uint8Array }>;
  readonly closed: boolean;
  readonly socket: net.Socket;
  send(...frames: SpecFrame[]): void;
  waitForFrames(n: number, timeoutMs?: number): Promise<unknown>;
  waitClosed(timeoutMs?: number): Promise<void>;
  destroy(): void;
}

export interface ConformanceAdapter {
  name: keyof typeof PROTOCOLS;
  /** Config that turns the protocol on, on loopback with port 0. */
  config: Partial<Config>;
  /** The same as `serve` flags, for the bridge as its own process (cannelloni is always on). */
  flags: string[];
  port(d: TestDaemon): number;
  /** What the protocol can carry to clients (error frames: bus → client only). */
  carries: { fd: boolean; rtr: boolean; errorFrames: boolean };
  /** A client past the negotiation. */
  connect(port: number): Promise<ConformanceClient>;
  /** Bytes that fail the negotiation; null for a protocol without one (a client from accept). */
  badHello: Buffer | null;
  /** The client's whole negotiation, and nothing after it (on bus vbus0); empty where there is none. */
  hello: Buffer;
  /** What a client may send before it gives up, short of a finished negotiation. */
  probe: Buffer;
  /**
   * The protocol's error form, as a refused client receives it (socketcand's `< error … >`);
   * absent: a refused client gets nothing at all, not even the greeting.
   */
  refusal?: RegExp;
  /** The negotiation followed by `frames`, as one byte stream from a client. */
  clientStream(frames: SpecFrame[]): Buffer;
  /** Bytes after the negotiation that must close the session as malformed. */
  malformed: Buffer;
}

const fuzzRuns = Number(process.env.AMPIO_FUZZ_RUNS ?? 300);

const sample = (carries: ConformanceAdapter['carries']): SpecFrame[] =>
  [
    { id: 0x123, len: 3, fd: false, flags: 0, data: [1, 2, 3] },
    { id: (0x1abcdef0 | 0x80000000) >>> 0, len: 2, fd: false, flags: 0, data: [0xde, 0xad] },
    carries.rtr ? { id: (0x124 | 0x40000000) >>> 0, len: 4, fd: false, flags: 0, data: [] } : null,
    { id: 0x125, len: 0, fd: false, flags: 0, data: [] },
    carries.fd ? { id: 0x126, len: 12, fd: true, flags: 1, data: Array.from({ length: 12 }, (_, k) => k) } : null,
  ].filter((f): f is SpecFrame => f !== null);

const toCanFrame = (f: SpecFrame): CanFrame => ({ id: f.id >>> 0, len: f.len, fd: f.fd, fdFlags: f.flags, data: Uint8Array.from(f.data), timestamp: 0 });
const view = (f: { id: number; len: number; fd: boolean; flags?: number; fdFlags?: number; data: ArrayLike<number> }) => [
  f.id >>> 0,
  f.len,
  f.fd,
  f.flags ?? f.fdFlags ?? 0,
  Array.from(f.data),
];

export function runConformance(adapter: ConformanceAdapter, options: { partner?: ConformanceAdapter } = {}): void {
  let running: TestDaemon | null = null;
  const open: Array<{ destroy(): void }> = [];

  afterEach(async () => {
    for (const c of open.splice(0)) c.destroy();
    await running?.stop();
    running = null;
  });

  async function start(overrides: Partial<Config> = {}) {
    let bus!: VirtualBackend;
    const d = await startTestDaemon(
      { ...options.partner?.config, ...adapter.config, ...overrides },
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
    return { d, bus, onBus };
  }

  async function client(d: TestDaemon, which = adapter): Promise<ConformanceClient> {
    const c = await which.connect(which.port(d));
    open.push(c);
    return c;
  }

  const clientsConnected = (d: TestDaemon, n: number) => until(() => d.daemon.snapshot().clients.length === n, `${n} clients`);

  describe(`${adapter.name}: protocol conformance`, () => {
    it('hello/negotiation: a good one makes a client (counted, shown with its protocol)', async () => {
      const { d } = await start();
      await client(d);
      await clientsConnected(d, 1);
      const snap = d.daemon.snapshot();
      expect(snap.clients[0].protocol).toBe(adapter.name);
      expect(snap.totals.accepted).toBe(1);
    });

    const badHello = adapter.badHello;
    if (badHello) {
      it('hello/negotiation: a bad one is closed and counted as a handshake failure', async () => {
        const { d } = await start();
        const r = await openFrom(adapter.port(d));
        r.socket.write(badHello);
        await r.whenClosed;
        expect(d.daemon.snapshot().totals.handshakeFailures).toBe(1);
        expect(d.daemon.snapshot().clients).toHaveLength(0);
      });

      it('hello/negotiation: a silent peer is closed after --handshake-timeout', async () => {
        const { d } = await start({ handshakeTimeout: 150 });
        const r = await openFrom(adapter.port(d));
        await r.whenClosed;
        expect(d.daemon.counters().handshakeFailuresByReason).toEqual({ timeout: 1 });
      });
    } else {
      it('no negotiation: a silent connection is a client from accept, and stays one past --handshake-timeout', async () => {
        const { d } = await start({ handshakeTimeout: 150 });
        const r = await openFrom(adapter.port(d));
        await clientsConnected(d, 1);
        await new Promise((res) => setTimeout(res, 400));
        expect(r.closed).toBe(false);
        expect(d.daemon.snapshot().totals.handshakeFailures).toBe(0);
        expect(d.daemon.snapshot().clients).toHaveLength(1);
        r.socket.destroy();
      });
    }

    it('the client stream split at every byte position decodes the same', async () => {
      const { d, onBus } = await start();
      const frames = sample(adapter.carries);
      const stream = adapter.clientStream(frames);
      for (let cut = 1; cut < stream.length; cut++) {
        const before = onBus.length;
        const r = await openFrom(adapter.port(d));
        r.socket.write(stream.subarray(0, cut));
        await tick();
        r.socket.write(stream.subarray(cut));
        await until(() => onBus.length >= before + frames.length, `the frames of split ${cut}`);
        expect(onBus.slice(before).map(view)).toEqual(frames.map(view));
        r.socket.destroy();
        await r.whenClosed;
      }
    });

    it('frames bus → client: classic, EFF, RTR, empty, FD and error frames where the protocol has them', async () => {
      const { d, bus } = await start();
      const c = await client(d);
      await clientsConnected(d, 1);
      const frames = sample(adapter.carries);
      const error: SpecFrame = { id: (0x40 | 0x20000000) >>> 0, len: 8, fd: false, flags: 0, data: [0, 0, 0, 0, 0, 0, 0, 0] };
      if (adapter.carries.errorFrames) frames.push(error);
      for (const f of frames) bus.inject(toCanFrame(f));
      await c.waitForFrames(frames.length);
      expect(c.frames.map(view)).toEqual(frames.map(view));
    });

    if (!adapter.carries.fd) {
      it('an FD frame on the bus is withheld, never truncated: the frames around it arrive whole', async () => {
        const { d, bus } = await start();
        const c = await client(d);
        await clientsConnected(d, 1);
        bus.inject(toCanFrame({ id: 0x101, len: 1, fd: false, flags: 0, data: [1] }));
        bus.inject(toCanFrame({ id: 0x126, len: 12, fd: true, flags: 1, data: Array.from({ length: 12 }, (_, k) => k) }));
        bus.inject(toCanFrame({ id: 0x102, len: 8, fd: false, flags: 0, data: [8, 7, 6, 5, 4, 3, 2, 1] }));
        await c.waitForFrames(2);
        await new Promise((res) => setTimeout(res, 30));
        expect(c.frames.map(view)).toEqual([
          view({ id: 0x101, len: 1, fd: false, data: [1] }),
          view({ id: 0x102, len: 8, fd: false, data: [8, 7, 6, 5, 4, 3, 2, 1] }),
        ]);
      });
    }

    it('frames client → bus: classic, EFF, RTR, empty and FD where the protocol has them', async () => {
      const { d, onBus } = await start();
      const c = await client(d);
      await clientsConnected(d, 1);
      const frames = sample(adapter.carries);
      c.send(...frames);
      await until(() => onBus.length >= frames.length, 'the frames on the bus');
      expect(onBus.map(view)).toEqual(frames.map(view));
      expect(d.daemon.snapshot().clients[0].framesIn).toBe(frames.length);
    });

    it('echo: a frame from one session reaches the other sessions (also of another protocol), never its sender', async () => {
      const { d } = await start();
      const a = await client(d);
      const b = await client(d);
      const partner = options.partner ? await client(d, options.partner) : null;
      await clientsConnected(d, partner ? 3 : 2);
      const f: SpecFrame = { id: 0x321, len: 2, fd: false, flags: 0, data: [3, 2] };
      a.send(f);
      await b.waitForFrames(1);
      expect(b.frames.map(view)).toEqual([view(f)]);
      if (partner) {
        await partner.waitForFrames(1);
        expect(partner.frames.map(view)).toEqual([view(f)]);
        const back: SpecFrame = { id: 0x322, len: 1, fd: false, flags: 0, data: [9] };
        partner.send(back);
        await a.waitForFrames(1);
        expect(a.frames.map(view)).toEqual([view(back)]);
      }
      await new Promise((r) => setTimeout(r, 30));
      expect(a.frames.map(view)).not.toContainEqual(view(f));
    });

    for (const policy of ['drop', 'kick'] as const) {
      it(`a stalled reader (${policy}): ${policy === 'drop' ? 'loses frames, counted' : 'is closed, counted'}; the others lose nothing, in order`, async () => {
        const { d, bus } = await start({ hubBuffer: 64, hubPolicy: policy });
        const stalled = await client(d);
        const healthy = await client(d);
        await clientsConnected(d, 2);
        stalled.socket.pause();
        const done = () => (policy === 'drop' ? d.daemon.snapshot().totals.hubDrops > 500 : d.daemon.snapshot().totals.kicked > 0);
        let n = 0;
        while (n < 400_000 && !done()) {
          for (let k = 0; k < 1000; k++, n++) {
            const data = new Uint8Array(adapter.carries.fd ? 64 : 8);
            new DataView(data.buffer).setUint32(0, n);
            bus.inject({ id: 0x100, len: data.length, data, fd: adapter.carries.fd, fdFlags: 0, timestamp: 0 });
          }
          await tick();
        }
        await healthy.waitForFrames(n, 20_000);
        expect(healthy.frames.map((f) => Buffer.from(f.data).readUInt32BE(0))).toEqual(Array.from({ length: n }, (_, k) => k));
        const snap = d.daemon.snapshot();
        if (policy === 'drop') {
          expect(snap.totals.hubDrops).toBeGreaterThan(500);
          expect(stalled.closed).toBe(false);
        } else {
          expect(snap.totals.kicked).toBe(1);
          stalled.socket.resume();
          await stalled.waitClosed();
        }
      });
    }

    it('malformed input closes only the offender, counted', async () => {
      const { d, bus } = await start();
      const bad = await client(d);
      const good = await client(d);
      await clientsConnected(d, 2);
      bad.socket.write(adapter.malformed);
      await bad.waitClosed();
      bus.inject(toCanFrame({ id: 0x42, len: 1, fd: false, flags: 0, data: [4] }));
      await good.waitForFrames(1);
      expect(good.closed).toBe(false);
      expect(d.daemon.snapshot().totals.malformed).toBe(1);
    });

    for (const limit of ['max_clients', 'max_clients_per_host'] as const) {
      it(`--${limit.replaceAll('_', '-')}: an extra connection is closed before the greeting, ${adapter.refusal ? "told why in the protocol's error form" : 'with nothing sent'}, and counted`, async () => {
        const { d } = await start(limit === 'max_clients' ? { maxClients: 2 } : { maxClientsPerHost: 2 });
        await client(d);
        await client(d);
        await clientsConnected(d, 2);
        const r = await openFrom(adapter.port(d));
        const said: Buffer[] = [];
        r.socket.on('data', (b: Buffer) => void said.push(b));
        await r.whenClosed;
        const text = Buffer.concat(said).toString('latin1');
        if (adapter.refusal) expect(text).toMatch(adapter.refusal);
        else expect(text).toBe('');
        expect(d.daemon.snapshot().totals.rejectedByReason).toEqual({ [limit]: 1 });
      });
    }

    // Only where there is a negotiation: a client from accept is refused at accept.
    if (adapter.badHello) {
      it(`a limit reached while a connection negotiated refuses it as its negotiation ends${adapter.refusal ? ', told why' : ''}`, async () => {
        const { d } = await start({ maxClientsPerHost: 1 });
        const snap = () => d.daemon.snapshot();
        const first = await openFrom(adapter.port(d));
        const second = await openFrom(adapter.port(d));
        await until(() => snap().daemon.descriptors?.pending === 2, 'both negotiating');
        first.socket.write(adapter.hello);
        await clientsConnected(d, 1);
        const said: Buffer[] = [];
        second.socket.on('data', (b: Buffer) => void said.push(b));
        second.socket.write(adapter.hello);
        await second.whenClosed;
        if (adapter.refusal) expect(Buffer.concat(said).toString('latin1')).toMatch(adapter.refusal);
        expect(snap().totals.rejectedByReason).toEqual({ max_clients_per_host: 1 });
        expect(first.closed).toBe(false);
      });
    }

    it('ghosts: a client that closes (FIN) is gone within 2 s on a quiet bus, negotiated or not, and its host share with it', async () => {
      const { d } = await start({ maxClientsPerHost: 2 });
      const snap = () => d.daemon.snapshot();
      // More rounds than the host's share: a ghost would make the third one fail.
      for (let n = 0; n < 4; n++) {
        const c = await client(d);
        await clientsConnected(d, 1);
        c.socket.end();
        await until(() => snap().clients.length === 0, `client ${n + 1} gone from the status`, 2000);
        await c.waitClosed(2000);
      }
      for (let n = 0; n < 4; n++) {
        const r = await openFrom(adapter.port(d));
        r.socket.write(adapter.probe);
        // Pending, or already a client where a protocol takes any command as its start (GVRET).
        const held = (): number => snap().clients.length + (snap().daemon.descriptors?.pending ?? 0);
        await until(() => held() === 1, `probe ${n + 1} held`);
        r.socket.end();
        await until(() => held() === 0, `probe ${n + 1} gone`, 2000);
        await r.whenClosed;
      }
      const s = snap();
      expect([s.clients.length, s.daemon.descriptors?.pending, s.totals.rejected]).toEqual([0, 0, 0]);
    });

    it('graceful shutdown flushes what is queued, then closes', async () => {
      const { d, bus } = await start({ flushInterval: 1000, batchSize: 4096 });
      const c = await client(d);
      await clientsConnected(d, 1);
      for (let n = 0; n < 10; n++) bus.inject(toCanFrame({ id: 0x10, len: 1, fd: false, flags: 0, data: [n] }));
      await d.stop();
      running = null;
      await c.waitClosed();
      expect(c.frames.map((f) => f.data[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it(`fuzz: random bytes into the decoder never throw (${fuzzRuns} runs; AMPIO_FUZZ_RUNS)`, { timeout: 60_000 + fuzzRuns }, async () => {
      // The fuzz reached the frame decoder, not only the negotiation.
      expect(await fuzzDecoder(adapter, fuzzRuns)).toBeGreaterThan(0);
    });
  });

  describe(`${adapter.name}: churn and resets (the bridge as its own process, heap capped at 64 MB)`, () => {
    let bridge: BridgeChild | null = null;
    let dir = '';
    afterEach(async () => {
      await bridge?.stop();
      bridge = null;
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function spawnBridge(extra: string[] = []): Promise<BridgeChild> {
      dir = mkdtempSync(path.join(tmpdir(), 'ampio-conf-'));
      // An empty config file: a config in this user's config dir must not change the run.
      writeFileSync(path.join(dir, 'none.json'), '{}\n');
      bridge = await BridgeChild.start({
        nodeArgs: measurableNodeArgs(64),
        args: [
          '--backend',
          'virtual',
          '--virtual-rate',
          '0',
          '--can-if',
          'vbus0',
          '--listen',
          '127.0.0.1:0',
          ...adapter.flags,
          ...extra,
          '--config',
          path.join(dir, 'none.json'),
        ],
      });
      return bridge;
    }

    it('a connection reset before the bridge accepted it is counted as a reset, not as a refusal', async () => {
      const b = await spawnBridge();
      const port = b.port(adapter.name);
      // Stopped, the bridge cannot accept: the kernel completes the handshakes, the peers
      // reset them, and only then does the bridge take them from its accept queue.
      process.kill(b.pid, 'SIGSTOP');
      try {
        for (let k = 0; k < 3; k++) {
          const s = net.connect({ port, host: '127.0.0.1' });
          s.on('error', () => {});
          await new Promise<void>((resolve) => s.once('connect', () => resolve()));
          s.resetAndDestroy();
        }
        await sleep(50);
      } finally {
        process.kill(b.pid, 'SIGCONT');
      }
      await until(async () => ((await b.snapshot()).totals.resetBeforeAccept ?? 0) === 3, 'three resets counted', 5000, 50);
      const snap = await b.snapshot();
      expect([snap.totals.rejected, snap.totals.rejectedByReason, snap.clients.length]).toEqual([0, undefined, 0]);
      expect(b.events('client_not_allowed')).toEqual([]);
    });

    const CYCLES = Number(process.env.AMPIO_CHURN_CYCLES ?? 2000);
    it(`churn: ${CYCLES} connect/close cycles (with and without the negotiation, FIN and RST) leave no client, no descriptor, heap and RSS back within bounds`, {
      timeout: 120_000,
    }, async () => {
      const b = await spawnBridge();
      const port = b.port(adapter.name);
      await sleep(1000);
      const before = await readMemory(b);
      const variants: Array<[Buffer | null, CloseKind]> = [
        [adapter.hello, 'fin'],
        [null, 'fin'],
        [adapter.hello, 'rst'],
        [null, 'rst'],
      ];
      let lingered = 0;
      for (const [hello, close] of variants) lingered += (await churn({ port, hello, close, cycles: CYCLES / variants.length })).lingered;
      expect(b.alive, b.tail).toBe(true);
      // Every FIN was answered by the bridge closing its side: no ghosts.
      expect(lingered).toBe(0);
      const snap = await b.snapshot();
      expect([snap.clients.length, snap.daemon.descriptors?.pending]).toEqual([0, 0]);
      // RSS settles once V8 gives back the young generation it grew under load (~10 s quiet).
      let after: MemoryReading = await readMemory(b);
      for (let waited = 0; waited < 40_000 && after.rss - before.rss > 10 * MB; waited += 2000) {
        await sleep(2000);
        after = await readMemory(b);
      }
      console.log(
        `${adapter.name} churn ${CYCLES}: heap ${mb(before.heap)} → ${mb(after.heap)}, RSS ${mb(before.rss)} → ${mb(after.rss)}, fds ${before.fds} → ${after.fds}`,
      );
      expect(after.fds).toBeLessThanOrEqual(before.fds + 1);
      expect(after.heap - before.heap).toBeLessThan(5 * MB);
      expect(after.rss - before.rss).toBeLessThan(10 * MB);
    });
  });
}
