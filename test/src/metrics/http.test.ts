// Prometheus scrape over real HTTP on 127.0.0.1:0, with exact values from a fake source;
// /ready transitions; /healthz; the metrics log line.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsHttpServer, MetricsHttpError, type MetricsHttpServer, type Readiness } from '../../../src/metrics/http.js';
import { createMetricsLogger, metricsLogFields } from '../../../src/metrics/log-metrics.js';
import type { DaemonCounters, MetricsSource } from '../../../src/metrics/metrics-source.js';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
import { fakeBus, fakeSnapshot } from '../../support/fake-snapshot.js';
import { httpGet } from '../../support/http.js';

function fakeCounters(): DaemonCounters {
  return {
    tcpRxFrames: 321,
    tcpTxFrames: 9876,
    errorsByWhere: { handshake: 1, decode: 3 },
    handshakeFailuresByReason: { timeout: 1, bad_hello: 2 },
    drops: [
      { bus: 'can0', direction: 'to_bus', reason: 'stale', count: 6 },
      { bus: 'can0', direction: 'to_clients', reason: 'client_slow', count: 10 },
    ],
    hubFanout: 2,
    hubQueueDepthMax: 17,
    hubQueueDepthAvg: 8.5,
    busLoad: [{ bus: 'can0', window: '1s', exact: 24.6 / 100, min: 0.22, max: 0.27 }],
    rejected: [{ reason: 'max_clients', protocol: 'cannelloni', count: 1 }],
    acceptResets: [{ protocol: 'gvret', count: 6 }],
    txRefused: [
      { reason: 'read_only', protocol: 'cannelloni', count: 40 },
      { reason: 'rate_limited', protocol: 'tcpcan', count: 2 },
    ],
    pendingClients: 3,
    acceptExhaustion: { failures: 5, refused: 7, exhausted: true },
  };
}

class Source implements MetricsSource {
  snap = fakeSnapshot();
  c = fakeCounters();
  snapshotCalls = 0;
  snapshot() {
    this.snapshotCalls++;
    return this.snap;
  }
  counters() {
    return this.c;
  }
}

const servers: MetricsHttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(source: MetricsSource, readiness: () => Readiness = () => ({ ready: true, reason: 'ready' })) {
  const logs: string[] = [];
  const registry = createMetricsRegistry({ source, build: { version: '1.2.3', commit: 'abc1234', date: '2025-01-01' } });
  const srv = createMetricsHttpServer({ host: '127.0.0.1', port: 0, registry, readiness, log: (_l, e) => logs.push(e) });
  servers.push(srv);
  const addr = await srv.start();
  return { port: addr.port, logs, srv };
}

const get = httpGet;

/** `name{labels} value` lines of an exposition, as a map. */
function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

describe('metrics over HTTP', () => {
  it('exports go-ampio-server names with exact values from the source', async () => {
    const source = new Source();
    source.snap = fakeSnapshot({
      buses: [
        fakeBus({ rxKernelDrops: 42, txUnconfirmed: 3, rxReadLate: 11 }),
        fakeBus({ name: '/dev/ttyUSB0', backend: 'serial', rxFrames: 70, txFrames: 7, busState: 'bus-off', backendState: 'absent', lastRxAgeSec: null }),
      ],
    });
    const { port } = await serve(source);
    const res = await get(port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    const s = samples(res.body);
    const expected: Record<string, number> = {
      serial_rx_frames_total: 70,
      serial_tx_frames_total: 7,
      socketcan_rx_frames_total: 1234,
      socketcan_tx_frames_total: 56,
      'tcp_rx_frames_total{protocol="cannelloni"}': 321,
      'tcp_tx_frames_total{protocol="cannelloni"}': 9876,
      hub_dropped_frames_total: 10,
      hub_kicked_clients_total: 1,
      'hub_rejected_clients_total{reason="max_clients",protocol="cannelloni"}': 1,
      'tcp_accept_reset_total{protocol="gvret"}': 6,
      'tx_refused_total{reason="read_only",protocol="cannelloni"}': 40,
      'tx_refused_total{reason="rate_limited",protocol="tcpcan"}': 2,
      hub_pending_clients: 3,
      accept_exhausted_total: 5,
      accept_paused: 1,
      'hub_active_clients{protocol="cannelloni"}': 2,
      hub_broadcast_fanout: 2,
      hub_queue_depth_max: 17,
      hub_queue_depth_avg: 8.5,
      'errors_total{where="handshake"}': 1,
      'errors_total{where="decode"}': 3,
      'errors_total{where="tcp_read"}': 0,
      'errors_total{where="socketcan_tx_overflow"}': 0,
      malformed_frames_total: 3,
      'build_info{version="1.2.3",commit="abc1234",date="2025-01-01"}': 1,
      'can_bus_load_ratio{bus="can0",bound="exact",window="1s"}': 24.6 / 100,
      'can_frames_per_second{bus="can0",dir="rx"}': 100,
      'can_frames_per_second{bus="can0",dir="tx"}': 3,
      'can_rx_frames_total{bus="/dev/ttyUSB0"}': 70,
      'can_bus_state{bus="can0"}': 0,
      'can_bus_state{bus="/dev/ttyUSB0"}': 3,
      'can_state_transitions_total{bus="can0"}': 4,
      'can_error_frames_total{bus="can0"}': 2,
      'frames_dropped_total{bus="can0",direction="to_bus",reason="stale"}': 6,
      'frames_dropped_total{bus="can0",direction="to_clients",reason="client_slow"}': 10,
      'can_tx_stale_drops_total{bus="can0"}': 6,
      'can_tx_queue_depth{bus="can0"}': 5,
      'can_tx_enobufs_total{bus="can0"}': 9,
      'backend_reconnects_total{bus="can0"}': 8,
      'can_rx_kernel_drops_total{bus="can0"}': 42,
      'can_tx_unconfirmed_total{bus="can0"}': 3,
      'can_rx_read_late_total{bus="can0"}': 11,
      'can_rx_read_late_total{bus="/dev/ttyUSB0"}': 0,
      'can_rx_kernel_drops_total{bus="/dev/ttyUSB0"}': 0,
      'backend_up{bus="can0"}': 1,
      'backend_up{bus="/dev/ttyUSB0"}': 0,
      'last_rx_age_seconds{bus="can0"}': 0.25,
      'handshake_failures_total{protocol="cannelloni",reason="timeout"}': 1,
      'handshake_failures_total{protocol="cannelloni",reason="bad_hello"}': 2,
      'hub_accepted_clients_total{protocol="cannelloni"}': 5,
      'hub_bus_clients{bus="can0",protocol="cannelloni"}': 2,
      'hub_bus_clients{bus="/dev/ttyUSB0",protocol="cannelloni"}': 0,
    };
    for (const [k, v] of Object.entries(expected)) expect([k, s.get(k)]).toEqual([k, v]);
    // no series for a bus that has not received anything yet
    expect(s.has('last_rx_age_seconds{bus="/dev/ttyUSB0"}')).toBe(false);
    // counters are typed as such (Prometheus rate() needs it)
    expect(res.body).toContain('# TYPE tcp_rx_frames_total counter');
    expect(res.body).toContain('# TYPE hub_active_clients gauge');
    // one snapshot per scrape, not one per metric
    expect(source.snapshotCalls).toBe(1);
  });

  it('follows the source between scrapes (counters read at scrape time)', async () => {
    const source = new Source();
    const { port } = await serve(source);
    expect(samples((await get(port, '/metrics')).body).get('tcp_rx_frames_total{protocol="cannelloni"}')).toBe(321);
    source.c = { ...source.c, tcpRxFrames: 400 };
    source.snap = fakeSnapshot({ totals: { ...fakeSnapshot().totals, kicked: 9 } });
    const s = samples((await get(port, '/metrics')).body);
    expect(s.get('tcp_rx_frames_total{protocol="cannelloni"}')).toBe(400);
    expect(s.get('hub_kicked_clients_total')).toBe(9);
  });

  it('exports min/max/exact bus load for 1 s and 60 s', async () => {
    const source = new Source();
    source.c = {
      ...fakeCounters(),
      busLoad: [
        { bus: 'can0', window: '1s', exact: 0.25, min: 0.222, max: 0.27 },
        { bus: 'can0', window: '60s', exact: 0.2, min: 0.18, max: 0.22 },
      ],
    };
    const { port } = await serve(source);
    const s = samples((await get(port, '/metrics')).body);
    expect(s.get('can_bus_load_ratio{bus="can0",bound="min",window="1s"}')).toBe(0.222);
    expect(s.get('can_bus_load_ratio{bus="can0",bound="max",window="1s"}')).toBe(0.27);
    expect(s.get('can_bus_load_ratio{bus="can0",bound="exact",window="60s"}')).toBe(0.2);
  });

  it('/ready follows readiness: 503 with the reason, then 200 "ready"', async () => {
    let r: Readiness = { ready: false, reason: 'can0: backend absent' };
    const { port } = await serve(new Source(), () => r);
    expect(await get(port, '/ready')).toMatchObject({ status: 503, body: 'not ready: can0: backend absent\n' });
    r = { ready: true, reason: 'ready' };
    expect(await get(port, '/ready')).toMatchObject({ status: 200, body: 'ready\n' });
    r = { ready: false, reason: 'can0: bus-off' };
    expect(await get(port, '/ready')).toMatchObject({ status: 503, body: 'not ready: can0: bus-off\n' });
  });

  it('/healthz, 404, 405 and HEAD', async () => {
    const { port } = await serve(new Source());
    expect(await get(port, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect((await get(port, '/nope')).status).toBe(404);
    expect((await get(port, '/metrics', 'POST')).status).toBe(405);
    expect(await get(port, '/metrics', 'HEAD')).toMatchObject({ status: 200, body: '' });
  });

  it('a snapshot that throws gives 500, logged, and the server keeps serving', async () => {
    const source = new Source();
    const { port, logs } = await serve(source);
    source.snapshot = () => {
      throw new Error('boom');
    };
    expect((await get(port, '/metrics')).status).toBe(500);
    expect(logs).toContain('metrics_collect_failed');
    expect((await get(port, '/healthz')).status).toBe(200);
  });

  it('a port in use fails start with a clear error', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const registry = createMetricsRegistry({ source: new Source(), build: { version: 'x', commit: null, date: null } });
      const srv = createMetricsHttpServer({ host: '127.0.0.1', port, registry, readiness: () => ({ ready: true, reason: '' }), log: () => {} });
      const err = await srv.start().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MetricsHttpError);
      expect((err as MetricsHttpError).code).toBe('metrics_addr_in_use');
      expect((err as Error).message).toContain('--metrics-addr');
    } finally {
      blocker.close();
    }
  });

  it('build_info uses "unknown" for a missing commit/date', async () => {
    const registry = createMetricsRegistry({ source: new Source(), build: { version: '0.1.0', commit: null, date: null } });
    expect(await registry.metrics()).toContain('build_info{version="0.1.0",commit="unknown",date="unknown"} 1');
  });
});

describe('metrics log', () => {
  it('logs metrics_snapshot with the go fields and ours on each tick', () => {
    const lines: Array<{ event: string; fields: Record<string, unknown> }> = [];
    let tick: (() => void) | null = null;
    const logger = createMetricsLogger({
      source: new Source(),
      intervalMs: 60_000,
      log: (_level, event, fields) => lines.push({ event, fields }),
      setInterval: (fn, ms) => {
        expect(ms).toBe(60_000);
        tick = fn;
        return 1;
      },
      clearInterval: () => {
        tick = null;
      },
    });
    logger.start();
    tick!();
    tick!();
    expect(lines).toHaveLength(2);
    expect(lines[0].event).toBe('metrics_snapshot');
    expect(lines[0].fields).toMatchObject({
      serial_rx: 0,
      socketcan_rx: 1234,
      serial_tx: 0,
      socketcan_tx: 56,
      tcp_rx: 321,
      tcp_tx: 9876,
      hub_drops: 10,
      errors: 4,
      clients: 2,
      can0_load_pct: 24.6,
      can0_state: 'error-active',
      can0_tx_drops: 13,
    });
    logger.stop();
    expect(tick).toBeNull();
  });

  it('interval 0 logs nothing', () => {
    let started = false;
    const logger = createMetricsLogger({ source: new Source(), intervalMs: 0, log: () => {}, setInterval: () => (started = true) });
    logger.start();
    expect(started).toBe(false);
  });

  it('device paths become safe field names', () => {
    const source = new Source();
    source.snap = fakeSnapshot({ buses: [fakeBus({ name: '/dev/ttyUSB0', backend: 'serial' })] });
    expect(Object.keys(metricsLogFields(source))).toContain('dev_ttyUSB0_load_pct');
  });
});
