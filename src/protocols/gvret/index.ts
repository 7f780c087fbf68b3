// GVRET over TCP: the protocol SavvyCAN and WireTAP speak to GVRET/ESP32RET devices. One
// listener serves every bus: the `bus` byte of a frame is the bus index (bus 0 = the first
// --can-if). A session joins every bus once the client enters binary mode (`E7`).
import type { CanFrame } from '../../core/frame.js';
import type { FrameEncoder, SessionPeer, WireProtocol } from '../types.js';
import { encodeGvretFrame, type GvretFdMode } from './codec.js';
import { IDENTIFY_MS } from './client-kind.js';
import { type GvretEncoders, GvretSession, type GvretSessionDeps, type GvretTimers } from './session.js';

export { GVRET_FD_MODES, type GvretFdMode } from './codec.js';

/** Wall clock in ms, for frames that carry no receive time (those from TCP clients). */
const wallNow = (): number => performance.timeOrigin + performance.now();

function encoderFor(fd: GvretFdMode): FrameEncoder {
  return { encode: (f: CanFrame, bus: number) => encodeGvretFrame(f, bus, fd, f.timestamp > 0 ? 0 : wallNow()) };
}

// Module-level singletons: the hub encodes a bus frame once per encoder object and shares the
// bytes across every session using it.
const ENCODERS: Record<GvretFdMode, FrameEncoder> = {
  off: encoderFor('off'),
  esp32ret: encoderFor('esp32ret'),
  wiretap: encoderFor('wiretap'),
};

export interface GvretOptions {
  /** How CAN FD frames reach clients that are not SavvyCAN (SavvyCAN never gets them). */
  fd?: GvretFdMode;
  /** The identification window after `E7` (tests); IDENTIFY_MS. */
  identifyMs?: number;
  timers?: GvretTimers;
}

const nodeTimers: GvretTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface GvretProtocol extends WireProtocol {
  open(peer: SessionPeer): GvretSession;
}

export function createGvretProtocol(options: GvretOptions = {}): GvretProtocol {
  const fd = options.fd ?? 'off';
  const encoders: GvretEncoders = { classic: ENCODERS.off, configured: ENCODERS[fd], fd };
  const deps: GvretSessionDeps = { encoders, timers: options.timers ?? nodeTimers, identifyMs: options.identifyMs ?? IDENTIFY_MS };
  return {
    name: 'gvret',
    layout: 'shared',
    encoder: encoders.configured,
    open: (peer) => new GvretSession(peer, deps),
  };
}

/** The default: classic frames only. */
export const gvret: GvretProtocol = createGvretProtocol();

export default gvret;
