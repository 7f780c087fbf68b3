// GVRET corners over real TCP, with clients written from what the real ones do (SavvyCAN,
// WireTAP's desktop and probe, a listen-only `E7 E7` client): which frames a client gets before
// and after the bridge knows what it is, WireTAP's bus-count probe on a busy bus, and the
// unusable-input limit counted in stream order.
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualBackend, type VirtualBackend } from '../../../../src/backends/virtual.js';
import type { Config } from '../../../../src/config/options.js';
import { makeFrame } from '../../../../src/core/frame.js';
import { startTestDaemon, type TestDaemon } from '../../../support/daemon.js';
import { SavvyCanClient } from '../../../support/savvycan-client.js';
import { openSocket } from '../../../support/stream-client.js';
import { until } from '../../../support/until.js';
import { WireTapClient } from '../../../support/wiretap-client.js';

let running: TestDaemon | null = null;
const closers: Array<() => void> = [];

afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await running?.stop();
  running = null;
});

async function start(overrides: Partial<Config> = {}): Promise<{ d: TestDaemon; buses: VirtualBackend[] }> {
  const buses: VirtualBackend[] = [];
  const d = await startTestDaemon(
    { canIf: ['vbus0', 'vbus1'], gvretListen: { host: '127.0.0.1', port: 0 }, ...overrides },
    {
      backends: () =>
        [0, 1].map((index) => {
          const bus = createVirtualBackend({
            name: `vbus${index}`,
            index,
            rate: 0,
            payload: 'ampio',
            bitrate: 125_000,
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

const gvretPort = (d: TestDaemon): number => d.daemon.port(0, 'gvret');

describe('GVRET: what a client gets before and after the bridge knows what it is', () => {
  it('a listen-only E7 E7 client gets zero-length, RTR and FD frames once the short window has passed; SavvyCAN never, counted in status and metrics', async () => {
    const { d, buses } = await start({ gvretFd: 'wiretap' });
    const listener = await WireTapClient.listen(gvretPort(d));
    closers.push(() => listener.close());
    const savvy = await SavvyCanClient.connect(gvretPort(d));
    closers.push(() => savvy.close());
    await savvy.waitConnected();
    await until(() => d.records.filter((r) => r.event === 'gvret_client_identified').length === 2, 'both clients identified', 5000, 10);
    expect(
      d.records
        .filter((r) => r.event === 'gvret_client_identified')
        .map((r) => r.client)
        .sort(),
    ).toEqual(['other', 'savvycan']);
    buses[0].inject(makeFrame({ id: 0x101 })); // zero-length
    buses[1].inject(makeFrame({ id: 0x102, rtr: true, len: 2 }));
    buses[0].inject(makeFrame({ id: 0x103, fd: true, data: new Array(12).fill(7) }));
    buses[1].inject(makeFrame({ id: 0x104, data: [4] }));
    await listener.until(
      () => listener.frames.length >= 4,
      5000,
      () => `4 frames at the listener (have ${listener.frames.length})`,
    );
    expect(listener.frames.map((f) => [f.id, f.bus, f.data.length, f.fd])).toEqual([
      [0x101, 0, 0, false],
      [0x102, 1, 0, false],
      [0x103, 0, 12, true],
      [0x104, 1, 1, false],
    ]);
    await savvy.until(() => savvy.frames.length >= 1, 5000, 'the one frame SavvyCAN can take');
    expect(savvy.frames.map((f) => f.id)).toEqual([0x104]);
    // What SavvyCAN was not sent is visible: per client in status, per bus in the metrics.
    const snap = d.daemon.snapshot();
    const savvyRow = snap.clients.find((c) => c.withheld !== undefined);
    expect(savvyRow?.withheld).toEqual({ zero_length: 1, rtr: 1, fd: 1 });
    expect(snap.clients.filter((c) => c.withheld !== undefined)).toHaveLength(1);
    const drops = d.daemon.counters().drops.filter((x) => x.reason.startsWith('withheld_'));
    expect(drops).toEqual(
      expect.arrayContaining([
        { bus: 'vbus0', direction: 'to_clients', reason: 'withheld_zero_length', count: 1 },
        { bus: 'vbus1', direction: 'to_clients', reason: 'withheld_rtr', count: 1 },
        { bus: 'vbus0', direction: 'to_clients', reason: 'withheld_fd', count: 1 },
      ]),
    );
  });

  it('frames on the bus inside the window are held, not lost: a listener gets every data frame from E7 on, in order', async () => {
    const { d, buses } = await start();
    const listener = await WireTapClient.listen(gvretPort(d));
    closers.push(() => listener.close());
    await until(() => d.daemon.snapshot().clients.length === 1, 'the listener connected', 5000, 10);
    for (let k = 0; k < 20; k++) buses[0].inject(makeFrame({ id: 0x200, data: [k] }));
    await listener.until(
      () => listener.frames.length >= 20,
      5000,
      () => `20 frames (have ${listener.frames.length})`,
    );
    expect(listener.frames.map((f) => f.data[0])).toEqual(Array.from({ length: 20 }, (_, k) => k));
  });
});

describe('GVRET: the hold is bounded by the queue too', () => {
  it('with --hub-buffer 8, frames inside the window are let go at half the queue: none dropped', async () => {
    const { d, buses } = await start({ hubBuffer: 8, batchSize: 1 });
    const listener = await WireTapClient.listen(gvretPort(d));
    closers.push(() => listener.close());
    await until(() => d.daemon.snapshot().clients.length === 1, 'the listener connected', 5000, 10);
    // 20 frames into a queue of 8 at once (each written as it comes, batch size 1): held whole, 12 would be dropped.
    for (let k = 0; k < 20; k++) buses[0].inject(makeFrame({ id: 0x400, data: [k] }));
    await listener.until(
      () => listener.frames.length >= 20,
      5000,
      () => `20 frames (have ${listener.frames.length})`,
    );
    expect(listener.frames.map((f) => f.data[0])).toEqual(Array.from({ length: 20 }, (_, k) => k));
    expect(d.daemon.snapshot().totals.hubDrops).toBe(0);
  });
});

describe("GVRET: WireTAP's bus-count probe on a busy bus", () => {
  it('reports both buses, 10 of 10 times, with 250+ frames/s on each bus (frames wait until its F1 0C is answered)', async () => {
    const { d, buses } = await start();
    let n = 0;
    // Bursts of 8 frames per bus every 10 ms (~800 frames/s per bus if the timers keep time).
    const t0 = performance.now();
    const traffic = setInterval(() => {
      for (let k = 0; k < 8; k++, n++) for (const b of buses) b.inject(makeFrame({ id: 0x300, data: [n & 0xff, 1, 2, 3, 4, 5, 6, 7] }));
    }, 10);
    closers.push(() => clearInterval(traffic));
    const counts: number[] = [];
    const during: number[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = n;
      counts.push(await WireTapClient.probe(gvretPort(d)));
      during.push(n - before);
    }
    clearInterval(traffic);
    // The condition that matters, whatever the machine's speed: frames were on the bus during
    // every probe (8 per bus take 160 bytes, more than the 128 the probe reads before it gives up).
    expect(Math.min(...during)).toBeGreaterThanOrEqual(8);
    console.log(`probe: ${Math.round(n / ((performance.now() - t0) / 1000))} frames/s per bus`);
    expect(counts).toEqual(new Array(10).fill(2));
  });
});

describe('GVRET: unusable input is counted in stream order', () => {
  it('300 junk bytes and one keepalive in one write close the session as malformed (the keepalive does not reset the run before it)', async () => {
    const { d } = await start();
    const socket: net.Socket = await openSocket(gvretPort(d), { noDelay: true });
    closers.push(() => socket.destroy());
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('data', () => {});
    socket.write(Buffer.from([0xe7, 0xe7, 0xf1, 0x07]));
    await until(() => d.daemon.snapshot().clients.length === 1, 'the client connected', 5000, 10);
    socket.write(Buffer.concat([Buffer.alloc(300, 0x00), Buffer.from([0xf1, 0x09])]));
    await until(() => closed, 'the session closed', 5000, 10);
    expect(d.records.find((r) => r.event === 'malformed_frame')).toMatchObject({ reason: 'gvret_not_gvret' });
  });
});
