// Prometheus metrics, read at scrape time from the daemon's plain counters.
//
// Why collect() callbacks instead of inc() on the hot path: the daemon already keeps the
// numbers (for the control socket snapshot); a prom-client inc() per frame would cost a
// label hash lookup per frame for nothing. At scrape time we take one snapshot and one
// counters() reading and copy them into the metric objects.
//
// Names are go-ampio-server's where it has them (serial_rx_frames_total, tcp_tx_frames_total,
// hub_*, errors_total{where}, malformed_frames_total, build_info), so existing dashboards and
// alerts keep working; the per-bus ones (bus state, error counters, load, TX drops) carry a `bus` label.
// No per-client labels (unbounded cardinality).
import { registerAmpioMetrics } from '../ampio/metrics.js';
import { BUS_STATE_CODE } from '../core/bus-state.js';
import { GO_ERROR_WHERE } from '../core/error-where.js';
import client from 'prom-client';
import type { BusSnapshot, Snapshot } from '../control/protocol.js';
import { registerCaptureMetrics, registerMqttMetrics, registerWebMetrics } from './feature-metrics.js';
import { type DaemonCounters, type MetricFactory, type MetricsSource, type ProtocolCounters, type Reading, readSource } from './metrics-source.js';

/** Per-protocol counters, or the totals as cannelloni's for a source that has none. */
function protocolCounters(r: { snap: Snapshot; counters: DaemonCounters }): ProtocolCounters[] {
  return (
    r.counters.byProtocol ?? [
      {
        protocol: 'cannelloni',
        rxFrames: r.counters.tcpRxFrames,
        txFrames: r.counters.tcpTxFrames,
        accepted: r.snap.totals.accepted,
        handshakeFailuresByReason: r.counters.handshakeFailuresByReason,
      },
    ]
  );
}

/** Clients per protocol (and bus) now; 0 for every protocol that is served. */
function activeClients(r: { snap: Snapshot; counters: DaemonCounters }, perBus: boolean): Map<string, { protocol: string; bus?: string; n: number }> {
  const out = new Map<string, { protocol: string; bus?: string; n: number }>();
  const key = (protocol: string, bus?: string): string => `${protocol}\0${bus ?? ''}`;
  for (const p of protocolCounters(r)) {
    if (!perBus) out.set(key(p.protocol), { protocol: p.protocol, n: 0 });
    else for (const b of r.snap.buses) out.set(key(p.protocol, b.name), { protocol: p.protocol, bus: b.name, n: 0 });
  }
  for (const c of r.snap.clients) {
    const protocol = c.protocol ?? 'cannelloni';
    const k = key(protocol, perBus ? c.bus : undefined);
    const e = out.get(k) ?? { protocol, bus: perBus ? c.bus : undefined, n: 0 };
    e.n++;
    out.set(k, e);
  }
  return out;
}

export interface MetricsRegistryOptions {
  source: MetricsSource;
  build: { version: string; commit: string | null; date: string | null };
  /** Also export prom-client's process_* and nodejs_* metrics (as Go exports its go and process metrics). */
  defaultMetrics?: boolean;
  /** Frame capture is on (--capture), and forwarding to PostgreSQL (--pg-url): adds the capture_* series. */
  capture?: { forwarding: boolean };
  /** MQTT is on (--mqtt-url): adds the mqtt_* series. */
  mqtt?: boolean;
  /** The web page's server is on (--http-listen): adds the web_* series. */
  web?: boolean;
  /** The Ampio house layer is on (--ampio): adds the ampio_* series. */
  ampio?: boolean;
}

export interface MetricsRegistry {
  readonly registry: client.Registry;
  /** The exposition text for one scrape (one snapshot for all metrics). */
  metrics(): Promise<string>;
  readonly contentType: string;
}

export function createMetricsRegistry(opts: MetricsRegistryOptions): MetricsRegistry {
  const registry = new client.Registry();
  const { source } = opts;

  // One reading per scrape: every collect() below shares it.
  let scrape: Reading | null = null;
  const read = (): Reading => scrape ?? readSource(source);

  // Every series is filled at scrape time from the one reading: reset, then fill. One factory
  // for both kinds (prom-client's Counter and Gauge take the same configuration).
  const factory =
    <M extends client.Counter<string> | client.Gauge<string>>(
      Kind: new (config: { name: string; help: string; labelNames: string[]; registers: client.Registry[]; collect: (this: M) => void }) => M,
    ): MetricFactory<M> =>
    (name, help, labelNames, fill) => {
      new Kind({
        name,
        help,
        labelNames,
        registers: [registry],
        collect() {
          this.reset();
          fill(this, read());
        },
      });
    };
  const counter = factory<client.Counter<string>>(client.Counter);
  const gauge = factory<client.Gauge<string>>(client.Gauge);
  const sumBuses = (r: Reading, kind: BusSnapshot['backend'], field: 'rxFrames' | 'txFrames'): number =>
    r.snap.buses.reduce((acc, b) => (b.backend === kind ? acc + b[field] : acc), 0);

  // ------------------------------------------------------------ go-ampio-server names
  counter('serial_rx_frames_total', 'Total CAN frames decoded from the serial link.', [], (m, r) => m.inc(sumBuses(r, 'serial', 'rxFrames')));
  counter('serial_tx_frames_total', 'Total CAN frames written to the serial link.', [], (m, r) => m.inc(sumBuses(r, 'serial', 'txFrames')));
  counter('socketcan_rx_frames_total', 'Total CAN frames read from the SocketCAN interface.', [], (m, r) => m.inc(sumBuses(r, 'socketcan', 'rxFrames')));
  counter('socketcan_tx_frames_total', 'Total CAN frames written to the SocketCAN interface.', [], (m, r) => m.inc(sumBuses(r, 'socketcan', 'txFrames')));
  // go-ampio-server's names; the `protocol` label tells the wire protocols apart (cannelloni's
  // values are what go-ampio-server reported).
  counter('tcp_rx_frames_total', 'Total CAN frames received from TCP clients.', ['protocol'], (m, r) => {
    for (const p of protocolCounters(r)) m.inc({ protocol: p.protocol }, p.rxFrames);
  });
  counter('tcp_tx_frames_total', 'Total CAN frames sent to TCP clients.', ['protocol'], (m, r) => {
    for (const p of protocolCounters(r)) m.inc({ protocol: p.protocol }, p.txFrames);
  });
  counter('hub_dropped_frames_total', 'Total CAN frames dropped by hub due to slow clients.', [], (m, r) => m.inc(r.snap.totals.hubDrops));
  counter('hub_kicked_clients_total', 'Total clients disconnected due to backpressure kick policy or by the operator.', [], (m, r) =>
    m.inc(r.snap.totals.kicked),
  );
  counter(
    'hub_rejected_clients_total',
    'Total client connection attempts rejected, by reason (not_allowed, max_clients, max_clients_per_host, pending_evicted, no_descriptors) and protocol.',
    ['reason', 'protocol'],
    (m, r) => {
      for (const x of r.counters.rejected ?? []) m.inc({ reason: x.reason, protocol: x.protocol }, x.count);
    },
  );
  counter(
    'tcp_accept_reset_total',
    'Connections their peer reset before the bridge accepted them (a client that gave up at once, a port scan): not refusals.',
    ['protocol'],
    (m, r) => {
      for (const x of r.counters.acceptResets ?? []) m.inc({ protocol: x.protocol }, x.count);
    },
  );
  counter(
    'tx_refused_total',
    "Frames from clients their session's TX guard refused, by reason (read_only, id_not_allowed, rate_limited) and protocol.",
    ['reason', 'protocol'],
    (m, r) => {
      for (const x of r.counters.txRefused ?? []) m.inc({ reason: x.reason, protocol: x.protocol }, x.count);
    },
  );
  gauge('hub_pending_clients', 'Connections still negotiating their protocol (they hold no client slot).', [], (m, r) => m.set(r.counters.pendingClients ?? 0));
  counter('accept_exhausted_total', 'accept() failures because the process was out of file descriptors (EMFILE/ENFILE).', [], (m, r) =>
    m.inc(r.counters.acceptExhaustion?.failures ?? 0),
  );
  gauge('accept_paused', '1 while accepting on the bus ports is paused for lack of file descriptors.', [], (m, r) =>
    m.set(r.counters.acceptExhaustion?.exhausted ? 1 : 0),
  );
  gauge('hub_active_clients', 'Current number of active connected clients.', ['protocol'], (m, r) => {
    for (const e of activeClients(r, false).values()) m.set({ protocol: e.protocol }, e.n);
  });
  gauge('hub_broadcast_fanout', 'Number of clients targeted in the most recent broadcast.', [], (m, r) => m.set(r.counters.hubFanout));
  gauge('hub_queue_depth_max', 'Max queued frames among clients at scrape time.', [], (m, r) => m.set(r.counters.hubQueueDepthMax));
  gauge('hub_queue_depth_avg', 'Average queued frames per client at scrape time.', [], (m, r) => m.set(r.counters.hubQueueDepthAvg));
  counter('errors_total', 'Error counters by subsystem.', ['where'], (m, r) => {
    // go-ampio-server's labels at 0, so alerts written for it see the series.
    for (const where of GO_ERROR_WHERE) m.inc({ where }, 0);
    for (const [where, n] of Object.entries(r.counters.errorsByWhere)) m.inc({ where }, n);
  });
  counter('can_tx_enobufs_total', 'Sends the CAN device refused for a moment (ENOBUFS, full queue) and that were retried.', ['bus'], (m, r) => {
    for (const b of r.snap.buses) m.inc({ bus: b.name }, b.txRetries ?? 0);
  });
  counter('malformed_frames_total', 'Total rejected malformed frames (protocol violations, invalid length, truncated).', [], (m, r) =>
    m.inc(r.snap.totals.malformed),
  );
  const build = new client.Gauge({
    name: 'build_info',
    help: 'Build metadata (value is always 1).',
    labelNames: ['version', 'commit', 'date'],
    registers: [registry],
  });
  build.set({ version: opts.build.version, commit: opts.build.commit ?? 'unknown', date: opts.build.date ?? 'unknown' }, 1);

  // ------------------------------------------------------------ ours, per bus
  const perBus = (r: Reading, fn: (b: BusSnapshot) => void): void => r.snap.buses.forEach(fn);

  gauge(
    'can_bus_load_ratio',
    'Bus load (1 = 100 %) from exact frame bit counts; bound=exact|min|max (no / worst-case stuffing).',
    ['bus', 'bound', 'window'],
    (m, r) => {
      for (const l of r.counters.busLoad) {
        m.set({ bus: l.bus, bound: 'exact', window: l.window }, l.exact);
        m.set({ bus: l.bus, bound: 'min', window: l.window }, l.min);
        m.set({ bus: l.bus, bound: 'max', window: l.window }, l.max);
      }
    },
  );
  gauge('can_frames_per_second', 'Frames per second over the last second.', ['bus', 'dir'], (m, r) =>
    perBus(r, (b) => {
      m.set({ bus: b.name, dir: 'rx' }, b.rxFps);
      m.set({ bus: b.name, dir: 'tx' }, b.txFps);
    }),
  );
  counter('can_rx_frames_total', 'Frames read from the bus.', ['bus'], (m, r) => perBus(r, (b) => m.inc({ bus: b.name }, b.rxFrames)));
  counter('can_tx_frames_total', 'Frames written to the bus.', ['bus'], (m, r) => perBus(r, (b) => m.inc({ bus: b.name }, b.txFrames)));
  gauge(
    'can_bus_state',
    'CAN controller state: 0 error-active, 1 error-warning, 2 error-passive, 3 bus-off, 4 down/stopped, 5 absent, 6 unknown.',
    ['bus'],
    (m, r) => perBus(r, (b) => m.set({ bus: b.name }, BUS_STATE_CODE[b.busState] ?? 6)),
  );
  counter('can_state_transitions_total', 'Bus state changes.', ['bus'], (m, r) => perBus(r, (b) => m.inc({ bus: b.name }, b.stateTransitions)));
  counter(
    'can_rx_kernel_drops_total',
    'Received frames the kernel dropped because the bridge read them too late (socket receive buffer full; SocketCAN).',
    ['bus'],
    (m, r) => perBus(r, (b) => m.inc({ bus: b.name }, b.rxKernelDrops ?? 0)),
  );
  counter(
    'can_rx_read_late_total',
    'Received frames not sent to clients because the bridge read them more than --client-max-lag after the kernel got them (SocketCAN).',
    ['bus'],
    (m, r) => perBus(r, (b) => m.inc({ bus: b.name }, b.rxReadLate ?? 0)),
  );
  counter(
    'can_tx_unconfirmed_total',
    'Frames written to the interface that it never confirmed as transmitted within --tx-max-age (SocketCAN).',
    ['bus'],
    (m, r) => perBus(r, (b) => m.inc({ bus: b.name }, b.txUnconfirmed ?? 0)),
  );
  counter('can_error_frames_total', 'Error frames reported by the controller.', ['bus'], (m, r) => perBus(r, (b) => m.inc({ bus: b.name }, b.errorFrames)));
  counter('frames_dropped_total', 'Frames given up, by bus, direction and reason.', ['bus', 'direction', 'reason'], (m, r) => {
    for (const d of r.counters.drops) m.inc({ bus: d.bus, direction: d.direction, reason: d.reason }, d.count);
  });
  counter('can_tx_stale_drops_total', 'Frames toward the bus dropped because they waited longer than --tx-max-age.', ['bus'], (m, r) =>
    perBus(r, (b) => m.inc({ bus: b.name }, b.staleDrops)),
  );
  gauge('can_tx_queue_depth', 'Frames waiting to be written to the bus.', ['bus'], (m, r) => perBus(r, (b) => m.set({ bus: b.name }, b.txQueueDepth)));
  counter('backend_reconnects_total', 'Times the backend reopened its device after it went away.', ['bus'], (m, r) =>
    perBus(r, (b) => m.inc({ bus: b.name }, b.reopens)),
  );
  gauge('backend_up', '1 when the backend device is open.', ['bus'], (m, r) => perBus(r, (b) => m.set({ bus: b.name }, b.backendState === 'open' ? 1 : 0)));
  gauge('last_rx_age_seconds', 'Seconds since the last frame was received (absent until the first one).', ['bus'], (m, r) =>
    perBus(r, (b) => {
      if (b.lastRxAgeSec !== null) m.set({ bus: b.name }, b.lastRxAgeSec);
    }),
  );
  gauge('hub_bus_clients', 'Connected clients per bus and protocol.', ['bus', 'protocol'], (m, r) => {
    for (const e of activeClients(r, true).values()) m.set({ bus: e.bus ?? '', protocol: e.protocol }, e.n);
  });
  counter(
    'handshake_failures_total',
    'Connections that did not complete the protocol hello/negotiation, by protocol and reason.',
    ['protocol', 'reason'],
    (m, r) => {
      for (const p of protocolCounters(r)) for (const [reason, n] of Object.entries(p.handshakeFailuresByReason)) m.inc({ protocol: p.protocol, reason }, n);
    },
  );
  counter('hub_accepted_clients_total', 'Clients that completed the handshake.', ['protocol'], (m, r) => {
    for (const p of protocolCounters(r)) m.inc({ protocol: p.protocol }, p.accepted);
  });
  counter('udp_datagrams_lost_total', "Datagrams from UDP peers that never arrived, by the peers' sequence numbers.", ['protocol'], (m, r) => {
    for (const p of protocolCounters(r)) if (p.datagramsLost !== undefined) m.inc({ protocol: p.protocol }, Math.max(0, p.datagramsLost));
  });
  counter('udp_datagrams_misordered_total', 'Datagrams from UDP peers that arrived after a later one (or twice).', ['protocol'], (m, r) => {
    for (const p of protocolCounters(r)) if (p.datagramsMisordered !== undefined) m.inc({ protocol: p.protocol }, p.datagramsMisordered);
  });
  gauge(
    'outbound_up',
    '1 while the bridge is connected to a server it dials (--cannelloni-connect, --tcpcan-connect).',
    ['protocol', 'bus', 'target'],
    (m, r) => {
      for (const o of r.snap.outbound ?? []) m.set({ protocol: o.protocol, bus: o.bus, target: o.target }, o.state === 'up' ? 1 : 0);
    },
  );
  counter('outbound_connects_total', 'Connections made to servers the bridge dials.', ['protocol', 'bus', 'target'], (m, r) => {
    for (const o of r.snap.outbound ?? []) m.inc({ protocol: o.protocol, bus: o.bus, target: o.target }, o.connects);
  });

  // ------------------------------------------------------------ capture (registered only when --capture is on)
  if (opts.capture) registerCaptureMetrics(counter, gauge, opts.capture.forwarding);
  if (opts.mqtt) registerMqttMetrics(counter, gauge);
  // ------------------------------------------------------------ the web page's server (it serves this scrape)
  if (opts.web) registerWebMetrics(counter, gauge);
  // ------------------------------------------------------------ the Ampio house layer (--ampio)
  if (opts.ampio) registerAmpioMetrics(counter, gauge);

  if (opts.defaultMetrics) client.collectDefaultMetrics({ register: registry });

  return {
    registry,
    contentType: registry.contentType,
    async metrics() {
      scrape = readSource(source);
      try {
        return await registry.metrics();
      } finally {
        scrape = null;
      }
    },
  };
}
