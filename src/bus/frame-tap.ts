import type { CanFrame } from '../core/frame.js';
export interface TapBus { readonly index: number; readonly name: string }
export interface TapOrigin { readonly session: number; readonly protocol: string | null } // session 0 = the bridge itself
export interface FrameTap {
  /** Every frame read from the bus (error frames included), after the bus counted it; frame.timestamp set (ms epoch, fractional). */
  received(bus: TapBus, frame: CanFrame): void;
  /** A frame the bridge wrote to the bus (on the TX confirmation where the backend has one), stamped. */
  transmitted(bus: TapBus, frame: CanFrame, origin: TapOrigin): void;
  /** A client frame the bridge refused at send time (filtered, read-only, rate-limited, queue full, …). */
  refused?(bus: TapBus, frame: CanFrame, reason: string, origin: TapOrigin): void;
}
