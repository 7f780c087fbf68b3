// The live frame view: a frame tap that copies matching frames into one bounded queue per
// browser (Server-Sent Events), written out ten times a second. A browser that reads slowly
// (or not at all) fills its own queue and loses frames for itself only, counted and shown
// to it; the tap never waits, never grows, and the bus's clients never notice. Memory per
// viewer: QUEUE frame references plus at most WRITE_HIGH_WATER bytes in its socket buffer.
import type { ServerResponse } from 'node:http';
import type { FrameTap, TapBus } from '../core/frame-tap.js';
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_RTR_FLAG, type CanFrame } from '../core/frame.js';
import { idAllowed, type IdMask } from '../guard/id-mask.js';

/** Frames one viewer's queue holds: 0.2 s at 21,300 frames/s, 16 s of a busy Ampio bus (250 frames/s); written out every 0.1 s. */
export const QUEUE = 4096;
/** Frames written per viewer per tick (the whole queue: a reading viewer keeps up with 40,000 frames/s); one event of at most ~250 KB. */
const BATCH = QUEUE;
/** While this many bytes wait in a viewer's socket, nothing more is written to it. */
export const WRITE_HIGH_WATER = 256 * 1024;
const TICK_MS = 100;
/** A comment line now and then keeps proxies and the browser from giving up on a quiet bus. */
const HEARTBEAT_MS = 15_000;
export const MAX_VIEWERS = 8;

export interface LiveFilter {
  /** Bus indexes; null = every bus. */
  buses: ReadonlySet<number> | null;
  /** ID/mask pairs as --tx-ids takes them; empty = every ID. */
  ids: readonly IdMask[];
}

interface Viewer {
  readonly res: ServerResponse;
  readonly filter: LiveFilter;
  readonly remote: string;
  readonly frames: Array<CanFrame | undefined>;
  /** bus index << 1 | 1 for frames the bridge wrote (tx) */
  readonly meta: Uint16Array;
  head: number;
  count: number;
  dropped: number;
  sent: number;
  lastWriteAt: number;
}

export interface LiveCounters {
  viewers: number;
  /** Frames sent to viewers, those still connected and those gone. */
  sent: number;
  /** Frames viewers lost because their browser read too slowly (their queue was full). */
  dropped: number;
}

export class LiveFeed implements FrameTap {
  private viewers: Viewer[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closedSent = 0;
  private closedDropped = 0;

  constructor(
    private readonly log: (event: string, fields: Record<string, unknown>) => void,
    private readonly now: () => number = Date.now,
  ) {}

  received(bus: TapBus, frame: CanFrame): void {
    if (this.viewers.length !== 0) this.offer(bus.index << 1, frame);
  }

  transmitted(bus: TapBus, frame: CanFrame): void {
    if (this.viewers.length !== 0) this.offer((bus.index << 1) | 1, frame);
  }

  private offer(meta: number, frame: CanFrame): void {
    const vs = this.viewers;
    for (let k = 0; k < vs.length; k++) {
      const v = vs[k];
      const f = v.filter;
      if (f.buses !== null && !f.buses.has(meta >> 1)) continue;
      if (f.ids.length !== 0 && ((frame.id & CAN_ERR_FLAG) !== 0 || !idAllowed(f.ids, frame.id))) continue;
      if (v.count === QUEUE) {
        v.dropped++;
        continue;
      }
      const at = (v.head + v.count) % QUEUE;
      v.frames[at] = frame;
      v.meta[at] = meta;
      v.count++;
    }
  }

  get full(): boolean {
    return this.viewers.length >= MAX_VIEWERS;
  }

  counters(): LiveCounters {
    let sent = this.closedSent;
    let dropped = this.closedDropped;
    for (const v of this.viewers) {
      sent += v.sent;
      dropped += v.dropped;
    }
    return { viewers: this.viewers.length, sent, dropped };
  }

  /** Starts an event stream on `res` (the caller checked `full`). */
  attach(res: ServerResponse, filter: LiveFilter, remote: string): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    // The browser reconnects after this long when the stream breaks.
    res.write('retry: 2000\n\n');
    const v: Viewer = {
      res,
      filter,
      remote,
      frames: new Array(QUEUE),
      meta: new Uint16Array(QUEUE),
      head: 0,
      count: 0,
      dropped: 0,
      sent: 0,
      lastWriteAt: this.now(),
    };
    this.viewers = [...this.viewers, v];
    this.log('web_live_open', { remote, viewers: this.viewers.length });
    const detach = (): void => this.detach(v);
    res.once('close', detach);
    res.socket?.setNoDelay(true);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), TICK_MS);
      this.timer.unref();
    }
  }

  private detach(v: Viewer): void {
    if (!this.viewers.includes(v)) return;
    this.viewers = this.viewers.filter((o) => o !== v);
    this.closedSent += v.sent;
    this.closedDropped += v.dropped;
    v.frames.fill(undefined);
    this.log('web_live_close', { remote: v.remote, sent: v.sent, dropped: v.dropped });
    if (this.viewers.length === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Writes each viewer's queued frames, unless its socket still holds too much. */
  tick(): void {
    const now = this.now();
    for (const v of this.viewers) {
      if (v.res.writableLength > WRITE_HIGH_WATER || v.res.destroyed) continue;
      if (v.count === 0) {
        if (now - v.lastWriteAt >= HEARTBEAT_MS) {
          v.res.write(`: ${now}\n\n`);
          v.lastWriteAt = now;
        }
        continue;
      }
      const n = Math.min(v.count, BATCH);
      const rows: string[] = new Array(n);
      for (let k = 0; k < n; k++) {
        const at = (v.head + k) % QUEUE;
        rows[k] = frameRow(v.frames[at]!, v.meta[at]);
        v.frames[at] = undefined;
      }
      v.head = (v.head + n) % QUEUE;
      v.count -= n;
      v.sent += n;
      v.lastWriteAt = now;
      v.res.write(`data: {"dropped":${v.dropped},"sent":${v.sent},"frames":[${rows.join(',')}]}\n\n`);
    }
  }

  /** Ends every stream (the server stops). */
  closeAll(): void {
    for (const v of this.viewers) v.res.destroy();
  }
}

/**
 * One frame as the page reads it: [ms since the epoch, bus index, "rx"|"tx", ID (29 or 11
 * bits), flags ("e" extended, "r" remote request, "x" error frame, "f" CAN FD), length,
 * data as hex]. An array, not an object: at thousands of frames per second, keys would
 * double what a phone has to parse.
 */
function frameRow(f: CanFrame, meta: number): string {
  const extended = (f.id & CAN_EFF_FLAG) !== 0;
  let flags = extended ? 'e' : '';
  if ((f.id & CAN_RTR_FLAG) !== 0) flags += 'r';
  if ((f.id & CAN_ERR_FLAG) !== 0) flags += 'x';
  if (f.fd) flags += 'f';
  const id = (f.id & CAN_ERR_FLAG) !== 0 || extended ? f.id & 0x1fffffff : f.id & 0x7ff;
  const data = Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).toString('hex');
  return `[${Math.round(f.timestamp * 1000) / 1000},${meta >> 1},"${meta & 1 ? 'tx' : 'rx'}",${id},"${flags}",${f.len},"${data}"]`;
}
