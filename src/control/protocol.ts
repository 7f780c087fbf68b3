// Control-socket protocol: NDJSON over a Unix socket, shared by the daemon, `status`,
// `top` and anything else that wants live state. This module is the only daemon module
// tui/ may import (with control-client.ts), so it holds types and pure helpers only.

import type { BackendKind, BackendState } from '../core/backend-vocabulary.js';
import type { BusState } from '../core/bus-state.js';
import type { AmpioSnapshot } from '../ampio/types.js';
import type { MqttSnapshot } from './mqtt-snapshot.js';
import { formatAgeMs, formatBytes } from '../core/human-units.js';

export const CONTROL_PROTOCOL_VERSION = 1;
/** A line longer than this closes the control connection (protects the daemon). */
export const CONTROL_MAX_LINE = 64 * 1024;
/** Stream interval bounds for `subscribe`. */
export const STREAM_INTERVAL_DEFAULT_MS = 500;
export const STREAM_INTERVAL_MIN_MS = 100;
export const STREAM_INTERVAL_MAX_MS = 60_000;

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

// ---------------------------------------------------------------- messages

/** First line the daemon sends on every control connection. */
export interface HelloMessage {
  type: 'hello';
  version: typeof CONTROL_PROTOCOL_VERSION;
  daemon: string; // daemon version
  pid: number;
}

export type Request =
  | { id: number | string; type: 'snapshot' }
  | { id: number | string; type: 'subscribe'; interval?: number; events?: boolean }
  | { id: number | string; type: 'unsubscribe' }
  | { id: number | string; type: 'kick'; clientId: number }
  | { id: number | string; type: 'ping' }
  | ({ id: number | string; type: 'frames' } & FramesRequest)
  /** The Ampio state store's values (StateView[]); `filter` = a module address or a module/entity name. */
  | { id: number | string; type: 'ampio_state'; filter?: string };

/** `frames`: live frames of the named buses (all when absent), optionally one ID/mask. */
export interface FramesRequest {
  buses?: string[];
  idValue?: number;
  idMask?: number;
}

/** The reply to `frames`: bus names by index (a LiveFrame names its bus by index). */
export interface FramesResult {
  buses: string[];
}

/** [bus index, µs since the epoch, can_id with flags, 0 rx | 1 tx, len, data hex, fd flags or -1 (classic)] */
export type LiveFrame = [bus: number, tsUs: number, id: number, dir: 0 | 1, len: number, data: string, fd: number];

export interface FramesMessage {
  type: 'frames';
  frames: LiveFrame[];
  /** Frames not sent to this connection since it subscribed (its reader was too slow). */
  dropped: number;
}

export interface FrameFilterRequest {
  /** Bus indexes; empty or absent = all. */
  buses?: number[];
  /** Arbitration ID match: (id & mask) === (value & mask). */
  idValue?: number;
  idMask?: number;
}

export interface ReplyMessage {
  type: 'reply';
  id: number | string;
  result: unknown;
}

export interface ErrorMessage {
  type: 'error';
  id: number | string | null;
  code: 'bad_request' | 'unknown_type' | 'not_found' | 'too_long' | 'internal';
  message: string;
}

export interface SnapshotMessage {
  type: 'snapshot';
  snapshot: Snapshot;
}

export interface EventMessage {
  type: 'event';
  event: DaemonEvent;
}

export type ServerMessage = HelloMessage | ReplyMessage | ErrorMessage | SnapshotMessage | EventMessage | FramesMessage;

// ---------------------------------------------------------------- reply results
// `reply.result` per request type: snapshot → Snapshot, subscribe → SubscribeResult,
// unsubscribe → {}, kick → KickResult, ping → PingResult.

export interface SubscribeResult {
  /** The interval the daemon uses after bounding the requested one. */
  interval: number;
  events: boolean;
}

export interface KickResult {
  /** false when no client with that id was connected */
  kicked: boolean;
}

export interface PingResult {
  pong: true;
  /** daemon clock, ms since epoch */
  time: number;
}

/** Clamps a requested stream interval to the allowed range (default when absent or invalid). */
export function boundInterval(requested: unknown): number {
  if (typeof requested !== 'number' || !Number.isFinite(requested)) return STREAM_INTERVAL_DEFAULT_MS;
  return Math.min(STREAM_INTERVAL_MAX_MS, Math.max(STREAM_INTERVAL_MIN_MS, Math.round(requested)));
}

// ---------------------------------------------------------------- capture, for people

/** The reason in a few words (status line, top). */
const PROBLEM_WORDS: Record<CaptureProblem['reason'], string> = {
  corrupt: 'store damaged',
  foreign_file: 'not a capture store',
  newer_schema: 'store of a newer version',
  unwritable: 'cannot open the store',
  not_found: 'no store',
  sqlite_missing: 'SQLite module missing',
  sqlite_broken: 'SQLite module broken',
  disk_full: 'disk full',
  io_error: 'I/O errors',
  write_failed: 'writes fail',
  worker_failed: 'worker failed',
};

/**
 * One or two lines about capture for `status` and `top`:
 *   capture on · 1,234,567 frames · 44.1 MB · oldest 6.9 d ago · 0 dropped · /var/lib/…/capture.db
 *   → PostgreSQL connected · backlog 0 rows · lag 0 s · 1,234,000 sent · postgres://u@db/x#can_frames
 * `warn` marks lines that deserve attention (drops, failure, backing off, lost frames).
 */
export function describeCapture(c: CaptureSnapshot | undefined, now: number, opts: { compact?: boolean } = {}): Array<{ text: string; warn: boolean }> {
  if (!c) return [{ text: 'capture off', warn: false }];
  const age = c.oldestFrame === null ? null : formatAgeMs(Math.max(0, now - c.oldestFrame));
  const oldest = age === null ? 'empty' : opts.compact ? `${age} kept` : `oldest ${age} ago`;
  const p = c.problem ?? null;
  // Capture that failed is off: say so first, the figures are those of the last good reading.
  const state =
    c.state === 'failed'
      ? `off (${p ? PROBLEM_WORDS[p.reason] : 'failed'})`
      : c.state === 'on' && p
        ? `on, not recording (${PROBLEM_WORDS[p.reason]})`
        : c.state;
  const lines = [
    {
      // top's one line: the reason and the next step before any figure.
      text:
        opts.compact && p
          ? `capture ${state}`
          : `capture ${state} · ${c.rows.toLocaleString('en-US')} frames · ${formatBytes(c.bytes)} · ${oldest}${opts.compact && c.dropped === 0 ? '' : ` · ${c.dropped} dropped`}${opts.compact ? '' : ` · ${c.path}`}`,
      warn: c.state !== 'on' || c.dropped > 0 || p !== null,
    },
  ];
  if (p) {
    if (opts.compact) lines.push({ text: `! ${p.reason === 'corrupt' ? 'run: ampio-bridge capture recover' : p.hint}`, warn: true });
    else lines.push({ text: `! ${p.message}`, warn: true }, { text: `  → ${p.hint}`, warn: true });
  }
  const f = c.forward;
  if (f) {
    const state = f.state === 'backing_off' ? `backing off${f.lastError ? ` (${f.lastError})` : ''}` : f.state;
    lines.push({
      text: `→ ${opts.compact ? 'PG' : 'PostgreSQL'} ${state} · backlog ${f.backlogRows.toLocaleString('en-US')} rows · lag ${formatAgeMs(f.lagSeconds * 1000)} · ${f.rowsTotal.toLocaleString('en-US')} sent${f.lostTotal > 0 ? ` · ${f.lostTotal} lost` : ''}${opts.compact ? '' : ` · ${f.target ?? ''}`}`,
      warn: f.state !== 'connected' || f.lostTotal > 0,
    });
  }
  return lines;
}
