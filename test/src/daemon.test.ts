// The daemon end to end over real TCP on 127.0.0.1 (port 0) with the virtual backend:
// handshake, frames both ways, echo, backpressure policies, limits, malformed input and
// shutdown, as a cannelloni client sees them.
import net from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVirtualBackend, type VirtualBackend } from '../../src/backends/virtual.js';
import type { BackendReloadable } from '../../src/backends/types.js';
import type { Config } from '../../src/config/options.js';
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, makeFrame } from '../../src/core/frame.js';
import { encode, HELLO, TestClient } from '../support/cannelloni-client.js';
import { createStandardServices } from '../../src/daemon.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { freePortPair } from '../support/free-port.js';

let running: TestDaemon | null = null;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await running?.stop();
  running = null;
});

/** A daemon on one virtual bus whose backend the test can inject frames into. */
async function start(overrides: Partial<Config> = {}, fd = true): Promise<{ d: TestDaemon; bus: VirtualBackend }> {
  let bus!: VirtualBackend;
  const d = await startTestDaemon(overrides, {
    backends: (c) => {
      bus = createVirtualBackend({
        name: 'vbus0',
        index: 0,
        rate: 0,
        payload: 'ampio',
        bitrate: c.bitrate,
        fd,
        now: () => performance.now(),
        wallClock: () => Date.now(),
      });
      return [bus];
    },
  });
  running = d;
  return { d, bus };
}

async function client(d: TestDaemon, options: Parameters<typeof TestClient.connect>[1] = {}): Promise<TestClient> {
  const c = await TestClient.connect(d.port(), options);
  clients.push(c);
  return c;
}

/** Waits until the daemon lists `n` handshaken clients. */
async function clientsConnected(d: TestDaemon, n: number): Promise<void> {
  await vi.waitFor(() => expect(d.daemon.snapshot().clients.length, `expected ${n} clients`).toBe(n), { timeout: 5000, interval: 10 });
}

const events = (d: TestDaemon, name: string) => d.records.filter((r) => r.event === name);

describe('handshake', () => {
  it('sends CANNELLONIv1 at once, before the client says anything', async () => {
    const { d } = await start();
    const c = await client(d, { hello: false });
    await c.until(() => c.receivedHello !== null, 3000, 'the daemon hello');
    expect(c.receivedHello!.toString('ascii')).toBe('CANNELLONIv1');
    expect(c.closed).toBe(false);
  });

  it('a wrong hello is closed, counted and logged with the bytes in hex', async () => {
    const { d } = await start();
    const c = await client(d, { hello: Buffer.from('< hi >') });
    await c.waitClosed();
    expect(d.daemon.snapshot().totals.handshakeFailures).toBe(1);
    const [rec] = events(d, 'handshake_failed');
    expect(rec).toMatchObject({ reason: 'bad_magic', received_hex: '3c206869203e' });
    expect(d.daemon.counters().handshakeFailuresByReason).toEqual({ bad_magic: 1 });
  });

  it('a silent peer is closed after --handshake-timeout', async () => {
    const { d } = await start({ handshakeTimeout: 200 });
    const c = await client(d, { hello: false });
    const t0 = Date.now();
    await c.waitClosed(3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(d.daemon.counters().handshakeFailuresByReason).toEqual({ timeout: 1 });
  });

  it('hello and frames in one segment: the frames are delivered', async () => {
    const { d } = await start();
    const other = await client(d);
    await clientsConnected(d, 1);
    const s = net.connect({ port: d.port(), host: '127.0.0.1' });
    s.on('error', () => {});
    s.write(Buffer.concat([HELLO, encode({ id: 0x101, data: [1] }), encode({ id: 0x102, data: [2] }), encode({ id: 0x103, data: [3] })]));
    await other.waitForFrames(3);
    expect(other.frames.map((f) => f.id)).toEqual([0x101, 0x102, 0x103]);
    s.destroy();
  });
});

describe('frames', () => {
  it('bus → every client, in bus order, with classic, extended, RTR, FD and error frames', async () => {
    const { d, bus } = await start();
    const a = await client(d);
    const b = await client(d);
    await clientsConnected(d, 2);
    const sent = [
      makeFrame({ id: 0x123, data: [1, 2, 3] }),
      makeFrame({ id: 0x1abcdef0, extended: true, data: [0xde, 0xad] }),
      makeFrame({ id: 0x123, rtr: true, len: 8 }),
      makeFrame({ id: 0x123, fd: true, fdFlags: 1, data: Array.from({ length: 12 }, (_, k) => k) }),
      makeFrame({ id: 0x40, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] }),
    ];
    for (const f of sent) bus.inject(f);
    for (const c of [a, b]) {
      const got = await c.waitForFrames(5);
      expect(got.map((f) => [f.id >>> 0, f.len, f.fd, f.flags, [...f.data]])).toEqual([
        [0x123, 3, false, 0, [1, 2, 3]],
        [(0x1abcdef0 | CAN_EFF_FLAG) >>> 0, 2, false, 0, [0xde, 0xad]],
        [(0x123 | CAN_RTR_FLAG) >>> 0, 8, false, 0, []],
        [0x123, 12, true, 1, Array.from({ length: 12 }, (_, k) => k)],
        [(0x40 | CAN_ERR_FLAG) >>> 0, 8, false, 0, [0, 0, 0, 0, 0, 0, 0, 0]],
      ]);
    }
    expect(d.daemon.snapshot().buses[0].rxFrames).toBe(5);
  });

  it('--forward-errors=false keeps error frames from clients but still counts them', async () => {
    const { d, bus } = await start({ forwardErrors: false });
    const a = await client(d);
    await clientsConnected(d, 1);
    bus.inject(makeFrame({ id: 0x40, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] }));
    bus.inject(makeFrame({ id: 0x10, data: [1] }));
    await a.waitForFrames(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.frames.map((f) => f.id)).toEqual([0x10]);
    expect(d.daemon.snapshot().buses[0].errorFrames).toBe(1);
  });

  it("a client's frames reach the bus and every other client, never the sender (--echo others)", async () => {
    const { d } = await start();
    const a = await client(d);
    const b = await client(d);
    const c = await client(d);
    await clientsConnected(d, 3);
    for (let n = 0; n < 100; n++) a.send(encode({ id: 0x200, data: [n] }));
    a.send(encode({ id: 0x300, rtr: true, len: 4 }), encode({ id: 0x301, fd: true, flags: 1, data: Array(16).fill(7) }));
    for (const other of [b, c]) {
      const got = await other.waitForFrames(102);
      expect(got.slice(0, 100).map((f) => f.data[0])).toEqual(Array.from({ length: 100 }, (_, n) => n));
      expect(got[100]).toMatchObject({ id: (0x300 | CAN_RTR_FLAG) >>> 0, len: 4 });
      expect(got[101]).toMatchObject({ id: 0x301, len: 16, fd: true, flags: 1 });
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(a.frames).toHaveLength(0);
    const snap = d.daemon.snapshot();
    expect(snap.buses[0].txFrames).toBe(102);
    expect(snap.clients.find((x) => x.framesIn > 0)?.framesIn).toBe(102);
    expect(d.daemon.counters().tcpRxFrames).toBe(102);
  });

  it('--echo none: frames go to the bus only', async () => {
    const { d } = await start({ echo: 'none' });
    const a = await client(d);
    const b = await client(d);
    await clientsConnected(d, 2);
    a.send(encode({ id: 0x200, data: [1] }));
    await new Promise((r) => setTimeout(r, 100));
    expect(b.frames).toHaveLength(0);
    expect(d.daemon.snapshot().buses[0].txFrames).toBe(1);
  });

  it('an FD frame toward a classic-only bus is dropped and counted; the client stays connected', async () => {
    const { d } = await start({}, false);
    const a = await client(d);
    const b = await client(d);
    await clientsConnected(d, 2);
    a.send(encode({ id: 0x5, fd: true, data: Array(12).fill(1) }), encode({ id: 0x6, data: [6] }));
    const got = await b.waitForFrames(1);
    expect(got[0].id).toBe(0x6);
    expect(a.closed).toBe(false);
    expect(d.daemon.snapshot().buses[0].txDrops).toEqual({ fd_unsupported: 1 });
  });

  it('an error frame from a client never reaches the bus (counted as filtered)', async () => {
    const { d } = await start();
    const a = await client(d);
    const b = await client(d);
    await clientsConnected(d, 2);
    a.send(encode({ id: (0x40 | CAN_ERR_FLAG) >>> 0, data: [0, 0, 0, 0, 0, 0, 0, 0] }), encode({ id: 0x7, data: [] }));
    const got = await b.waitForFrames(1);
    expect(got.map((f) => f.id)).toEqual([0x7]);
    expect(d.daemon.snapshot().buses[0].txDrops).toEqual({ filtered: 1 });
  });
});

describe('malformed input', () => {
  it('closes only the offender, counts it, and keeps serving the others', async () => {
    const { d, bus } = await start();
    const bad = await client(d);
    const good = await client(d);
    await clientsConnected(d, 2);
    bad.send(encode({ id: 0x1, data: [1] }), Buffer.from([0, 0, 1, 0x11, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    await bad.waitClosed();
    bus.inject(makeFrame({ id: 0x42, data: [4, 2] }));
    const got = await good.waitForFrames(2);
    expect(got.map((f) => f.id)).toEqual([0x1, 0x42]);
    expect(d.daemon.snapshot().totals.malformed).toBe(1);
    expect(events(d, 'malformed_frame')[0]).toMatchObject({ reason: 'classic_len' });
  });

  it('10 MB of random bytes from one client leave the daemon and the other clients unaffected', async () => {
    const { d, bus } = await start();
    const good = await client(d);
    await clientsConnected(d, 1);
    let seed = 12345;
    const rnd = Buffer.alloc(1 << 20);
    for (let round = 0; round < 10; round++) {
      for (let k = 0; k < rnd.length; k++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        rnd[k] = seed >>> 24;
      }
      const s = net.connect({ port: d.port(), host: '127.0.0.1' });
      s.on('error', () => {});
      s.resume(); // read (and discard) what the daemon sends, so its close is seen
      s.write(Buffer.concat([HELLO, rnd]));
      await new Promise((r) => s.on('close', r));
    }
    bus.inject(makeFrame({ id: 0x55, data: [5] }));
    const got = await good.waitForFrames(1);
    expect(got.at(-1)?.id).toBe(0x55);
    expect(d.daemon.snapshot().totals.malformed).toBe(10);
    expect(good.closed).toBe(false);
  });
});

describe('backpressure', () => {
  /** Injects FD frames (70 bytes on the wire) until `cond` or the budget runs out. */
  async function flood(bus: VirtualBackend, start: number, cond: () => boolean, budget = 400_000): Promise<number> {
    let n = start;
    while (n - start < budget && !cond()) {
      for (let k = 0; k < 2000; k++, n++) {
        const data = new Uint8Array(64);
        new DataView(data.buffer).setUint32(0, n);
        bus.inject({ id: 0x100, len: 64, data, fd: true, fdFlags: 0, timestamp: 0 });
      }
      await tick();
    }
    return n - start;
  }

  it('drop: a client that stops reading loses frames (counted); the others lose nothing, in order', async () => {
    const { d, bus } = await start({ hubBuffer: 64, hubPolicy: 'drop' });
    const stalled = await client(d);
    const healthy = await client(d);
    await clientsConnected(d, 2);
    stalled.stall();
    const sent = await flood(bus, 0, () => d.daemon.snapshot().totals.hubDrops > 1000);
    await healthy.waitForFrames(sent, 20_000);
    const seqs = healthy.frames.map((f) => f.data.readUInt32BE(0));
    expect(seqs).toEqual(Array.from({ length: sent }, (_, k) => k));
    const snap = d.daemon.snapshot();
    const s = snap.clients.find((c) => c.drops > 0)!;
    expect(s.drops).toBeGreaterThan(1000);
    expect(snap.totals.hubDrops).toBe(s.drops);
    expect(s.queueDepth).toBeLessThanOrEqual(64);
    expect(snap.clients.find((c) => c.id !== s.id)?.drops).toBe(0);
    expect(stalled.closed).toBe(false);
  });

  it('kick: a client that stops reading is closed and counted; the others lose nothing', async () => {
    const { d, bus } = await start({ hubBuffer: 64, hubPolicy: 'kick' });
    const stalled = await client(d);
    const healthy = await client(d);
    await clientsConnected(d, 2);
    stalled.stall();
    const sent = await flood(bus, 0, () => d.daemon.snapshot().totals.kicked > 0);
    await healthy.waitForFrames(sent, 20_000);
    expect(healthy.frames.map((f) => f.data.readUInt32BE(0))).toEqual(Array.from({ length: sent }, (_, k) => k));
    expect(d.daemon.snapshot().totals.kicked).toBe(1);
    // A paused socket does not notice the close until it reads again.
    stalled.socket.resume();
    await stalled.waitClosed(5000);
    expect(events(d, 'client_kicked')[0]).toMatchObject({ reason: 'slow' });
  });
});

describe('connections', () => {
  it('--max-clients: an extra client is closed at once with nothing sent, and counted', async () => {
    const { d } = await start({ maxClients: 2 });
    await client(d);
    await client(d);
    const extra = await client(d, { hello: false });
    await extra.waitClosed();
    expect(extra.receivedHello).toBeNull();
    expect(d.daemon.snapshot().totals.rejected).toBe(1);
    expect(events(d, 'client_reject_max')).toHaveLength(1);
  });

  it('--client-read-timeout closes a silent client; frames from it keep it open', async () => {
    const { d } = await start({ clientReadTimeout: 300 });
    const silent = await client(d);
    const talker = await client(d);
    const timer = setInterval(() => talker.send(encode({ id: 1, data: [] })), 100);
    try {
      await silent.waitClosed(3000);
      expect(talker.closed).toBe(false);
    } finally {
      clearInterval(timer);
    }
  });

  it('by default a listen-only client is never closed for silence', async () => {
    const { d, bus } = await start({ handshakeTimeout: 100 });
    const listener = await client(d);
    await new Promise((r) => setTimeout(r, 600));
    bus.inject(makeFrame({ id: 0x9, data: [9] }));
    await listener.waitForFrames(1);
    expect(listener.closed).toBe(false);
  });

  it('logs client_connected and client_disconnected with conn_id and remote', async () => {
    const { d } = await start();
    const c = await client(d);
    await clientsConnected(d, 1);
    c.socket.resetAndDestroy();
    await c.waitClosed();
    await new Promise((r) => setTimeout(r, 50));
    const [con] = events(d, 'client_connected');
    const [dis] = events(d, 'client_disconnected');
    expect(con).toMatchObject({ conn_id: 1, bus: 'vbus0' });
    expect(String(con.remote)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(dis).toMatchObject({ conn_id: 1, reason: 'client_closed' });
  });

  it('kick by id (operator) closes that client and counts it', async () => {
    const { d } = await start();
    const a = await client(d);
    await client(d);
    await clientsConnected(d, 2);
    const id = d.daemon.snapshot().clients[0].id;
    expect(d.daemon.kick(id)).toBe(true);
    expect(d.daemon.kick(9999)).toBe(false);
    await a.waitClosed();
    await clientsConnected(d, 1);
    expect(d.daemon.snapshot().totals.kicked).toBe(1);
  });
});

describe('reload (SIGHUP)', () => {
  it('applies reloadable settings to running clients and backends, and names what changed', async () => {
    const { d, bus } = await start({ echo: 'others', maxClients: 0 });
    const a = await client(d);
    const b = await client(d);
    await clientsConnected(d, 2);
    a.send(encode({ id: 0x1, data: [1] }));
    await b.waitForFrames(1);
    const reconfigured: BackendReloadable[] = [];
    const next = { ...d.daemon.config, echo: 'none', maxClients: 2, txMaxAge: 500, canRxCoalesce: 8, flushInterval: 3, canRcvbuf: 1 << 20 } as Config;
    // The virtual bus has no TX queue; a backend that has one is handed the live settings and
    // takes its own from them (the socketcan backend test checks what it derives).
    Object.assign(bus, { reconfigure: (o: BackendReloadable) => reconfigured.push(o) });
    expect(d.daemon.reload(next).sort()).toEqual(['canRcvbuf', 'canRxCoalesce', 'echo', 'flushInterval', 'maxClients', 'txMaxAge']);
    expect(reconfigured).toMatchObject([{ txMaxAge: 500, canRxCoalesce: 8, flushInterval: 3, canRcvbuf: 1 << 20 }]);
    a.send(encode({ id: 0x2, data: [2] }));
    await new Promise((r) => setTimeout(r, 100));
    expect(b.frames.map((f) => f.id)).toEqual([0x1]);
    expect(d.daemon.snapshot().buses[0].txFrames).toBe(2);
    const third = await client(d, { hello: false });
    await third.waitClosed();
    expect(d.daemon.snapshot().totals.rejected).toBe(1);
  });
});

describe('reload (SIGHUP): what the options table says', () => {
  it('a changed structural setting is not applied and is logged as needing a restart', async () => {
    const { d } = await start();
    const next = { ...d.daemon.config, hubBuffer: 99, batchSize: 8 } as Config;
    expect(d.daemon.reload(next)).toEqual(['batchSize']);
    expect(events(d, 'reload_needs_restart')).toMatchObject([{ settings: 'hub-buffer', message: expect.stringContaining('restart needed for: hub-buffer') }]);
    expect(d.daemon.snapshot().daemon.config).toMatchObject({ 'hub-buffer': 512, 'batch-size': 8 });
  });

  it('--log-metrics-interval is reloadable: SIGHUP starts the metrics line, and stops it again', async () => {
    const d = await startTestDaemon({}, { services: (inputs) => createStandardServices(inputs, { controlSocketPath: null, env: {} }) });
    running = d;
    await new Promise((r) => setTimeout(r, 120));
    expect(events(d, 'metrics_snapshot')).toHaveLength(0);
    expect(d.daemon.reload({ ...d.daemon.config, logMetricsInterval: 40 } as Config)).toEqual(['logMetricsInterval']);
    await vi.waitFor(() => expect(events(d, 'metrics_snapshot').length).toBeGreaterThanOrEqual(2), { timeout: 3000 });
    d.daemon.reload({ ...d.daemon.config, logMetricsInterval: 0 } as Config);
    const n = events(d, 'metrics_snapshot').length;
    await new Promise((r) => setTimeout(r, 150));
    expect(events(d, 'metrics_snapshot').length).toBe(n);
  });
});

describe('listen addresses', () => {
  it('serves IPv6 clients on [::1]', async () => {
    let bus!: VirtualBackend;
    const d = await startTestDaemon(
      { listen: { host: '::1', port: 0 } },
      {
        backends: (c) => [
          (bus = createVirtualBackend({
            name: 'v6',
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
    expect(d.daemon.addresses()[0]).toMatch(/^\[::1\]:\d+$/);
    const c = await TestClient.connect(d.port(), { host: '::1' });
    clients.push(c);
    await clientsConnected(d, 1);
    bus.inject(makeFrame({ id: 0x66, data: [6] }));
    expect((await c.waitForFrames(1))[0].id).toBe(0x66);
    expect(d.daemon.snapshot().clients[0].remote).toMatch(/^\[::1\]:\d+$/);
  });

  it('two buses listen on consecutive ports, each with its own hub', async () => {
    const buses: VirtualBackend[] = [];
    const free = await freePortPair();
    const d = await startTestDaemon(
      { listen: { host: '127.0.0.1', port: free }, canIf: ['can0', 'can1'] },
      {
        backends: (c) =>
          c.canIf.map((name, index) => {
            const b = createVirtualBackend({
              name,
              index,
              rate: 0,
              payload: 'ampio',
              bitrate: c.bitrate,
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
    expect(d.daemon.addresses()).toEqual([`127.0.0.1:${free}`, `127.0.0.1:${free + 1}`]);
    const a = await TestClient.connect(free);
    const b = await TestClient.connect(free + 1);
    clients.push(a, b);
    await clientsConnected(d, 2);
    buses[0].inject(makeFrame({ id: 0x100, data: [0] }));
    buses[1].inject(makeFrame({ id: 0x101, data: [1] }));
    expect((await a.waitForFrames(1)).map((f) => f.id)).toEqual([0x100]);
    expect((await b.waitForFrames(1)).map((f) => f.id)).toEqual([0x101]);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.frames).toHaveLength(1);
    expect(b.frames).toHaveLength(1);
    expect(d.daemon.snapshot().buses.map((x) => [x.name, x.rxFrames, x.clients])).toEqual([
      ['can0', 1, 1],
      ['can1', 1, 1],
    ]);
  });
});

describe('shutdown', () => {
  it('flushes what is queued, closes clients, and stops within 2 s', async () => {
    const { d, bus } = await start({ flushInterval: 1000, batchSize: 4096 });
    const a = await client(d);
    await clientsConnected(d, 1);
    for (let n = 0; n < 10; n++) bus.inject(makeFrame({ id: 0x10, data: [n] }));
    const t0 = Date.now();
    await d.stop();
    running = null;
    await a.waitClosed();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(a.frames.map((f) => f.data[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a port in use fails start-up with a message that says what to do', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startTestDaemon({ listen: { host: '127.0.0.1', port } })).rejects.toMatchObject({
        code: 'listen_in_use',
        message: expect.stringContaining(`127.0.0.1:${port}`),
        hint: expect.stringContaining('--listen'),
      });
    } finally {
      blocker.close();
    }
  });
});
