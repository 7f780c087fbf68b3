// Control-socket protocol: NDJSON over a Unix socket, shared by the daemon, `status`,
// `top` and anything else that wants live state. This module is the only daemon module
// tui/ may import (with control-client.ts), so it holds types and pure helpers only.

import type { BackendKind, BackendState } from '../core/backend-vocabulary.js';
import type { BusState } from '../core/bus-state.js';
import type { AmpioSnapshot } from '../ampio/types.js';
import type { MqttSnapshot } from './mqtt-snapshot.js';

// ---------------------------------------------------------------- snapshot

export interface DaemonInfo {
  name: string; // "ampio-bridge"
  version: string;
  commit: string | null;
  buildDate: string | null;
  pid: number;
  hostname: string;
  /** ms since epoch */
  startedAt: number;
  uptimeSec: number;
  backend: BackendKind;
  /** cannelloni's listen address per bus, `host:port` (kept for readers older than `listeners`). */
  listen: string[];
  /** Every bound listener: one per bus (cannelloni, tcpcan) or one for all buses, per protocol. */
  listeners: ListenerSnapshot[];
  mdnsName: string | null;
  metricsAddr: string | null;
  controlSocket: string;
  /** Effective settings worth showing (flag name → value). */
  config: Record<string, string | number | boolean>;
  /** Accepting on the bus ports and file descriptors (absent from older daemons). */
  descriptors?: DescriptorState;
  /** The daemon process's memory now (absent from older daemons). */
  memory?: ProcessMemory;
}

/** process.memoryUsage() of the daemon, bytes: what a leak or a churn would show first. */
export interface ProcessMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** C++ objects bound to JS (Buffers' memory included). */
  external: number;
}

export interface DescriptorState {
  /** accept() is failing with EMFILE/ENFILE: the daemon is out of file descriptors. */
  exhausted: boolean;
  /** ms since it ran out, while exhausted. */
  sinceMs: number | null;
  /** accept() failures and connections closed at once while paused, since start. */
  failures: number;
  refused: number;
  /** Connections still negotiating their protocol (they hold no client slot). */
  pending: number;
}

export interface ListenerSnapshot {
  /** Wire protocol: cannelloni, tcpcan, socketcand, gvret. */
  protocol: string;
  /** The bus it serves; null when one listener serves every bus. */
  bus: string | null;
  /** `host:port` */
  address: string;
}

export interface BusSnapshot {
  /** Interface/device name: can0, /dev/ttyUSB0, virtual0 … */
  name: string;
  backend: BackendKind;
  listen: string;
  backendState: BackendState;
  /** The kernel's controller states plus the link's (defined once, in the pure core). */
  busState: BusState;
  /** ms since epoch of the last bus/backend state change */
  stateSince: number;
  bitrate: number | null;
  fd: boolean;
  /** Frames read from the bus / written to the bus (totals). */
  rxFrames: number;
  txFrames: number;
  /** Frames per second over the last second. */
  rxFps: number;
  txFps: number;
  /** Bus load in percent (0..100+) over the last 1 s window. */
  busLoad: number;
  /** Last 60 one-second bus-load samples, oldest first, percent. */
  busLoadHistory: number[];
  errorFrames: number;
  /** Error-frame/state counters: busOff, errorWarning, errorPassive, restarted, rxOverflow … */
  errorCounters: Record<string, number>;
  stateTransitions: number;
  txQueueDepth: number;
  /** Sends the device refused for a moment (ENOBUFS, full adapter) and that were retried. */
  txRetries: number;
  staleDrops: number;
  /** Frames toward this bus given up, by reason. */
  txDrops: Record<string, number>;
  reopens: number;
  /** Received frames the kernel dropped because the bridge read too late (SocketCAN only). */
  rxKernelDrops?: number;
  /**
   * Received frames not sent to clients because the bridge read them more than
   * --client-max-lag after the kernel got them (SocketCAN; capture still has them).
   */
  rxReadLate?: number;
  /** Frames written that the device never confirmed as transmitted within --tx-max-age (SocketCAN only). */
  txUnconfirmed?: number;
  /** Seconds since the last frame was received; null if none yet. */
  lastRxAgeSec: number | null;
  clients: number;
}

export interface ClientSnapshot {
  id: number;
  /** Wire protocol the client speaks (absent from daemons before protocol plug-ins: cannelloni). */
  protocol: string;
  bus: string;
  remote: string;
  /** ms since epoch */
  connectedAt: number;
  /** Frames sent to the client / received from it. */
  framesOut: number;
  framesIn: number;
  bytesOut: number;
  bytesIn: number;
  queueDepth: number;
  queueHighWater: number;
  queueCapacity: number;
  drops: number;
  /** The client only listens (outside --tx-allow): its frames are dropped (absent from older daemons). */
  readOnly?: boolean;
  /** Frames from this client the TX guard refused, by reason. */
  txRefused?: Record<'read_only' | 'id_not_allowed' | 'rate_limited', number>;
  /** How far behind the client is (ms): its oldest queued or unacknowledged frame. */
  behindMs?: number;
  /** Frames dropped for it because they waited longer than --client-max-lag. */
  staleDrops?: number;
  /**
   * Bus frames its protocol withheld because this client cannot take them, by reason (GVRET:
   * `zero_length`, `rtr`, `fd` for SavvyCAN; `fd` with --gvret-fd off). Absent when none.
   */
  withheld?: Record<string, number>;
  /** `out`: the bridge dialled this server (absent: the client connected to us). */
  direction?: 'in' | 'out';
  /** `udp` for a datagram peer (absent: TCP). */
  transport?: 'udp';
  /** UDP peers: datagrams its sequence numbers show lost, and arrived late. */
  datagramsLost?: number;
  datagramsMisordered?: number;
}

/** A server the bridge dials (--cannelloni-connect, --tcpcan-connect). */
export interface OutboundSnapshot {
  protocol: string;
  bus: string;
  target: string;
  /** `up` while connected; `down` while waiting to retry. */
  state: string;
  /** ms since epoch of the last state change. */
  since: number;
  connects: number;
  failures: number;
  lastError: string | null;
}

export interface Totals {
  active: number;
  accepted: number;
  rejected: number;
  kicked: number;
  handshakeFailures: number;
  malformed: number;
  hubDrops: number;
  /** Refused connections by reason (not_allowed, max_clients, max_clients_per_host, pending_evicted, no_descriptors). */
  rejectedByReason?: Record<string, number>;
  /**
   * Connections their peer reset before the daemon accepted them (not refusals: nobody was
   * there to refuse). Only when there were any; absent from older daemons.
   */
  resetBeforeAccept?: number;
}

export interface Snapshot {
  /** ms since epoch when taken */
  time: number;
  daemon: DaemonInfo;
  buses: BusSnapshot[];
  clients: ClientSnapshot[];
  /** Servers the bridge dials, and their state (absent when it dials none). */
  outbound?: OutboundSnapshot[];
  totals: Totals;
  /** Frame capture (--capture); absent when capture is off. */
  capture?: CaptureSnapshot;
  /** The Ampio house layer (modules, decode counters); absent with --ampio=false. */
  ampio?: AmpioSnapshot;
  /** The MQTT publisher (--mqtt-url); absent when MQTT is off. */
  mqtt?: MqttSnapshot;
  /** The web page's server (--http-listen); absent when it is off. */
  web?: WebSnapshot;
}

/** The HTTP server of the web page and API. */
export interface WebSnapshot {
  /** Bound address, host:port */
  address: string;
  /** Whether a write credential is configured (writes exist at all). */
  writes: boolean;
  /** Live-frame viewers connected now */
  liveViewers: number;
  /** Frames sent to live viewers, and those they lost because their browser read too slowly */
  liveSent: number;
  liveDropped: number;
  /** Connections refused by --allow */
  refused: number;
  /** Writes done, and writes refused for a missing or wrong token */
  writesDone: number;
  writesRefused: number;
}

/** The capture store and its PostgreSQL forwarder. */
export interface CaptureSnapshot {
  path: string;
  state: 'starting' | 'on' | 'failed' | 'stopped';
  /** Frames in the store */
  rows: number;
  /** Bytes on disk (database + WAL) */
  bytes: number;
  /** ms since epoch of the oldest and newest stored frame; null when empty */
  oldestFrame: number | null;
  newestFrame: number | null;
  /** Frames committed since the daemon started */
  frames: number;
  /** Frames not recorded: queue full (slow disk) or a failed write */
  dropped: number;
  /** Frames in memory waiting for the next commit */
  queued: number;
  /** Frames deleted by retention or the size bound since start */
  evicted: number;
  /** The forwarder's own status, one type for the worker and the snapshot; null when --pg-url is not set. */
  forward: ForwardStatus | null;
  /**
   * Why capture is off (state `failed`: a damaged or foreign store …) or not recording
   * (state `on`: disk full, I/O errors), with the next step; null or absent while all is well.
   */
  problem?: CaptureProblem | null;
}

/** Why capture is not recording (the `problem` of the capture section); capture/damage.ts words each. */
export type CaptureProblemReason =
  | 'corrupt'
  | 'foreign_file'
  | 'newer_schema'
  | 'unwritable'
  | 'not_found'
  | 'sqlite_missing'
  | 'sqlite_broken'
  | 'disk_full'
  | 'io_error'
  | 'write_failed'
  | 'worker_failed';

export interface CaptureProblem {
  reason: CaptureProblemReason;
  message: string;
  /** What the user does next. */
  hint: string;
  /** ms since the epoch */
  since: number;
}

export type ForwarderState = 'disabled' | 'connecting' | 'connected' | 'backing_off';

/** The PostgreSQL forwarder's status, as the capture worker reports it and the snapshot carries it. */
export interface ForwardStatus {
  state: ForwarderState;
  /** Connection target without the password (it is shown in status and top). */
  target: string | null;
  backlogRows: number;
  /** Age of the oldest frame not yet in PostgreSQL, seconds; 0 when caught up. */
  lagSeconds: number;
  rowsTotal: number;
  errorsTotal: number;
  lostTotal: number;
  lastError: string | null;
}

// ---------------------------------------------------------------- events

export type DaemonEventKind =
  | 'client_connected'
  | 'client_disconnected'
  | 'client_kicked'
  | 'client_rejected'
  | 'handshake_failed'
  | 'bus_state'
  | 'backend_absent'
  | 'backend_reopened';

export interface DaemonEvent {
  /** ms since epoch */
  time: number;
  kind: DaemonEventKind;
  bus?: string;
  clientId?: number;
  remote?: string;
  from?: string;
  to?: string;
  reason?: string;
  /** One human sentence. */
  message: string;
}

export * from './messages.js';
