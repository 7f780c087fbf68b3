// The Waveshare listener in a real daemon over TCP, next to cannelloni: one port per bus at
// --waveshare-listen port + i (as the device serves CAN1/CAN2), frames both ways across
// protocols, FD withheld and counted, the access rules, and the per-protocol counters.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVirtualBackend, type VirtualBackend } from '../../../../src/backends/virtual.js';
import type { Config } from '../../../../src/config/options.js';
import { CAN_EFF_FLAG, CAN_RTR_FLAG, makeFrame } from '../../../../src/core/frame.js';
import { parseAddressList } from '../../../../src/guard/address-list.js';
import { createMetricsRegistry } from '../../../../src/metrics/registry.js';
import { TestClient } from '../../../support/cannelloni-client.js';
import { startTestDaemon, type TestDaemon } from '../../../support/daemon.js';
import { freePortPair } from '../../../support/free-port.js';
import { waveshareRecord, WaveshareTestClient } from '../../../support/waveshare-client.js';

let running: TestDaemon | null = null;
const closers: Array<{ destroy(): void }> = [];

afterEach(async () => {
  for (const c of closers.splice(0)) c.destroy();
  await running?.stop();
  running = null;
});

async function start(overrides: Partial<Config> = {}, busNames = ['can0', 'can1']): Promise<{ d: TestDaemon; buses: VirtualBackend[] }> {
  const buses: VirtualBackend[] = [];
  const d = await startTestDaemon(
    { waveshareListen: { host: '127.0.0.1', port: 0 }, canIf: busNames, ...overrides },
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
  return { d, buses };
}

async function waveshare(port: number): Promise<WaveshareTestClient> {
  const c = await WaveshareTestClient.connect(port);
  closers.push(c);
  return c;
}

async function clientsConnected(d: TestDaemon, n: number): Promise<void> {
  await vi.waitFor(() => expect(d.daemon.snapshot().clients.length, `expected ${n} clients`).toBe(n), { timeout: 5000, interval: 10 });
}

describe('waveshare', () => {
  it('serves bus i at --waveshare-listen port + i, as the device serves CAN1 and CAN2', async () => {
    const base = await freePortPair();
    const { d, buses } = await start({ listen: { host: '127.0.0.1', port: 0 }, waveshareListen: { host: '127.0.0.1', port: base } });
    expect(
      d.daemon
        .listeners()
        .filter((l) => l.protocol === 'waveshare')
        .map((l) => [l.bus, l.port]),
    ).toEqual([
      [0, base],
      [1, base + 1],
    ]);
    const [c0, c1] = [await waveshare(base), await waveshare(base + 1)];
    await clientsConnected(d, 2);
    buses[0].inject(makeFrame({ id: 0x100, data: [0] }));
    buses[1].inject(makeFrame({ id: 0x101, data: [1] }));
    expect((await c0.waitForFrames(1)).map((f) => f.id)).toEqual([0x100]);
    expect((await c1.waitForFrames(1)).map((f) => f.id)).toEqual([0x101]);
    expect(
      d.daemon
        .snapshot()
        .clients.map((c) => [c.protocol, c.bus])
        .sort(),
    ).toEqual([
      ['waveshare', 'can0'],
      ['waveshare', 'can1'],
    ]);
    expect(d.records.find((r) => r.event === 'client_connected')).toMatchObject({ protocol: 'waveshare' });
  });

  it('a frame from a Waveshare client reaches the bus and cannelloni clients of that bus, and back', async () => {
    const { d, buses } = await start();
    const onBus1: number[] = [];
    d.daemon.bus(1)!.addTap({ received: () => {}, transmitted: (_b, f) => void onBus1.push(f.id) });
    const ws = await waveshare(d.daemon.port(1, 'waveshare'));
    const cn = await TestClient.connect(d.daemon.port(1, 'cannelloni'));
    closers.push(cn);
    await clientsConnected(d, 2);
    ws.send(
      waveshareRecord({ id: 0x321, data: [3, 2, 1] }),
      waveshareRecord({ id: (CAN_EFF_FLAG | 0x1234567) >>> 0, data: [9] }),
      waveshareRecord({ id: (CAN_RTR_FLAG | 0x55) >>> 0, len: 2 }),
    );
    const got = await cn.waitForFrames(3);
    expect(got.map((f) => [f.id >>> 0, f.len])).toEqual([
      [0x321, 3],
      [(CAN_EFF_FLAG | 0x1234567) >>> 0, 1],
      [(CAN_RTR_FLAG | 0x55) >>> 0, 2],
    ]);
    expect(onBus1).toEqual([0x321, (CAN_EFF_FLAG | 0x1234567) >>> 0, (CAN_RTR_FLAG | 0x55) >>> 0]);
    expect(buses[0]).toBeDefined();
    cn.send(Buffer.from([0, 0, 0x04, 0x56, 1, 0xaa]));
    expect((await ws.waitForFrames(1)).map((f) => [f.id, [...f.data]])).toEqual([[0x456, [0xaa]]]);
    expect(ws.invalid).toEqual([]);
    const counters = d.daemon.counters().byProtocol?.find((p) => p.protocol === 'waveshare');
    expect(counters).toMatchObject({ rxFrames: 3, accepted: 1 });
    // The Prometheus series carry protocol="waveshare".
    const text = await createMetricsRegistry({ source: d.daemon, build: { version: 'x', commit: null, date: null } }).metrics();
    expect(text).toMatch(/^tcp_rx_frames_total\{protocol="waveshare"\} 3$/m);
    expect(text).toMatch(/^hub_active_clients\{[^}]*protocol="waveshare"[^}]*\} 1$/m);
  });

  it('FD and error frames are withheld from Waveshare clients and counted in its log, never truncated', async () => {
    const { d, buses } = await start({ forwardErrors: true });
    const ws = await waveshare(d.daemon.port(0, 'waveshare'));
    await clientsConnected(d, 1);
    buses[0].inject({ id: 0x10, len: 16, data: new Uint8Array(16), fd: true, fdFlags: 1, timestamp: 0 });
    buses[0].inject({ id: 0x11, len: 8, data: new Uint8Array(8), fd: true, fdFlags: 0, timestamp: 0 });
    buses[0].inject(makeFrame({ id: 0x40, error: true, data: [0, 0, 0, 0, 0, 0, 0, 0] }));
    buses[0].inject(makeFrame({ id: 0x12, data: [1, 2] }));
    expect((await ws.waitForFrames(1)).map((f) => f.id)).toEqual([0x12]);
    expect(d.records.filter((r) => r.event === 'frames_withheld')).toHaveLength(1);
    ws.socket.resetAndDestroy();
    await clientsConnected(d, 0);
    expect(d.records.find((r) => r.event === 'frames_withheld_total')).toMatchObject({ fd: 2, error_frames: 1, protocol: 'waveshare' });
  });

  it('--tx-allow applies: a client outside it only listens (its frames are refused and counted)', async () => {
    const { d, buses } = await start({ txAllow: parseAddressList('10.0.0.0/8') });
    const ws = await waveshare(d.daemon.port(0, 'waveshare'));
    await clientsConnected(d, 1);
    ws.send(waveshareRecord({ id: 0x7, data: [7] }));
    await vi.waitFor(() => expect(d.daemon.counters().txRefused?.find((r) => r.protocol === 'waveshare')?.count).toBe(1));
    buses[0].inject(makeFrame({ id: 0x8, data: [8] }));
    expect((await ws.waitForFrames(1)).map((f) => f.id)).toEqual([0x8]);
  });

  it('--allow applies before the first byte: a refused peer gets nothing and is counted', async () => {
    const { d } = await start({ allow: parseAddressList('10.0.0.0/8') });
    const ws = await waveshare(d.daemon.port(0, 'waveshare'));
    await ws.waitClosed();
    expect(ws.frames).toEqual([]);
    expect(d.daemon.counters().rejected?.find((r) => r.protocol === 'waveshare')).toBeDefined();
  });
});
