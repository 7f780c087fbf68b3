// Fan-out hub: every frame of a bus goes to every subscriber in bus order. Each subscriber
// has a bounded queue; when it is full the policy decides: `drop` (the newest frame, for
// that subscriber only, counted) or `kick` (close that subscriber). The hub never waits for
// anybody, so a stalled client cannot delay the bus reader or another client.
import type { CanFrame } from './frame.js';

export type HubPolicy = 'drop' | 'kick';

/** What the hub needs from a client connection (implemented in server/client-connection.ts). */
export interface HubSubscriber {
  readonly id: number;
  /** Frames queued and not yet handed to the socket. */
  queueDepth(): number;
  /** Takes a frame; called only while queueDepth() < capacity. `bytes` is shared: never mutate. */
  enqueue(frame: CanFrame, bytes: Uint8Array): void;
  /** The hub gave up on this subscriber (policy kick). Must close it and not re-enter the hub. */
  kick(reason: 'slow'): void;
  /** Frames dropped for this subscriber. */
  drops: number;
}

export interface HubCounters {
  /** hub_dropped_frames_total */
  dropped: number;
  /** hub_kicked_clients_total */
  kicked: number;
  /** Frames broadcast (one per bus frame, whatever the fan-out). */
  broadcasts: number;
  /** hub_broadcast_fanout: subscribers the last frame was offered to. */
  lastFanout: number;
}

export interface HubOptions {
  capacity: number;
  policy: HubPolicy;
  /** Called once per kick, after the subscriber was removed (log + events). */
  onKick?(sub: HubSubscriber): void;
  /** Called when a subscriber's queue is full and a frame is dropped for it. */
  onDrop?(sub: HubSubscriber): void;
}

export class Hub {
  readonly counters: HubCounters = { dropped: 0, kicked: 0, broadcasts: 0, lastFanout: 0 };
  // An array, not a Map: broadcast is the hot path and iterates far more than it mutates.
  private subs: HubSubscriber[] = [];
  capacity: number;
  policy: HubPolicy;

  constructor(private readonly options: HubOptions) {
    this.capacity = options.capacity;
    this.policy = options.policy;
  }

  get size(): number {
    return this.subs.length;
  }

  subscribers(): readonly HubSubscriber[] {
    return this.subs;
  }

  add(sub: HubSubscriber): void {
    if (!this.subs.includes(sub)) this.subs = [...this.subs, sub];
  }

  remove(sub: HubSubscriber): boolean {
    const i = this.subs.indexOf(sub);
    if (i < 0) return false;
    // Copy on write, so a removal during broadcast (kick, socket error) is safe.
    const next = this.subs.slice();
    next.splice(i, 1);
    this.subs = next;
    return true;
  }

  /**
   * Offers one frame to every subscriber except `exceptId` (the sender of an echoed frame;
   * 0 = nobody). Returns how many subscribers took it.
   */
  broadcast(frame: CanFrame, bytes: Uint8Array, exceptId = 0): number {
    const subs = this.subs;
    const capacity = this.capacity;
    let delivered = 0;
    this.counters.broadcasts++;
    for (let k = 0; k < subs.length; k++) {
      const sub = subs[k];
      if (sub.id === exceptId) continue;
      if (sub.queueDepth() < capacity) {
        sub.enqueue(frame, bytes);
        delivered++;
      } else if (this.policy === 'drop') {
        sub.drops++;
        this.counters.dropped++;
        this.options.onDrop?.(sub);
      } else {
        this.remove(sub);
        this.counters.kicked++;
        sub.kick('slow');
        this.options.onKick?.(sub);
      }
    }
    this.counters.lastFanout = delivered;
    return delivered;
  }

  /** Queue depth max and average over current subscribers (hub_queue_depth_max/avg). */
  queueDepthStats(): { max: number; avg: number } {
    let max = 0;
    let sum = 0;
    for (const s of this.subs) {
      const d = s.queueDepth();
      if (d > max) max = d;
      sum += d;
    }
    return { max, avg: this.subs.length ? sum / this.subs.length : 0 };
  }
}
