// GVRET through the daemon over real TCP: one listener for both buses, the spec-written
// SavvyCAN and WireTAP clients, and cannelloni clients on each bus as independent peers.
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualBackend, type VirtualBackend } from '../../../../src/backends/virtual.js';
import type { Config } from '../../../../src/config/options.js';
import { makeFrame } from '../../../../src/core/frame.js';
import { encode, TestClient } from '../../../support/cannelloni-client.js';
import { startTestDaemon, type TestDaemon } from '../../../support/daemon.js';
import { SavvyCanClient } from '../../../support/savvycan-client.js';
import { WireTapClient } from '../../../support/wiretap-client.js';
import { until } from '../../../support/until.js';

let running: TestDaemon | null = null;
const closers: Array<{ close?(): void; destroy?(): void }> = [];

afterEach(async () => {
  for (const c of closers.splice(0)) (c.close ?? c.destroy)?.call(c);
  await running?.stop();
  running = null;
});

async function start(overrides: Partial<Config> = {}): Promise<{ d: TestDaemon; buses: VirtualBackend[] }> {
  const buses: VirtualBackend[] = [];
  const d = await startTestDaemon(
    { canIf: ['vbus0', 'vbus1'], gvretListen: { host: '127.0.0.1', port: 0 }, ...overrides },
    {
      backends: (_c) =>
        [0, 1].map((index) => {
          const bus = createVirtualBackend({
            name: `vbus${index}`,
            index,
            rate: 0,
            payload: 'ampio',
            bitrate: index === 0 ? 125_000 : 50_000,
            fd: true,
            now: () => performance.now(),
            wallClock: () => Date.now(),
          });
          buses.push(bus);
          return bus;
        }),
    },
  );
  running = d;
  return { d, buses };
}

/** Polls `cond` every 10 ms (for conditions no socket event signals, like a log line). */
const eventually = (cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> => until(cond, what, timeoutMs, 10);

const gvretPort = (d: TestDaemon): number => d.daemon.port(0, 'gvret');

async function savvy(d: TestDaemon): Promise<SavvyCanClient> {
  const c = await SavvyCanClient.connect(gvretPort(d));
  closers.push(c);
  await c.waitConnected();
  return c;
}

async function wiretap(d: TestDaemon): Promise<WireTapClient> {
  const c = await WireTapClient.connect(gvretPort(d));
  closers.push(c);
  await c.until(() => c.replies.get(0x07) === 1, 5000, 'the device info reply');
  return c;
}

async function cannelloni(d: TestDaemon, bus: number): Promise<TestClient> {
  const c = await TestClient.connect(d.port(bus));
  closers.push(c);
  return c;
}

describe('GVRET through the daemon', () => {
  it('SavvyCAN connects: one listener, bus count, the real bitrate of each bus; logged as protocol gvret', async () => {
    const { d } = await start();
    const c = await savvy(d);
    expect(c.numBuses).toBe(2);
    expect(c.bitrates).toEqual([125_000, 50_000]);
    expect(c.busEnabled).toEqual([true, true]);
    expect(c.deviceBuild).toBe(400);
    expect(d.records.filter((r) => r.event === 'tcp_listen').map((r) => [r.protocol, r.bus])).toContainEqual(['gvret', 'all']);
    expect(d.records.find((r) => r.event === 'client_connected' && r.protocol === 'gvret')).toBeDefined();
    expect(d.records.find((r) => r.event === 'gvret_client_identified')).toMatchObject({ client: 'savvycan' });
  });

  it('bus frames reach GVRET clients with the right bus; SavvyCAN never gets zero-length or FD frames, WireTAP gets both', async () => {
    const { d, buses } = await start({ gvretFd: 'wiretap' });
    const s = await savvy(d);
    const w = await wiretap(d);
    const t0 = Date.now();
    buses[0].inject(makeFrame({ id: 0x100, data: [1], timestamp: t0 }));
    buses[1].inject(makeFrame({ id: 0x101, timestamp: t0 })); // zero-length
    buses[1].inject(makeFrame({ id: 0x102, rtr: true, len: 2, timestamp: t0 }));
    buses[0].inject(makeFrame({ id: 0x103, fd: true, data: new Array(12).fill(7), timestamp: t0 }));
    buses[1].inject(makeFrame({ id: 0x18daf110, extended: true, data: [9, 9], timestamp: t0 }));
    await w.until(
      () => w.frames.length >= 5,
      5000,
      () => `5 frames at WireTAP (have ${w.frames.length})`,
    );
    await s.until(
      () => s.frames.length >= 2,
      5000,
      () => `2 frames at SavvyCAN (have ${s.frames.length})`,
    );
    expect(w.frames.map((f) => [f.id, f.bus, f.data.length, f.fd])).toEqual([
      [0x100, 0, 1, false],
      [0x101, 1, 0, false],
      [0x102, 1, 0, false],
      [0x103, 0, 12, true],
      [0x18daf110, 1, 2, false],
    ]);
    expect(s.frames.map((f) => [f.id, f.extended, f.bus, [...f.data]])).toEqual([
      [0x100, false, 0, [1]],
      [0x18daf110, true, 1, [9, 9]],
    ]);
    expect(s.stuckAt).toBeNull();
    // Receive time in µs, wrapping at 2^32, on the F1 01 clock.
    expect(s.frames[0].timestamp).toBe(Math.round(t0 * 1000) % 2 ** 32);
    await d.stop(); // the summary is logged when a session ends
    running = null;
    expect(d.records.find((r) => r.event === 'gvret_session_summary')).toMatchObject({
      client: 'savvycan',
      withheld_zero_length: 1,
      withheld_rtr: 1,
      withheld_fd: 1,
    });
  });

  it('frames from SavvyCAN and WireTAP go to the bus their bus byte names, and to the other GVRET session with that bus', async () => {
    const { d } = await start();
    const bus0 = await cannelloni(d, 0);
    const bus1 = await cannelloni(d, 1);
    const s = await savvy(d);
    const w = await wiretap(d);
    s.send({ id: 0x123, bus: 1, data: [1, 2, 3] });
    w.send({ id: 0x18daf110, extended: true, bus: 0, data: [0x55] });
    await bus1.until(() => bus1.frames.some((f) => f.id === 0x123), 5000, '0x123 on bus 1');
    await bus0.until(() => bus0.frames.some((f) => f.id === (0x80000000 | 0x18daf110) >>> 0), 5000, '0x18DAF110 on bus 0');
    expect(bus0.frames.some((f) => f.id === 0x123)).toBe(false);
    expect(bus1.frames.some((f) => (f.id & 0x1fffffff) === 0x18daf110)).toBe(false);
    await w.until(() => w.frames.some((f) => f.id === 0x123), 5000, 'the echo of SavvyCAN’s frame at WireTAP');
    await s.until(() => s.frames.some((f) => f.id === 0x18daf110), 5000, 'the echo of WireTAP’s frame at SavvyCAN');
    expect(w.frames.find((f) => f.id === 0x123)?.bus).toBe(1);
    expect(s.frames.find((f) => f.id === 0x18daf110)?.bus).toBe(0);
    // And from the bus side to both GVRET clients.
    bus1.send(encode({ id: 0x7ff, data: [0xe7, 0xe7, 0xf1] }));
    await s.until(() => s.frames.some((f) => f.id === 0x7ff), 5000, '0x7FF at SavvyCAN');
    expect(s.frames.find((f) => f.id === 0x7ff)).toMatchObject({ bus: 1, data: Buffer.from([0xe7, 0xe7, 0xf1]) });
  });

  it('an E7 E7 inside a TX payload is data, and a bus that does not exist is refused and counted', async () => {
    const { d } = await start();
    const bus0 = await cannelloni(d, 0);
    const w = await wiretap(d);
    w.send({ id: 0x10, bus: 0, data: [0xe7, 0xe7, 0xe7] });
    w.send({ id: 0x11, bus: 7, data: [1] });
    w.send({ id: 0x12, bus: 0, data: [2] });
    await bus0.until(() => bus0.frames.some((f) => f.id === 0x12), 5000, '0x12 on bus 0');
    expect(bus0.frames.map((f) => [f.id, [...f.data]])).toEqual([
      [0x10, [0xe7, 0xe7, 0xe7]],
      [0x12, [2]],
    ]);
    expect(d.daemon.snapshot().totals.malformed).toBe(1);
  });

  it('keepalive replies go out ahead of frames still queued for that client', async () => {
    // A long flush interval keeps bus frames queued: the reply must not wait behind them.
    const { d, buses } = await start({ flushInterval: 400, batchSize: 4096 });
    const s = await savvy(d);
    const seen: string[] = [];
    s.socket.on('data', (b: Buffer) => seen.push(b.toString('hex')));
    for (let k = 0; k < 50; k++) buses[0].inject(makeFrame({ id: 0x200, data: [k] }));
    await new Promise((r) => setTimeout(r, 20));
    s.write([0xf1, 0x09]);
    await s.until(() => s.frames.length >= 50, 5000, '50 frames');
    const stream = seen.join('');
    expect(stream.indexOf('f109dead')).toBeGreaterThanOrEqual(0);
    expect(stream.indexOf('f109dead')).toBeLessThan(stream.indexOf('f100'));
  });

  it('bus settings from a client are ignored: the bitrate stays what the bridge serves', async () => {
    const { d } = await start();
    const s = await savvy(d);
    s.write([0xf1, 0x05, 0x20, 0xa1, 0x07, 0xc0, 0x20, 0xa1, 0x07, 0xc0, 0x00, 0xf1, 0x06]);
    await eventually(() => d.records.some((r) => r.event === 'gvret_command_ignored'), 'the log line');
    expect(d.records.find((r) => r.event === 'gvret_command_ignored')).toMatchObject({
      command: 'F1 05',
      requested: 'bus0 500000 bit/s on, bus1 500000 bit/s on',
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(s.bitrates).toEqual([125_000, 50_000]);
  });

  it("WireTAP's probe reads the bus count", async () => {
    const { d } = await start();
    expect(await WireTapClient.probe(gvretPort(d))).toBe(2);
  });
});
