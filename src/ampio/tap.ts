// The bus side of the house layer: a FrameTap on every bus. On the bus's hot path it only
// checks the first bytes and queues the frame (frames are shared and never mutated); the
// queue drains on setImmediate, off the path that feeds the clients. The drain counts the
// module, and decodes a frame only when its bytes differ from that module's last frame of
// the same type: Ampio modules repeat unchanged state, and a repeat costs a byte compare.
import type { FrameTap, TapBus } from '../bus/frame-tap.js';
import type { CanFrame } from '../core/frame.js';
import { decodeFrame, moduleOf, stateTypeOf } from './decoder.js';
import type { Inventory, ModuleRecord } from './inventory.js';
import type { StateStore } from './state-store.js';
import type { DecodeCounters } from './types.js';

/** Frames waiting for the drain, at most; beyond it frames are dropped and counted. */
const MAX_QUEUED = 65_536;

export interface AmpioTapOptions {
  inventory: Inventory;
  store: StateStore;
  /** Logged once per unknown state type. */
  onUnknownType?: (type: number, module: number) => void;
  /** Runs `fn` soon, off the current call stack (setImmediate; tests may drain by hand). */
  schedule?: (fn: () => void) => void;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

export class AmpioTap implements FrameTap {
  private frames: CanFrame[] = [];
  private buses: string[] = [];
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
  /** Frames dropped because the drain fell MAX_QUEUED behind. */
  dropped = 0;

  constructor(private readonly options: AmpioTapOptions) {
    this.schedule = options.schedule ?? ((fn) => void setImmediate(fn));
  }

  received(bus: TapBus, frame: CanFrame): void {
    this.queue(bus, frame);
  }

  /** Frames clients (or the bridge) put on the bus are bus traffic too: modules hear them. */
  transmitted(bus: TapBus, frame: CanFrame): void {
    this.queue(bus, frame);
  }

  private queue(bus: TapBus, frame: CanFrame): void {
    const d = frame.data;
    // Cheapest possible rejection first: the first data byte of a state broadcast.
    if (d.length < 2 || (d[0] !== 0xfe && d[0] !== 0x10)) return;
    if (this.frames.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    this.frames.push(frame);
    this.buses.push(bus.name);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.drainBound);
    }
  }

  /** Processes every queued frame. */
  drain(): void {
    this.scheduled = false;
    const frames = this.frames;
    const buses = this.buses;
    this.frames = [];
    this.buses = [];
    for (let i = 0; i < frames.length; i++) this.process(frames[i], buses[i]);
  }

  private process(frame: CanFrame, bus: string): void {
    const type = stateTypeOf(frame);
    if (type < 0) return;
    const { inventory, store } = this.options;
    const address = moduleOf(frame);
    const wall = frame.timestamp > 0 ? frame.timestamp : Date.now();
    const r = inventory.record(address, bus, wall);
    inventory.heard(r, bus, wall);
    this.framesSeen++;
    this.byType[type]++;
    const last = r.last.get(type);
    if (last && sameBytes(last.data, frame.data)) {
      last.clock.t = wall;
      this.repeats++;
      if (last.status === 'decoded') this.decoded++;
      else if (last.status === 'truncated') this.truncated++;
      else this.countUnknown(type, address);
      return;
    }
    const result = decodeFrame(frame);
    if (!result) return;
    const clock = last?.clock ?? { t: wall };
    if (!last) r.typesCache = null;
    r.last.set(type, { data: frame.data, clock, status: result.status });
    if (result.status === 'unknown') {
      this.countUnknown(type, address);
      return;
    }
    if (result.status === 'truncated') {
      this.truncated++;
      return;
    }
    this.decoded++;
    if (type === 0x4f) health(r, result.values[0].value as { voltage: number; temperature: number });
    store.apply(address, result.values, wall, clock);
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

function health(r: ModuleRecord, v: { voltage: number; temperature: number }): void {
  r.supplyVolts = v.voltage;
  r.temperatureC = v.temperature;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
