// The one interface every CAN backend (virtual, socketcan, serial) implements.
// The daemon talks only to this; backends never see the hub, sockets or metrics.
import type { BusState } from '../core/bus-state.js';
import type { CanFrame, FrameOrigin } from '../core/frame.js';
import type { TxDropReason } from '../core/tx-queue.js';
import type { LogFn } from '../core/log-fn.js';

export type BackendKind = 'virtual' | 'socketcan' | 'serial';

/** Whether the bridge can reach the device at all. */
export type BackendState = 'opening' | 'open' | 'absent' | 'closed';

/**
 * CAN controller state as the kernel names it, plus what the bridge knows about the link.
 * `down` = interface exists but is administratively down; `absent` = no such device.
 * Defined in the pure core (bus-state.ts), which derives it from error frames.
 */
export type { BusState };

/** Numeric form for the `can_bus_state` gauge (alert rules compare against these numbers). */
export const BUS_STATE_CODE: Record<BusState, number> = {
  'error-active': 0,
  'error-warning': 1,
  'error-passive': 2,
  'bus-off': 3,
  down: 4,
  stopped: 4,
  absent: 5,
  unknown: 6,
};

/**
 * Why a frame did not make it (label of `frames_dropped_total{reason}`): what a TX queue
 * gives up on, plus what the daemon itself filters or limits.
 */
export type DropReason = TxDropReason | 'filtered' | 'rate_limited' | 'client_slow' | 'read_only' | 'id_not_allowed';

export type SendResult = { ok: true } | { ok: false; reason: DropReason };

/** Callbacks a backend reports through. All are synchronous and must not throw. */
export interface BackendSink {
  /**
   * A frame seen on the bus (from another node or a local program). `waitedMs`: how long it
   * waited between the kernel receiving it and the bridge reading it, where the kernel
   * stamps frames (SocketCAN); absent where that is not known.
   */
  received(frame: CanFrame, waitedMs?: number): void;
  /**
   * A frame the bridge sent was written to the bus. `origin` is the value given to
   * `send()`, handed back untouched (a backend never reads it): the bus tells its taps who
   * sent the frame and echoes it to every client except its sender.
   */
  transmitted(frame: CanFrame, origin: FrameOrigin): void;
  /** Frames accepted by `send()` that were later given up (stale, link down, ...). */
  dropped(reason: DropReason, count: number): void;
  /** Backend or bus state changed; `detail` is a short human reason for logs. */
  stateChanged(backend: BackendState, bus: BusState, detail?: string): void;
  /** Received bytes/records that could not be decoded (serial resync, bad frames). */
  malformed(count: number): void;
  /** An error frame was seen (class = can_id & CAN_ERR_MASK bits), before any forwarding. */
  errorFrame?(frame: CanFrame): void;
  /**
   * The frames received from now until pacedBatchEnd() were read by read pacing: they
   * already waited in the kernel's queue up to the pacing interval, so what clients queue
   * meanwhile is written at pacedBatchEnd() rather than after another flush interval. A
   * backend that calls this must call pacedBatchEnd() after it, whatever happens between.
   */
  pacedBatchStart?(): void;
  /** The end of a paced read (see pacedBatchStart): clients write what they queued now. */
  pacedBatchEnd?(): void;
  /** Operational log line (event name snake_case, flat fields). */
  log: LogFn;
}

export interface BackendInfo {
  kind: BackendKind;
  /** Interface or device name shown to users: `can0`, `/dev/ttyUSB0`, `virtual0`. */
  name: string;
  /** Whether the bus carries CAN FD frames (interface MTU 72). */
  fd: boolean;
  /** Nominal bitrate in bit/s when known (netlink/ip, or --bitrate for serial/virtual). */
  bitrate: number | null;
}

export interface BackendCounters {
  /** Frames waiting in the bridge's own TX queue. */
  txQueueDepth: number;
  /** Times the device was reopened after vanishing. */
  reopens: number;
  // The rest is reported by the hardware backends (socketcan, serial); optional so the
  // virtual backend and test backends need not.
  /** Transient device refusals that were retried (ENOBUFS / full queue): `can_tx_enobufs_total`. */
  txBusy?: number;
  /** Highest TX queue depth seen. */
  txQueueHighWater?: number;
  /** Error-frame and controller-state counters (busOff, errorPassive, restarted, rxOverflow …). */
  errorCounters?: Record<string, number>;
  /** Received frames the kernel dropped because the bridge read too late (SocketCAN). */
  rxKernelDrops?: number;
  /** Frames written to the device that it never confirmed as transmitted (SocketCAN). */
  txUnconfirmed?: number;
}

/** Settings a backend may take on SIGHUP without a restart. */
export interface BackendReloadable {
  /** `--tx-max-age`, ms (0 = never expire); applies to frames already queued. */
  txMaxAge: number;
  /** SocketCAN read pacing, ms (see rxCoalesceMs in backends/factory.ts). */
  rxCoalesceMs: number;
  /** SocketCAN receive buffer, bytes (`--can-rcvbuf`; 0 = the kernel's default). */
  rcvbuf: number;
}

export interface CanBackend {
  readonly info: BackendInfo;
  /**
   * Starts the backend. Resolves once the first open attempt is done: a missing device is
   * not a failure (the backend reports `absent` and keeps retrying). Rejects only when the
   * backend can never work (bad options, native module missing) with a BackendError.
   */
  start(sink: BackendSink): Promise<void>;
  /** Stops reading, drops queued TX, closes the device. Idempotent. */
  stop(): Promise<void>;
  /**
   * Queues a frame for the bus. Returns at once; a refusal names the reason. `origin`
   * travels with the frame and comes back in `sink.transmitted` (BRIDGE_ORIGIN = the bridge
   * itself); it holds no reference to a session, so a queued frame keeps no session alive.
   */
  send(frame: CanFrame, origin: FrameOrigin): SendResult;
  counters(): BackendCounters;
  /** Applies reloadable settings (SIGHUP). Optional: backends without such settings omit it. */
  reconfigure?(settings: BackendReloadable): void;
}

export class BackendError extends Error {
  readonly code: string;
  readonly hint: string;
  constructor(code: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendError';
    this.code = code;
    this.hint = hint;
  }
}
