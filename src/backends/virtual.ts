// The `virtual` backend: an in-process CAN bus. It is what `npm start` serves on a machine
// without CAN hardware, and what benchmarks drive. It is a real backend behind the same
// interface as SocketCAN and serial: frames sent to it are "on the bus" (so other clients
// see them through the daemon's echo), and it can generate synthetic traffic.
import { CAN_EFF_FLAG, type CanFrame, type FrameOrigin } from '../core/frame.js';
import type { BackendCounters, BackendInfo, BackendSink, CanBackend, SendResult } from './types.js';
import { prng } from '../core/prng.js';
import { atTurnEnd } from '../core/microtask.js';

export type VirtualPayload = 'ampio' | 'sequence';

export interface VirtualBackendOptions {
  name: string;
  /** Synthetic frames per second; 0 = a silent bus. */
  rate: number;
  payload: VirtualPayload;
  /** Bus number, for the sequence payload's ID (0x1000 + index). */
  index: number;
  bitrate: number;
  /** Accept CAN FD frames (like a vcan with MTU 72). */
  fd: boolean;
  /** Monotonic ms (performance.now()). */
  now: () => number;
  /** Wall-clock ms since the epoch, fractional. */
  wallClock: () => number;
  seed?: number;
}

/** Sequence-payload frames: ID 0x1000 + bus index, 29-bit. */
export const SEQUENCE_BASE_ID = 0x1000;

// Send results carry no per-call data: shared, so sending allocates nothing.
const SENT: SendResult = Object.freeze({ ok: true });
const LINK_DOWN: SendResult = Object.freeze({ ok: false, reason: 'link_down' });
const FD_UNSUPPORTED: SendResult = Object.freeze({ ok: false, reason: 'fd_unsupported' });

/** Longest catch-up after the event loop stalled: beyond this, frames are skipped, as a
 * real bus would not have carried them either. */
const MAX_CATCH_UP_MS = 100;

export class VirtualBackend implements CanBackend {
  readonly info: BackendInfo;
  private sink: BackendSink | null = null;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private emitted = 0;
  private seq = 0;
  private readonly random: () => number;
  /** Ampio-like modules: 29-bit addresses, each with its own counter. */
  private readonly modules: number[];
  private burstLeft = 0;
  private burstId = 0;
  // Frames sent and not yet transmitted (until the end of the current turn), and the sink
  // they were sent on (null: nothing queued).
  private txFrames: CanFrame[] = [];
  private txOrigins: FrameOrigin[] = [];
  private txSink: BackendSink | null = null;

  constructor(private readonly options: VirtualBackendOptions) {
    this.info = { kind: 'virtual', name: options.name, fd: options.fd, bitrate: options.bitrate };
    this.random = prng(options.seed ?? 0x414d5049);
    this.modules = Array.from({ length: 24 }, (_, k) => 0x1e00 + k * 0x11 + options.index * 0x400);
  }

  async start(sink: BackendSink): Promise<void> {
    this.sink = sink;
    sink.stateChanged('open', 'error-active', 'virtual bus up');
    if (this.options.rate > 0) {
      this.startedAt = this.options.now();
      this.emitted = 0;
      this.schedule();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.sink) this.sink.stateChanged('closed', 'stopped', 'stopped');
    this.sink = null;
  }

  send(frame: CanFrame, origin: FrameOrigin): SendResult {
    const sink = this.sink;
    if (!sink) return LINK_DOWN;
    if (frame.fd && !this.options.fd) return FD_UNSUPPORTED;
    // A bus delivers in order and after the sender's call returns, as a socket write would.
    // Frames sent in one turn go out together from one microtask (no closure per frame).
    this.txFrames.push(frame);
    this.txOrigins.push(origin);
    if (this.txSink === null) {
      this.txSink = sink;
      atTurnEnd(this.transmitQueued);
    }
    return SENT;
  }

  private readonly transmitQueued = (): void => {
    const sink = this.txSink;
    const frames = this.txFrames;
    const origins = this.txOrigins;
    this.txSink = null;
    this.txFrames = [];
    this.txOrigins = [];
    // Stopped (or restarted) since: those frames never made it onto this bus.
    if (sink === null || this.sink !== sink) return;
    for (let k = 0; k < frames.length; k++) sink.transmitted(frames[k], origins[k]);
  };

  /**
   * Puts a frame on the bus as if another node had sent it (what `cansend` is to a vcan).
   * Tests and tools use it; the generator uses the same path.
   */
  inject(frame: CanFrame): void {
    this.sink?.received(frame);
  }

  counters(): BackendCounters {
    return { txQueueDepth: 0, reopens: 0 };
  }

  private schedule(): void {
    const rate = this.options.rate;
    const elapsed = this.options.now() - this.startedAt;
    const nextDueMs = ((this.emitted + 1) * 1000) / rate - elapsed;
    // Node timers cannot fire faster than ~1 ms: above 1000 frames/s we emit in batches.
    this.timer = setTimeout(this.tick, Math.max(1, Math.ceil(nextDueMs)));
  }

  private readonly tick = (): void => {
    this.timer = null;
    const sink = this.sink;
    if (!sink) return;
    const rate = this.options.rate;
    const now = this.options.now();
    let due = Math.floor(((now - this.startedAt) * rate) / 1000) - this.emitted;
    const cap = Math.max(1, Math.ceil((rate * MAX_CATCH_UP_MS) / 1000));
    if (due > cap) {
      this.emitted += due - cap;
      due = cap;
    }
    const wall = this.options.wallClock();
    if (this.options.payload === 'sequence') {
      // Send time in µs (low 32 bits of the wall clock), shared by the frames of this tick:
      // another process on this machine can compute latency from it without a shared clock.
      const us = Math.floor(wall * 1000) % 4294967296;
      for (let k = 0; k < due; k++) sink.received(this.sequenceFrame(wall, us));
    } else {
      for (let k = 0; k < due; k++) sink.received(this.ampioFrame(wall));
    }
    this.emitted += due;
    this.schedule();
  };

  private sequenceFrame(wall: number, us: number): CanFrame {
    const data = new Uint8Array(8);
    const seq = this.seq++ >>> 0;
    data[0] = seq >>> 24;
    data[1] = (seq >>> 16) & 0xff;
    data[2] = (seq >>> 8) & 0xff;
    data[3] = seq & 0xff;
    data[4] = us >>> 24;
    data[5] = (us >>> 16) & 0xff;
    data[6] = (us >>> 8) & 0xff;
    data[7] = us & 0xff;
    return { id: (CAN_EFF_FLAG | (SEQUENCE_BASE_ID + this.options.index)) >>> 0, len: 8, data, fd: false, fdFlags: 0, timestamp: wall };
  }

  /**
   * Ampio-like traffic: 29-bit module addresses, mostly 8-byte state reports, some short
   * frames, and bursts (a button press makes one module report several times in a row).
   */
  private ampioFrame(wall: number): CanFrame {
    const r = this.random;
    let id: number;
    if (this.burstLeft > 0) {
      this.burstLeft--;
      id = this.burstId;
    } else {
      id = this.modules[Math.floor(r() * this.modules.length)];
      if (r() < 0.05) {
        this.burstLeft = 3 + Math.floor(r() * 6);
        this.burstId = id;
      }
    }
    const len = r() < 0.85 ? 8 : 1 + Math.floor(r() * 7);
    const data = new Uint8Array(len);
    data[0] = r() < 0.5 ? 0xfe : 0x0a + Math.floor(r() * 4); // message type byte
    for (let k = 1; k < len; k++) data[k] = Math.floor(r() * 256);
    return { id: (CAN_EFF_FLAG | id) >>> 0, len, data, fd: false, fdFlags: 0, timestamp: wall };
  }
}

export function createVirtualBackend(options: VirtualBackendOptions): VirtualBackend {
  return new VirtualBackend(options);
}
