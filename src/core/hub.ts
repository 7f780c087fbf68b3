// Fan-out hub of one bus: every frame goes to every subscriber in bus order. The hub carries
// frames, not bytes: each subscription names the encoder of its wire protocol, and a frame is
// encoded at most once per encoder (lazily: an encoder with no subscriber on this bus costs
// nothing), the bytes shared by every subscriber of that encoder. Each subscriber has a
// bounded queue; when it is full the policy decides: `drop` (the newest frame, for that
// subscriber only, counted) or `kick` (close that subscriber). The hub never waits for
// anybody, so a stalled client cannot delay the bus reader or another client.
import type { CanFrame } from './frame.js';

export type HubPolicy = 'drop' | 'kick';

/** Turns a frame into one protocol's wire bytes; null = this protocol cannot carry it. */
export interface HubEncoder {
  encode(frame: CanFrame, bus: number): Uint8Array | null;
}

/** What the hub needs from a session (implemented in server/session.ts). */
export interface HubSubscriber {
  readonly id: number;
  /** Frames queued and not yet handed to the socket. */
  queueDepth(): number;
  /**
   * Takes encoded bytes; called only while queueDepth() < capacity. Shared: never mutate.
   * `at`: monotonic ms at which the bus took the frame (one clock read per frame, however
   * many subscribers), what the subscriber's lag is measured from.
   */
  enqueue(bytes: Uint8Array, bus: number, at: number): void;
  /** A frame was dropped for this subscriber because its queue was full. */
  dropped(): void;
  /** The hub gave up on this subscriber (policy kick). Must close it and not re-enter the hub. */
  kick(reason: 'slow', bus: number): void;
}

export interface HubCounters {
  /** hub_dropped_frames_total: frames dropped for full subscriber queues. */
  dropped: number;
  /** Subscribers kicked by the policy (operator kicks are counted by whoever kicks). */
  kicked: number;
  /** Frames broadcast (one per bus frame, whatever the fan-out). */
  broadcasts: number;
  /** Encodings made (at most one per frame per encoder in use). */
  encodes: number;
  /** hub_broadcast_fanout: subscribers the last frame was delivered to. */
  lastFanout: number;
}

export interface HubOptions {
  /** The bus index handed to encoders. */
  bus?: number;
  capacity: number;
  policy: HubPolicy;
  /** Called once per kick, after the subscriber was removed (log + events). */
  onKick?(sub: HubSubscriber): void;
}

export interface SubscribeOptions {
  /** Runs before encoding; false = this subscriber does not get the frame (not a drop). */
  filter?: ((frame: CanFrame) => boolean) | null;
}

interface Subscription {
  readonly sub: HubSubscriber;
  /** Index into the hub's encoder table: the memo slot of this subscription's encoder. */
  readonly slot: number;
  readonly filter: ((frame: CanFrame) => boolean) | null;
}

/** Memo slot not computed yet for the current frame (null is "cannot carry"). */
const UNSET = undefined;

export class Hub {
  readonly counters: HubCounters = { dropped: 0, kicked: 0, broadcasts: 0, encodes: 0, lastFanout: 0 };
  // Arrays, not Maps: broadcast is the hot path and iterates far more than it mutates.
  // Copy on write, so a removal during broadcast (kick, socket error) is safe.
  private subs: Subscription[] = [];
  private readonly encoders: HubEncoder[] = [];
  private readonly encoderUsers: number[] = [];
  private readonly memo: Array<Uint8Array | null | undefined> = [];
  private readonly bus: number;
  capacity: number;
  policy: HubPolicy;

  constructor(private readonly options: HubOptions) {
    this.bus = options.bus ?? 0;
    this.capacity = options.capacity;
    this.policy = options.policy;
  }

  get size(): number {
    return this.subs.length;
  }

  has(sub: HubSubscriber): boolean {
    return this.subs.some((s) => s.sub === sub);
  }

  /** Subscribes (or re-subscribes with new options) `sub` with `encoder`. */
  add(sub: HubSubscriber, encoder: HubEncoder, options: SubscribeOptions = {}): void {
    this.remove(sub);
    let slot = this.encoders.indexOf(encoder);
    if (slot < 0) {
      slot = this.encoderUsers.indexOf(0);
      if (slot < 0) {
        slot = this.encoders.length;
        this.encoders.push(encoder);
        this.encoderUsers.push(0);
        this.memo.push(UNSET);
      } else {
        this.encoders[slot] = encoder;
      }
    }
    this.encoderUsers[slot]++;
    this.subs = [...this.subs, { sub, slot, filter: options.filter ?? null }];
  }

  remove(sub: HubSubscriber): boolean {
    const i = this.subs.findIndex((s) => s.sub === sub);
    if (i < 0) return false;
    const next = this.subs.slice();
    const [gone] = next.splice(i, 1);
    this.subs = next;
    this.encoderUsers[gone.slot]--;
    return true;
  }

  /** Encoders with at least one subscriber (what a bus frame costs to encode). */
  get encodersInUse(): number {
    let n = 0;
    for (const u of this.encoderUsers) if (u > 0) n++;
    return n;
  }

  /**
   * Offers one frame, taken by the bus at monotonic ms `at`, to every subscriber except
   * `exceptId` (the sender of an echoed frame; 0 = nobody). Returns how many took it.
   */
  broadcast(frame: CanFrame, exceptId: number, at: number): number {
    const subs = this.subs;
    const capacity = this.capacity;
    const memo = this.memo;
    // Cleared first too: an encoder that threw must not leave its frame's bytes behind.
    for (let k = 0; k < memo.length; k++) memo[k] = UNSET;
    let delivered = 0;
    this.counters.broadcasts++;
    for (let k = 0; k < subs.length; k++) {
      const s = subs[k];
      const sub = s.sub;
      if (sub.id === exceptId) continue;
      if (s.filter !== null && !s.filter(frame)) continue;
      let bytes = memo[s.slot];
      if (bytes === UNSET) {
        bytes = memo[s.slot] = this.encoders[s.slot].encode(frame, this.bus);
        this.counters.encodes++;
      }
      if (bytes === null) continue;
      if (sub.queueDepth() < capacity) {
        sub.enqueue(bytes, this.bus, at);
        delivered++;
      } else if (this.policy === 'drop') {
        this.counters.dropped++;
        sub.dropped();
      } else {
        this.remove(sub);
        this.counters.kicked++;
        sub.kick('slow', this.bus);
        this.options.onKick?.(sub);
      }
    }
    // Let the shared bytes go with the frame, not with the next one.
    for (let k = 0; k < memo.length; k++) memo[k] = UNSET;
    this.counters.lastFanout = delivered;
    return delivered;
  }
}
