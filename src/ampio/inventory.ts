// The module inventory: every address heard broadcasting Ampio state, when, how often,
// which state types, and its health from the `FE 4F` diagnostics (supply voltage and
// temperature). A module silent longer than the offline threshold is offline.
import type { ModuleSlot, SeenClock } from './state-store.js';
import type { House, ModuleEntry } from './types.js';

/**
 * Default offline threshold: 90 s. aioampio's bridge treats 60 s without any frame as a
 * stalled connection (kstaniek/aioampio aioampio/bridge.py: _idle_reconnect_s = 60.0), so a
 * live Ampio installation is not silent that long; one and a half of that period lets one
 * broadcast go missing before a module is called offline, within the 2-minute cap.
 */
export const DEFAULT_OFFLINE_AFTER_MS = 90_000;
/**
 * Default low-supply threshold: 21.6 V = Ampio's 24 V bus supply − 10 %, the tolerance a
 * 24 V DC supply and its wiring are built to hold; below it a long bus run or a failing
 * supply is eating the margin the modules' regulators need.
 */
export const DEFAULT_LOW_SUPPLY_VOLTS = 21.6;

export const moduleKey = (address: number): string => address.toString(16).padStart(8, '0');

/** A module record: mutable, owned by the inventory. */
export interface ModuleRecord {
  address: number;
  bus: string;
  firstSeen: number;
  lastSeen: number;
  /** Monotonic ms of the last frame (online/offline is decided on this clock). */
  lastSeenMono: number;
  frames: number;
  /** Frames per second, recomputed by sweep() from the frame count (nothing per frame). */
  rate: number;
  rateFrames: number;
  rateSince: number;
  /** Per state type: the last data seen and its clock (repeats are spotted by comparing bytes). */
  last: Map<number, { data: Uint8Array; len: number; clock: SeenClock; status: 'decoded' | 'truncated' | 'unknown' }>;
  /** Its values in the state store. */
  slot: ModuleSlot | null;
  typesCache: number[] | null;
  supplyVolts: number | null;
  temperatureC: number | null;
  online: boolean;
}

export class Inventory {
  private readonly records = new Map<number, ModuleRecord>();
  private listeners: Array<(m: ModuleEntry) => void> = [];

  constructor(
    /** Monotonic ms. */
    readonly now: () => number,
    private readonly house: () => House,
    public offlineAfterMs = DEFAULT_OFFLINE_AFTER_MS,
  ) {}

  /** The record of `address`, created (and announced) on its first frame. */
  record(address: number, bus: string, wall: number): ModuleRecord {
    let r = this.records.get(address);
    if (r === undefined) {
      const mono = this.now();
      r = {
        address,
        bus,
        firstSeen: wall,
        lastSeen: wall,
        lastSeenMono: mono,
        frames: 0,
        rate: 0,
        rateFrames: 0,
        rateSince: mono,
        last: new Map(),
        slot: null,
        typesCache: null,
        supplyVolts: null,
        temperatureC: null,
        online: true,
      };
      this.records.set(address, r);
      this.announce(r);
    }
    return r;
  }

  /** A frame from `r` (`mono`: the drain's monotonic time, read once per batch): counts it and brings it back online. */
  heard(r: ModuleRecord, bus: string, wall: number, mono: number): void {
    r.frames++;
    r.lastSeen = wall;
    r.lastSeenMono = mono;
    r.bus = bus;
    if (!r.online) {
      r.online = true;
      this.announce(r);
    }
  }

  /** Re-evaluates online/offline (called on a timer and before every read). */
  sweep(): void {
    const t = this.now();
    for (const r of this.records.values()) {
      // The rate over the time since the last sweep that was at least a second ago.
      if (t - r.rateSince >= 1000) {
        r.rate = ((r.frames - r.rateFrames) * 1000) / (t - r.rateSince);
        r.rateFrames = r.frames;
        r.rateSince = t;
      }
      if (r.online && t - r.lastSeenMono > this.offlineAfterMs) {
        r.online = false;
        this.announce(r);
      }
    }
  }

  get(address: number): ModuleRecord | undefined {
    return this.records.get(address);
  }

  /** Heard modules and the ones the house file names, address order. */
  entries(): ModuleEntry[] {
    this.sweep();
    const house = this.house();
    const out: ModuleEntry[] = [];
    const addresses = new Set<number>(this.records.keys());
    for (const d of house.devices) addresses.add(d.address);
    for (const address of [...addresses].sort((a, b) => a - b)) {
      const r = this.records.get(address);
      out.push(this.entry(address, r));
    }
    return out;
  }

  entryOf(address: number): ModuleEntry {
    return this.entry(address, this.records.get(address));
  }

  onChange(fn: (m: ModuleEntry) => void): () => void {
    this.listeners = [...this.listeners, fn];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  private entry(address: number, r: ModuleRecord | undefined): ModuleEntry {
    const device = this.house().devices.find((d) => d.address === address);
    if (r && r.typesCache === null) r.typesCache = [...r.last.keys()].sort((a, b) => a - b);
    return {
      address,
      key: moduleKey(address),
      name: device?.name ?? null,
      model: device?.model ?? null,
      area: device?.area ?? null,
      bus: r?.bus ?? '',
      firstSeen: r?.firstSeen ?? 0,
      lastSeen: r?.lastSeen ?? 0,
      frames: r?.frames ?? 0,
      rate: r ? Math.round(r.rate * 10) / 10 : 0,
      types: r?.typesCache ?? [],
      supplyVolts: r?.supplyVolts ?? null,
      temperatureC: r?.temperatureC ?? null,
      online: r?.online ?? false,
      known: device !== undefined,
    };
  }

  private announce(r: ModuleRecord): void {
    if (this.listeners.length === 0) return;
    const e = this.entry(r.address, r);
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's failure is its own; the inventory goes on.
      }
    }
  }
}
