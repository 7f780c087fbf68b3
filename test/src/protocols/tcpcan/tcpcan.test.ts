// tcpcan through the daemon over real TCP, next to cannelloni on the same bus, with a peer
// written from the wire format.
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVirtualBackend, type VirtualBackend } from '../../../../src/backends/virtual.js';
import type { Config } from '../../../../src/config/options.js';
import { CAN_EFF_FLAG, CAN_RTR_FLAG, makeFrame } from '../../../../src/core/frame.js';
import { encode, TestClient } from '../../../support/cannelloni-client.js';
import { startTestDaemon, type TestDaemon } from '../../../support/daemon.js';
import { tcpcanFrame, TcpcanTestClient, tcpcanVersion } from '../../../support/tcpcan-client.js';

let running: TestDaemon | null = null;
const closers: Array<{ destroy(): void }> = [];

afterEach(async () => {
  for (const c of closers.splice(0)) c.destroy();
  await running?.stop();
  running = null;
});

async function start(overrides: Partial<Config> = {}): Promise<{ d: TestDaemon; bus: VirtualBackend }> {
  let bus!: VirtualBackend;
  const d = await startTestDaemon(
    { tcpcanListen: { host: '127.0.0.1', port: 0 }, ...overrides },
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
  return { d, bus };
}

async function tcpcan(d: TestDaemon, options: Parameters<typeof TcpcanTestClient.connect>[1] = {}): Promise<TcpcanTestClient> {
  const c = await TcpcanTestClient.connect(d.daemon.port(0, 'tcpcan'), options);
  closers.push(c);
  return c;
}

async function cannelloni(d: TestDaemon): Promise<TestClient> {
  const c = await TestClient.connect(d.port());
  closers.push(c);
  return c;
}

async function clientsConnected(d: TestDaemon, n: number): Promise<void> {
  await vi.waitFor(() => expect(d.daemon.snapshot().clients.length, `expected ${n} clients`).toBe(n), { timeout: 5000, interval: 10 });
}

describe('tcpcan', () => {
  it('answers `v 1` with `v 1` and listens where --tcpcan-listen says, logged per protocol', async () => {
    const { d } = await start();
    const c = await tcpcan(d);
    expect(c.versions).toEqual([1]);
    await clientsConnected(d, 1);
    const listens = d.records.filter((r) => r.event === 'tcp_listen').map((r) => r.protocol);
    expect(listens).toEqual(['cannelloni', 'tcpcan']);
    expect(d.records.find((r) => r.event === 'client_connected')).toMatchObject({ protocol: 'tcpcan', bus: 'vbus0' });
  });

  it('a standard id above 0x7FF is refused and counted (malformed), never masked to 11 bits; the session goes on', async () => {
    const { d } = await start();
    const onBus: number[] = [];
    d.daemon.bus(0)!.addTap({ received: () => {}, transmitted: (_b, f) => void onBus.push(f.id >>> 0) });
    const c = await tcpcan(d);
    c.send(tcpcanFrame({ id: 0x900, data: [9] }), tcpcanFrame({ id: (CAN_EFF_FLAG | 0x900) >>> 0, data: [1] }), tcpcanFrame({ id: 0x123, data: [2] }));
    await vi.waitFor(() => expect(onBus).toEqual([(CAN_EFF_FLAG | 0x900) >>> 0, 0x123]), { timeout: 5000, interval: 10 });
    expect(d.daemon.snapshot().totals.malformed).toBe(1);
    expect(d.records.find((r) => r.event === 'malformed_frame')).toMatchObject({ reason: 'sff_id' });
    expect(c.closed).toBe(false);
  });

  it('version 0, or a frame before any version, closes the connection and counts a handshake failure', async () => {
    const { d } = await start();
    const v0 = await tcpcan(d, { version: 0 });
    await v0.waitClosed();
    expect(v0.versions).toEqual([]);
    const early = await tcpcan(d, { version: false });
    early.send(tcpcanFrame({ id: 0x1, data: [1] }));
    await early.waitClosed();
    expect(d.daemon.counters().handshakeFailuresByReason).toEqual({ bad_version: 1, no_version: 1 });
    expect(d.records.filter((r) => r.event === 'handshake_failed').map((r) => r.received_hex)).toEqual(['760400000000', expect.stringMatching(/^6410/)]);
  });

  it('a client proposing version 2 gets our lower proposal `v 1`; its `v 1` agrees, unanswered, and frames flow both ways', async () => {
    const { d, bus } = await start();
    const onBus: number[] = [];
    d.daemon.bus(0)!.addTap({ received: () => {}, transmitted: (_b, f) => void onBus.push(f.id) });
    const c = await tcpcan(d, { version: 2 });
    expect(c.versions).toEqual([1]);
    expect(c.agreedVersion(2)).toBe(1);
    await clientsConnected(d, 1);
    c.send(tcpcanFrame({ id: 0x321, data: [3, 2, 1] }));
    await vi.waitFor(() => expect(onBus).toEqual([0x321]), { timeout: 5000, interval: 10 });
    bus.inject(makeFrame({ id: 0x77, data: [7] }));
    await c.waitForFrames(1);
    expect(c.frames.map((f) => f.id)).toEqual([0x77]);
    // Exactly one `v 1` from us: our own proposal coming back is the agreement, not a new one.
    expect(c.versions).toEqual([1]);
    expect(c.protocolError).toBeNull();
    expect(d.daemon.counters().handshakeFailuresByReason).toEqual({});
  });

  it('after our `v 1` proposal, frames wait for the agreement; a client that will not go down is closed', async () => {
    const { d, bus } = await start();
    const c = await tcpcan(d, { version: false });
    c.send(tcpcanVersion(3));
    await c.until(() => c.versions.length === 1, 5000, 'our proposal');
    bus.inject(makeFrame({ id: 0x56, data: [6] }));
    await new Promise((r) => setTimeout(r, 50));
    expect(c.frames).toEqual([]);
    c.send(tcpcanVersion(1));
    await c.waitForFrames(1);
    expect(c.frames.map((f) => f.id)).toEqual([0x56]);

    const stubborn = await tcpcan(d, { version: false });
    stubborn.send(tcpcanVersion(2));
    await stubborn.until(() => stubborn.versions.length === 1, 5000, 'our proposal');
    stubborn.send(tcpcanVersion(2));
    await stubborn.waitClosed();
    expect(d.daemon.counters().handshakeFailuresByReason).toEqual({ bad_version: 1 });
  });

  it('a silent peer is closed after --handshake-timeout', async () => {
    const { d } = await start({ handshakeTimeout: 150 });
    const c = await tcpcan(d, { version: false });
    await c.waitClosed(3000);
    expect(d.daemon.counters().handshakeFailuresByReason).toEqual({ timeout: 1 });
  });

  it('bus frames → tcpcan: classic, EFF, RTR, empty and FD, in order', async () => {
    const { d, bus } = await start();
    const c = await tcpcan(d);
    await clientsConnected(d, 1);
    bus.inject(makeFrame({ id: 0x123, data: [1, 2, 3] }));
    bus.inject(makeFrame({ id: 0x1abcdef0, extended: true, data: [0xde, 0xad] }));
    bus.inject(makeFrame({ id: 0x124, rtr: true, len: 8 }));
    bus.inject(makeFrame({ id: 0x125 }));
    bus.inject(makeFrame({ id: 0x126, fd: true, fdFlags: 1, data: Array.from({ length: 12 }, (_, k) => k) }));
    const got = await c.waitForFrames(5);
    expect(got.map((f) => [f.id >>> 0, f.len, f.fd, f.flags, [...f.data]])).toEqual([
      [0x123, 3, false, 0, [1, 2, 3]],
      [(0x1abcdef0 | CAN_EFF_FLAG) >>> 0, 2, false, 0, [0xde, 0xad]],
      [(0x124 | CAN_RTR_FLAG) >>> 0, 8, false, 0, []],
      [0x125, 0, false, 0, []],
      [0x126, 12, true, 1, Array.from({ length: 12 }, (_, k) => k)],
    ]);
    expect(c.protocolError).toBeNull();
  });

  it('tcpcan → bus and to cannelloni clients; cannelloni → tcpcan (echo across protocols)', async () => {
    const { d } = await start();
    const t = await tcpcan(d);
    const k = await cannelloni(d);
    await clientsConnected(d, 2);
    t.send(tcpcanFrame({ id: 0x201, data: [1] }), tcpcanFrame({ id: 0x202, fd: true, flags: 1, data: Array(16).fill(7) }));
    const toK = await k.waitForFrames(2);
    expect(toK.map((f) => [f.id, f.len, f.fd])).toEqual([
      [0x201, 1, false],
      [0x202, 16, true],
    ]);
    k.send(encode({ id: 0x301, data: [3] }));
    const toT = await t.waitForFrames(1);
    expect(toT.map((f) => f.id)).toEqual([0x301]);
    await new Promise((r) => setTimeout(r, 50));
    expect(t.frames).toHaveLength(1); // never its own frames back
    expect(d.daemon.snapshot().buses[0].txFrames).toBe(3);
    const snap = d.daemon.snapshot();
    expect(snap.clients.map((c) => c.protocol).sort()).toEqual(['cannelloni', 'tcpcan']);
    expect(snap.daemon.listeners.map((l) => [l.protocol, l.bus])).toEqual([
      ['cannelloni', 'vbus0'],
      ['tcpcan', 'vbus0'],
    ]);
    const byProtocol = Object.fromEntries((d.daemon.counters().byProtocol ?? []).map((p) => [p.protocol, [p.rxFrames, p.txFrames, p.accepted]]));
    expect(byProtocol).toEqual({ cannelloni: [1, 2, 1], tcpcan: [2, 1, 1] });
    expect(d.records.find((r) => r.event === 'ready')?.listeners).toMatch(/^cannelloni:vbus0@127\.0\.0\.1:\d+,tcpcan:vbus0@127\.0\.0\.1:\d+$/);
  });

  it('a second protocol on the bus costs one encode per bus frame, not one per client', async () => {
    const { d, bus } = await start();
    const ts = await Promise.all(Array.from({ length: 4 }, () => tcpcan(d)));
    const ks = await Promise.all(Array.from({ length: 4 }, () => cannelloni(d)));
    await clientsConnected(d, 8);
    const hub = d.daemon.bus(0)!.hub;
    const before = hub.counters.encodes;
    for (let n = 0; n < 50; n++) bus.inject(makeFrame({ id: 0x200, data: [n] }));
    for (const c of [...ts, ...ks]) await c.waitForFrames(50);
    expect(hub.counters.encodes - before).toBe(2 * 50);
    expect(hub.encodersInUse).toBe(2);
  });

  it('frames on the bus before the agreement are delivered right after our `v 1`', async () => {
    const { d, bus } = await start();
    const c = await tcpcan(d, { version: false });
    await new Promise((r) => setTimeout(r, 20));
    bus.inject(makeFrame({ id: 0x55, data: [5] }));
    await new Promise((r) => setTimeout(r, 20));
    c.send(tcpcanVersion(1));
    await c.waitForFrames(1);
    expect(c.versions).toEqual([1]);
    expect(c.frames.map((f) => f.id)).toEqual([0x55]);
  });

  it('every write to a tcpcan peer holds whole messages and fits one TCP segment (≤ 1400 bytes)', async () => {
    const { d, bus } = await start({ flushInterval: 50, batchSize: 4096 });
    const c = await tcpcan(d);
    await clientsConnected(d, 1);
    const clientPort = c.socket.localPort;
    // The daemon runs in this process: record the sizes of its writes to this client's socket.
    const sizes: number[] = [];
    const original = net.Socket.prototype.write;
    net.Socket.prototype.write = function (this: net.Socket, ...args: unknown[]) {
      if (this.remotePort === clientPort && this.localPort !== clientPort) sizes.push((args[0] as Uint8Array).length);
      return Reflect.apply(original, this, args) as boolean;
    } as typeof original;
    try {
      for (let n = 0; n < 200; n++) bus.inject(makeFrame({ id: 0x300, fd: true, data: Array(64).fill(n & 0xff) }));
      await c.waitForFrames(200);
    } finally {
      net.Socket.prototype.write = original;
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(200 * 74);
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) {
      expect(size).toBeLessThanOrEqual(1400);
      expect(size % 74).toBe(0);
    }
    expect(c.frames.map((f) => f.data[0])).toEqual(Array.from({ length: 200 }, (_, n) => n & 0xff));
  });

  it('input split at every byte is accepted', async () => {
    const { d } = await start();
    const t = await tcpcan(d);
    const k = await cannelloni(d);
    await clientsConnected(d, 2);
    const stream = Buffer.concat([tcpcanFrame({ id: 0x1, data: [1] }), tcpcanFrame({ id: 0x2, fd: true, data: Array(64).fill(2) })]);
    for (const b of stream) {
      t.send(Buffer.of(b));
      await new Promise((r) => setImmediate(r));
    }
    expect((await k.waitForFrames(2)).map((f) => [f.id, f.len])).toEqual([
      [1, 1],
      [2, 64],
    ]);
  });

  it('a malformed message closes only the offender, counted', async () => {
    const { d, bus } = await start();
    const bad = await tcpcan(d);
    const good = await tcpcan(d);
    await clientsConnected(d, 2);
    bad.send(Buffer.from([0x64, 0x11]));
    await bad.waitClosed();
    bus.inject(makeFrame({ id: 0x42, data: [4] }));
    expect((await good.waitForFrames(1)).map((f) => f.id)).toEqual([0x42]);
    expect(d.daemon.snapshot().totals.malformed).toBe(1);
    expect(d.records.find((r) => r.event === 'malformed_frame')).toMatchObject({ protocol: 'tcpcan', reason: 'bad_length' });
  });

  it('a tcpcan peer that sends FIN has gone: closed and no longer listed, on a quiet bus', async () => {
    const { d } = await start();
    const c = await tcpcan(d);
    await clientsConnected(d, 1);
    c.socket.end();
    await c.waitClosed();
    await clientsConnected(d, 0);
  });

  it('two buses: the second bus on --tcpcan-listen port + 1', async () => {
    const buses: VirtualBackend[] = [];
    const d = await startTestDaemon(
      { tcpcanListen: { host: '127.0.0.1', port: 0 }, canIf: ['can0', 'can1'] },
      {
        backends: (cfg) =>
          cfg.canIf.map((name, index) => {
            const b = createVirtualBackend({
              name,
              index,
              rate: 0,
              payload: 'ampio',
              bitrate: cfg.bitrate,
              fd: true,
              now: () => performance.now(),
              wallClock: () => Date.now(),
            });
            buses.push(b);
            return b;
          }),
      },
    );
    running = d;
    const ports = d.daemon
      .listeners()
      .filter((l) => l.protocol === 'tcpcan')
      .map((l) => [l.bus, l.port]);
    expect(ports).toHaveLength(2);
    const c1 = await TcpcanTestClient.connect(d.daemon.port(1, 'tcpcan'));
    closers.push(c1);
    await clientsConnected(d, 1);
    buses[0].inject(makeFrame({ id: 0x100, data: [0] }));
    buses[1].inject(makeFrame({ id: 0x101, data: [1] }));
    expect((await c1.waitForFrames(1)).map((f) => f.id)).toEqual([0x101]);
    expect(d.daemon.snapshot().clients[0].bus).toBe('can1');
  });
});
