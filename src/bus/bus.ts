// One bus: the backend's sink → counters, bus load, taps → hub; and send() toward the bus.
// The bus owns its counters (the snapshot and the metrics only read them) and knows no wire
// protocol: the hub encodes per protocol, lazily.
import { BusLoadMeter } from '../core/bus-load.js';
import { CAN_ERR_FLAG, type CanFrame, type FrameOrigin } from '../core/frame.js';
import { Hub, type HubPolicy } from '../core/hub.js';
import { RateMeter } from '../core/rate-meter.js';
import type { BackendSink, BackendState, BusState, CanBackend, DropReason, SendResult } from '../backends/types.js';
import type { DaemonEvent, DaemonEventKind } from '../control/protocol.js';
import type { BusInfo } from '../protocols/types.js';
import type { Logger } from '../system/logger.js';
import type { FrameTap } from './frame-tap.js';

/** Emits one control-socket event (time and kind are added by the emitter). */
export type EmitEvent = (kind: DaemonEventKind, fields: Omit<DaemonEvent, 'time' | 'kind'>) => void;

/** Told around the frames of a paced read (see BackendSink.pacedBatchStart). */
export interface PacedBatchListener {
  start(): void;
  end(): void;
}

/** The live (SIGHUP-reloadable) settings a bus reads on every frame. */
export interface BusSettings {
  forwardErrors: boolean;
  echo: 'others' | 'none';
  /** --client-max-lag, ms: also the longest a frame may have waited to be read and still go to clients. */
  clientMaxLag: number;
}

/** Least ms between two can_rx_read_late warnings. */
const READ_LATE_WARN_EVERY_MS = 10_000;

export interface BusOptions {
  index: number;
  backend: CanBackend;
  hubCapacity: number;
  hubPolicy: HubPolicy;
  settings: () => BusSettings;
  /** Monotonic ms. */
  now: () => number;
  /** Wall-clock ms since the epoch (fractional). */
  wallClock: () => number;
  log: Logger;
  emit: EmitEvent;
}

export class Bus implements BusInfo {
  readonly index: number;
  readonly backend: CanBackend;
  readonly hub: Hub;
  readonly rxRate: RateMeter;
  readonly txRate: RateMeter;
  /** Exact-bit bus load of RX + own TX over 1 s, with a 60 s history. */
  readonly load: BusLoadMeter;

  backendState: BackendState = 'opening';
  busState: BusState = 'unknown';
  stateSince: number;
  rxFrames = 0;
  txFrames = 0;
  /** Payload bytes of rxFrames/txFrames (socketcand's statistics). */
  rxBytes = 0;
  txBytes = 0;
  errorFrames = 0;
  stateTransitions = 0;
  /** Entries into each bus state (what the virtual backend can report). */
  readonly stateEntries: Record<string, number> = {};
  /** Frames toward the bus given up, by reason. */
  readonly txDrops: Record<string, number> = {};
  /** Records the backend could not decode (serial resync). */
  backendMalformed = 0;
  /** Calls into taps that threw. */
  tapErrors = 0;
  /**
   * Frames not sent to clients because the bridge read them more than --client-max-lag after
   * the kernel received them (it was stalled or overloaded); taps (capture) still got them.
   */
  rxReadLate = 0;
  private readLateWarnedAt = Number.NEGATIVE_INFINITY;
  private readLateAtWarning = 0;
  /** Wall-clock ms of the last received frame; 0 = none yet. */
  lastRxAt = 0;

  private taps: FrameTap[] = [];
  private readonly tapsThatThrew = new WeakSet<FrameTap>();
  private readonly log: Logger;

  constructor(private readonly options: BusOptions) {
    this.index = options.index;
    this.backend = options.backend;
    this.log = options.log.child({ bus: options.backend.info.name });
    this.stateSince = options.wallClock();
    this.rxRate = new RateMeter(options.now);
    this.txRate = new RateMeter(options.now);
    this.load = new BusLoadMeter({ now: options.now, bitrate: options.backend.info.bitrate });
    this.hub = new Hub({
      bus: options.index,
      capacity: options.hubCapacity,
      policy: options.hubPolicy,
    });
  }

  get name(): string {
    return this.backend.info.name;
  }

  get fd(): boolean {
    return this.backend.info.fd;
  }

  /** The backend may learn the bitrate only once open (socketcan reads it from the link). */
  bitrate(): number | null {
    const b = this.backend.info.bitrate;
    this.load.setBitrate(b);
    return b;
  }

  start(): Promise<void> {
    return this.backend.start(this.sink);
  }

  stop(): Promise<void> {
    return this.backend.stop();
  }

  /**
   * `listener.start` runs before the backend delivers frames it read by read pacing (they
   * already waited in the kernel's queue), `listener.end` after them: the sessions write
   * their queued frames then. One listener.
   */
  onPacedBatch(listener: PacedBatchListener): void {
    this.pacedBatchListener = listener;
  }

  /** Adds a tap; returns the function that removes it. */
  addTap(tap: FrameTap): () => void {
    this.taps = [...this.taps, tap];
    return () => {
      this.taps = this.taps.filter((t) => t !== tap);
    };
  }

  /**
   * Puts a client's frame on the bus. Error frames are refused: they describe a controller's
   * state, and a client cannot put one on the bus.
   */
  send(frame: CanFrame, origin: FrameOrigin): SendResult {
    if ((frame.id & CAN_ERR_FLAG) !== 0) return this.refuse(frame, 'filtered', origin);
    const r = this.backend.send(frame, origin);
    return r.ok ? r : this.refuse(frame, r.reason, origin);
  }

  /** A client's frame its session refused before it reached the bus (TX guard): counted, tapped. */
  refuseFromClient(frame: CanFrame, reason: DropReason, origin: FrameOrigin): SendResult {
    return this.refuse(frame, reason, origin);
  }

  private refuse(frame: CanFrame, reason: DropReason, origin: FrameOrigin): SendResult {
    this.countTxDrop(reason, 1);
    // Only the bus stamps times: a client's frame (no wire protocol we speak carries one)
    // gets the moment it was refused, as a sent one gets the moment it was sent.
    if (!frame.timestamp) frame.timestamp = this.options.wallClock();
    const taps = this.taps;
    for (let k = 0; k < taps.length; k++) {
      const tap = taps[k];
      if (!tap.refused) continue;
      try {
        tap.refused(this, frame, reason, origin);
      } catch (err) {
        this.tapFailed(tap, err);
      }
    }
    return { ok: false, reason };
  }

  private countTxDrop(reason: DropReason, count: number): void {
    this.txDrops[reason] = (this.txDrops[reason] ?? 0) + count;
  }

  private readLate(maxLagMs: number): void {
    this.rxReadLate++;
    const now = this.options.now();
    if (now - this.readLateWarnedAt < READ_LATE_WARN_EVERY_MS) return;
    this.readLateWarnedAt = now;
    const count = this.rxReadLate - this.readLateAtWarning;
    this.readLateAtWarning = this.rxReadLate;
    this.log.warn('can_rx_read_late', {
      count,
      total: this.rxReadLate,
      message: `${count} received frame(s) waited longer than --client-max-lag (${maxLagMs} ms) in the kernel's queue before the bridge read them: not sent to clients (a capture still records them). The bridge was stalled or the host is overloaded`,
    });
  }

  private tapFailed(tap: FrameTap, err: unknown): void {
    this.tapErrors++;
    if (this.tapsThatThrew.has(tap)) return;
    this.tapsThatThrew.add(tap);
    this.log.error('tap_failed', { error: String(err), message: 'a frame tap threw; it stays attached, further errors are only counted' });
  }

  private pacedBatchListener: PacedBatchListener | null = null;

  private readonly sink: BackendSink = {
    received: (frame: CanFrame, waitedMs = 0): void => {
      this.rxFrames++;
      this.rxBytes += frame.len;
      this.rxRate.add();
      if (!frame.timestamp) frame.timestamp = this.options.wallClock();
      this.lastRxAt = frame.timestamp;
      const error = (frame.id & CAN_ERR_FLAG) !== 0;
      if (error) this.errorFrames++;
      else this.load.record(frame);
      const taps = this.taps;
      for (let k = 0; k < taps.length; k++) {
        try {
          taps[k].received(this, frame);
        } catch (err) {
          this.tapFailed(taps[k], err);
        }
      }
      if (this.hub.size === 0) return;
      const settings = this.options.settings();
      if (error && !settings.forwardErrors) return;
      // A client gets no frame older than --client-max-lag: also not one that waited that
      // long in the kernel's receive queue before the bridge got to read it.
      if (waitedMs > settings.clientMaxLag) {
        this.readLate(settings.clientMaxLag);
        return;
      }
      this.hub.broadcast(frame, 0, this.options.now());
    },
    transmitted: (frame: CanFrame, origin: FrameOrigin): void => {
      this.txFrames++;
      this.txBytes += frame.len;
      this.txRate.add();
      // Frames from clients carry no time (no wire protocol we speak has one): stamp them as sent.
      if (!frame.timestamp) frame.timestamp = this.options.wallClock();
      this.load.record(frame);
      const taps = this.taps;
      for (let k = 0; k < taps.length; k++) {
        try {
          taps[k].transmitted(this, frame, origin);
        } catch (err) {
          this.tapFailed(taps[k], err);
        }
      }
      // As on a real bus, every other node sees the frame, but only once it was sent.
      if (this.options.settings().echo === 'others' && this.hub.size > 0) this.hub.broadcast(frame, origin.session, this.options.now());
    },
    dropped: (reason: DropReason, count: number): void => this.countTxDrop(reason, count),
    stateChanged: (backend: BackendState, busState: BusState, detail?: string): void => this.stateChanged(backend, busState, detail),
    malformed: (count: number): void => {
      this.backendMalformed += count;
    },
    log: (level, event, fields): void => {
      this.log[level](event, fields);
    },
    pacedBatchStart: (): void => this.pacedBatchListener?.start(),
    pacedBatchEnd: (): void => this.pacedBatchListener?.end(),
  };

  private stateChanged(backend: BackendState, busState: BusState, detail?: string): void {
    const prevBackend = this.backendState;
    const prevBus = this.busState;
    if (prevBackend === backend && prevBus === busState) return;
    const { emit } = this.options;
    const name = this.name;
    this.backendState = backend;
    this.busState = busState;
    this.stateSince = this.options.wallClock();
    if (prevBus !== busState) {
      this.stateTransitions++;
      this.stateEntries[busState] = (this.stateEntries[busState] ?? 0) + 1;
      this.log.info('bus_state', { from: prevBus, to: busState, detail });
      emit('bus_state', { bus: name, from: prevBus, to: busState, message: `${name}: ${prevBus} → ${busState}${detail ? ` (${detail})` : ''}` });
    }
    if (backend === 'absent' && prevBackend !== 'absent') {
      this.log.warn('backend_absent', { detail });
      emit('backend_absent', { bus: name, reason: detail, message: `${name}: device absent${detail ? ` (${detail})` : ''}; retrying` });
    } else if (backend === 'open' && prevBackend === 'absent') {
      this.log.info('backend_reopened', { detail });
      emit('backend_reopened', { bus: name, message: `${name}: device back, reopened` });
    }
  }
}
