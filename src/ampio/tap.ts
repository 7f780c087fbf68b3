// The bus side of the house layer: a FrameTap on every bus. On the bus's hot path it only
// checks the first bytes and copies id, time and at most 8 data bytes into a ring of typed
// arrays (no allocation, no frame kept alive for the garbage collector to age); the ring
// drains on a 10 ms timer, off the path that feeds the clients. The drain counts the module
// and decodes a frame only when its bytes differ from that module's last frame of the same
// type: Ampio modules repeat unchanged state, and a repeat costs a byte compare.
import type { FrameTap, TapBus, TapOrigin } from '../core/frame-tap.js';
import { CAN_EFF_FLAG, CAN_EFF_MASK, type CanFrame } from '../core/frame.js';
import { ROW_BY_TYPE } from './decode-table.js';
import { decodeFrame, forEachValue, SATEL_FLAG, SATEL_RESPONSE_TYPE, STATE_FLAG, stateTypeOf } from './decoder.js';
import type { Inventory, ModuleRecord } from './inventory.js';
import type { SeenClock, StateStore } from './state-store.js';
import type { DecodeCounters, StateData, StateKind } from './types.js';

/** Frames waiting for the drain, at most; beyond it frames are dropped and counted. */
const RING = 16_384;
/** How long a frame may wait for its drain, ms. */
const DRAIN_DELAY_MS = 10;

export interface AmpioTapOptions {
  inventory: Inventory;
  store: StateStore;
  /** Logged once per unknown state type. */
  onUnknownType?: (type: number, module: number) => void;
  /** Runs `fn` soon, off the current call stack (a 10 ms timer; tests may drain by hand). */
  schedule?: (fn: () => void) => void;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

export class AmpioTap implements FrameTap {
  // The ring: slot i holds one frame's id, length, time, bus and bytes (8 per slot).
  private readonly ids = new Uint32Array(RING);
  private readonly lens = new Uint8Array(RING);
  private readonly times = new Float64Array(RING);
  private readonly busOf = new Uint8Array(RING);
  private readonly bytes = new Uint8Array(RING * 8);
  private head = 0;
  private count = 0;
  /** Bus names by bus index (a tap sees at most a handful of buses). */
  private readonly busNames: string[] = [];
  /** Views of each length 0..8 the drain copies a frame's bytes into (the decoder reads `data.length`). */
  private readonly scratch = Array.from({ length: 9 }, (_, n) => new Uint8Array(n));
  private scheduled = false;
  private readonly schedule: (fn: () => void) => void;
  private readonly drainBound = (): void => this.drain();
  /** Counters by type byte (typed arrays: no allocation per frame). */
  private readonly byType = new Float64Array(256);
  private readonly unknownByType = new Float64Array(256);
  private readonly loggedUnknown = new Uint8Array(256);
  framesSeen = 0;
  decoded = 0;
  truncated = 0;
  unknown = 0;
  /** Decodes skipped because the bytes repeated the module's last frame of that type. */
  repeats = 0;
  /** Frames dropped because the drain fell a whole ring behind. */
  dropped = 0;

  private readonly sink: ValueSink;

  constructor(private readonly options: AmpioTapOptions) {
    // A short timer rather than setImmediate: a busy bus then costs ~100 drains a second
    // (hundreds of frames each) instead of one extra event-loop turn per read; a change
    // still reaches the store within 10 ms.
    this.schedule = options.schedule ?? ((fn) => void setTimeout(fn, DRAIN_DELAY_MS));
    this.sink = new ValueSink(options.store);
  }

  received(bus: TapBus, frame: CanFrame): void {
    this.queue(bus, frame);
  }

  /** Frames clients (or the bridge) put on the bus are bus traffic too: modules hear them. */
  transmitted(bus: TapBus, frame: CanFrame, _origin?: TapOrigin): void {
    this.queue(bus, frame);
  }

  private queue(bus: TapBus, frame: CanFrame): void {
    const d = frame.data;
    const n = d.length;
    // Cheapest rejection first: the first data byte of a state broadcast; then what
    // stateTypeOf checks, so the drain only sees state broadcasts.
    if (n < 2 || n > 8 || (d[0] !== STATE_FLAG && d[0] !== SATEL_FLAG) || stateTypeOf(frame) < 0) return;
    if (this.count >= RING) {
      this.dropped++;
      return;
    }
    const slot = (this.head + this.count) % RING;
    this.count++;
    this.ids[slot] = frame.id & CAN_EFF_MASK;
    this.lens[slot] = n;
    this.times[slot] = frame.timestamp;
    this.busOf[slot] = bus.index & 0xff;
    if (this.busNames[bus.index & 0xff] !== bus.name) this.busNames[bus.index & 0xff] = bus.name;
    const at = slot * 8;
    for (let i = 0; i < n; i++) this.bytes[at + i] = d[i];
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.drainBound);
    }
  }

  /** Processes every queued frame. */
  drain(): void {
    this.scheduled = false;
    if (this.count === 0) return;
    // One clock read per batch: the frames of a batch arrived together.
    const mono = this.options.inventory.now();
    // A subscriber may queue more while we drain (a command it sends): those wait for the next drain.
    for (let left = this.count; left > 0; left--) {
      const slot = this.head;
      this.head = (this.head + 1) % RING;
      this.count--;
      const n = this.lens[slot];
      const data = this.scratch[n];
      const at = slot * 8;
      for (let i = 0; i < n; i++) data[i] = this.bytes[at + i];
      this.process(this.ids[slot], data, this.times[slot], this.busNames[this.busOf[slot]] ?? '', mono);
    }
  }

  private process(address: number, data: Uint8Array, time: number, bus: string, mono: number): void {
    const type = data[0] === STATE_FLAG ? data[1] : SATEL_RESPONSE_TYPE;
    const { inventory, store } = this.options;
    const wall = time > 0 ? time : Date.now();
    const r = inventory.record(address, bus, wall);
    inventory.heard(r, bus, wall, mono);
    this.framesSeen++;
    this.byType[type]++;
    const last = r.last.get(type);
    if (last !== undefined) {
      last.clock.t = wall;
      // Unknown types are not decoded at all; known ones only when their bytes changed.
      if (last.status === 'unknown') {
        this.countUnknown(type, address);
        return;
      }
      if (sameBytes(last.data, last.len, data)) {
        this.repeats++;
        if (last.status === 'decoded') this.decoded++;
        else this.truncated++;
        return;
      }
    }
    const clock = last?.clock ?? { t: wall };
    const row = ROW_BY_TYPE[type];
    let status: 'decoded' | 'truncated' | 'unknown';
    if (type === SATEL_RESPONSE_TYPE) {
      const result = decodeFrame({ id: (address | CAN_EFF_FLAG) >>> 0, len: data.length, data, fd: false, fdFlags: 0, timestamp: wall });
      status = result && result.values.length > 0 ? 'decoded' : 'truncated';
      if (result) store.apply(address, result.values, wall, clock);
    } else if (row === undefined) {
      status = 'unknown';
    } else {
      const slot = r.slot ?? (r.slot = store.slot(address));
      const channels = store.channels(slot, row.kind);
      this.sink.set(address, channels, row.kind, row.unit ?? null, wall, clock);
      const n = forEachValue(row, data, this.sink.put);
      status = n > 0 ? 'decoded' : 'truncated';
      if (type === 0x4f && n > 0) health(r, channels[1]?.value as { voltage: number; temperature: number });
    }
    if (last === undefined) {
      r.last.set(type, { data: Uint8Array.from(data), len: data.length, clock, status });
      r.typesCache = null;
    } else {
      if (last.data.length < data.length) last.data = new Uint8Array(data.length);
      last.data.set(data);
      last.len = data.length;
      last.status = status;
    }
    if (status === 'decoded') this.decoded++;
    else if (status === 'truncated') this.truncated++;
    else this.countUnknown(type, address);
  }

  private countUnknown(type: number, address: number): void {
    this.unknown++;
    this.unknownByType[type]++;
    if (this.loggedUnknown[type] === 0) {
      this.loggedUnknown[type] = 1;
      this.options.onUnknownType?.(type, address);
    }
  }

  counters(): DecodeCounters {
    const byType: Record<string, number> = {};
    const unknownTypes: Record<string, number> = {};
    for (let t = 0; t < 256; t++) {
      if (this.byType[t] > 0) byType[hex2(t)] = this.byType[t];
      if (this.unknownByType[t] > 0) unknownTypes[hex2(t)] = this.unknownByType[t];
    }
    return { frames: this.framesSeen, decoded: this.decoded, truncated: this.truncated, unknown: this.unknown, byType, unknownTypes };
  }
}

/** Where forEachValue's values go: one object set up per frame, no closure per frame. */
class ValueSink {
  private module = 0;
  private channels: Channels = [];
  private kind: StateKind = 'bout';
  private unit: string | null = null;
  private time = 0;
  private clock: SeenClock = { t: 0 };
  readonly put = (channel: number, value: StateData): void =>
    void this.store.put(this.module, this.channels, this.kind, channel, value, this.unit, this.time, this.clock);

  constructor(private readonly store: StateStore) {}

  set(module: number, channels: Channels, kind: StateKind, unit: string | null, time: number, clock: SeenClock): void {
    this.module = module;
    this.channels = channels;
    this.kind = kind;
    this.unit = unit;
    this.time = time;
    this.clock = clock;
  }
}

type Channels = ReturnType<StateStore['channels']>;

function health(r: ModuleRecord, v: { voltage: number; temperature: number }): void {
  r.supplyVolts = v.voltage;
  r.temperatureC = v.temperature;
}

function sameBytes(a: Uint8Array, aLen: number, b: Uint8Array): boolean {
  if (aLen !== b.length) return false;
  for (let i = 0; i < aLen; i++) if (a[i] !== b[i]) return false;
  return true;
}
