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
import { type ErrorCounts, GO_ERROR_WHERE } from '../core/error-where.js';
import client from 'prom-client';
import type { BusSnapshot, Snapshot } from '../control/protocol.js';

/** Counters the control-socket Snapshot does not carry (the daemon's `counters()`). */
export interface DaemonCounters {
  tcpRxFrames: number;
  tcpTxFrames: number;
  errorsByWhere: ErrorCounts;
  handshakeFailuresByReason: Record<string, number>;
  /** frames_dropped_total{bus,direction,reason} */
  drops: Array<{ bus: string; direction: string; reason: string; count: number }>;
  /** Clients targeted by the most recent broadcast (summed over buses). */
  hubFanout: number;
  hubQueueDepthMax: number;
  hubQueueDepthAvg: number;
  /**
   * Bus load per bus from its BusLoadMeter: ratios (1 = 100 %) over the last second and
   * averaged over the last minute.
   */
  busLoad: Array<{ bus: string; window: '1s' | '60s'; exact: number; min: number; max: number }>;
  /** hub_rejected_clients_total{reason,protocol} */
  rejected?: Array<{ reason: string; protocol: string; count: number }>;
  /** tcp_accept_reset_total{protocol}: connections reset by their peer before accept. */
  acceptResets?: Array<{ protocol: string; count: number }>;
  /** tx_refused_total{reason,protocol} */
  txRefused?: Array<{ reason: string; protocol: string; count: number }>;
  /** hub_pending_clients */
  pendingClients?: number;
  /** accept() failures with EMFILE/ENFILE, and whether it is out of descriptors now. */
  acceptExhaustion?: { failures: number; refused: number; exhausted: boolean };
  /**
   * The client counters per wire protocol (the `protocol` label). Without it everything is
   * cannelloni's, as in go-ampio-server.
   */
  byProtocol?: ProtocolCounters[];
}

export interface ProtocolCounters {
  protocol: string;
  rxFrames: number;
  txFrames: number;
  accepted: number;
  handshakeFailuresByReason: Record<string, number>;
  /** Datagram protocols: datagrams the peers' sequence numbers show lost / late. */
  datagramsLost?: number;
  datagramsMisordered?: number;
}

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

export interface MetricsSource {
  snapshot(): Snapshot;
  counters(): DaemonCounters;
  /** Both from one walk over the daemon's state (preferred when present). */
  reading?(): { snapshot: Snapshot; counters: DaemonCounters };
}

/** One snapshot and its counters, from a single walk where the source offers one. */
export function readSource(source: MetricsSource): { snap: Snapshot; counters: DaemonCounters } {
  if (source.reading) {
    const r = source.reading();
    return { snap: r.snapshot, counters: r.counters };
  }
  return { snap: source.snapshot(), counters: source.counters() };
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

interface Reading {
  snap: Snapshot;
  counters: DaemonCounters;
}

type MetricFactory<M> = (name: string, help: string, labelNames: string[], fill: (m: M, r: Reading) => void) => void;

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

function registerCaptureMetrics(counter: MetricFactory<client.Counter<string>>, gauge: MetricFactory<client.Gauge<string>>, forwarding: boolean): void {
  const cap = (r: Reading): NonNullable<Snapshot['capture']> | null => r.snap.capture ?? null;
  const fwd = (r: Reading): NonNullable<NonNullable<Snapshot['capture']>['forward']> | null => r.snap.capture?.forward ?? null;
  counter('capture_frames_total', 'Frames committed to the capture store since start.', [], (m, r) => void (cap(r) && m.inc(cap(r)!.frames)));
  counter(
    'capture_dropped_frames_total',
    'Frames not recorded: capture queue full (slow disk) or a failed write.',
    [],
    (m, r) => void (cap(r) && m.inc(cap(r)!.dropped)),
  );
  gauge('capture_bytes', 'Size of the capture store on disk (database + WAL).', [], (m, r) => void (cap(r) && m.set(cap(r)!.bytes)));
  gauge('capture_rows', 'Frames held in the capture store.', [], (m, r) => void (cap(r) && m.set(cap(r)!.rows)));
  gauge('capture_up', '1 while frames are being recorded; 0 while capture is off (damaged store …) or writes fail (disk full …).', [], (m, r) => {
    const c = cap(r);
    if (c) m.set(c.state === 'on' && !c.problem ? 1 : 0);
  });
  gauge(
    'capture_problem',
    'Why capture is off or not recording (1 for the current reason: corrupt, disk_full, io_error, …); absent while all is well.',
    ['reason'],
    (m, r) => {
      const p = cap(r)?.problem;
      if (p) m.set({ reason: p.reason }, 1);
    },
  );
  if (!forwarding) return;
  gauge('capture_forward_backlog_rows', 'Captured frames not yet in PostgreSQL.', [], (m, r) => void (fwd(r) && m.set(fwd(r)!.backlogRows)));
  gauge(
    'capture_forward_lag_seconds',
    'Age of the oldest captured frame not yet in PostgreSQL (0 when caught up).',
    [],
    (m, r) => void (fwd(r) && m.set(fwd(r)!.lagSeconds)),
  );
  counter('capture_forward_rows_total', 'Frames written to PostgreSQL since start.', [], (m, r) => void (fwd(r) && m.inc(fwd(r)!.rowsTotal)));
  counter(
    'capture_forward_errors_total',
    'Failed PostgreSQL connections or batches (each is retried).',
    [],
    (m, r) => void (fwd(r) && m.inc(fwd(r)!.errorsTotal)),
  );
  counter(
    'capture_forward_lost_total',
    'Frames evicted from the store (retention, size) before they reached PostgreSQL.',
    [],
    (m, r) => void (fwd(r) && m.inc(fwd(r)!.lostTotal)),
  );
  gauge(
    'capture_forward_connected',
    '1 while the PostgreSQL forwarder is connected.',
    [],
    (m, r) => void (fwd(r) && m.set(fwd(r)!.state === 'connected' ? 1 : 0)),
  );
}

function registerMqttMetrics(counter: MetricFactory<client.Counter<string>>, gauge: MetricFactory<client.Gauge<string>>): void {
  const mq = (r: Reading): NonNullable<Snapshot['mqtt']> | null => r.snap.mqtt ?? null;
  gauge('mqtt_connected', '1 while connected to the MQTT broker.', [], (m, r) => void (mq(r) && m.set(mq(r)!.state === 'connected' ? 1 : 0)));
  counter('mqtt_connects_total', 'Successful connections to the MQTT broker (the first included).', [], (m, r) => void (mq(r) && m.inc(mq(r)!.connects)));
  counter(
    'mqtt_published_total',
    'Messages handed to the MQTT broker (retained state, discovery, raw frames).',
    [],
    (m, r) => void (mq(r) && m.inc(mq(r)!.published)),
  );
  counter(
    'mqtt_superseded_total',
    'State values given up unsent because a newer value of the same topic replaced them (broker away or slow).',
    [],
    (m, r) => void (mq(r) && m.inc(mq(r)!.superseded)),
  );
  gauge('mqtt_pending_topics', 'Retained topics changed and not yet sent (the broker is away or slow).', [], (m, r) => void (mq(r) && m.set(mq(r)!.pending)));
  counter('mqtt_commands_received_total', 'Messages on the command topics.', [], (m, r) => void (mq(r) && m.inc(mq(r)!.commands.received)));
  counter('mqtt_command_frames_sent_total', 'Frames of MQTT commands handed to the TX path.', [], (m, r) => void (mq(r) && m.inc(mq(r)!.commands.sent)));
  counter('mqtt_commands_refused_total', 'MQTT commands refused before the bus, by reason.', ['reason'], (m, r) => {
    for (const [reason, n] of Object.entries(mq(r)?.commands.refused ?? {})) m.inc({ reason }, n);
  });
  counter('mqtt_commands_failed_total', 'MQTT command frames the bus refused (queue full, stale, device absent), by reason.', ['reason'], (m, r) => {
    for (const [reason, n] of Object.entries(mq(r)?.commands.failed ?? {})) m.inc({ reason }, n);
  });
  counter('mqtt_raw_dropped_total', 'Raw frames not published (--mqtt-raw): over the rate, queue full, or broker away/slow.', ['reason'], (m, r) => {
    for (const [reason, n] of Object.entries(mq(r)?.raw?.dropped ?? {})) m.inc({ reason }, n);
  });
}

function registerWebMetrics(counter: MetricFactory<client.Counter<string>>, gauge: MetricFactory<client.Gauge<string>>): void {
  const web = (r: Reading): NonNullable<Snapshot['web']> | null => r.snap.web ?? null;
  gauge('web_live_viewers', 'Browsers watching the live frames now.', [], (m, r) => void (web(r) && m.set(web(r)!.liveViewers)));
  counter('web_live_frames_total', 'Frames sent to live-frame viewers.', [], (m, r) => void (web(r) && m.inc(web(r)!.liveSent)));
  counter(
    'web_live_dropped_frames_total',
    'Frames live-frame viewers lost because their browser read too slowly (each loses its own only).',
    [],
    (m, r) => void (web(r) && m.inc(web(r)!.liveDropped)),
  );
  counter('web_rejected_connections_total', 'HTTP connections refused by --allow.', [], (m, r) => void (web(r) && m.inc(web(r)!.refused)));
  counter('web_writes_total', 'Writes through the web page or API (send, output, kick, reload), by result.', ['result'], (m, r) => {
    const w = web(r);
    if (!w) return;
    m.inc({ result: 'done' }, w.writesDone);
    m.inc({ result: 'refused' }, w.writesRefused);
  });
}
