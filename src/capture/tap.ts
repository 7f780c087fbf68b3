// The bus side of capture: a FrameTap that packs every frame into the current batch and
// hands full batches to the worker. It never blocks and never grows without bound: frames
// the worker has not committed yet count against `maxQueuedFrames`; beyond that a frame
// is dropped and counted (capture_dropped_frames_total), as the hub does for slow clients.
import type { FrameTap, TapBus, TapOrigin } from '../bus/frame-tap.js';
import type { CanFrame } from '../core/frame.js';
import { BatchWriter, type FrameBatch } from './batch.js';
import { DIR_REFUSED, DIR_RX, DIR_TX } from './schema.js';

export interface CaptureTapOptions {
  /** Frames queued or in the worker but not yet committed, at most. */
  maxQueuedFrames: number;
  /** Also record refused client frames (--capture-drops). */
  drops: boolean;
  /** Receives each full (or flushed) batch; the buffer is transferred. */
  post(batch: FrameBatch): void;
  /** Wall clock in ms, for frames that arrive without a timestamp. */
  wallClock?: () => number;
}

export class CaptureTap implements FrameTap {
  private writer = new BatchWriter();
  /** Frames handed to the worker and not yet reported committed. */
  private inFlight = 0;
  /** Frames accepted by this tap (queued for the store). */
  accepted = 0;
  /** Frames dropped because the queue was full. */
  dropped = 0;
  private readonly wall: () => number;

  constructor(private readonly options: CaptureTapOptions) {
    this.wall = options.wallClock ?? (() => performance.timeOrigin + performance.now());
  }

  /** Frames waiting in memory (this thread and the worker). */
  get queued(): number {
    return this.inFlight + this.writer.frames;
  }

  received(bus: TapBus, frame: CanFrame): void {
    this.add(bus, DIR_RX, frame, 0, null);
  }

  transmitted(bus: TapBus, frame: CanFrame, origin: TapOrigin): void {
    this.add(bus, DIR_TX, frame, origin.session, origin.protocol);
  }

  refused(bus: TapBus, frame: CanFrame, reason: string, origin: TapOrigin): void {
    if (this.options.drops) this.add(bus, DIR_REFUSED, frame, origin.session, reason);
  }

  private add(bus: TapBus, direction: number, frame: CanFrame, session: number, label: string | null): void {
    if (this.inFlight + this.writer.frames >= this.options.maxQueuedFrames) {
      this.dropped++;
      return;
    }
    // Frames from TCP clients may carry no time; the moment the bridge saw them is the best there is.
    const stamped = frame.timestamp > 0 ? frame : { ...frame, timestamp: this.wall() };
    if (!this.writer.add(bus.index, bus.name, direction, stamped, session, label)) {
      this.flush();
      this.writer.add(bus.index, bus.name, direction, stamped, session, label);
    }
    this.accepted++;
  }

  /** Hands the current batch to the worker (called on a short timer and when a batch fills). */
  flush(): void {
    const batch = this.writer.take();
    if (!batch) return;
    this.inFlight += batch.frames;
    this.options.post(batch);
  }

  /** Capture went off: nothing handed over will be reported back, so nothing counts against the bound. */
  settleAll(): void {
    this.inFlight = 0;
  }

  /** The worker committed (or gave up on) `frames` frames: they no longer count against the bound. */
  settled(frames: number): void {
    this.inFlight = Math.max(0, this.inFlight - frames);
  }
}
