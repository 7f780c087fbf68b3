// What the metrics registry reads: the daemon's counters beside its snapshot, and the source of both.
import type { ErrorCounts } from '../core/error-where.js';
import type { Snapshot } from '../control/protocol.js';

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

/** One scrape's snapshot and counters. */
export interface Reading {
  snap: Snapshot;
  counters: DaemonCounters;
}

export type MetricFactory<M> = (name: string, help: string, labelNames: string[], fill: (m: M, r: Reading) => void) => void;
