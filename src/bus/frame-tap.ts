// A frame tap sees every frame of a bus, both directions: where the capture store (and any
// other recorder) hooks in without touching the hub or the sessions.
import type { CanFrame, FrameOrigin } from '../core/frame.js';

export interface TapBus {
  readonly index: number;
  readonly name: string;
}

/** Who put a frame on the bus (travels with the frame; session 0 = the bridge itself). */
export type TapOrigin = FrameOrigin;

/**
 * Taps are called synchronously on the bus's hot path: keep them cheap (queue the frame and
 * return). A tap that throws does not break the bus: the error is caught, counted once per
 * throw and logged once per tap. Frames are shared: never mutate them.
 */
export interface FrameTap {
  /** Every frame read from the bus (error frames included), after the bus counted it; frame.timestamp set (ms epoch, fractional). */
  received(bus: TapBus, frame: CanFrame): void;
  /** A frame the bridge wrote to the bus (on the TX confirmation where the backend has one), stamped. */
  transmitted(bus: TapBus, frame: CanFrame, origin: TapOrigin): void;
  /** A client frame the bridge refused at send time (filtered, read-only, rate-limited, queue full, …). */
  refused?(bus: TapBus, frame: CanFrame, reason: string, origin: TapOrigin): void;
}
