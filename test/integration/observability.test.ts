// Observability end to end, in-process: a real daemon (virtual bus, TCP on 127.0.0.1:0)
// with the standard services (control socket, metrics HTTP), a known workload, then
// `status --json`, a Prometheus scrape and /ready, all with exact numbers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackendSink, CanBackend } from '../../src/backends/types.js';
import { createVirtualBackend, type VirtualBackend } from '../../src/backends/virtual.js';
import { run as status } from '../../src/cli/commands/status.js';
import { ControlClient } from '../../src/control/control-client.js';
import type { DaemonEvent, Snapshot } from '../../src/control/protocol.js';
import { type CanFrame, type FrameOrigin, makeFrame } from '../../src/core/frame.js';
import { createDaemon, createStandardServices, type Daemon } from '../../src/daemon.js';
import { encode, TestClient } from '../support/cannelloni-client.js';
import { captureCli } from '../support/cli-context.js';
import { recordingLogger, testConfig, type LogRecord } from '../support/daemon.js';
import { httpGet } from '../support/http.js';

/** A bus whose device the test can pull out and plug back in (what a USB adapter does). */
class UnpluggableBackend implements CanBackend {
  readonly info = { kind: 'virtual' as const, name: 'vbus0', fd: false, bitrate: 50_000 };
  private sink: BackendSink | null = null;
  private reopens = 0;
  async start(sink: BackendSink): Promise<void> {
    this.sink = sink;
    sink.stateChanged('open', 'error-active', 'up');
  }
  async stop(): Promise<void> {
    this.sink?.stateChanged('closed', 'stopped', 'stopped');
    this.sink = null;
  }
  send(frame: CanFrame, origin: FrameOrigin) {
    queueMicrotask(() => this.sink?.transmitted(frame, origin));
    return { ok: true as const };
  }
  counters() {
    return { txQueueDepth: 0, reopens: this.reopens };
  }
  unplug(): void {
    this.sink?.stateChanged('absent', 'absent', 'device gone');
  }
  plugBackIn(): void {
    this.reopens++;
    this.sink?.stateChanged('open', 'error-active', 'device back');
  }
}

/** Daemon start time on the test clock; the workload runs at T0 + 1. */
const T0 = 1_000_000;

interface Running {
  daemon: Daemon;
  bus: VirtualBackend;
  unpluggable: UnpluggableBackend;
  sock: string;
  metricsPort: number;
  records: LogRecord[];
  clock: { t: number };
}

let running: Running | null = null;
let dir = '';
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await running?.daemon.stop();
  running = null;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * The daemon runs on a clock the test holds still, so the 1-second bus-load window and the
 * frame rates cover exactly the workload however slow this machine is.
 */
async function start(kind: 'virtual' | 'unpluggable' = 'virtual'): Promise<Running> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-obs-'));
  const sock = path.join(dir, 'control.sock');
  const clock = { t: T0 };
  const { log, records } = recordingLogger();
  const config = testConfig({ metricsAddr: { host: '127.0.0.1', port: 0 }, bitrate: 50_000 });
  let bus!: VirtualBackend;
  const unpluggable = new UnpluggableBackend();
  const daemon = createDaemon(config, {
    log,
    build: { version: '9.8.7', commit: 'cafe123', date: '2025-02-03' },
    hostname: 'testhost',
    now: () => clock.t,
    controlSocketPath: sock,
    createBackends: (c) => {
      if (kind === 'unpluggable') return [unpluggable];
      bus = createVirtualBackend({
        name: 'vbus0',
        index: 0,
        rate: 0,
        payload: 'ampio',
        bitrate: c.bitrate,
        fd: false,
        now: () => clock.t,
        wallClock: () => Date.now(),
      });
      return [bus];
    },
    services: (d) => createStandardServices(d, { controlSocketPath: sock, env: {} }),
  });
  await daemon.start();
  const listen = records.find((r) => r.event === 'metrics_listen');
  const metricsPort = Number(String(listen?.addr).split(':').pop());
  running = { daemon, bus, unpluggable, sock, metricsPort, records, clock };
  return running;
}

async function get(port: number, p: string): Promise<{ status: number; body: string }> {
  const { status, body } = await httpGet(port, p);
  return { status, body };
}

function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Polls until `cond` holds (vi.waitFor), failing with what was awaited. */
function waitFor(cond: () => boolean, what: string): Promise<void> {
  return vi.waitFor(
    () => {
      if (!cond()) throw new Error(`timed out waiting for ${what}`);
    },
    { timeout: 5000, interval: 10 },
  );
}

/**
 * The workload: 100 standard 8-byte frames of zeros from the bus (125 bits each as
 * canbusload -e counts them), and 7 empty standard frames 0x123 sent by one client
 * (48 bits each). 50 kbit/s: (100·125 + 7·48) / 50 000 = 25.672 %.
 */
async function workload(r: Running): Promise<TestClient> {
  r.clock.t = T0 + 1;
  const c = await TestClient.connect(r.daemon.port());
  clients.push(c);
  await waitFor(() => r.daemon.snapshot().clients.length === 1, 'the client handshake');
  for (let i = 0; i < 100; i++) r.bus.inject(makeFrame({ id: 0x123, data: [0, 0, 0, 0, 0, 0, 0, 0] }));
  for (let i = 0; i < 7; i++) c.send(encode({ id: 0x123 }));
  await c.waitForFrames(100);
  await waitFor(() => r.daemon.snapshot().buses[0].txFrames === 7, 'the 7 client frames on the bus');
  return c;
}

describe('observability end to end', () => {
  it('status --json after a known workload shows exact counters', async () => {
    const r = await start();
    await workload(r);
    const cli = captureCli();
    expect(await status(['--json', '--control-socket', r.sock], cli.ctx)).toBe(0);
    const s = JSON.parse(cli.stdout()) as Snapshot;
    expect(s.daemon).toMatchObject({ version: '9.8.7', commit: 'cafe123', buildDate: '2025-02-03', backend: 'virtual', controlSocket: r.sock, mdnsName: null });
    expect(s.daemon.metricsAddr).toBe('127.0.0.1:0');
    expect(s.buses).toHaveLength(1);
    expect(s.buses[0]).toMatchObject({
      name: 'vbus0',
      backendState: 'open',
      bitrate: 50_000,
      rxFrames: 100,
      txFrames: 7,
      rxFps: 100,
      txFps: 7,
      busLoad: 25.67,
      clients: 1,
    });
    expect(s.clients).toHaveLength(1);
    // bytes in: the 12-byte hello, then 5 bytes per empty classic frame
    expect(s.clients[0]).toMatchObject({ framesOut: 100, framesIn: 7, bytesIn: 12 + 7 * 5, drops: 0 });
    expect(s.totals).toEqual({ active: 1, accepted: 1, rejected: 0, kicked: 0, handshakeFailures: 0, malformed: 0, hubDrops: 0 });
  });

  it('a Prometheus scrape matches the same workload', async () => {
    const r = await start();
    await workload(r);
    const res = await get(r.metricsPort, '/metrics');
    expect(res.status).toBe(200);
    const b = res.body;
    expect(sample(b, 'tcp_rx_frames_total{protocol="cannelloni"}')).toBe(7);
    expect(sample(b, 'tcp_tx_frames_total{protocol="cannelloni"}')).toBe(100);
    expect(sample(b, 'hub_active_clients{protocol="cannelloni"}')).toBe(1);
    expect(sample(b, 'hub_dropped_frames_total')).toBe(0);
    expect(sample(b, 'malformed_frames_total')).toBe(0);
    expect(sample(b, 'build_info{version="9.8.7",commit="cafe123",date="2025-02-03"}')).toBe(1);
    expect(sample(b, 'can_rx_frames_total{bus="vbus0"}')).toBe(100);
    expect(sample(b, 'can_tx_frames_total{bus="vbus0"}')).toBe(7);
    expect(sample(b, 'backend_up{bus="vbus0"}')).toBe(1);
    // bus load: exact as canbusload -e, and the no-stuffing / worst-case bounds
    expect(sample(b, 'can_bus_load_ratio{bus="vbus0",bound="exact",window="1s"}')).toBeCloseTo((100 * 125 + 7 * 48) / 50_000, 12);
    expect(sample(b, 'can_bus_load_ratio{bus="vbus0",bound="min",window="1s"}')).toBeCloseTo((100 * 111 + 7 * 47) / 50_000, 12);
    expect(sample(b, 'can_bus_load_ratio{bus="vbus0",bound="max",window="1s"}')).toBeCloseTo((100 * 135 + 7 * 55) / 50_000, 12);
    // The first one-second sample closes 1000 ms after the daemon started (the workload ran
    // 1 ms in): it holds the workload, and the sliding window still does too.
    r.clock.t = T0 + 1000;
    expect(r.daemon.snapshot().buses[0]).toMatchObject({ busLoad: 25.67, busLoadHistory: [25.67] });
    // one more millisecond and the workload has left the 1 s window
    r.clock.t = T0 + 1001;
    const later = (await get(r.metricsPort, '/metrics')).body;
    expect(sample(later, 'can_bus_load_ratio{bus="vbus0",bound="exact",window="1s"}')).toBe(0);
    expect(sample(later, 'can_bus_load_ratio{bus="vbus0",bound="exact",window="60s"}')).toBeCloseTo((100 * 125 + 7 * 48) / 50_000, 12);
  });

  it('/ready: 200 while the backend is open, 503 with the reason when it goes absent, 200 again after reopen', async () => {
    const r = await start('unpluggable');
    expect(await get(r.metricsPort, '/ready')).toEqual({ status: 200, body: 'ready\n' });
    expect(await get(r.metricsPort, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    const c = await ControlClient.connect(r.sock);
    const events: DaemonEvent[] = [];
    c.on('event', (e: DaemonEvent) => events.push(e));
    await c.subscribe(1000);
    r.unpluggable.unplug();
    expect(await get(r.metricsPort, '/ready')).toEqual({ status: 503, body: 'not ready: vbus0: backend absent\n' });
    const s = await c.snapshot();
    expect(s.buses[0].backendState).toBe('absent');
    const scrape = (await get(r.metricsPort, '/metrics')).body;
    expect(sample(scrape, 'backend_up{bus="vbus0"}')).toBe(0);
    r.unpluggable.plugBackIn();
    expect(await get(r.metricsPort, '/ready')).toEqual({ status: 200, body: 'ready\n' });
    await waitFor(() => events.some((e) => e.kind === 'backend_reopened'), 'the backend_reopened event');
    expect(events.map((e) => e.kind)).toContain('backend_absent');
    expect(sample((await get(r.metricsPort, '/metrics')).body, 'backend_reconnects_total{bus="vbus0"}')).toBe(1);
    c.close();
  });
});
