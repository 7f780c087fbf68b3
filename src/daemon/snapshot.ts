// The daemon's state in one walk over buses and sessions: the control-socket Snapshot and the
// counters only the metrics need, read together so one scrape costs one walk, and every
// number comes from the one object that counts it (buses count frames and drops toward the
// bus, hubs count slow-client drops and kicks, sessions count clients).
import type { Bus } from '../bus/bus.js';
import { type Config, formatDuration, formatListen, formatOptionValue } from '../config/options.js';
import type { ErrorCounts } from '../core/error-where.js';
import type { BusSnapshot, ClientSnapshot, ProcessMemory, Snapshot } from '../control/protocol.js';
import type { DaemonCounters } from '../metrics/metrics-source.js';
import type { Sessions } from '../server/sessions.js';
import { mdnsInstanceNames } from '../system/mdns.js';
import type { BuildInfo } from '../system/build-info.js';

export interface Reading {
  snapshot: Snapshot;
  counters: DaemonCounters;
}

export interface SnapshotInputs {
  buses: readonly Bus[];
  sessions: Sessions;
  /** The live settings. */
  config: Config;
  build: BuildInfo;
  hostname: string;
  startedAt: number;
  wallClock: number;
  controlSocketPath: string | null;
}

export function takeReading(inp: SnapshotInputs): Reading {
  const { buses, sessions, config: cfg } = inp;
  const wall = inp.wallClock;
  const listeners = sessions.listenerInfo();
  // A bus's address: its first per-bus listener in registry order (the port every install has).
  const busAt = (bus: number): string => listeners.find((l) => l.bus === bus)?.address ?? '';

  // Sessions: one pass for the client list, queue depths and frames sent.
  const clients: ClientSnapshot[] = [];
  const clientsPerBus = buses.map(() => 0);
  let tcpTx = 0;
  const txByProtocol = new Map<string, number>();
  let depthMax = 0;
  let depthSum = 0;
  let n = 0;
  const now = sessions.monotonicNow();
  for (const s of sessions.sessions()) {
    tcpTx += s.framesOut;
    txByProtocol.set(s.protocol.name, (txByProtocol.get(s.protocol.name) ?? 0) + s.framesOut);
    const depth = s.queueDepth();
    if (depth > depthMax) depthMax = depth;
    depthSum += depth;
    n++;
    if (!s.isHandshaken) continue;
    for (const b of s.joined) clientsPerBus[b]++;
    clients.push({
      id: s.id,
      protocol: s.protocol.name,
      bus: sessions.busName(s) ?? [...s.joined].map((b) => buses[b].name).join(','),
      remote: s.remote,
      connectedAt: s.connectedAt,
      framesOut: s.framesOut,
      framesIn: s.framesIn,
      bytesOut: s.bytesOut,
      bytesIn: s.bytesIn,
      queueDepth: depth,
      queueHighWater: s.highWater,
      queueCapacity: s.capacity,
      drops: s.drops,
      readOnly: s.txGuard.readOnly,
      txRefused: { ...s.txGuard.refused },
      behindMs: Math.round(s.freshness.behindMs(s.oldestQueuedAt(), now)),
      staleDrops: s.freshness.staleDrops,
      ...(s.direction === 'out' ? { direction: 'out' as const } : {}),
      ...(s.protocol.datagram ? { transport: 'udp' as const, datagramsLost: s.datagramsLost, datagramsMisordered: s.datagramsMisordered } : {}),
      ...(Object.keys(s.withheldFrames).length > 0 ? { withheld: { ...s.withheldFrames } } : {}),
    });
  }

  // Buses: one pass for the bus list, drops, kicks and load.
  const drops: DaemonCounters['drops'] = [];
  const busLoad: DaemonCounters['busLoad'] = [];
  const errorsByWhere: ErrorCounts = { ...sessions.errorsByWhere };
  let hubDrops = 0;
  let slowKicks = 0;
  let fanout = 0;
  let backendMalformed = 0;
  const busSnaps: BusSnapshot[] = buses.map((b) => {
    const bc = b.backend.counters();
    const bitrate = b.bitrate();
    const now = b.load.reading();
    if (now.bitrateKnown) {
      const minute = b.load.historyAverage();
      busLoad.push({ bus: b.name, window: '1s', exact: now.exact, min: now.min, max: now.max });
      busLoad.push({ bus: b.name, window: '60s', exact: minute.exact, min: minute.min, max: minute.max });
    }
    const hub = b.hub.counters;
    hubDrops += hub.dropped;
    slowKicks += hub.kicked;
    fanout += hub.lastFanout;
    backendMalformed += b.backendMalformed;
    for (const [reason, count] of Object.entries(b.txDrops)) drops.push({ bus: b.name, direction: 'to_bus', reason, count });
    if (hub.dropped > 0) drops.push({ bus: b.name, direction: 'to_clients', reason: 'client_slow', count: hub.dropped });
    const stale = sessions.staleByBus[b.index] ?? 0;
    if (stale > 0) drops.push({ bus: b.name, direction: 'to_clients', reason: 'stale', count: stale });
    if (b.rxReadLate > 0) drops.push({ bus: b.name, direction: 'to_clients', reason: 'read_late', count: b.rxReadLate });
    for (const [reason, count] of Object.entries(sessions.withheldByBus[b.index] ?? {}))
      drops.push({ bus: b.name, direction: 'to_clients', reason: `withheld_${reason}`, count });
    return {
      name: b.name,
      backend: b.backend.info.kind,
      listen: busAt(b.index),
      backendState: b.backendState,
      busState: b.busState,
      stateSince: b.stateSince,
      bitrate,
      fd: b.fd,
      rxFrames: b.rxFrames,
      txFrames: b.txFrames,
      rxFps: b.rxRate.perSecond(),
      txFps: b.txRate.perSecond(),
      busLoad: Math.round(now.exact * 10_000) / 100,
      busLoadHistory: b.load.historyPercent(),
      errorFrames: b.errorFrames,
      // The hardware backends count error frames by class; the bus counts entries into each
      // bus state (what the virtual backend can report).
      errorCounters: bc.errorCounters ? { ...bc.errorCounters } : { ...b.stateEntries },
      stateTransitions: b.stateTransitions,
      txQueueDepth: bc.txQueueDepth,
      txRetries: bc.txBusy ?? 0,
      staleDrops: b.txDrops.stale ?? 0,
      txDrops: { ...b.txDrops },
      reopens: bc.reopens,
      rxKernelDrops: bc.rxKernelDrops ?? 0,
      rxReadLate: b.rxReadLate,
      txUnconfirmed: bc.txUnconfirmed ?? 0,
      lastRxAgeSec: b.lastRxAt ? Math.max(0, (wall - b.lastRxAt) / 1000) : null,
      clients: clientsPerBus[b.index],
    };
  });
  if (backendMalformed > 0) errorsByWhere.backend_decode = backendMalformed;

  let tcpRx = 0;
  const byProtocol: NonNullable<DaemonCounters['byProtocol']> = [];
  for (const [protocol, p] of Object.entries(sessions.byProtocol)) {
    tcpRx += p.framesIn;
    tcpTx += p.closedFramesOut;
    byProtocol.push({
      protocol,
      rxFrames: p.framesIn,
      txFrames: p.closedFramesOut + (txByProtocol.get(protocol) ?? 0),
      accepted: p.accepted,
      handshakeFailuresByReason: { ...p.handshakeFailuresByReason },
      ...(sessions.byProtocol[protocol] && protocolIsDatagram(sessions, protocol)
        ? { datagramsLost: p.datagramsLost, datagramsMisordered: p.datagramsMisordered }
        : {}),
    });
  }

  const snapshot: Snapshot = {
    time: wall,
    daemon: {
      name: 'ampio-bridge',
      version: inp.build.version,
      commit: inp.build.commit,
      buildDate: inp.build.date,
      pid: process.pid,
      hostname: inp.hostname,
      startedAt: inp.startedAt,
      uptimeSec: Math.max(0, (wall - inp.startedAt) / 1000),
      backend: cfg.backend,
      listen: buses.map((b) => busAt(b.index)),
      listeners: listeners.map((l) => ({ protocol: l.protocol, bus: l.bus === null ? null : buses[l.bus].name, address: l.address })),
      mdnsName: cfg.mdnsEnable
        ? mdnsInstanceNames(
            cfg.mdnsName,
            inp.hostname,
            buses.map((b) => b.name),
          ).join(', ')
        : null,
      // Where /metrics is served: the one HTTP server (--http-listen, or its older name).
      metricsAddr: (cfg.httpListen ?? cfg.metricsAddr) ? formatListen((cfg.httpListen ?? cfg.metricsAddr)!) : null,
      controlSocket: inp.controlSocketPath ?? '',
      config: {
        'hub-buffer': cfg.hubBuffer,
        'hub-policy': cfg.hubPolicy,
        'batch-size': cfg.batchSize,
        'flush-interval': formatDuration(cfg.flushInterval),
        'max-clients': cfg.maxClients,
        echo: cfg.echo,
        'tx-max-age': formatDuration(cfg.txMaxAge),
        'forward-errors': cfg.forwardErrors,
        'mdns-enable': cfg.mdnsEnable,
        allow: formatOptionValue('allow', cfg.allow),
        'tx-allow': cfg.txAllow ? formatOptionValue('txAllow', cfg.txAllow) : 'same as --allow',
        'tx-rate': formatOptionValue('txRate', cfg.txRate),
        'tx-ids': cfg.txIds.length ? formatOptionValue('txIds', cfg.txIds) : 'every ID',
        'max-clients-per-host': cfg.maxClientsPerHost,
        'max-pending-per-host': cfg.maxPendingPerHost,
        'client-max-lag': formatDuration(cfg.clientMaxLag),
      },
      descriptors: { ...descriptorState(sessions), pending: sessions.pending },
      memory: processMemory(),
    },
    buses: busSnaps,
    clients,
    ...(sessions.remote.dialing ? { outbound: sessions.outbound() } : {}),
    totals: {
      active: clients.length,
      accepted: sessions.accepted,
      rejected: sessions.rejected,
      kicked: sessions.operatorKicks + slowKicks + sessions.lagKicks,
      handshakeFailures: sessions.handshakeFailures,
      malformed: sessions.malformed + backendMalformed,
      hubDrops,
      // Only when something was refused (or reset): older readers compare totals whole.
      ...rejectedByReason(sessions),
      ...resetsBeforeAccept(sessions),
    },
  };
  const counters: DaemonCounters = {
    tcpRxFrames: tcpRx,
    tcpTxFrames: tcpTx,
    errorsByWhere,
    handshakeFailuresByReason: { ...sessions.handshakeFailuresByReason },
    drops,
    hubFanout: fanout,
    hubQueueDepthMax: depthMax,
    hubQueueDepthAvg: n ? depthSum / n : 0,
    busLoad,
    rejected: sessions.access.gate.rejected(),
    acceptResets: sessions.access.gate.resets(),
    txRefused: sessions.access.gate.refusedTx(),
    pendingClients: sessions.pending,
    acceptExhaustion: {
      failures: sessions.access.governor.failuresTotal,
      refused: sessions.access.governor.refusedTotal,
      exhausted: sessions.access.governor.exhausted,
    },
    byProtocol,
  };
  return { snapshot, counters };
}

function descriptorState(sessions: Sessions): { exhausted: boolean; sinceMs: number | null; failures: number; refused: number } {
  const d = sessions.access.descriptors();
  return { exhausted: d.exhausted, sinceMs: d.sinceMs, failures: d.failures, refused: d.refused };
}

function rejectedByReason(sessions: Sessions): { rejectedByReason?: Record<string, number> } {
  const out: Record<string, number> = {};
  for (const r of sessions.access.gate.rejected()) out[r.reason] = (out[r.reason] ?? 0) + r.count;
  return Object.keys(out).length > 0 ? { rejectedByReason: out } : {};
}

/** Whether a protocol speaks datagrams (its counters include sequence losses). */
function protocolIsDatagram(sessions: Sessions, protocol: string): boolean {
  return sessions.remote.datagramProtocols.has(protocol);
}

function resetsBeforeAccept(sessions: Sessions): { resetBeforeAccept?: number } {
  const n = sessions.access.gate.resets().reduce((sum, r) => sum + r.count, 0);
  return n > 0 ? { resetBeforeAccept: n } : {};
}

function processMemory(): ProcessMemory {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
}
