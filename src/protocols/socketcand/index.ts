// The socketcand plug-in (linux-can/socketcand's ASCII protocol, as python-can, SavvyCAN,
// Kayak and socketcandcl speak it). One listener serves every bus: the client names its bus
// in `< open can0 >`.
import type { WireProtocol } from '../types.js';
import type { Timers } from './bcm.js';
import { bcmFrameEncoder, rawFrameEncoder } from './codec.js';
import { SocketcandSession } from './session.js';

/** Wall clock in ms with sub-ms resolution: the SEC.USEC of frames without a receive time. */
const wallClock = (): number => performance.timeOrigin + performance.now();

/** Shared by every RAW-mode session: a frame is encoded once, whoever reads it. */
export const RAW_FRAME_ENCODER = rawFrameEncoder(wallClock);
/** Shared by every BCM-mode session (spaced bytes). */
export const BCM_FRAME_ENCODER = bcmFrameEncoder(wallClock);

const nodeTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => performance.now(),
};

/**
 * How long frames are held after the rawmode `< ok >`: python-can 4.1 reads the reply with a
 * single recv() and fails if a frame came with it. 50 ms covers a LAN round trip and a
 * Python process on a busy Pi that is scheduled late; frames on the bus in that window are
 * not sent to this session.
 */
export const RAW_HOLD_MS = 50;

export interface SocketcandOptions {
  timers?: Timers;
  rawHoldMs?: number;
}

export function createSocketcand(options: SocketcandOptions = {}): WireProtocol {
  const deps = {
    raw: RAW_FRAME_ENCODER,
    bcm: BCM_FRAME_ENCODER,
    timers: options.timers ?? nodeTimers,
    rawHoldMs: options.rawHoldMs ?? RAW_HOLD_MS,
  };
  return {
    name: 'socketcand',
    layout: 'shared',
    encoder: RAW_FRAME_ENCODER,
    open: (peer) => new SocketcandSession(peer, deps),
    // A client that reads what it got (socketcandcl, a look with nc) learns why; a bare close
    // after `< hi >` only read as a protocol failure (python-can: `< ok > message expected!`).
    refusal: (why) => Uint8Array.from(`< error ${why.replace(/[<>]/g, '')} >`, (c) => c.charCodeAt(0) & 0xff),
  };
}

export const socketcand: WireProtocol = createSocketcand();
export default socketcand;
