// --mqtt-raw: the bus tap that hands frames to the broker. On the bus's hot path it only
// takes a token and appends to a bounded queue; the publishing happens on the next turn of
// the event loop. Frames over --mqtt-raw-rate, beyond the queue, or while the broker is away
// or slow are dropped and counted, never held: a raw frame is worth nothing late.
import type { FrameTap, TapBus } from '../bus/frame-tap.js';
import type { CanFrame } from '../core/frame.js';
import { TokenBucket } from '../guard/token-bucket.js';
import { rawPayload, rawTopic, rawTopicBase } from './raw-format.js';

export interface RawSink {
  /** True when a publish would go out now. */
  writable(): boolean;
  publish(topic: string, payload: Buffer, retain: boolean): boolean;
}

export interface RawTapOptions {
  prefix: string;
  /** Frames per second, all buses together; the burst is one second's worth. */
  rate: number;
  sink: RawSink;
  /** Monotonic ms. */
  now: () => number;
  /** Frames waiting for the next turn at most (default: one second's worth, at least 256). */
  maxQueued?: number;
}

export class RawTap implements FrameTap {
  /** Raw frames handed to the broker's socket. */
  published = 0;
  /** Raw frames given up, by cause. */
  readonly dropped = { rate: 0, queue: 0, broker: 0 };
  private readonly bucket: TokenBucket;
  private queue: Array<{ base: string; frame: CanFrame; tx: boolean }> = [];
  private scheduled = false;
  private readonly bases = new Map<number, string>();
  private readonly maxQueued: number;

  constructor(private readonly o: RawTapOptions) {
    this.bucket = new TokenBucket({ rate: o.rate, burst: o.rate }, o.now());
    this.maxQueued = o.maxQueued ?? Math.max(256, o.rate);
  }

  received(bus: TapBus, frame: CanFrame): void {
    this.add(bus, frame, false);
  }

  transmitted(bus: TapBus, frame: CanFrame): void {
    this.add(bus, frame, true);
  }

  get droppedTotal(): number {
    return this.dropped.rate + this.dropped.queue + this.dropped.broker;
  }

  private add(bus: TapBus, frame: CanFrame, tx: boolean): void {
    if (!this.bucket.take(this.o.now())) {
      this.dropped.rate++;
      return;
    }
    if (this.queue.length >= this.maxQueued) {
      this.dropped.queue++;
      return;
    }
    let base = this.bases.get(bus.index);
    if (base === undefined) {
      base = rawTopicBase(this.o.prefix, bus.name);
      this.bases.set(bus.index, base);
    }
    this.queue.push({ base, frame, tx });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Publishes what waits; what the broker cannot take now is dropped (never sent late). */
  flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    for (let k = 0; k < queue.length; k++) {
      const { base, frame, tx } = queue[k];
      if (this.o.sink.publish(rawTopic(base, frame), rawPayload(frame, tx), false)) this.published++;
      else this.dropped.broker += 1;
    }
  }
}
