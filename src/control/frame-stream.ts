// Live frames over the control socket (`capture live`, the Wireshark extcap): a FrameTap
// that hands each subscribed control connection the frames of its buses and IDs, in
// batches. It never holds the bus: a connection whose socket is not drained gets its
// frames counted as dropped (and told the count in the next batch) instead of queued.
import type { FrameTap, TapBus, TapOrigin } from '../core/frame-tap.js';
import { CAN_RTR_FLAG, type CanFrame } from '../core/frame.js';
import type { FrameFilterRequest, FramesMessage, LiveFrame } from './protocol.js';

export type { FrameFilterRequest, FramesMessage, LiveFrame };

export interface FrameSink {
  /** False: the reader is behind (the socket holds more than the bound); frames are dropped. */
  ready(): boolean;
  send(msg: FramesMessage): void;
}

/** Frames per message, and how long a frame may wait for its batch. */
const BATCH_FRAMES = 256;
const BATCH_MS = 10;
/** Frames waiting for one connection before the newest are dropped. */
const MAX_PENDING = 4096;

class Subscriber {
  pending: LiveFrame[] = [];
  dropped = 0;
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly filter: FrameFilterRequest,
    private readonly sink: FrameSink,
  ) {}

  wants(bus: number, id: number): boolean {
    const f = this.filter;
    if (f.buses && f.buses.length > 0 && !f.buses.includes(bus)) return false;
    if (f.idValue !== undefined) {
      const mask = f.idMask ?? 0x1fffffff;
      if ((id & 0x1fffffff & mask) !== (f.idValue & mask)) return false;
    }
    return true;
  }

  offer(frame: LiveFrame): void {
    if (this.pending.length >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.push(frame);
    if (this.pending.length >= BATCH_FRAMES) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), BATCH_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    if (!this.sink.ready()) {
      this.dropped += this.pending.length;
      this.pending = [];
      return;
    }
    const frames = this.pending;
    this.pending = [];
    this.sink.send({ type: 'frames', frames, dropped: this.dropped });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
  }
}

export class LiveFrames implements FrameTap {
  private subs: Subscriber[] = [];
  private readonly wall: () => number;

  constructor(wallClock?: () => number) {
    this.wall = wallClock ?? (() => performance.timeOrigin + performance.now());
  }

  get subscribers(): number {
    return this.subs.length;
  }

  /** Starts sending matching frames to `sink`; returns the function that stops it. */
  subscribe(filter: FrameFilterRequest, sink: FrameSink): () => void {
    const sub = new Subscriber(filter, sink);
    this.subs = [...this.subs, sub];
    return () => {
      sub.stop();
      this.subs = this.subs.filter((s) => s !== sub);
    };
  }

  received(bus: TapBus, frame: CanFrame): void {
    if (this.subs.length > 0) this.offer(bus, frame, 0);
  }

  transmitted(bus: TapBus, frame: CanFrame, _origin: TapOrigin): void {
    if (this.subs.length > 0) this.offer(bus, frame, 1);
  }

  private offer(bus: TapBus, frame: CanFrame, dir: 0 | 1): void {
    let live: LiveFrame | null = null;
    for (const sub of this.subs) {
      if (!sub.wants(bus.index, frame.id)) continue;
      live ??= [
        bus.index,
        Math.round((frame.timestamp > 0 ? frame.timestamp : this.wall()) * 1000),
        frame.id >>> 0,
        dir,
        frame.len,
        (frame.id & CAN_RTR_FLAG) !== 0 ? '' : Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).toString('hex'),
        frame.fd ? frame.fdFlags : -1,
      ];
      sub.offer(live);
    }
  }
}

/** A `frames` request's filter, with bus names turned into indexes; a string says what is wrong. */
export function framesFilter(req: Record<string, unknown>, names: readonly string[]): FrameFilterRequest | string {
  const { buses, idValue, idMask } = req;
  const whole = (v: unknown): boolean => v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0);
  if ((buses !== undefined && (!Array.isArray(buses) || buses.some((b) => !names.includes(b as string)))) || !whole(idValue) || !whole(idMask)) {
    return `"buses" must name buses of this bridge (${names.join(', ')}); "idValue"/"idMask" whole numbers`;
  }
  return { buses: (buses as string[] | undefined)?.map((b) => names.indexOf(b)), idValue: idValue as number | undefined, idMask: idMask as number | undefined };
}

/** A LiveFrame back to a frame (the client side). */
export function frameOfLive(f: LiveFrame): CanFrame {
  const data = Uint8Array.from(Buffer.from(f[5], 'hex'));
  return { id: f[2] >>> 0, len: f[4], data, fd: f[6] >= 0, fdFlags: Math.max(f[6], 0), timestamp: f[1] / 1000 };
}
